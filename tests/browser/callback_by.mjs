// node callback_by.mjs <base-url> <reviewer-token> <screenshot-dir> <ticket-id>
// Issue 15: the reviewer passes a reply on the ticket desk choosing who calls back (a select
// beside the button, in Chinese: 按系统配置 / 智能外呼 / 人工回访) and picks an agent (AGENT);
// then, in English, changes it to the robot while the callback is awaited (ROBOT).
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir, id] = process.argv.slice(2);
const shot = shots(dir);

async function options(page) {
  return page.$$eval("#a-callback_by option", (os) => os.map((o) => `${o.value}=${o.textContent}`).join(" "));
}

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1500, height: 1000 } });
  page.on("console", (m) => log.push(m.text()));
  const open = `${base}/tickets?token=${encodeURIComponent(token)}#${id}`;
  await page.goto(open);
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=under_review]", { timeout: 15000 });
  await page.selectOption("#a-action", "review_pass");
  const zh = await options(page);
  if (zh !== "=按系统配置 robot=智能外呼 agent=人工回访") throw new Error("review_pass choices: " + zh);
  const label = await page.textContent("label[for=a-callback_by]");
  if (label !== "回访方") throw new Error("callback_by label: " + label);
  await accessible(page, "review-pass-callback-by");
  await page.selectOption("#a-callback_by", "agent");
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=awaiting_callback]", { timeout: 10000 });
  const shown = await page.textContent("[data-testid=callback-by]");
  if (shown !== "人工回访") throw new Error("shown as " + shown);
  await shot(page, "callback-by-agent");
  say("AGENT " + id);
  // In English, while the callback is awaited: change it to the robot.
  await page.evaluate(() => localStorage.setItem("lang", "en"));
  await page.goto("about:blank");
  await page.goto(open);
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=awaiting_callback]", { timeout: 15000 });
  const action = await page.$eval("#a-action option[value=set_callback_by]", (o) => o.textContent);
  if (action !== "Change who calls back") throw new Error("set_callback_by shown as " + action);
  await page.selectOption("#a-action", "set_callback_by");
  const en = await options(page);
  if (en !== "=As configured robot=Robot call agent=An agent calls") throw new Error("choices: " + en);
  await page.selectOption("#a-callback_by", "robot");
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForFunction(() => document.querySelector("[data-testid=callback-by]")?.textContent === "Robot call", null, { timeout: 10000 });
  const history = await page.textContent("ol.history");
  if (!history.includes("Who calls back changed: Robot call")) throw new Error("history: " + history);
  await shot(page, "callback-by-robot");
  say("ROBOT " + id);
  await b.close();
});
