// node jssip_call.mjs <base-url> <unused-token> <screenshot-dir> <user> <password> <file> <wav>
// A browser agent answers a call end to end: JsSIP (npm, pinned, bundled by esbuild, tests
// only) in headless Chromium whose fake microphone plays <wav> (the test's 600 Hz tone)
// registers over the engine's `/ws`, answers the ACD's INVITE with WebRTC media (ICE, DTLS-
// SRTP), measures what it hears with WebAudio, shows the keys the citizen presses, and hangs
// up when the Rust test says so:
//   REGISTERED <contact>     registered (the Rust test then makes the agent ready)
//   RINGING <display>        the ACD's INVITE arrived; the page answers it
//   CONFIRMED                the call is up (ACK)
//   CONNECTED <ice-state>    ICE and DTLS are up in the browser
//   PEAK <hz> <db>           the loudest frequency of the received audio (AnalyserNode)
//   DTMF <tone>              a key the citizen pressed reached JsSIP (newDTMF, remote)
//   SENT <tone>              the agent pressed a key (JsSIP sendDTMF over RFC 4733, RTCDTMFSender)
//   HELD                     after `<file>.hold`: JsSIP's hold re-INVITE (sendonly) was answered
//   RESUMED                  after `<file>.unhold`: its resume re-INVITE was answered
//   ENDED <cause>            after `<file>.hangup`: the page hung up (BYE)
// Everything is bounded in time; the only traffic is to the engine on loopback.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { browser, say, guard } from "./lib.mjs";

const [base, , , user, password, doneFile, wav] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const ws = base.replace(/^http/, "ws") + "/ws";

async function jssipBundle() {
  const out = await build({
    entryPoints: [require.resolve("jssip")],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "JsSIP",
    platform: "browser",
    logLevel: "silent",
  });
  return out.outputFiles[0].text + "\nwindow.JsSIP = JsSIP;";
}

const wait = async (what, limit, test) => {
  for (let i = 0; i < limit / 100; i++) {
    const v = await test();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no " + what + " within " + limit + " ms");
};

guard(async (log) => {
  const bundle = await jssipBundle();
  const b = await browser([
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${wav}`,
    "--autoplay-policy=no-user-gesture-required",
    // The engine's only candidate is on loopback; Chromium leaves loopback out otherwise.
    "--allow-loopback-in-peer-connection",
  ]);
  const page = await b.newPage();
  page.on("console", (m) => log.push(m.text()));
  page.on("pageerror", (e) => log.push("pageerror " + e.message));
  await page.goto(base + "/api/health");
  await page.evaluate(bundle);

  const registered = await page.evaluate(
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
        });
        window.ua = ua;
        window.state = { calls: [], dtmf: [], ended: null, ice: null, confirmed: false };
        ua.on("newRTCSession", (e) => {
          const s = e.session;
          if (s.direction !== "incoming") return;
          window.session = s;
          window.state.calls.push(s.remote_identity.display_name ?? "");
          s.on("newDTMF", (d) => {
            if (d.originator === "remote") window.state.dtmf.push(d.dtmf.tone);
          });
          s.on("confirmed", () => { window.state.confirmed = true; });
          s.on("hold", () => { window.state.held = true; });
          s.on("unhold", () => { window.state.held = false; });
          s.on("ended", (x) => { window.state.ended = "ended " + x.cause; });
          s.on("failed", (x) => { window.state.ended = "failed " + x.cause; });
          s.on("peerconnection", (p) => {
            const pc = p.peerconnection;
            pc.addEventListener("iceconnectionstatechange", () => {
              window.state.ice = pc.iceConnectionState;
            });
            pc.addEventListener("track", (t) => {
              const stream = t.streams[0] ?? new MediaStream([t.track]);
              // Chromium feeds a remote WebRTC stream to WebAudio only while a media
              // element plays it too (muted here: the page measures, it does not play).
              const el = new Audio();
              el.muted = true;
              el.srcObject = stream;
              el.play().catch(() => {});
              const ctx = new AudioContext();
              const analyser = ctx.createAnalyser();
              analyser.fftSize = 8192;
              ctx.createMediaStreamSource(stream).connect(analyser);
              window.analyser = { ctx, analyser, el };
            });
          });
          s.answer({
            mediaConstraints: { audio: true, video: false },
            pcConfig: { iceServers: [] },
          });
        });
        const timer = setTimeout(() => resolve({ outcome: "timeout" }), 10000);
        ua.on("registered", () => {
          clearTimeout(timer);
          resolve({ outcome: "registered", contact: ua.contact.toString() });
        });
        ua.on("registrationFailed", (e) => {
          clearTimeout(timer);
          resolve({ outcome: "failed", cause: e.cause });
        });
        ua.start();
      }),
    [ws, user, password],
  );
  if (registered.outcome !== "registered") throw new Error("register: " + JSON.stringify(registered));
  say(`REGISTERED ${registered.contact}`);

  const ringing = await wait("INVITE", 60000, () => page.evaluate(() => window.state.calls[0]));
  say(`RINGING ${ringing}`);
  await wait("ACK", 20000, () => page.evaluate(() => window.state.confirmed || window.state.ended));
  const early = await page.evaluate(() => window.state.ended);
  if (early) throw new Error("the call ended before it was up: " + early);
  say("CONFIRMED");
  const ice = await wait("ICE connected", 20000, () =>
    page.evaluate(() => ["connected", "completed"].includes(window.state.ice) && window.state.ice));
  say(`CONNECTED ${ice}`);

  // What the page hears: the loudest bin between 100 Hz and 3 kHz over 3 s of audio (the
  // peak of averaged spectra, so one quiet frame does not decide).
  await new Promise((r) => setTimeout(r, 1500));
  const peak = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const { ctx, analyser } = window.analyser;
        ctx.resume();
        const bins = new Float32Array(analyser.frequencyBinCount);
        const sum = new Float64Array(bins.length);
        let n = 0;
        const timer = setInterval(() => {
          analyser.getFloatFrequencyData(bins);
          for (let i = 0; i < bins.length; i++) sum[i] += Math.pow(10, bins[i] / 10);
          n++;
          if (n < 30) return;
          clearInterval(timer);
          const hz = (i) => (i * ctx.sampleRate) / analyser.fftSize;
          let best = 0;
          for (let i = 1; i < sum.length; i++) {
            if (hz(i) < 100 || hz(i) > 3000) continue;
            if (sum[i] > sum[best] || hz(best) < 100) best = i;
          }
          resolve({ hz: hz(best), db: 10 * Math.log10(sum[best] / n) });
        }, 100);
      }),
  );
  say(`PEAK ${peak.hz.toFixed(1)} ${peak.db.toFixed(1)}`);

  const tone = await wait("a key from the citizen", 30000, () => page.evaluate(() => window.state.dtmf[0]));
  say(`DTMF ${tone}`);
  await page.evaluate(() => window.session.sendDTMF("7", { transportType: "RFC2833", duration: 160 }));
  say("SENT 7");

  await wait("go-ahead to hold", 30000, async () => existsSync(doneFile + ".hold"));
  await page.evaluate(() => window.session.hold());
  await wait("the hold answered", 10000, () => page.evaluate(() => window.state.held === true));
  say("HELD");
  await wait("go-ahead to resume", 30000, async () => existsSync(doneFile + ".unhold"));
  await page.evaluate(() => window.session.unhold());
  await wait("the resume answered", 10000, () => page.evaluate(() => window.state.held === false));
  say("RESUMED");

  await wait("go-ahead to hang up", 60000, async () => existsSync(doneFile + ".hangup"));
  await page.evaluate(() => window.session.terminate());
  const ended = await wait("the end of the call", 5000, () => page.evaluate(() => window.state.ended));
  say(`ENDED ${ended}`);
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, 5000);
        window.ua.on("unregistered", () => { clearTimeout(timer); resolve(); });
        window.ua.unregister();
      }),
  );
  await b.close();
});
