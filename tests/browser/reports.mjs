// node reports.mjs <base-url> <supervisor-token> <screenshot-dir>
// The supervisor opens /reports: the conformance report lists every rule (C1–C16, W1–W19)
// with its verdict, the agents' and queues' tables fill in, the page passes axe-core, the
// CSV button hands over the agents' CSV, and on paper the form and buttons are left off.
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir] = process.argv.slice(2);
const shot = shots(dir);

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  page.on("console", (m) => log.push(m.text()));
  await page.goto(`${base}/reports?token=${encodeURIComponent(token)}`);
  await page.waitForSelector("body[data-loaded]", { timeout: 15000 });
  const rules = await page.$$eval("[data-testid=conformance] tbody td[data-rule]", (tds) => tds.map((td) => td.textContent));
  if (rules.length !== 35 || rules[0] !== "C1" || rules[34] !== "W19") throw new Error("rules: " + rules.join(" "));
  const verdict = (rule) => page.$eval(`[data-testid=conformance] tbody tr:has(td[data-rule="${rule}"]) td[data-status]`, (td) => td.dataset.status);
  say(`RULES ${rules.length} W2=${await verdict("W2")} C4=${await verdict("C4")} C2=${await verdict("C2")}`);
  const basis = await page.textContent("#s-basis");
  const staffingRows = await page.$$eval("[data-testid=staffing] tbody tr", (trs) => trs.map((tr) => tr.textContent.trim()));
  say(`STAFFING ${staffingRows.length} ${basis}`);
  const summary = await page.textContent("#c-summary");
  say("SUMMARY " + summary);
  const tickets = await page.textContent("[data-testid=conformance] tbody tr:has(td[data-rule=W2]) td:last-child");
  say("W2-TICKETS " + tickets.trim());
  await shot(page, "reports");
  await accessible(page, "reports");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv-agents")]);
  const path = await download.path();
  const { readFileSync } = await import("node:fs");
  say("CSV " + readFileSync(path, "utf8").split("\n")[0]);
  await page.emulateMedia({ media: "print" });
  const hidden = await page.$eval("#period", (f) => getComputedStyle(f).display === "none");
  if (!hidden) throw new Error("the form shows on paper");
  await shot(page, "reports-print");
  say("PRINT ok");
  await b.close();
});
