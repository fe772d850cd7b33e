// node analytics.mjs <base-url> <token> <screenshot-dir>
// The analytics page: the trend by area drawn with a line per series, axes and a legend; the
// warnings listed with their rule and requests. Prints one line per step for tests/analytics.rs.
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir] = process.argv.slice(2);
const shot = shots(dir);

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("console", (m) => log.push(m.text()));
  page.on("pageerror", (e) => log.push("page error: " + e.message));
  await page.goto(`${base}/analytics?token=${encodeURIComponent(token)}`);
  await page.waitForSelector("[data-testid=trend-table] tbody tr[data-key]", { timeout: 20000 });
  await page.selectOption("[data-testid=by]", "area");
  await page.click("#query button[type=submit]");
  await page.waitForSelector("[data-testid=legend] [data-legend='朝阳区']", { timeout: 10000 });
  const chart = await page.evaluate(() => {
    const texts = [...document.querySelectorAll("[data-testid=trend-chart] svg text")];
    return {
      lines: document.querySelectorAll("[data-testid=trend-chart] svg polyline").length,
      legend: document.querySelectorAll("[data-testid=legend] [data-legend]").length,
      labels: texts.length,
      smallest: Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize))),
      summary: document.querySelector("[data-testid=trend-summary]").textContent,
    };
  });
  if (chart.smallest < 10) throw new Error("axis labels too small: " + chart.smallest);
  say(`CHART lines=${chart.lines} legend=${chart.legend} labels=${chart.labels} ${chart.summary}`);
  const rules = await page.$$eval("[data-testid=warning-table] tbody tr[data-rule]", (l) => l.map((r) => r.dataset.rule).sort().join(","));
  say(`WARNINGS ${rules}`);
  await accessible(page, "analytics");
  await shot(page, "analytics");
  say("DONE");
  await b.close();
});
