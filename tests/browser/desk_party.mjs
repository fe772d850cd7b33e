// node desk_party.mjs <base-url> <agent-token> <screenshot-dir> <file> <wav>
// The agent desk's own phone (web/phone.js, the vendored JsSIP) as an EXTRA party of a call:
// another agent consults this one, then hands the call over to it. Chromium's fake
// microphone plays <wav> (the test's tone). The agent is made ready by the test (not here),
// so the citizen's call reaches the other agent first.
//   REGISTERED <status>       signed in with the token only; the page's phone registered
//   RINGING <from>            the consultation rings on the web phone
//   ANSWERED                  the answer button was clicked and the call is up
//   PEAK<n> <hz> <db>         after `<file>.peak<n>` appears (n = 1, 2): the loudest
//                             frequency of the phone's received audio over 3 s (WebAudio)
//   ENDED                     after `<file>.hangup`: the hang-up button ended the call
// Screenshots at each step. Bounded in time; only loopback traffic.
import { existsSync } from "node:fs";
import { browser, say, shots, guard } from "./lib.mjs";

const [base, token, dir, doneFile, wav] = process.argv.slice(2);
const shot = shots(dir);

const wait = async (what, limit, test) => {
  for (let i = 0; i < limit / 100; i++) {
    const v = await test();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no " + what + " within " + limit + " ms");
};

/** The loudest frequency (100–3000 Hz) of what the phone's audio element receives. */
const peak = (page) =>
  page.evaluate(
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
          ctx.close();
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

guard(async (log) => {
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
  await page.goto(`${base}/desk?token=${encodeURIComponent(token)}`);
  // The agent turns the page's phone on (it stays off for an agent with a desk phone).
  await page.check("[data-testid=ph-on]");
  const status = () => page.textContent("[data-testid=ph-status]");
  await wait("the phone's registration", 30000, async () =>
    (await status()).includes("已注册") || (await status()).includes("registered"));
  say(`REGISTERED ${await status()}`);

  await page.waitForSelector("[data-testid=ph-call]:not([hidden])", { timeout: 90000 });
  await page.waitForSelector("#ph-ringing:not([hidden])", { timeout: 5000 });
  say(`RINGING ${await page.textContent("[data-testid=ph-from]")}`);
  await shot(page, "desk-party-ringing");
  await page.click("#ph-answer");
  await wait("the call up", 20000, async () => !(await page.isDisabled("#ph-hangup")));
  say("ANSWERED");
  await shot(page, "desk-party-talking");

  for (const n of [1, 2]) {
    await wait(`go-ahead to measure (${n})`, 90000, async () => existsSync(`${doneFile}.peak${n}`));
    const p = await peak(page);
    say(`PEAK${n} ${p.hz.toFixed(1)} ${p.db.toFixed(1)}`);
  }

  await wait("go-ahead to hang up", 60000, async () => existsSync(doneFile + ".hangup"));
  await page.click("#ph-hangup");
  await page.waitForSelector("[data-testid=ph-call]", { state: "hidden", timeout: 10000 });
  say("ENDED");
  await shot(page, "desk-party-ended");
  await b.close();
});
