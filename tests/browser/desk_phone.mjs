// node desk_phone.mjs <base-url> <agent-token> <screenshot-dir> <file> <wav> [denied]
// denied: the browser refuses the microphone (no permission given): MIC_DENIED <message>
// once the desk is open, and the phone still registers (REGISTERED).
// blocked: the browser may not send UDP and has no relay (as behind a firewall: the page's
// RTCPeerConnection is limited to relay candidates, and there is no TURN), so the media
// never connects: RINGING, ANSWERED, then BLOCKED <message> once the engine gave up on it.
// The agent desk's own phone (web/phone.js, the vendored JsSIP) at a real screen size
// (1366×768), Chromium's fake microphone playing <wav> (the test's 600 Hz tone):
//   REGISTERED <status>       signed in with the token only; the page's phone registered
//   SECRET_HIDDEN             no credential of the phone is on screen
//   READY                     the ready button was clicked
//   RINGING <from>            the call pop-up and the web phone ring (a masked caller)
//   ANSWERED                  the answer button was clicked and the call is up
//   LEVEL <0..1>              the microphone level meter moves
//   PEAK <hz> <db>            the loudest frequency of the phone's received audio (WebAudio)
//   KEYS <digits>             the keys the citizen pressed, as the desk shows them
//   PRESSED 7                 the agent clicked 7 on the keypad (RFC 4733 to the citizen)
//   HELD / RESUMED            the hold button put the call on hold and back
//   MUTED / UNMUTED           the mute button
//   ENDED                     after `<file>.hangup`: the hang-up button ended the call
//   DROPPED <message>         the page's WebSocket was cut (both ends, as a network drop
//                             does): the desk says so
//   REREGISTERED              JsSIP reconnected and registered again on its own
// The phone is off until the agent turns it on (an agent with a SIP desk phone keeps it): the
// test turns it on first. Screenshots at each step. Bounded in time; only loopback traffic.
import { existsSync } from "node:fs";
import { browser, say, shots, guard } from "./lib.mjs";

const [base, token, dir, doneFile, wav, mode] = process.argv.slice(2);
const shot = shots(dir);

const wait = async (what, limit, test) => {
  for (let i = 0; i < limit / 100; i++) {
    const v = await test();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no " + what + " within " + limit + " ms");
};

guard((log) => (mode === "denied" ? denied(log) : mode === "blocked" ? blocked(log) : call(log)));

/** UDP blocked: the call is answered, its media never comes up, the desk says why. */
async function blocked(log) {
  const b = await browser([
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${wav}`,
    "--allow-loopback-in-peer-connection",
  ]);
  const context = await b.newContext({ viewport: { width: 1366, height: 768 } });
  await context.grantPermissions(["microphone"], { origin: base });
  // A network that lets no UDP through and has no relay: the browser may use relay
  // candidates only, and there is no TURN server, so it has none.
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = function (config, ...rest) {
      return new Native({ ...(config ?? {}), iceTransportPolicy: "relay" }, ...rest);
    };
    window.RTCPeerConnection.prototype = Native.prototype;
    Object.setPrototypeOf(window.RTCPeerConnection, Native);
  });
  const page = await context.newPage();
  page.on("console", (m) => log.push(m.text()));
  page.on("pageerror", (e) => log.push("pageerror " + e.message));
  await page.goto(`${base}/desk?token=${encodeURIComponent(token)}`);
  // The agent turns the page's phone on (it stays off for an agent with a desk phone).
  await page.check("[data-testid=ph-on]");
  await wait("the phone's registration", 30000, async () =>
    (await page.textContent("[data-testid=ph-status]")).includes("已注册"));
  say("REGISTERED");
  await page.click("#btn-ready");
  await page.waitForSelector("[data-testid=ph-call]:not([hidden])", { timeout: 60000 });
  say(`RINGING ${await page.textContent("[data-testid=ph-from]")}`);
  await page.click("#ph-answer");
  say("ANSWERED");
  await page.waitForSelector("[data-testid=ph-problem]:not([hidden])", { timeout: 30000 });
  say(`BLOCKED ${await page.textContent("[data-testid=ph-problem]")}`);
  await shot(page, "desk-phone-media-blocked");
  await b.close();
}

/** The microphone refused: the desk says so plainly, and the phone registers anyway. */
async function denied(log) {
  const b = await browser([
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${wav}`,
  ]);
  const context = await b.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  page.on("console", (m) => log.push(m.text()));
  page.on("pageerror", (e) => log.push("pageerror " + e.message));
  await page.goto(`${base}/desk?token=${encodeURIComponent(token)}`);
  // The agent turns the page's phone on (it stays off for an agent with a desk phone).
  await page.check("[data-testid=ph-on]");
  await page.waitForSelector("[data-testid=ph-problem]:not([hidden])", { timeout: 30000 });
  say(`MIC_DENIED ${await page.textContent("[data-testid=ph-problem]")}`);
  await shot(page, "desk-phone-mic-denied");
  await wait("the phone's registration", 30000, async () =>
    (await page.textContent("[data-testid=ph-status]")).includes("已注册"));
  say("REGISTERED");
  await b.close();
}

async function call(log) {
  const b = await browser([
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${wav}`,
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
  ]);
  const context = await b.newContext({ viewport: { width: 1366, height: 768 } });
  await context.grantPermissions(["microphone"], { origin: base });
  const page = await context.newPage();
  page.on("console", (m) => log.push(m.text()));
  page.on("pageerror", (e) => log.push("pageerror " + e.message));
  // The page's WebSocket runs through here, so the test can cut it like a network drop.
  const sockets = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const server = ws.connectToServer();
    sockets.push({ ws, server });
  });
  await page.goto(`${base}/desk?token=${encodeURIComponent(token)}`);
  // The agent turns the page's phone on (it stays off for an agent with a desk phone).
  await page.check("[data-testid=ph-on]");
  const status = () => page.textContent("[data-testid=ph-status]");
  await wait("the phone's registration", 30000, async () =>
    (await status()).includes("已注册") || (await status()).includes("registered"));
  say(`REGISTERED ${await status()}`);
  const creds = await page.evaluate((tok) => fetch("/api/desk/phone", { headers: { Authorization: "Bearer " + tok } }).then((r) => r.json()), token);
  if (!creds?.ha1) throw new Error("the phone route: " + JSON.stringify(creds));
  const text = await page.evaluate(() => document.body.innerText);
  if (text.includes(creds.ha1) || text.includes(creds.realm + ":")) throw new Error("the HA1 is on screen");
  say("SECRET_HIDDEN");
  await shot(page, "desk-phone-registered");

  await page.click("#btn-ready");
  say("READY");

  await page.waitForSelector("[data-testid=ph-call]:not([hidden])", { timeout: 60000 });
  await page.waitForSelector("#ph-ringing:not([hidden])", { timeout: 5000 });
  say(`RINGING ${await page.textContent("[data-testid=ph-from]")}`);
  await shot(page, "desk-phone-ringing");
  await page.click("#ph-answer");
  await wait("the call up", 20000, async () => !(await page.isDisabled("#ph-hangup")) && !(await page.isDisabled("#ph-hold")));
  say("ANSWERED");
  await shot(page, "desk-phone-talking");

  const level = await wait("the level meter", 10000, () =>
    page.evaluate(() => { const v = Number(document.getElementById("ph-level").value); return v > 0.01 && v; }));
  say(`LEVEL ${level.toFixed(2)}`);

  await new Promise((r) => setTimeout(r, 1500));
  const peak = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const stream = document.getElementById("ph-audio").srcObject;
        if (!stream) return reject(new Error("no remote stream on the phone's audio element"));
        const ctx = new AudioContext();
        const analyser = ctx.createAnalyser();
        analyser.fftSize = 8192;
        ctx.createMediaStreamSource(stream).connect(analyser);
        const bins = new Float32Array(analyser.frequencyBinCount);
        const sum = new Float64Array(bins.length);
        let n = 0;
        const timer = setInterval(() => {
          analyser.getFloatFrequencyData(bins);
          for (let i = 0; i < bins.length; i++) sum[i] += Math.pow(10, bins[i] / 10);
          if (++n < 30) return;
          clearInterval(timer);
          const hz = (i) => (i * ctx.sampleRate) / analyser.fftSize;
          let best = -1;
          for (let i = 1; i < sum.length; i++) {
            if (hz(i) < 100 || hz(i) > 3000) continue;
            if (best < 0 || sum[i] > sum[best]) best = i;
          }
          resolve({ hz: hz(best), db: 10 * Math.log10(sum[best] / n) });
        }, 100);
      }),
  );
  say(`PEAK ${peak.hz.toFixed(1)} ${peak.db.toFixed(1)}`);

  const keys = await wait("the citizen's key on the desk", 30000, () => page.textContent("[data-testid=ph-heard]"));
  say(`KEYS ${keys}`);
  await page.click("#ph-keys button[data-key='7']");
  say("PRESSED 7");

  await page.click("#ph-hold");
  await page.waitForSelector("#ph-hold[aria-pressed=true]", { timeout: 10000 });
  say("HELD");
  await page.click("#ph-hold");
  await page.waitForSelector("#ph-hold[aria-pressed=false]", { timeout: 10000 });
  say("RESUMED");
  await page.click("#ph-mute");
  await page.waitForSelector("#ph-mute[aria-pressed=true]", { timeout: 5000 });
  say("MUTED");
  await page.click("#ph-mute");
  await page.waitForSelector("#ph-mute[aria-pressed=false]", { timeout: 5000 });
  say("UNMUTED");

  await wait("go-ahead to hang up", 60000, async () => existsSync(doneFile + ".hangup"));
  await page.click("#ph-hangup");
  await page.waitForSelector("[data-testid=ph-call]", { state: "hidden", timeout: 10000 });
  say("ENDED");
  await shot(page, "desk-phone-ended");

  // The WebSocket drops: the desk says so, and the phone comes back registered by itself.
  const cut = sockets.length;
  for (const { ws, server } of sockets) {
    await server.close({ code: 1001, reason: "test: network drop" }).catch(() => {});
    await ws.close({ code: 1001, reason: "test: network drop" }).catch(() => {});
  }
  await page.waitForSelector("[data-testid=ph-problem]:not([hidden])", { timeout: 10000 });
  say(`DROPPED ${await page.textContent("[data-testid=ph-problem]")}`);
  await shot(page, "desk-phone-dropped");
  await wait("a new WebSocket", 30000, async () => sockets.length > cut);
  await wait("registered again", 30000, async () =>
    (await page.isHidden("[data-testid=ph-problem]")) && (await status()).includes("已注册"));
  say("REREGISTERED");

  await b.close();
}
