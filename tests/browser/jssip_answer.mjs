// What the JsSIP answering pages share (tests only): JsSIP (npm, pinned) bundled by esbuild
// for the page, a bounded wait, and a Chromium page whose fake microphone plays a WAV, with a
// JsSIP UA registered over the engine's `/ws` that answers every incoming INVITE with WebRTC
// media and keeps an AnalyserNode on what it hears (`window.state`, `window.analyser`).
import { build } from "esbuild";
import { createRequire } from "node:module";
import { browser } from "./lib.mjs";

const require = createRequire(import.meta.url);

/** JsSIP as one script for the page (its npm package ships CommonJS only). */
export async function jssipBundle() {
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

/** Polls `test` every 100 ms until it gives a value, for at most `limit` ms. */
export const wait = async (what, limit, test) => {
  for (let i = 0; i < limit / 100; i++) {
    const v = await test();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no " + what + " within " + limit + " ms");
};

/**
 * Opens the page and registers `user`; `answer` is JsSIP's answer options for incoming
 * INVITEs. Resolves with the browser, the page and the registered contact, or throws.
 */
export async function answeringPhone(log, { base, user, password, wav, answer }) {
  const ws = base.replace(/^http/, "ws") + "/ws";
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
    ([ws, user, password, answer]) =>
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
          s.answer(answer);
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
    [ws, user, password, answer],
  );
  if (registered.outcome !== "registered") throw new Error("register: " + JSON.stringify(registered));
  return { b, page, contact: registered.contact };
}
