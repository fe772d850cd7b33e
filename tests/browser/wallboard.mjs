// node wallboard.mjs <base-url> <token> <screenshot-dir> [web]
// Signs in, then reports WAITING when the enterprise queue shows a waiting call and
// ANSWERED when today's answered count moves; screenshots at each step.
// Mode `web`: reports WEB with the panel and the alarms when one internet request waits past
// its alarm, then CLEARED when an agent has taken it (the count back to 0, the alarms gone).
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir, mode] = process.argv.slice(2);
const shot = shots(dir);

async function webMode(page) {
  await page.waitForFunction(
    () => document.querySelector("[data-testid=web-waiting]")?.textContent === "1"
      && document.querySelector("#alarms li[data-kind=web_request_waiting]")
      && document.querySelector("#alarms li[data-kind=internet_requests_unanswered]"),
    null, { timeout: 30000 });
  const waiting = await page.getAttribute("[data-testid=web-waiting]", "class");
  const longest = await page.textContent("[data-testid=web-longest]");
  const alarms = await page.$$eval("#alarms li", (l) => l.map((x) => x.dataset.kind + "=" + x.textContent).join(" | "));
  say(`WEB class=${waiting} longest=${longest} alarms=${alarms}`);
  await shot(page, "wallboard-web-waiting");
  await accessible(page, "wallboard-web");
  await page.waitForFunction(
    () => document.querySelector("[data-testid=web-waiting]")?.textContent === "0"
      && !document.querySelector("#alarms li[data-kind=web_request_waiting]")
      && !document.querySelector("#alarms li[data-kind=internet_requests_unanswered]"),
    null, { timeout: 30000 });
  say("CLEARED " + (await page.textContent("[data-testid=web-longest]")));
  await shot(page, "wallboard-web-cleared");
}

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on("console", (m) => log.push(m.text()));
  await page.goto(base + "/");
  // Without a token the page shows nothing but the sign-in form.
  await page.waitForSelector("#login:not([hidden])");
  if (await page.isVisible("#app")) throw new Error("wallboard visible without a token");
  await page.fill("#login input", "not-a-token");
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#login .bad:not([hidden])");
  await shot(page, "wallboard-login");
  await accessible(page, "wallboard-login");
  await page.fill("#login input", token);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#app:not([hidden])");
  await page.waitForSelector("#conn.level-ok", { timeout: 10000 });
  say("READY");
  if (mode === "web") {
    await webMode(page);
    say("DONE");
    await b.close();
    return;
  }
  await page.waitForFunction(
    () => document.querySelector("[data-testid=waiting-enterprise]")?.textContent === "1",
    null, { timeout: 40000 });
  const banner = await page.textContent("[data-testid=alarms]");
  say("WAITING " + banner.replace(/\s+/g, " ").trim());
  await shot(page, "wallboard-waiting");
  await accessible(page, "wallboard");
  await page.waitForFunction(
    () => Number(document.querySelector("[data-testid=answered]")?.textContent) >= 1,
    null, { timeout: 40000 });
  say("ANSWERED " + (await page.textContent("[data-testid=rate15]")));
  await shot(page, "wallboard-answered");
  await page.click("#lang");
  const title = await page.textContent("h1");
  if (title !== "Live wallboard") throw new Error("English title expected, got " + title);
  await shot(page, "wallboard-en");
  say("DONE");
  await b.close();
});
