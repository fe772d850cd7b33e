// The desk's own phone (issue 18): the vendored, pinned JsSIP (/assets/jssip.js, MIT, see
// web/jssip.LICENSE.txt) registers the signed-in agent over SIP over WebSocket (/ws) with the
// credentials the desk's token fetches (GET /api/desk/phone: SIP user, realm, MD5 HA1; never
// shown), and answers calls with WebRTC media (the engine's ICE-lite, DTLS-SRTP leg).
// Ring sound and call panel, answer, hang up, hold, mute, keypad (RFC 4733), keys the caller
// presses (SIP INFO), microphone choice, a level meter, and a clear message when the
// microphone is denied, the WebSocket drops (JsSIP reconnects and re-registers on its own) or
// the network blocks the media.
import { api, t } from "/assets/common.js";

const $ = (id) => document.getElementById(id);
let ua = null;
let session = null;
let ring = null;
let localStream = null;
let meterTimer = null;
let mediaTimer = null;
let audioCtx = null;
/** This call was answered here, and its media (ICE) came up: a call answered whose media
 * never came up was blocked by the network. */
let answered = false;
let iceUp = false;

/** Shows the phone's state (`ok` false: as a problem). */
function status(key, ok = true, vars = {}) {
  const s = $("ph-status");
  s.textContent = t(key, vars);
  s.className = ok ? "muted" : "error";
}

/** A problem the agent must act on (or `null` to clear it). */
function problem(key) {
  $("ph-problem").textContent = key ? t(key) : "";
  $("ph-problem").hidden = !key;
}

function ctx() {
  audioCtx ??= new AudioContext();
  if (audioCtx.state === "suspended") audioCtx.resume().catch(() => {});
  return audioCtx;
}

/** The ring: 440 + 480 Hz, one second on, two off, until answered or gone. */
function startRing() {
  stopRing();
  const c = ctx();
  const gain = c.createGain();
  gain.gain.value = 0;
  gain.connect(c.destination);
  const tones = [440, 480].map((hz) => {
    const o = c.createOscillator();
    o.frequency.value = hz;
    o.connect(gain);
    o.start();
    return o;
  });
  let on = false;
  const beat = () => {
    on = !on;
    gain.gain.setTargetAtTime(on ? 0.1 : 0, c.currentTime, 0.01);
  };
  beat();
  const timer = setInterval(beat, 1000 * 1.5);
  ring = { stop: () => { clearInterval(timer); tones.forEach((o) => o.stop()); gain.disconnect(); } };
  $("ph-ringing").hidden = false;
}

function stopRing() {
  ring?.stop();
  ring = null;
  $("ph-ringing").hidden = true;
}

/** The microphones the browser offers, in the picker (labels once permission was given). */
async function listMics() {
  const devices = await navigator.mediaDevices?.enumerateDevices?.().catch(() => []) ?? [];
  const mics = devices.filter((d) => d.kind === "audioinput");
  const pick = $("ph-mic");
  const chosen = pick.value;
  pick.replaceChildren(...mics.map((d, i) => {
    const o = document.createElement("option");
    o.value = d.deviceId;
    o.textContent = d.label || t("ph.mic_n", { n: i + 1 });
    return o;
  }));
  if (chosen) pick.value = chosen;
}

function micConstraints() {
  const id = $("ph-mic").value;
  return { audio: id ? { deviceId: { exact: id } } : true, video: false };
}

/** The level meter follows `stream` (the microphone in use). */
function meter(stream) {
  clearInterval(meterTimer);
  const analyser = ctx().createAnalyser();
  analyser.fftSize = 1024;
  ctx().createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  meterTimer = setInterval(() => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    $("ph-level").value = Math.min(1, Math.sqrt(sum / buf.length) * 4);
  }, 100);
}

function controls(inCall) {
  for (const id of ["ph-hangup", "ph-hold", "ph-mute"]) $(id).disabled = !inCall;
  for (const b of $("ph-keys").querySelectorAll("button")) b.disabled = !inCall;
}

function endCall(reasonKey) {
  if (answered && !iceUp) problem("ph.media_blocked");
  answered = false;
  iceUp = false;
  stopRing();
  clearInterval(mediaTimer);
  session = null;
  $("ph-call").hidden = true;
  $("ph-answer").disabled = true;
  controls(false);
  $("ph-hold").setAttribute("aria-pressed", "false");
  $("ph-mute").setAttribute("aria-pressed", "false");
  $("ph-audio").srcObject = null;
  localStream?.getTracks().forEach((tr) => tr.stop());
  localStream = null;
  if (reasonKey) status(reasonKey, true);
}

function watchMedia(pc) {
  let badSince = null;
  clearInterval(mediaTimer);
  mediaTimer = setInterval(() => {
    const s = pc.iceConnectionState;
    if (s === "connected" || s === "completed") iceUp = true;
    if (s === "failed" || s === "disconnected" || s === "checking" || s === "new") {
      badSince ??= Date.now();
      if (s === "failed" || Date.now() - badSince > 5000) problem("ph.media_blocked");
    } else {
      badSince = null;
      if ($("ph-problem").textContent === t("ph.media_blocked")) problem(null);
    }
  }, 500);
  pc.addEventListener("track", (e) => {
    $("ph-audio").srcObject = e.streams[0] ?? new MediaStream([e.track]);
    $("ph-audio").play().catch(() => {});
  });
}

function incoming(s) {
  if (session) {
    s.terminate({ status_code: 486, reason_phrase: "Busy Here" });
    return;
  }
  session = s;
  $("ph-from").textContent = s.remote_identity.display_name || s.remote_identity.uri.user;
  $("ph-heard").textContent = "";
  $("ph-call").hidden = false;
  $("ph-answer").disabled = false;
  $("ph-hangup").disabled = false;
  status("ph.ringing");
  startRing();
  s.on("peerconnection", (e) => watchMedia(e.peerconnection));
  s.on("accepted", () => { stopRing(); status("ph.talking"); controls(true); $("ph-answer").disabled = true; });
  s.on("newDTMF", (e) => {
    if (e.originator === "remote") $("ph-heard").textContent += e.dtmf.tone;
  });
  s.on("hold", () => $("ph-hold").setAttribute("aria-pressed", "true"));
  s.on("unhold", () => $("ph-hold").setAttribute("aria-pressed", "false"));
  s.on("ended", () => endCall("ph.ended"));
  s.on("failed", (e) => {
    if (e.cause === window.JsSIP.C.causes.USER_DENIED_MEDIA_ACCESS) problem("ph.mic_denied");
    endCall("ph.ended");
  });
}

async function answer() {
  if (!session) return;
  ctx();
  try {
    localStream = await navigator.mediaDevices.getUserMedia(micConstraints());
  } catch (e) {
    problem(e?.name === "NotFoundError" ? "ph.mic_none" : "ph.mic_denied");
    session.terminate({ status_code: 480, reason_phrase: "Microphone Unavailable" });
    return;
  }
  problem(null);
  meter(localStream);
  listMics();
  answered = true;
  session.answer({ mediaStream: localStream, pcConfig: { iceServers: [] } });
}

/** Another microphone mid-call: its track replaces the one being sent. */
async function switchMic() {
  if (!session?.connection || !localStream) return;
  try {
    const next = await navigator.mediaDevices.getUserMedia(micConstraints());
    const track = next.getAudioTracks()[0];
    const sender = session.connection.getSenders().find((x) => x.track?.kind === "audio");
    await sender?.replaceTrack(track);
    localStream.getTracks().forEach((tr) => tr.stop());
    localStream = next;
    meter(next);
  } catch {
    problem("ph.mic_denied");
  }
}

/** Wires the desk's phone for the signed-in agent (`token()` gives the desk's token). The
 * agent turns it on (remembered in this browser): an agent with a SIP phone on the desk
 * keeps it, since either may be the agent's phone but not both at once. */
export async function initPhone(token) {
  const KEY = "hotline.webphone";
  const toggle = $("ph-on");
  toggle.checked = localStorage.getItem(KEY) === "1";
  toggle.addEventListener("change", () => {
    localStorage.setItem(KEY, toggle.checked ? "1" : "0");
    if (toggle.checked) startPhone(token).catch(() => status("ph.unavailable", false));
    else stopPhone();
  });
  wire();
  addEventListener("pagehide", () => ua?.stop());
  if (toggle.checked) await startPhone(token);
  else status("ph.off");
}

/** Turns the phone off: it unregisters and lets go of the call. */
function stopPhone() {
  session?.terminate();
  ua?.stop();
  ua = null;
  problem(null);
  status("ph.off");
}

function wire() {
  $("ph-answer").addEventListener("click", answer);
  $("ph-hangup").addEventListener("click", () => session?.terminate());
  $("ph-hold").addEventListener("click", () => {
    if (!session) return;
    if (session.isOnHold().local) session.unhold(); else session.hold();
  });
  $("ph-mute").addEventListener("click", () => {
    if (!session) return;
    const muted = session.isMuted().audio;
    if (muted) session.unmute({ audio: true }); else session.mute({ audio: true });
    $("ph-mute").setAttribute("aria-pressed", String(!muted));
  });
  for (const b of $("ph-keys").querySelectorAll("button")) {
    b.addEventListener("click", () => session?.sendDTMF(b.dataset.key, { transportType: "RFC2833", duration: 160 }));
  }
  $("ph-mic").addEventListener("change", switchMic);
  navigator.mediaDevices?.addEventListener?.("devicechange", listMics);
  controls(false);
}

async function startPhone(token) {
  if (ua) return;
  // Ask for the microphone once now: the agent learns of a refusal before the first call
  // rings, and the picker gets the devices' names.
  try {
    const probe = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    probe.getTracks().forEach((tr) => tr.stop());
  } catch (e) {
    problem(e?.name === "NotFoundError" ? "ph.mic_none" : "ph.mic_denied");
  }
  listMics();
  if (!window.JsSIP) {
    status("ph.unavailable", false);
    return;
  }
  let creds;
  try {
    creds = await api(token(), "GET", "/api/desk/phone");
  } catch {
    status("ph.no_credentials", false);
    return;
  }
  const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  const me = new window.JsSIP.UA({
    sockets: [new window.JsSIP.WebSocketInterface(wsUrl)],
    uri: `sip:${creds.sip_user}@${location.hostname}`,
    authorization_user: creds.sip_user,
    realm: creds.realm,
    ha1: creds.ha1,
    register: true,
    register_expires: 300,
    session_timers: false,
    connection_recovery_min_interval: 2,
    connection_recovery_max_interval: 30,
  });
  ua = me;
  // Only the phone that is on speaks (one turned off says nothing more).
  const on = (event, f) => me.on(event, (e) => { if (ua === me) f(e); });
  on("connecting", () => status("ph.connecting"));
  on("disconnected", () => { status("ph.reconnecting", false); problem("ph.ws_lost"); });
  const wsProblem = () => $("ph-problem").textContent === t("ph.ws_lost");
  on("connected", () => { if (wsProblem()) problem(null); });
  on("registered", () => { status("ph.registered"); if (wsProblem()) problem(null); });
  on("unregistered", () => status("ph.unregistered", false));
  on("registrationFailed", () => status("ph.register_failed", false));
  on("newRTCSession", (e) => {
    if (e.originator === "remote") incoming(e.session);
  });
  me.start();
}
