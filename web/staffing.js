// The staffing section of /reports (44190 6.1.1.1): GET /api/stats/staffing drawn as a chart
// (agents needed per 15 minutes as bars, agents logged in as a line, each shortfall in red)
// and as a table beside it. A shortfall is said in words too, never by colour alone.
import { t } from "/assets/common.js";

const NS = "http://www.w3.org/2000/svg";
const NEEDED = "#6b8fb8", SHORT = "#c4262c", LOGGED = "#1a7f4b";

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (cls) td.className = cls;
  return td;
}

function secs(s) {
  const v = Math.round(s);
  return v >= 60 ? `${Math.floor(v / 60)}m${String(v % 60).padStart(2, "0")}s` : `${v}s`;
}

/** Agents missing in an interval (logged in below needed), else 0. */
function shortBy(i) {
  return i.agents_needed != null && i.logged_in != null && i.logged_in < i.agents_needed
    ? i.agents_needed - i.logged_in : 0;
}

/** Bars and a line over the intervals from the first to the last busy one, both axes
 * labelled (the hours under the bars, agents on the left), sized to its box. */
function chart(box, span) {
  box.replaceChildren();
  if (!span.length) return;
  const W = Math.max(300, box.clientWidth), H = Math.max(160, box.clientHeight);
  const fs = parseFloat(getComputedStyle(box).fontSize) * 0.85;
  const padL = fs * 3, padR = fs * 1.5, padT = fs, padB = fs * 2;
  const svg = document.createElementNS(NS, "svg");
  for (const [k, v] of Object.entries({ viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" })) svg.setAttribute(k, v);
  const shortfalls = span.filter((i) => shortBy(i) > 0).map((i) => i.start);
  svg.setAttribute("aria-label", `${t("rp.staffing_chart")}${shortfalls.length ? "; " + t("rp.short_at", { at: shortfalls.join(", ") }) : ""}`);
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) { e.textContent = text; e.style.fontSize = fs + "px"; }
    svg.append(e);
    return e;
  };
  const n = span.length;
  const max = Math.max(1, ...span.map((i) => Math.max(i.agents_needed ?? 0, i.logged_in ?? 0)));
  const top = Math.ceil(max / 4) * 4;
  const slot = (W - padL - padR) / n;
  const y = (v) => padT + (H - padT - padB) * (1 - v / top);
  for (const v of [0, top / 2, top]) {
    add("line", { x1: padL, x2: W - padR, y1: y(v), y2: y(v), stroke: "#d5dde5", "stroke-dasharray": v ? "2 4" : "" });
    add("text", { x: padL - fs * 0.4, y: y(v) + fs * 0.35, "text-anchor": "end" }, String(v));
  }
  add("line", { x1: padL, x2: padL, y1: padT, y2: H - padB, stroke: "#52606d" });
  span.forEach((i, k) => {
    const x = padL + k * slot;
    const need = i.agents_needed ?? 0;
    if (need > 0) {
      add("rect", { x: x + slot * 0.15, width: slot * 0.7, y: y(need), height: y(0) - y(need),
        fill: shortBy(i) > 0 ? SHORT : NEEDED, "data-start": i.start });
    }
    // Whole hours under the axis, at the interval's start (where the line steps).
    if (i.start.endsWith(":00")) {
      add("line", { x1: x, x2: x, y1: y(0), y2: y(0) + fs * 0.3, stroke: "#52606d" });
      add("text", { x, y: H - fs * 0.5, "text-anchor": "middle" }, i.start);
    }
  });
  add("line", { x1: padL, x2: W - padR, y1: y(0), y2: y(0), stroke: "#52606d" });
  // Logged in: a step per interval (intervals not begun are left out).
  const steps = span.flatMap((i, k) => i.logged_in == null ? [] : [[padL + k * slot, y(i.logged_in)], [padL + (k + 1) * slot, y(i.logged_in)]]);
  if (steps.length) add("polyline", { points: steps.map((p) => p.join(",")).join(" "), fill: "none", stroke: LOGGED, "stroke-width": 3 });
  box.append(svg);
}

function legend(box) {
  const item = (color, key, line) => {
    const span = document.createElement("span");
    const sw = document.createElement("i");
    sw.className = line ? "sw line" : "sw";
    sw.style.background = color;
    span.append(sw, t(key));
    return span;
  };
  box.replaceChildren(item(NEEDED, "rp.needed"), item(SHORT, "rp.short_legend"), item(LOGGED, "rp.logged_in", true));
}

/** The staffing need of one day (Erlang C per 15 minutes) beside the agents who were logged
 * in; only the intervals with calls forecast or agents on are listed; a shortfall is marked. */
export function staffing(st) {
  const $ = (s) => document.querySelector(s);
  $("#s-basis").textContent = t("rp.staffing_basis", {
    day: st.day, model: st.model === "erlang_c" ? "Erlang C" : st.model, weeks: st.weeks, aht: st.aht_s == null ? "–" : secs(st.aht_s),
    target: st.target_s, sl: `${(st.service_level * 100).toFixed(1)}%`,
  });
  const busy = st.intervals.filter((i) => i.forecast_calls > 0 || (i.logged_in ?? 0) > 0);
  const tbody = $("[data-testid=staffing] tbody");
  const first = st.intervals.indexOf(busy[0]), last = st.intervals.indexOf(busy[busy.length - 1]);
  // Shown before drawing: a hidden box has no width to size the chart to.
  $("#s-figure").hidden = !busy.length;
  chart($("#s-chart"), busy.length ? st.intervals.slice(first, last + 1) : []);
  legend($("#s-legend"));
  if (!busy.length) {
    const td = cell(t("rp.staffing_none"), "muted");
    td.colSpan = 6;
    const tr = document.createElement("tr");
    tr.append(td);
    tbody.replaceChildren(tr);
    return;
  }
  tbody.replaceChildren(...busy.map((i) => {
    const tr = document.createElement("tr");
    const short = shortBy(i);
    if (short > 0) tr.className = "short";
    tr.append(cell(i.start), cell(i.forecast_calls.toFixed(1), "num"), cell(i.traffic.toFixed(2), "num"),
      cell(i.agents_needed ?? "–", "num"), cell(i.logged_in == null ? "–" : i.logged_in.toFixed(1), short > 0 ? "num st-fail" : "num"),
      cell(short > 0 ? t("rp.short_by", { n: short.toFixed(1) }) : "", short > 0 ? "st-fail" : ""));
    return tr;
  }));
}
