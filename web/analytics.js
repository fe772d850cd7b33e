// The analytics page (issue 17, W19): requests by type, domain, category, area, channel or
// unit per hour, day or week, drawn as lines with axes and a legend, with the change against
// the period before; and the early warnings of the last 30 days with their rule, figures,
// threshold and the requests behind them.
import "/assets/board-i18n.js";
import { chrome, signIn, api, t, label, el, translate, describeError } from "/assets/common.js";

const COLORS = ["#0b63ce", "#c4262c", "#1a7f4b", "#9a6700", "#6f42c1", "#0f766e", "#b4530b", "#475569", "#be185d", "#4d7c0f", "#1e40af", "#7c2d12"];
const DIMS = ["type", "domain", "category", "area", "channel", "unit"];
const BUCKETS = ["hour", "day", "week"];
let token = null;
let last = null;
let lastWarnings = [];
const NS = "http://www.w3.org/2000/svg";

function iso(d) {
  return d.toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
}

function pct(x) {
  return x == null ? "—" : (x > 0 ? "+" : "") + (x * 100).toFixed(1) + "%";
}

function keyName(by, key) {
  if (key === "other") return t("an.other");
  if (key === "unknown") return t("an.unknown");
  if (by === "type") return label("type", key);
  if (by === "channel") return label("ch", key);
  return key;
}

function bucketLabel(isoTime, bucket) {
  const d = new Date(isoTime);
  const opts = { timeZone: "Asia/Shanghai", hour12: false };
  if (bucket === "hour") return d.toLocaleString("zh-CN", { ...opts, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  return d.toLocaleDateString("zh-CN", { ...opts, month: "2-digit", day: "2-digit" });
}

/** One line per series over the buckets, both axes labelled, sized to its box. */
function drawTrend(tr) {
  const box = document.getElementById("t-chart");
  box.replaceChildren();
  const W = Math.max(300, box.clientWidth), H = Math.max(200, box.clientHeight);
  const fs = parseFloat(getComputedStyle(box).fontSize) * 0.8;
  const padL = fs * 3.5, padR = fs * 2.5, padT = fs, padB = fs * 2.2;
  const svg = document.createElementNS(NS, "svg");
  for (const [k, v] of Object.entries({ viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" })) svg.setAttribute(k, v);
  svg.setAttribute("aria-label", `${t("an.trend")}: ${tr.total}`);
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) { e.textContent = text; e.style.fontSize = fs + "px"; }
    svg.append(e);
    return e;
  };
  const n = tr.buckets.length;
  const max = Math.max(1, ...tr.series.flatMap((s) => s.counts));
  const x = (i) => padL + (n <= 1 ? (W - padL - padR) / 2 : (i * (W - padL - padR)) / (n - 1));
  const y = (v) => padT + (H - padT - padB) * (1 - v / max);
  add("line", { x1: padL, x2: padL, y1: padT, y2: H - padB, stroke: "#52606d" });
  add("line", { x1: padL, x2: W - padR, y1: H - padB, y2: H - padB, stroke: "#52606d" });
  for (const v of [0, Math.round(max / 2), max]) {
    add("line", { x1: padL, x2: W - padR, y1: y(v), y2: y(v), stroke: "#d5dde5", "stroke-dasharray": "2 4" });
    add("text", { x: padL - fs * 0.4, y: y(v) + fs * 0.35, "text-anchor": "end" }, String(v));
  }
  const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor((W - padL - padR) / (fs * 6)))));
  for (let i = 0; i < n; i += every) add("text", { x: x(i), y: H - fs * 0.6, "text-anchor": "middle" }, bucketLabel(tr.buckets[i], tr.bucket));
  tr.series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    add("polyline", { points: s.counts.map((c, i) => `${x(i)},${y(c)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2, "data-series": s.key });
    s.counts.forEach((c, i) => add("circle", { cx: x(i), cy: y(c), r: 2.5, fill: color }));
  });
  box.append(svg);
}

function renderTrend(tr) {
  last = tr;
  document.getElementById("t-summary").textContent =
    `${t("an.total")} ${tr.total} · ${t("an.previous")} ${tr.previous_total} · ${t("an.change")} ${pct(tr.change)}${tr.cut ? " · " + t("an.cut") : ""}`;
  const legend = document.getElementById("t-legend");
  legend.replaceChildren(...tr.series.map((s, i) => {
    const sw = el("i", { class: "sw" });
    sw.style.background = COLORS[i % COLORS.length];
    return el("span", { "data-legend": s.key }, sw, `${keyName(tr.by, s.key)} ${s.total} (${pct(s.change)})`);
  }));
  document.getElementById("t-rows").replaceChildren(...tr.series.map((s) =>
    el("tr", { "data-key": s.key },
      el("th", { scope: "row" }, keyName(tr.by, s.key)),
      el("td", { class: "num" }, s.total),
      el("td", { class: "num" }, s.previous_total),
      el("td", { class: "num " + (s.change > 0 ? "level-red" : "") }, pct(s.change)))));
  drawTrend(tr);
}

function warningWhat(w) {
  switch (w.rule) {
    case "hot_spot": return t("an.w.hot_spot", { category: w.category, area: w.area, day: w.day, count: w.count, expected: w.expected.toFixed(2) });
    case "high_frequency": return t("an.w.high_frequency", { count: w.count, sample: w.sample });
    case "seasonal_due": return t("an.w.seasonal_due", { category: w.category, year: w.year, week: w.week,
      earlier: w.earlier.map((e) => `${e.year}: ${e.count} / ${e.baseline.toFixed(1)}`).join("; ") });
    case "risk_words": return t("an.w.risk_words", { groups: w.groups.map((g) => label("risk", g)).join("、"), words: w.words.join("、") });
    default: return w.rule;
  }
}

function warningThreshold(w) {
  switch (w.rule) {
    case "hot_spot": return `p=${w.p_value.toExponential(1)} < ${w.threshold_p}; ≥ ${w.min_count}; ≥ ${w.min_ratio}λ`;
    case "high_frequency": return `≥ ${w.min_requests} / ${Math.round(w.window_s / 60)} min, ≥ ${w.similarity}`;
    case "seasonal_due": return `≥ ${w.min_count}, ≥ ${w.ratio}×`;
    default: return "—";
  }
}

function renderWarnings(list) {
  lastWarnings = list;
  document.getElementById("w-rows").replaceChildren(...(list.length ? list.map((w) =>
    el("tr", { "data-rule": w.rule, class: w.rule === "risk_words" ? "overdue" : "" },
      el("td", {}, new Date(w.raised_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false })),
      el("td", {}, t("an.rule." + w.rule)),
      el("td", {}, warningWhat(w)),
      el("td", {}, warningThreshold(w)),
      el("td", {}, w.requests.slice(0, 12).map((id) => el("a", { href: `/tickets?id=${encodeURIComponent(id)}` }, id + " ")), w.requests.length > 12 ? `… (${w.requests.length})` : null)))
    : [el("tr", {}, el("td", { colspan: 5, class: "muted" }, t("wb2.none")))]));
}

async function load() {
  const err = document.getElementById("page-error");
  err.textContent = "";
  const q = new URLSearchParams({
    by: document.getElementById("q-by").value,
    bucket: document.getElementById("q-bucket").value,
    from: document.getElementById("q-from").value,
    to: document.getElementById("q-to").value,
  });
  try {
    const [tr, w] = await Promise.all([api(token, "GET", "/api/analytics/trends?" + q), api(token, "GET", "/api/analytics/warnings")]);
    renderTrend(tr);
    renderWarnings(w.warnings);
  } catch (e) {
    err.textContent = describeError(e);
  }
}

function fillSelects() {
  const by = document.getElementById("q-by"), bucket = document.getElementById("q-bucket");
  const [b0, k0] = [by.value || "type", bucket.value || "day"];
  by.replaceChildren(...DIMS.map((d) => el("option", { value: d }, t("an.dim." + d))));
  bucket.replaceChildren(...BUCKETS.map((d) => el("option", { value: d }, t("an.bucket." + d))));
  by.value = b0;
  bucket.value = k0;
}

async function main() {
  chrome(() => { fillSelects(); if (last) renderTrend(last); renderWarnings(lastWarnings); });
  fillSelects();
  const today = new Date();
  document.getElementById("q-to").value = iso(today);
  document.getElementById("q-from").value = iso(new Date(today.getTime() - 6 * 864e5));
  const signed = await signIn("/api/analytics/warnings");
  token = signed.token;
  document.getElementById("query").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  translate();
  await load();
}

main();
