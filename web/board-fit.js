// Wallboard v2's layout helpers: lists that fit their panel without scrolling (smaller text
// first, down to a floor, then more side-by-side columns), the 24 h chart drawn at the
// panel's own pixel size (so its labels stay readable at any screen size), and the warnings.
import { t, el } from "/assets/common.js";

/** Text sizes tried, largest first; at each, one column and then more side by side. */
const SCALES = [1, 0.92, 0.85, 0.78, 0.72, 0.66, 0.6, 0.55, 0.5];

function fits(box) {
  return box.scrollHeight <= box.clientHeight + 1 && box.scrollWidth <= box.clientWidth + 1;
}

/** At most this many rows are ever laid out: a backlog of hundreds is summarised. */
const MAX_ROWS = 200;

function moreRow(n) {
  return el("tr", { "data-more": String(n) }, el("td", { colspan: 12, class: "muted" }, t("wb2.more", { n })));
}

/** Lays out the first `shown` rows (and a "+n more" row when some are left out). */
function layout(box, spec, cols, shown) {
  const rows = spec.rows.slice(0, shown);
  if (shown < spec.rows.length) rows.push(moreRow(spec.rows.length - shown));
  if (!rows.length) {
    box.replaceChildren(el("p", { class: "muted small" }, t("wb2.none")));
    return;
  }
  const per = Math.ceil(rows.length / cols);
  const tables = [];
  for (let i = 0; i * per < rows.length; i++) {
    tables.push(el("table", {}, spec.head(i), el("tbody", {}, rows.slice(i * per, (i + 1) * per))));
  }
  box.replaceChildren(...tables);
}

/**
 * Lays `spec.rows` (table rows) out in `box` so that every row shows: the largest text at
 * which one table, or two or more side by side (`data-cols` at most), fits. When none does
 * (a backlog), as many rows as fit at the smallest text, then "+n more". `spec.key` names
 * the rows: the same rows in the same box size keep their layout. Without `spec`, only the
 * text of the box's own content is scaled.
 */
export function fit(box, spec) {
  const size = `${box.clientWidth}x${box.clientHeight}`;
  const count = spec ? spec.rows.length : box.textContent.length;
  const prev = box._fit;
  const setScale = (s) => box.style.setProperty("--fit", String(s));
  const all = spec ? Math.min(spec.rows.length, MAX_ROWS) : 0;
  if (prev && prev.size === size && spec?.key != null && prev.key === spec.key && fits(box)) return;
  if (prev && prev.size === size && prev.count === count && (!spec || spec.key == null)) {
    setScale(prev.scale);
    if (spec) layout(box, spec, prev.cols, prev.shown);
    if (fits(box)) return;
  }
  const maxCols = spec ? Number(box.dataset.cols ?? 1) : 1;
  const remember = (cols, scale, shown) => { box._fit = { size, count, key: spec?.key ?? null, cols, scale, shown }; };
  let laid = -1;
  for (const scale of SCALES) {
    for (let cols = 1; cols <= maxCols; cols++) {
      setScale(scale);
      if (spec && cols !== laid) {
        layout(box, spec, cols, all);
        laid = cols;
      }
      remember(cols, scale, all);
      if (fits(box)) return;
      if (!spec) break;
    }
  }
  if (!spec || all === 0) return;
  // Nothing fits: the most rows that do (binary search), the rest summarised.
  let lo = 0, hi = all;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    layout(box, spec, maxCols, mid);
    if (fits(box)) lo = mid;
    else hi = mid - 1;
  }
  layout(box, spec, maxCols, lo);
  remember(maxCols, SCALES[SCALES.length - 1], lo);
}

const NS = "http://www.w3.org/2000/svg";

/** 96 bars (offered, answered) of 15 minutes, the rolling 24 h connection rate as a line and
 * the 95 % target, with a legend and both axes labelled. */
export function drawChart(box, series, target) {
  const legend = el("div", { class: "legend" },
    [["#52606d", "wb2.legend.offered"], ["#4ea1ff", "wb2.legend.answered"], ["#2fbf71", "wb2.legend.rate"], ["#f0a500", "wb2.legend.target"]]
      .map(([c, k]) => el("span", { "data-legend": k }, el("i", { class: "sw", "data-color": c }), t(k))));
  box.replaceChildren(legend);
  legend.querySelectorAll("i").forEach((i) => { i.style.background = i.dataset.color; });
  const W = Math.max(200, box.clientWidth);
  const H = Math.max(80, box.clientHeight - legend.offsetHeight - 4);
  const fs = parseFloat(getComputedStyle(box).fontSize) * 0.8;
  const padL = fs * 3.2, padR = fs * 3.4, padT = fs * 0.7, padB = fs * 1.6;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", String(W));
  svg.setAttribute("height", String(H));
  svg.setAttribute("role", "img");
  const total = series.reduce((s, p) => s + p.answered + p.abandoned, 0);
  svg.setAttribute("aria-label", `${t("wb.chart")}: ${t("wb.offered")} ${total}`);
  const max = Math.max(1, ...series.map((p) => p.answered + p.abandoned));
  const plotW = W - padL - padR, plotH = H - padT - padB;
  const bw = plotW / Math.max(1, series.length);
  const y = (v) => padT + plotH - (v / max) * plotH;
  const yr = (r) => padT + plotH - r * plotH;
  const add = (tag, attrs) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    svg.append(e);
    return e;
  };
  const text = (x, yy, s, anchor = "start") => {
    const e = add("text", { x, y: yy, "text-anchor": anchor });
    e.style.fontSize = fs + "px";
    e.textContent = s;
  };
  add("line", { x1: padL, x2: padL, y1: padT, y2: padT + plotH, stroke: "#52606d" });
  add("line", { x1: padL, x2: W - padR, y1: padT + plotH, y2: padT + plotH, stroke: "#52606d" });
  add("line", { x1: W - padR, x2: W - padR, y1: padT, y2: padT + plotH, stroke: "#52606d" });
  series.forEach((p, i) => {
    const x = padL + i * bw;
    const offered = p.answered + p.abandoned;
    if (offered) add("rect", { x, y: y(offered), width: Math.max(1, bw - 1), height: padT + plotH - y(offered), fill: "#52606d" });
    if (p.answered) add("rect", { x, y: y(p.answered), width: Math.max(1, bw - 1), height: padT + plotH - y(p.answered), fill: "#4ea1ff" });
  });
  add("line", { x1: padL, x2: W - padR, y1: yr(target), y2: yr(target), stroke: "#f0a500", "stroke-dasharray": "6 4", "stroke-width": 2 });
  const pts = series.map((p, i) => (p.connection_rate_24h == null ? null : `${padL + i * bw + bw / 2},${yr(p.connection_rate_24h)}`)).filter(Boolean);
  if (pts.length) add("polyline", { points: pts.join(" "), fill: "none", stroke: "#2fbf71", "stroke-width": 2 });
  const hm = (iso) => new Date(iso).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Shanghai" });
  const every = Math.max(1, Math.ceil(series.length / Math.max(2, Math.floor(plotW / (fs * 4.5)))));
  const step = [4, 8, 12, 16, 24, 48].find((s) => s >= every) ?? 48;
  for (let i = 0; i < series.length; i += step) text(padL + i * bw, H - fs * 0.3, hm(series[i].start), i === 0 ? "start" : "middle");
  // Left: calls per 15 minutes; right: the connection rate.
  for (const v of [0, Math.round(max / 2), max]) text(padL - fs * 0.3, y(v) + fs * 0.35, String(v), "end");
  for (const r of [0, 0.5, target]) text(W - padR + fs * 0.3, yr(r) + fs * 0.35, Math.round(r * 100) + "%");
  box.append(svg);
}

function warningText(w) {
  const vars = {
    ...w,
    count: w.count ?? w.requests?.length ?? 0,
    expected: w.expected != null ? Number(w.expected).toFixed(1) : "",
    words: (w.words ?? []).join("、"),
    ticket: w.requests?.[0] ?? "",
    sample: (w.sample ?? "").slice(0, 24),
  };
  return t("warn." + w.rule, vars);
}

/** The newest warnings first; risk words stand out. */
export function renderWarnings(box, warnings) {
  const key = warnings.map((w) => w.key).join("|") + document.documentElement.lang;
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(warnings.length
    ? el("ul", { class: "warn-list" }, warnings.map((w) =>
      el("li", { class: w.rule, "data-rule": w.rule, "data-key": w.key, title: (w.requests ?? []).join(" ") },
        `${new Date(w.raised_at).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Shanghai" })} ${warningText(w)}`)))
    : el("p", { class: "muted small" }, t("wb2.none")));
  fit(box, null);
}
