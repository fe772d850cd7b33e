// node hand_on.mjs <base-url> <district-unit-token> <screenshot-dir> <ticket-id> <street-unit-token>
// Issue 21 on the ticket desk: the district's 12345 office opens its dispatched ticket, signs
// it, and hands it on (下派) to its street office, the choice offering only its own sub-units
// (SUBUNITS …), with a reason (HANDED: the chain 东湖区… → 湖滨街道…); the street office logs
// in with its own token, finds the ticket with the chain and signs it (STREET_SIGNED).
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir, id, street] = process.argv.slice(2);
const shot = shots(dir);

async function open(page, who) {
  await page.goto(`${base}/tickets?token=${encodeURIComponent(who)}`);
  await page.waitForSelector(`[data-testid=ticket-list] tr[data-id="${id}"]`, { timeout: 15000 });
  await page.click(`[data-testid=ticket-list] tr[data-id="${id}"] a`);
  await page.waitForSelector("#a-action");
}

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1500, height: 1000 } });
  page.on("console", (m) => log.push(m.text()));
  await open(page, token);
  await page.selectOption("#a-action", "sign");
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=handling]", { timeout: 10000 });
  await page.selectOption("#a-action", "hand_on");
  await page.waitForSelector("#a-unit");
  const subs = await page.$$eval("#a-unit option", (os) => os.filter((o) => o.value).map((o) => o.value));
  say("SUBUNITS " + subs.join(" "));
  if ((await page.textContent("label[for=a-unit]")) !== "下派单位") throw new Error("label: " + (await page.textContent("label[for=a-unit]")));
  await page.selectOption("#a-unit", "dh-hubin");
  await page.fill("#a-reason", "属地街道处置");
  await accessible(page, "tickets-hand-on");
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=dispatched]", { timeout: 10000 });
  await page.waitForSelector("[data-testid=unit-chain]");
  say("HANDED " + (await page.textContent("[data-testid=unit-chain]")));
  await shot(page, "tickets-handed-on");
  // The street office, with its own token.
  await open(page, street);
  const chain = await page.textContent("[data-testid=unit-chain]");
  const offered = await page.$$eval("#a-action option", (os) => os.map((o) => o.value));
  if (offered.join(" ") !== "sign return") throw new Error("the street office is offered: " + offered.join(" "));
  await page.selectOption("#a-action", "sign");
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=handling]", { timeout: 10000 });
  const history = await page.textContent(".history");
  if (!history.includes("下派") || !history.includes("属地街道处置")) throw new Error("history: " + history);
  await shot(page, "tickets-street-signed");
  say("STREET_SIGNED " + chain);
  await b.close();
});
