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
import { existsSync, readFileSync } from "node:fs";
import { say, guard } from "./lib.mjs";
import { answeringPhone, wait } from "./jssip_answer.mjs";

const [base, , , user, password, doneFile, wav] = process.argv.slice(2);

guard(async (log) => {
  const { b, page, contact } = await answeringPhone(log, {
    base,
    user,
    password,
    wav,
    answer: {
      // The test's tone is steady: Chromium's noise suppression would take it for noise and
      // turn it down, and the mixed levels are what is measured here.
      mediaConstraints: {
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
        video: false,
      },
      pcConfig: { iceServers: [] },
    },
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
