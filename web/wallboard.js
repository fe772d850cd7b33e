// The supervisors' wallboard: pushed by the engine (SSE), redrawn on every frame. The calls
// in progress are listed with their parties; a supervisor's token also gets listen, whisper,
// barge and stop per call (their own phone rings, issue 14), a wallboard token only the list.
import { chrome, signIn, live, api, t, label, percent, clock, el, translate, describeError, partyName } from "/assets/common.js";

let last = null;
let token = null;
/** The supervisor's user when this token may supervise calls; null: the list is read-only. */
let me = null;
/** Call id → its row, kept between frames so that a focused button stays focused. */
const rows = new Map();
const MODES = ["listen", "whisper", "barge"];

function queueName(q) {
  const key = "q." + q;
  const s = t(key);
  return s === key ? q : s;
}

function alarmText(a) {
  const vars = {
    ...a,
    queue: a.queue ? queueName(a.queue) : "",
    rate: a.rate != null ? percent(a.rate) : "",
    oldest_min: a.oldest_wait_s != null ? Math.floor(a.oldest_wait_s / 60) : "",
    wait: a.wait_s != null ? clock(a.wait_s) : "",
  };
  return t("alarm." + a.kind, vars);
}

function render(b) {
  last = b;
  const alarms = document.getElementById("alarms");
  alarms.replaceChildren();
  if (b.alarms.length) {
    alarms.className = "banner";
    alarms.append(el("ul", {}, b.alarms.map((a) => el("li", { "data-kind": a.kind }, alarmText(a)))));
  } else {
    alarms.className = "banner calm";
    alarms.textContent = t("wb.alarms.none");
  }
  const waiting = document.getElementById("waiting");
  waiting.textContent = b.waiting;
  const longest = document.getElementById("longest");
  longest.textContent = b.longest_wait_s == null ? "—" : b.longest_wait_s + " s";
  longest.className = "level-" + b.wait_level;
  waiting.className = "value level-" + b.wait_level;

  // C13: web requests waiting for an agent (offered ones included), and the 3-minute rate.
  const webWaiting = document.getElementById("web-waiting");
  webWaiting.textContent = b.web_waiting + b.web_offered;
  const webLate = b.web_longest_wait_s != null && b.web_longest_wait_s > b.web_alarm_after_s;
  webWaiting.className = "value " + (webLate ? "level-red" : "");
  document.getElementById("web-longest").textContent = b.web_longest_wait_s == null ? "—" : clock(b.web_longest_wait_s);
  document.getElementById("web-rate").textContent = `${percent(b.web_last_24h.rate)} (${t("wb.day")})`;

  const k = b;
  const target = k.targets.connection_rate;
  const r15 = document.getElementById("rate15");
  r15.textContent = percent(k.today.answer_rate_15s);
  document.getElementById("rate15-sub").textContent = `${t("wb.day")} ${percent(k.last_24h.answer_rate_15s)}`;
  const conn = document.getElementById("conn-rate");
  conn.textContent = percent(k.last_24h.connection_rate);
  conn.className = "value " + (k.last_24h.connection_rate == null ? "" : k.last_24h.connection_rate >= target ? "good" : "below");
  document.getElementById("conn-sub").textContent =
    `${t("wb.day")} · ${t("wb.target")} ≥ ${percent(target)} · ${t("wb.today")} ${percent(k.today.connection_rate)}`;
  document.getElementById("answered").textContent = k.today.answered;
  document.getElementById("answered").title = `${t("wb.offered")} ${k.today.offered}`;
  const aht = k.today.avg_handle_s;
  document.getElementById("answered-sub").textContent =
    `${t("wb.offered")} ${k.today.offered} · ${t("wb.abandoned")} ${k.today.abandoned} (+${k.today.abandoned_in_grace}) · ${t("wb.avg_wait")} ${k.today.avg_wait_s == null ? "—" : k.today.avg_wait_s.toFixed(1) + " s"} · ${t("wb.aht")} ${aht == null ? "—" : clock(aht)}`;

  document.getElementById("queues").replaceChildren(
    ...b.queues.map((q) =>
      el("tr", { "data-queue": q.name },
        el("th", { scope: "row" }, queueName(q.name)),
        el("td", { class: "num level-" + q.wait_level, "data-testid": "waiting-" + q.name }, q.waiting),
        el("td", { class: "num level-" + q.wait_level }, q.longest_wait_s == null ? "—" : q.longest_wait_s + " s"),
        el("td", { class: "num" }, q.agents.ready, q.agents.ready_no_phone ? el("span", { class: "badge", title: t("wb.ready_no_phone") }, `+${q.agents.ready_no_phone} ☎✕`) : null),
        el("td", { class: "num" }, q.agents.talking + q.agents.reserved + q.agents.assisting),
        el("td", { class: "num" }, q.agents.wrap_up),
        el("td", { class: "num" }, q.agents.not_ready),
        el("td", { class: "num" }, percent(q.today?.answer_rate_15s)),
        el("td", { class: "num" }, percent(q.last_24h?.connection_rate)),
      )),
  );
  const a = b.agents;
  document.getElementById("agents").replaceChildren(
    ...["ready", "ready_no_phone", "reserved", "talking", "assisting", "wrap_up", "not_ready", "logged_out"].map((s) =>
      el("tr", {}, el("th", { scope: "row" }, t("wb." + s)), el("td", { class: "num", "data-testid": "agents-" + s }, a[s]))),
  );
  drawChart(k.series, target);
  renderCalls(b);
}

/** The calls with a person on them: updated in place, rows added and removed as calls come
 * and go (never rebuilt, so the keyboard focus stays on its button). */
function renderCalls(b) {
  const calls = b.calls ?? [];
  const body = document.getElementById("calls");
  document.getElementById("calls-ctl-h").hidden = !me;
  for (const [id, r] of rows) {
    if (!calls.some((c) => c.id === id)) {
      r.tr.remove();
      rows.delete(id);
    }
  }
  body.querySelector("tr.none")?.remove();
  calls.forEach((c, i) => {
    const r = rows.get(c.id) ?? callRow(c);
    rows.set(c.id, r);
    updateRow(r, c, b.at);
    if (body.children[i] !== r.tr) body.insertBefore(r.tr, body.children[i] ?? null);
  });
  if (!calls.length) body.append(el("tr", { class: "none" }, el("td", { colspan: me ? 7 : 6, class: "muted" }, t("wb.calls.none"))));
}

function callRow(c) {
  const cells = {
    caller: el("th", { scope: "row" }),
    queue: el("td"),
    agent: el("td", { "data-testid": "call-agent" }),
    wait: el("td", { class: "num" }),
    talk: el("td", { class: "num" }),
    parties: el("td", { "data-testid": "call-parties" }),
  };
  const tr = el("tr", { "data-call": c.id }, ...Object.values(cells));
  const buttons = {};
  if (me) {
    for (const mode of MODES) {
      buttons[mode] = el("button", { type: "button", "data-mode": mode, "aria-pressed": "false", onclick: () => monitor(c.id, mode) });
    }
    buttons.stop = el("button", { type: "button", "data-mode": "stop", onclick: () => stop(c.id) });
    cells.group = el("div", { class: "row", role: "group" }, ...Object.values(buttons));
    tr.append(el("td", {}, cells.group));
  }
  return { tr, cells, buttons, call: c };
}

/** The supervisor's own leg on the call, while it is there. */
function mine(c) {
  return (c.parties ?? []).find((p) => p.party.kind === "supervisor" && p.party.user === me && p.state !== "left");
}

function updateRow(r, c, at) {
  r.call = c;
  const set = (cell, text) => { if (cell.textContent !== text) cell.textContent = text; };
  set(r.cells.caller, c.caller);
  set(r.cells.queue, c.queue ? queueName(c.queue) : "—");
  set(r.cells.agent, c.agent ?? t("wb.c.no_agent"));
  set(r.cells.wait, c.wait_s == null ? "—" : c.wait_s.toFixed(1) + " s");
  set(r.cells.talk, c.connected_at ? clock((Date.parse(at) - Date.parse(c.connected_at)) / 1000) : "—");
  const live = (c.parties ?? []).filter((p) => p.state !== "left");
  const tags = [];
  if (live.some((p) => p.role !== "monitor")) tags.push(t("wb.c.conference"));
  if (c.on_hold) tags.push(t("wb.c.hold"));
  const text = live.map((p) => `${partyName(p.party)} · ${label("pt.state", p.state)}`).join("; ") || "—";
  const key = JSON.stringify([tags, text]);
  if (r.cells.parties.dataset.key !== key) {
    r.cells.parties.dataset.key = key;
    r.cells.parties.replaceChildren(...tags.map((x) => el("span", { class: "tag" }, x)), text);
  }
  if (!me) return;
  const my = mine(c);
  r.cells.group.setAttribute("aria-label", t("mon.group", { caller: c.caller }));
  for (const mode of MODES) {
    const b = r.buttons[mode];
    set(b, t("mon." + mode));
    b.setAttribute("aria-label", t(`mon.${mode}_who`, { caller: c.caller }));
    b.setAttribute("aria-pressed", String(my?.party.mode === mode));
  }
  set(r.buttons.stop, t("mon.stop"));
  r.buttons.stop.setAttribute("aria-label", t("mon.stop_who", { caller: c.caller }));
  r.buttons.stop.disabled = !my;
}

function callsStatus(text, err) {
  document.getElementById("calls-status").textContent = text;
  document.getElementById("calls-error").textContent = err ? describeError(err) : "";
}

async function monitor(id, mode) {
  const c = rows.get(id)?.call;
  if (!c) return;
  try {
    await api(token, "POST", `/api/calls/${id}/monitor`, { mode });
    callsStatus(t("mon.done", { caller: c.caller, mode: t("mon." + mode) }), null);
  } catch (e) {
    callsStatus("", e);
  }
}

async function stop(id) {
  const c = rows.get(id)?.call;
  const my = c && mine(c);
  if (!my) return;
  try {
    await api(token, "DELETE", `/api/calls/${id}/parties/${my.id}`);
    callsStatus(t("mon.stopped", { caller: c.caller }), null);
  } catch (e) {
    callsStatus("", e);
  }
}

/** 96 bars (offered, answered) and the rolling 24 h connection rate as a line. */
function drawChart(series, target) {
  const W = 960, H = 220, pad = 30;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", "100%");
  svg.setAttribute("role", "img");
  const total = series.reduce((s, p) => s + p.answered + p.abandoned, 0);
  svg.setAttribute("aria-label", `${t("wb.chart")}: ${t("wb.offered")} ${total}`);
  const max = Math.max(1, ...series.map((p) => p.answered + p.abandoned));
  const bw = (W - 2 * pad) / Math.max(1, series.length);
  const y = (v) => H - pad - (v / max) * (H - 2 * pad);
  const yr = (r) => H - pad - r * (H - 2 * pad);
  const add = (tag, attrs) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    svg.append(e);
    return e;
  };
  series.forEach((p, i) => {
    const x = pad + i * bw;
    const offered = p.answered + p.abandoned;
    if (offered) add("rect", { x, y: y(offered), width: Math.max(1, bw - 1), height: H - pad - y(offered), fill: "#52606d" });
    if (p.answered) add("rect", { x, y: y(p.answered), width: Math.max(1, bw - 1), height: H - pad - y(p.answered), fill: "#4ea1ff" });
  });
  add("line", { x1: pad, x2: W - pad, y1: yr(target), y2: yr(target), stroke: "#f0a500", "stroke-dasharray": "6 4" });
  const pts = series.map((p, i) => (p.connection_rate_24h == null ? null : `${pad + i * bw + bw / 2},${yr(p.connection_rate_24h)}`)).filter(Boolean);
  if (pts.length) add("polyline", { points: pts.join(" "), fill: "none", stroke: "#2fbf71", "stroke-width": 2 });
  const label = (x, yy, text, anchor = "start") => { const e = add("text", { x, y: yy, "text-anchor": anchor }); e.textContent = text; };
  const hm = (iso) => new Date(iso).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Shanghai" });
  for (let i = 0; i < series.length; i += 16) label(pad + i * bw, H - 8, hm(series[i].start));
  label(W - pad + 2, yr(target) + 4, "95%");
  label(pad - 4, y(max) + 4, String(max), "end");
  document.getElementById("chart").replaceChildren(svg);
}

async function main() {
  chrome(() => last && render(last));
  const signed = await signIn("/api/wallboard");
  token = signed.token;
  // A supervisor's token may listen, whisper and barge; a wallboard screen's only watches.
  try {
    const who = await api(token, "GET", "/api/me");
    me = who.role === "supervisor" ? who.user : null;
  } catch {
    me = null;
  }
  render(signed.first);
  const status = document.getElementById("conn");
  live("/api/wallboard/stream", token, "wallboard", render, (ok) => {
    status.textContent = ok ? "● " + t("wb.live") : t("wb.offline");
    status.className = "status " + (ok ? "level-ok" : "level-red");
  });
  translate();
}

main();
