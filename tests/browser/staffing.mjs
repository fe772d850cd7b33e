// node staffing.mjs <base-url> <supervisor-token> <screenshot-dir> <day>
// The supervisor opens /reports for <day> at 1920×1080, in English: the staffing section's
// header, basis and rows (every cell, "|"-separated), the chart (bars for the agents needed,
// the red ones where too few were logged in, the logged-in line, the legend), axe-core, and
// a screenshot of the section (reports-staffing.png) and of the page.
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir, day] = process.argv.slice(2);
const shot = shots(dir);

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on("console", (m) => log.push(m.text()));
  await page.addInitScript(() => localStorage.setItem("lang", "en"));
  await page.goto(`${base}/reports?from=${day}&to=${day}&token=${encodeURIComponent(token)}`);
  await page.waitForSelector("body[data-loaded]", { timeout: 15000 });
  const head = await page.$$eval("[data-testid=staffing] thead th", (ths) => ths.map((th) => th.textContent.trim()));
  say("HEAD " + head.join("|"));
  say("BASIS " + (await page.textContent("#s-basis")));
  const rows = await page.$$eval("[data-testid=staffing] tbody tr", (trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent.trim()).join("|")));
  for (const r of rows) say("ROW " + r);
  say("ROW end");
  // The shortfall's cells are marked (colour and word), the others not.
  const marked = await page.$$eval("[data-testid=staffing] tbody tr.short td:first-child", (tds) => tds.map((td) => td.textContent));
  const red = await page.$$eval("#s-chart rect", (rs) => rs.filter((r) => r.getAttribute("fill") === "#c4262c").map((r) => r.dataset.start));
  const bars = await page.$$eval("#s-chart rect", (rs) => rs.length);
  const line = await page.$$eval("#s-chart polyline", (ps) => ps.length);
  const legend = await page.textContent("#s-legend");
  const label = await page.getAttribute("#s-chart svg", "aria-label");
  if (marked.join() !== red.join()) throw new Error(`rows marked ${marked} but red bars ${red}`);
  if (!line) throw new Error("no logged-in line");
  const box = await page.$eval("#s-chart svg", (s) => { const r = s.getBoundingClientRect(); return [r.width, r.height]; });
  say(`CHART bars=${bars} red=${red.join(",")} line=${line} size=${box.map(Math.round).join("x")} legend=${legend} label=${label}`);
  await accessible(page, "staffing");
  const section = await page.$("section:has([data-testid=staffing])");
  await section.screenshot({ path: `${dir}/reports-staffing.png` });
  await shot(page, "reports-staffing-page");
  say("SHOT " + `${dir}/reports-staffing.png`);
  await b.close();
});
