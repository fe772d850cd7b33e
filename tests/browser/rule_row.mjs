// node rule_row.mjs <base-url> <supervisor-token> <screenshot-dir> <day> <rule>
// The supervisor opens /reports for <day> (in English) and reads one rule's row of the
// conformance table: "RULE <rule>|<measured>|<verdict>|<calls and tickets that broke it>",
// then a screenshot of the conformance section (reports-<rule>.png).
import { browser, say, guard } from "./lib.mjs";

const [base, token, dir, day, rule] = process.argv.slice(2);

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on("console", (m) => log.push(m.text()));
  await page.addInitScript(() => localStorage.setItem("lang", "en"));
  await page.goto(`${base}/reports?from=${day}&to=${day}&token=${encodeURIComponent(token)}`);
  await page.waitForSelector("body[data-loaded]", { timeout: 15000 });
  const row = `[data-testid=conformance] tbody tr:has(td[data-rule="${rule}"])`;
  const cells = await page.$$eval(`${row} td`, (tds) => tds.map((td) => td.textContent.trim()));
  const status = await page.$eval(`${row} td[data-status]`, (td) => td.dataset.status);
  // Rule, title, target, measured, verdict (words), broken by.
  say(`RULE ${cells[0]}|${cells[3]}|${status}|${cells[5]}`);
  const section = await page.$("section:has([data-testid=conformance])");
  await section.screenshot({ path: `${dir}/reports-${rule}.png` });
  say(`SHOT ${dir}/reports-${rule}.png`);
  await b.close();
});
