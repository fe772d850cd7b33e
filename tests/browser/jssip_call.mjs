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
import { existsSync } from "node:fs";
import { say, guard } from "./lib.mjs";
import { answeringPhone, wait } from "./jssip_answer.mjs";

const [base, , , user, password, doneFile, wav] = process.argv.slice(2);

guard(async (log) => {
  const { b, page, contact } = await answeringPhone(log, {
    base,
    user,
    password,
    wav,
    answer: { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } },
  });
  say(`REGISTERED ${contact}`);

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
