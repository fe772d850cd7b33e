// node jssip.mjs <base-url> <unused-token> <screenshot-dir> <user> <password> <file> — a standard
// browser SIP client (JsSIP, npm, pinned in package.json; bundled here with esbuild, tests
// only) in headless Chromium against the engine's SIP over WebSocket (RFC 7118, `/ws`):
//   WRONG <status> <cause>   the user with a wrong password is refused (registrationFailed)
//   ORIGIN <code>            a page of another origin cannot open /ws (the socket never opens)
//   REGISTERED <contact>     the user with its password registers
//   RINGING <display>        the engine's INVITE for a citizen reached JsSIP (it rang, 180)
//   DECLINED <cause>         JsSIP declined it (486) once the Rust test wrote `<file>.decline`
//   UNREGISTERED             after the Rust test wrote `<file>`
// With a 7th argument `only-register` it only registers and unregisters (the WSS test: an
// https:// base, whose self-signed certificate the page accepts).
// Everything is bounded in time; the only traffic is to the engine on loopback.
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { browser, say, guard } from "./lib.mjs";
import { jssipBundle, wait } from "./jssip_answer.mjs";

const [base, , , user, password, doneFile, mode] = process.argv.slice(2);
const onlyRegister = mode === "only-register";
const ws = base.replace(/^http/, "ws") + "/ws";

/** Starts a JsSIP UA in the page and resolves with the first registration outcome. */
function register(page, user, password) {
  return page.evaluate(
    ([ws, user, password]) =>
      new Promise((resolve) => {
        const host = new URL(ws).hostname;
        const ua = new window.JsSIP.UA({
          sockets: [new window.JsSIP.WebSocketInterface(ws)],
          uri: `sip:${user}@${host}`,
          password,
          register: true,
          register_expires: 600,
          session_timers: false,
          connection_recovery_min_interval: 30,
          connection_recovery_max_interval: 60,
        });
        window.ua = ua;
        const timer = setTimeout(() => resolve({ outcome: "timeout" }), 10000);
        ua.on("registered", () => {
          clearTimeout(timer);
          resolve({ outcome: "registered", contact: ua.contact.toString() });
        });
        ua.on("registrationFailed", (e) => {
          clearTimeout(timer);
          resolve({ outcome: "failed", status: e.response?.status_code ?? 0, cause: e.cause });
          ua.stop();
        });
        ua.start();
      }),
    [ws, user, password],
  );
}

guard(async (log) => {
  const bundle = await jssipBundle();
  const b = await browser();
  // Over HTTPS the test's certificate is self-signed (made in the test).
  const page = await b.newPage({ ignoreHTTPSErrors: base.startsWith("https:") });
  page.on("console", (m) => log.push(m.text()));
  page.on("pageerror", (e) => log.push("pageerror " + e.message));

  // A page of the engine's own origin (its health document; the script goes in through the
  // DevTools protocol, so no page of ours needs to carry it).
  await page.goto(base + "/api/health");
  await page.evaluate(bundle);

  if (onlyRegister) {
    const good = await register(page, user, password);
    if (good.outcome !== "registered") throw new Error("right password: " + JSON.stringify(good));
    say(`REGISTERED ${good.contact}`);
    await unregister(page);
    await b.close();
    return;
  }

  const wrong = await register(page, user, password + "-wrong");
  if (wrong.outcome !== "failed") throw new Error("wrong password: " + JSON.stringify(wrong));
  say(`WRONG ${wrong.status} ${wrong.cause}`);

  // Another origin: a page served here on another loopback port; its WebSocket to the engine
  // carries that origin and must never open.
  const server = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!doctype html><title>elsewhere</title>");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const other = await b.newPage();
  await other.goto(`http://127.0.0.1:${server.address().port}/`);
  const refused = await other.evaluate(
    (ws) =>
      new Promise((resolve) => {
        const s = new WebSocket(ws, "sip");
        const timer = setTimeout(() => resolve("timeout"), 5000);
        s.onopen = () => { clearTimeout(timer); resolve("opened"); };
        s.onclose = (e) => { clearTimeout(timer); resolve(String(e.code)); };
      }),
    ws,
  );
  if (refused === "opened" || refused === "timeout") throw new Error("other origin: " + refused);
  say(`ORIGIN ${refused}`);
  await other.close();
  server.close();

  const good = await register(page, user, password);
  if (good.outcome !== "registered") throw new Error("right password: " + JSON.stringify(good));
  say(`REGISTERED ${good.contact}`);

  // A call: the engine's INVITE for a citizen reaches JsSIP down the WebSocket (newRTCSession,
  // JsSIP rings with 180); the phone declines when the Rust test says so (486). Answering is
  // jssip_call.mjs.
  await page.evaluate(() => {
    window.calls = [];
    window.ua.on("newRTCSession", (e) => {
      const s = e.session;
      window.calls.push({ from: s.remote_identity.display_name ?? "", status: "ringing" });
      s.on("failed", (f) => { window.calls[window.calls.length - 1].status = "failed " + f.cause; });
      window.session = s;
    });
  });
  if (doneFile) {
    const ringing = await wait("INVITE", 30000, () => page.evaluate(() => window.calls[0]));
    say(`RINGING ${ringing.from}`);
    await wait("go-ahead to decline", 20000, async () => existsSync(doneFile + ".decline"));
    await page.evaluate(() => window.session.terminate({ status_code: 486, reason_phrase: "Busy Here" }));
    const ended = await wait("the end of the call", 5000, () =>
      page.evaluate(() => window.calls[0].status.startsWith("failed") && window.calls[0].status));
    say(`DECLINED ${ended}`);
  }

  // Stay registered until the Rust test has looked (bounded: 20 s), then leave politely.
  for (let i = 0; i < 200 && !(doneFile && existsSync(doneFile)); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await unregister(page);
  await b.close();
});

/** Unregisters the page's UA (bounded: 5 s) and says so. */
async function unregister(page) {
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, 5000);
        window.ua.on("unregistered", () => { clearTimeout(timer); resolve(); });
        window.ua.unregister();
      }),
  );
  say("UNREGISTERED");
}
