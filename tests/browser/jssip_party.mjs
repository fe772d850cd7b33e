// node jssip_party.mjs <base-url> <unused-token> <screenshot-dir> <user> <password> <file> <wav>
// A supervisor's browser phone as an extra party of a call: JsSIP (npm, pinned, bundled by
// esbuild, tests only) in headless Chromium whose fake microphone plays <wav> registers over
// the engine's `/ws` as <user>, answers the monitoring INVITE with WebRTC media (ICE,
// DTLS-SRTP), and measures the levels of given tones in what it hears:
//   REGISTERED <contact>     registered
//   RINGING <display>        the monitoring INVITE arrived; the page answers it
//   CONFIRMED                the call is up (ACK)
//   CONNECTED <ice-state>    ICE and DTLS are up in the browser
//   LEVELS<n> <hz>:<db> …    after `<file>.levels<n>` (n = 1, 2): the level of each tone the
//                            file names (space-separated Hz) over 3 s of received audio
//   ENDED <cause>            the engine hung the page up (BYE), after `<file>.levels2`
// Everything is bounded in time; the only traffic is to the engine on loopback.
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
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
            // The test's tone is steady: Chromium's noise suppression would take it for
            // noise and turn it down, and the mixed levels are what is measured here.
            mediaConstraints: {
              audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
              video: false,
            },
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

  for (const n of [1, 2]) {
    const file = `${doneFile}.levels${n}`;
    await wait(`go-ahead to measure (${n})`, 90000, async () => existsSync(file));
    const tones = readFileSync(file, "utf8").trim().split(/\s+/).map(Number);
    // The averaged spectrum over 3 s; each tone's level is its loudest bin within ±10 Hz.
    const levels = await page.evaluate(
      (tones) =>
        new Promise((resolve) => {
          const { ctx, analyser } = window.analyser;
          ctx.resume();
          const bins = new Float32Array(analyser.frequencyBinCount);
          const sum = new Float64Array(bins.length);
          let n = 0;
          const timer = setInterval(() => {
            analyser.getFloatFrequencyData(bins);
            for (let i = 0; i < bins.length; i++) sum[i] += Math.pow(10, bins[i] / 10);
            if (++n < 30) return;
            clearInterval(timer);
            const hz = (i) => (i * ctx.sampleRate) / analyser.fftSize;
            resolve(tones.map((t) => {
              let best = 0;
              for (let i = 1; i < sum.length; i++) {
                if (Math.abs(hz(i) - t) <= 10 && sum[i] > best) best = sum[i];
              }
              return `${t}:${(10 * Math.log10(best / n)).toFixed(1)}`;
            }));
          }, 100);
        }),
      tones,
    );
    say(`LEVELS${n} ${levels.join(" ")}`);
  }

  const ended = await wait("the engine's BYE", 30000, () => page.evaluate(() => window.state.ended));
  say(`ENDED ${ended}`);
  await b.close();
});
