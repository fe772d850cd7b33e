// node wallboard2.mjs <base-url> <token> <screenshot-dir>
// Wallboard v2 at 1920×1080 and at 3840×2160 (large text): every agent and waiting call
// visible without scrolling; sort, filter, a state change, the chart, surge mode on and off
// (C8); then, once the engine
// is stopped, the grey stale board. Prints one line per step for tests/wallboard_v2.rs.
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir] = process.argv.slice(2);
const shot = shots(dir);

/** Rows, scrollbars and every row inside the viewport and inside its own panel. */
function layout() {
  const doc = document.documentElement;
  const problems = [];
  if (doc.scrollHeight > innerHeight || doc.scrollWidth > innerWidth) problems.push(`page scrolls ${doc.scrollWidth}x${doc.scrollHeight}`);
  for (const box of document.querySelectorAll(".fit")) {
    if (box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1) problems.push(`${box.id} overflows ${box.scrollWidth}x${box.scrollHeight} in ${box.clientWidth}x${box.clientHeight}`);
  }
  const rows = [...document.querySelectorAll("tr[data-agent], tr[data-wait], tr[data-web]")];
  for (const r of rows) {
    const rr = r.getBoundingClientRect();
    const br = r.closest(".fit").getBoundingClientRect();
    if (rr.height < 4 || rr.top < br.top - 1 || rr.bottom > br.bottom + 1 || rr.left < br.left - 1 || rr.right > br.right + 1 || rr.bottom > innerHeight || rr.right > innerWidth) {
      problems.push(`row ${r.dataset.agent ?? r.dataset.wait ?? r.dataset.web} not visible`);
    }
  }
  const font = parseFloat(getComputedStyle(document.querySelector("tr[data-agent] td")).fontSize);
  return {
    agents: document.querySelectorAll("tr[data-agent]").length,
    waiting: document.querySelectorAll("tr[data-wait]").length,
    web: document.querySelectorAll("tr[data-web]").length,
    risk: document.querySelectorAll("[data-testid=warnings] li[data-rule=risk_words]").length,
    riskAlarm: document.querySelectorAll("[data-testid=alarms] li[data-kind=risk_words]").length,
    font,
    large: doc.classList.contains("large"),
    problems,
  };
}

async function open(b, width, height, log) {
  const page = await b.newPage({ viewport: { width, height } });
  page.on("console", (m) => log.push(m.text()));
  page.on("pageerror", (e) => log.push("page error: " + e.message));
  await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
  try {
    await page.waitForSelector("#conn.level-ok", { timeout: 40000 });
    await page.waitForFunction(() => document.querySelectorAll("tr[data-agent]").length === 50
      && document.querySelectorAll("tr[data-wait]").length === 30
    && document.querySelectorAll("[data-testid=warnings] li[data-rule=risk_words]").length === 1, null, { timeout: 30000 });
  } catch (e) {
    await shot(page, `wallboard-${width}-failed`);
    const api = await page.evaluate(async (tok) => {
      const v = await (await fetch("/api/wallboard", { headers: { Authorization: "Bearer " + tok } })).json();
      return `api: web=${v.waiting_web.length} warnings=${v.warnings.length} agents=${v.agent_list.length} waiting=${v.waiting_calls.length}`;
    }, token);
    throw new Error(`${e.message}; ${api}`);
  }
  await page.waitForTimeout(1200); // two more frames: the layout has settled
  return page;
}

async function check(page, width) {
  const l = await page.evaluate(layout);
  if (l.problems.length) {
    await shot(page, `wallboard-${width}-failed`);
    throw new Error(`${width}: ${l.problems.join("; ")}`);
  }
  say(`LAYOUT ${width} agents=${l.agents} waiting=${l.waiting} web=${l.web} risk=${l.risk} risk_alarm=${l.riskAlarm} font=${l.font} large=${l.large}`);
}

guard(async (log) => {
  const b = await browser();
  const page = await open(b, 1920, 1080, log);
  await check(page, 1920);
  await shot(page, "wallboard-1920");

  await page.click("[data-testid=agent-list] button[data-sort=name]");
  await page.waitForTimeout(100);
  const names = await page.$$eval("tr[data-agent] th", (l) => l.slice(0, 3).map((x) => x.textContent));
  say("SORTED " + names.join(","));

  await page.selectOption("[data-testid=agent-queue]", "enterprise");
  await page.waitForTimeout(700);
  say("FILTERED " + (await page.$$eval("tr[data-agent]", (l) => l.length)));
  await shot(page, "wallboard-1920-enterprise");
  await page.selectOption("[data-testid=agent-queue]", "");

  const chart = await page.evaluate(() => {
    const texts = [...document.querySelectorAll("#chart svg text")];
    return { legend: document.querySelectorAll("#chart [data-legend]").length, labels: texts.length, smallest: Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize))) };
  });
  if (chart.smallest < 10) throw new Error("chart labels too small: " + chart.smallest);
  say(`CHART legend=${chart.legend} labels=${chart.labels} font=${chart.smallest}`);

  const id = await page.getAttribute("tr[data-agent]", "data-agent");
  await page.selectOption(`tr[data-agent="${id}"] select[data-testid=set-state]`, "not_ready:meal");
  await page.waitForFunction((a) => document.querySelector(`tr[data-agent="${a}"] td:nth-child(3)`)?.textContent !== ""
    && document.querySelector("[data-testid=agent-status]")?.textContent !== "", id, { timeout: 10000 });
  say(`SET ${id} ${await page.textContent("[data-testid=agent-status]")}`);

  // Surge mode (C8) from the board: on, its alarm line, the board still fits; then off.
  await page.click("[data-testid=surge]");
  await page.waitForSelector("[data-testid=alarms] li[data-kind=surge]", { timeout: 10000 });
  const pressed = await page.getAttribute("[data-testid=surge]", "aria-pressed");
  say(`SURGE on pressed=${pressed} ${await page.textContent("[data-testid=alarms] li[data-kind=surge]")}`);
  await check(page, 1920);
  await shot(page, "wallboard-1920-surge");
  await page.click("[data-testid=surge]");
  await page.waitForFunction(() => !document.querySelector("[data-testid=alarms] li[data-kind=surge]"), null, { timeout: 10000 });
  say(`SURGE off pressed=${await page.getAttribute("[data-testid=surge]", "aria-pressed")}`);

  await accessible(page, "wallboard-v2");
  // The callers have waited past 15 s: their waits are red.
  await page.waitForFunction(() => document.querySelectorAll("tr[data-wait] td.level-red").length >= 1, null, { timeout: 30000 });
  const levels = await page.$$eval("tr[data-wait] td.wait", (l) => l.map((x) => x.className));
  say(`LEVELS red=${levels.filter((c) => c.includes("red")).length} amber=${levels.filter((c) => c.includes("amber")).length}`);
  await check(page, 1920);
  await shot(page, "wallboard-1920-red");
  await page.close();

  const tv = await open(b, 3840, 2160, log);
  await check(tv, 3840);
  await shot(tv, "wallboard-3840");
  say("WATCHING");
  await tv.waitForSelector("body.stale", { timeout: 25000 });
  const note = await tv.textContent("[data-testid=stale]");
  const grey = await tv.evaluate(() => getComputedStyle(document.querySelector("#app")).filter.includes("grayscale"));
  say(`STALE grey=${grey} ${note}`);
  await shot(tv, "wallboard-3840-stale");
  say("DONE");
  await b.close();
});
