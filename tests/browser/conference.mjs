// node conference.mjs <base-url> <token> <screenshot-dir> desk|handover|wallboard [wallboard-token]
// Issue 14's pages against a real engine and real phones (tests/conference_pages.rs).
// desk (agent 1001's token): goes ready from the keyboard (READY); the citizen's call pops up
// with its parties panel (CALL: the citizen and the agent); a consultation with a queue
// nobody staffs is refused and the engine's words are shown (REFUSED <text>); the water
// company (a handling unit with a phone in dispatch.toml) is consulted (CONSULT: the
// hold-music note, the citizen on hold), joined into a three-way call (JOINED) and dropped
// (DROPPED); then conferenced in straight away, showing ringing (RINGING) then talking
// (TALKING); the agent leaves (LEFT) and the call leaves the desk. Screenshots and axe-core on the way.
// handover: as desk up to the call, then in English a consultation with the water company
// as an outside number of [transfer.numbers] (CONSULT) whose transfer the agent completes
// (HANDED).
// wallboard (a supervisor's token), at 1600×1000: the call in progress is listed (LISTED);
// the supervisor listens (LISTEN), whispers (WHISPER), barges (BARGE) and stops (STOPPED), the pressed button
// following the mode; the controls in English (ENGLISH); then a read-only wallboard token
// sees the same call without controls (READONLY).
import { browser, say, shots, guard, accessible, tabTo } from "./lib.mjs";

const [base, token, dir, mode, readOnlyToken] = process.argv.slice(2);
const shot = shots(dir);

guard((log) => (mode === "wallboard" ? wallboard(log) : mode === "handover" ? handover(log) : desk(log)));

/** The desk signed in and ready (READY), then the call's parties panel up (CALL). */
async function onCall(b, log) {
  const page = await b.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("console", (m) => log.push(m.text()));
  await page.goto(`${base}/desk?token=${encodeURIComponent(token)}`);
  await page.waitForSelector("#app:not([hidden])");
  await tabTo(page, "#btn-ready");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-testid=state]:is([data-state=ready],[data-state=reserved],[data-state=talking])", { timeout: 30000 });
  say("READY");
  await page.waitForSelector("[data-testid=parties]:not([hidden])", { timeout: 60000 });
  const rows = await page.$$eval("[data-testid=party-list] tr", (rs) => rs.map((r) => r.textContent));
  if (rows.length !== 2 || !rows[0].includes("*")) throw new Error("parties before anyone is called in: " + rows.join(" | "));
  say("CALL " + rows.join(" | "));
  return page;
}

// handover: in English, the agent consults the water company and completes the transfer to
// it (HANDED): the call leaves the desk, the agent goes to wrap-up.
async function handover(log) {
  const b = await browser();
  const page = await onCall(b, log);
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("#parties-h")?.textContent === "Parties on the call", null, { timeout: 5000 });
  await tabTo(page, "[data-testid=party-kind]");
  await page.selectOption("[data-testid=party-kind]", "number");
  await page.selectOption("[data-testid=party-target]", "water");
  await tabTo(page, "[data-testid=consult]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-testid=party-2][data-state=ringing]", { timeout: 30000 });
  await page.waitForSelector("[data-testid=party-2][data-state=talking]", { timeout: 45000 });
  const note = await page.textContent("[data-testid=consult-note]");
  if (!note.includes("hold music")) throw new Error("consult note: " + note);
  say("CONSULT " + (await page.textContent("[data-testid=party-2]")));
  await shot(page, "desk-consult-en");
  await accessible(page, "desk-consult-en");
  await tabTo(page, "[data-testid=party-2-actions] [data-testid=handover]");
  const name = await page.getAttribute("[data-testid=party-2-actions] [data-testid=handover]", "aria-label");
  if (!name.startsWith("Complete transfer to")) throw new Error("handover button's name: " + name);
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-testid=parties]", { state: "hidden", timeout: 30000 });
  if (await page.textContent("#desk-error")) throw new Error("desk error: " + (await page.textContent("#desk-error")));
  await page.waitForSelector("[data-testid=state][data-state=wrap_up]", { timeout: 30000 });
  say("HANDED " + (await page.textContent("[data-testid=parties-status]")));
  await page.click("#lang");
  await b.close();
}

/** The state of party `id` on the desk, when its row is there. */
function partyState(page, id) {
  return page.getAttribute(`[data-testid=party-${id}]`, "data-state").catch(() => null);
}

async function desk(log) {
  const b = await browser();
  const page = await onCall(b, log);
  await accessible(page, "desk-parties");

  // A special seat nobody staffs: the engine refuses, and the desk says why in words.
  await tabTo(page, "[data-testid=party-kind]");
  await page.selectOption("[data-testid=party-kind]", "queue");
  await page.selectOption("[data-testid=party-target]", "foreign");
  await tabTo(page, "[data-testid=consult]");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("#desk-error")?.textContent.length > 0, null, { timeout: 30000 });
  const refused = await page.textContent("#desk-error");
  say("REFUSED " + refused);

  // First a consultation with the water company: the citizen hears hold music meanwhile.
  await tabTo(page, "[data-testid=party-kind]");
  await page.selectOption("[data-testid=party-kind]", "unit");
  await page.selectOption("[data-testid=party-target]", "water");
  await tabTo(page, "[data-testid=consult]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-testid=party-2][data-state=talking]", { timeout: 45000 });
  await page.waitForSelector("[data-testid=consult-note]:not([hidden])", { timeout: 5000 });
  await page.waitForSelector("[data-testid=party-list] tr[data-state=held]", { timeout: 5000 });
  say("CONSULT " + (await page.textContent("[data-testid=party-2]")));
  await shot(page, "desk-consult");
  await accessible(page, "desk-consult");
  // Merged into a three-way call (the citizen back from hold), then dropped.
  await tabTo(page, "[data-testid=party-2-actions] [data-testid=join]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-testid=consult-note]", { state: "hidden", timeout: 30000 });
  await page.waitForFunction(() => !document.querySelector("[data-testid=party-list] tr[data-state=held]"), null, { timeout: 30000 });
  say("JOINED " + (await page.textContent("[data-testid=party-2]")));
  await tabTo(page, "[data-testid=party-2-actions] [data-testid=drop]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-testid=party-2][data-state=left]", { timeout: 30000 });
  say("DROPPED " + (await page.textContent("[data-testid=party-2]")));

  // The water company again, conferenced in straight away from the keyboard.
  await tabTo(page, "[data-testid=party-kind]");
  await page.selectOption("[data-testid=party-kind]", "unit");
  await page.selectOption("[data-testid=party-target]", "water");
  await tabTo(page, "[data-testid=conference]");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("[data-testid=parties-status]")?.textContent.length > 0, null, { timeout: 30000 });
  if (await page.textContent("#desk-error")) throw new Error("desk error: " + (await page.textContent("#desk-error")));
  await page.waitForSelector("[data-testid^=party-][data-state=ringing]", { timeout: 30000 });
  const ringing = await page.textContent("[data-testid^=party-][data-state=ringing]");
  say("RINGING " + ringing);
  await shot(page, "desk-conference-ringing");
  await page.waitForSelector("[data-testid^=party-][data-state=talking]", { timeout: 45000 });
  const talking = await page.textContent("[data-testid^=party-][data-state=talking]");
  if (!(await page.isHidden("[data-testid=consult-note]"))) throw new Error("a conference shows the hold-music note");
  say("TALKING " + talking);
  await shot(page, "desk-conference-talking");
  await accessible(page, "desk-conference");

  // The agent leaves the citizen with the water company.
  await tabTo(page, "[data-testid=leave]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-testid=parties]", { state: "hidden", timeout: 30000 });
  if (await page.textContent("#desk-error")) throw new Error("desk error: " + (await page.textContent("#desk-error")));
  say("LEFT");
  await shot(page, "desk-conference-left");
  await b.close();
}

/** The row of the (only) call on the wallboard. */
const ROW = "[data-testid=calls] tr[data-call]";

async function pressed(page, want) {
  await page.waitForFunction((m) => {
    const on = [...document.querySelectorAll("[data-testid=calls] tr[data-call] button[aria-pressed=true]")].map((b) => b.dataset.mode);
    return m ? on.length === 1 && on[0] === m : on.length === 0;
  }, want, { timeout: 45000 });
}

async function wallboard(log) {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on("console", (m) => log.push(m.text()));
  await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
  await page.waitForSelector("#app:not([hidden])");
  await page.waitForSelector(`${ROW} button[data-mode=listen]`, { timeout: 60000 });
  const row = await page.textContent(ROW);
  say("LISTED " + row);
  await shot(page, "wallboard-calls");
  await accessible(page, "wallboard-calls");

  const press = async (m) => {
    await tabTo(page, `${ROW} button[data-mode=${m}]`, 120);
    await page.keyboard.press("Enter");
  };
  await press("listen");
  await pressed(page, "listen");
  // The supervisor's phone answers: the parties say so.
  await page.waitForFunction(() => /监听 · 通话中/.test(document.querySelector("[data-testid=call-parties]")?.textContent ?? ""), null, { timeout: 45000 });
  say("LISTEN " + (await page.textContent("[data-testid=call-parties]")));
  await shot(page, "wallboard-listen");
  // The same button keeps the focus across pushes (rows are updated, not rebuilt).
  await page.waitForTimeout(1200);
  if (!(await page.evaluate(() => document.activeElement?.dataset.mode === "listen"))) throw new Error("the focus left the listen button");

  await press("whisper");
  await pressed(page, "whisper");
  await page.waitForFunction(() => /密语 · 通话中/.test(document.querySelector("[data-testid=call-parties]")?.textContent ?? ""), null, { timeout: 45000 });
  say("WHISPER " + (await page.textContent("[data-testid=call-parties]")));

  await press("barge");
  await pressed(page, "barge");
  await page.waitForFunction(() => /强插 · 通话中/.test(document.querySelector("[data-testid=call-parties]")?.textContent ?? ""), null, { timeout: 45000 });
  say("BARGE " + (await page.textContent("[data-testid=call-parties]")));
  await shot(page, "wallboard-barge");
  await accessible(page, "wallboard-barge");

  await press("stop");
  await pressed(page, null);
  await page.waitForSelector(`${ROW} button[data-mode=stop][disabled]`, { timeout: 45000 });
  const err = await page.textContent("[data-testid=calls-error]");
  if (err) throw new Error("wallboard error: " + err);
  say("STOPPED " + (await page.textContent("[data-testid=calls-status]")));
  await shot(page, "wallboard-stopped");
  // In English the same controls, named for the call they act on.
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector(`[data-testid=calls] tr[data-call] button[data-mode=whisper]`)?.textContent === "Whisper", null, { timeout: 5000 });
  const whisper = await page.getAttribute(`${ROW} button[data-mode=whisper]`, "aria-label");
  if (!/^Whisper to the agent of the call from .*\*/.test(whisper)) throw new Error("whisper's name: " + whisper);
  say("ENGLISH " + (await page.textContent(ROW)));
  await shot(page, "wallboard-calls-en");
  await page.click("#lang");

  // A wall screen's token: the same list, no controls.
  const screen = await b.newPage({ viewport: { width: 1600, height: 1000 } });
  screen.on("console", (m) => log.push(m.text()));
  await screen.goto(`${base}/?token=${encodeURIComponent(readOnlyToken)}`);
  await screen.waitForSelector(`#app:not([hidden]) ${ROW}`, { timeout: 45000 });
  if (await screen.$(`${ROW} button`)) throw new Error("a wallboard token is offered controls");
  if (!(await screen.isHidden("#calls-ctl-h"))) throw new Error("a wallboard token sees the controls' column");
  say("READONLY " + (await screen.textContent(ROW)));
  await shot(screen, "wallboard-calls-readonly");
  await accessible(screen, "wallboard-readonly");
  await b.close();
}
