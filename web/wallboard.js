// The supervisors' wallboard (v2, issue 17): pushed by the engine (SSE), redrawn on every
// frame, on one screen without scrolling. Every agent (sortable, filterable by queue; a
// supervisor changes its state here), every waiting call and web request, the 24 h chart, the
// warnings, and the calls in progress with their parties; a supervisor's token also gets
// listen, whisper, barge and stop per call (their own phone rings, issue 14). A lost feed
// greys the whole board and says since when.
import "/assets/board-i18n.js";
import { chrome, signIn, live, api, t, label, percent, clock, el, translate, describeError, partyName, timeOfDay } from "/assets/common.js";
import { fit, drawChart, renderWarnings } from "/assets/board-fit.js";

let last = null;
let token = null;
/** The supervisor's user when this token may supervise calls; null: the list is read-only. */
let me = null;
/** Call id → its row, kept between frames so that a focused button stays focused. */
const rows = new Map();
const MODES = ["listen", "whisper", "barge"];
/** How long a risk-word warning also stands in the alarm banner. */
const RISK_ALARM_MS = 60 * 60 * 1000;

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
  // A risk word of the last hour is an alarm too: a supervisor must see it at once (W19).
  const risks = (b.warnings ?? []).filter((w) => w.rule === "risk_words" && Date.parse(b.at) - Date.parse(w.raised_at) < RISK_ALARM_MS);
  const surge = b.surge?.surge;
  if (b.alarms.length || risks.length || surge) {
    alarms.className = "banner";
    alarms.append(el("ul", {},
      surge ? el("li", { "data-kind": "surge" }, t("alarm.surge", {
        since: timeOfDay(surge.since),
        by: surge.by === "forecast" ? t("wb.surge.forecast") : surge.by,
      })) : null,
      risks.map((w) => el("li", { "data-kind": "risk_words" }, t("alarm.risk_words", { ticket: w.requests[0], words: w.words.join("、") }))),
      b.alarms.map((a) => el("li", { "data-kind": a.kind }, alarmText(a)))));
  } else {
    alarms.className = "banner calm";
    alarms.textContent = t("wb.alarms.none");
  }
  const waiting = document.getElementById("waiting");
  waiting.textContent = b.waiting;
  const longest = document.getElementById("longest");
  longest.textContent = b.longest_wait_s == null ? "—" : b.longest_wait_s + " s";
  if (b.surge?.callbacks_kept) longest.textContent += " · " + t("wb.kept", { n: b.surge.callbacks_kept });
  renderSurge(b);
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
  // Integrated numbers: each number's 15 s rate today and 24 h connection rate, when the
  // hotline answers more than one.
  const byNumber = document.getElementById("by-number");
  const numbers = k.by_number ?? [];
  byNumber.hidden = numbers.length < 2;
  byNumber.textContent = numbers.map((n) =>
    `${n.number} ${percent(n.today.answer_rate_15s)} / ${percent(n.last_24h.connection_rate)}`).join(" · ");
  byNumber.title = t("wb.by_number");
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
  document.getElementById("agents-avail").textContent = a.ready;
  document.getElementById("agents-avail").title = t("wb2.available");
  document.getElementById("agents-sub").textContent = `${t("wb2.available")} · ` +
    t("wb2.sub", { no_phone: a.ready_no_phone, talking: a.talking + a.reserved + a.assisting, not_ready: a.not_ready });
  drawChart(document.getElementById("chart"), k.series, target);
  renderPeople(b);
  renderWarnings(document.getElementById("warn-box"), b.warnings ?? []);
  renderCalls(b);
  fit(document.getElementById("queue-box"), null);
  fit(document.getElementById("calls-box"), null);
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

// ---- agents, waiting calls, web requests (wallboard v2) -------------------------------

const STATE_ORDER = ["ready", "reserved", "talking", "assisting", "wrap_up", "not_ready", "ready_no_phone", "logged_out"];
const SETTABLE = ["ready", "not_ready:break", "not_ready:meal", "not_ready:meeting", "not_ready:training", "not_ready:paperwork", "logged_out"];
const COLS = [
  ["name", "wb2.a.name"], ["state", "wb2.a.state"], ["reason", "wb2.a.reason"], ["in_state_s", "wb2.a.time", "num"],
  ["call_queue", "wb2.a.queue"], ["call_s", "wb2.a.call", "num"], ["registered", "wb2.a.phone"],
];
let sortKey = "state";
let sortDir = 1;
/** Agent id → its row, kept between frames so that an open state menu keeps its focus. */
const agentRows = new Map();

function stateText(s) {
  return t("wb2.st." + s);
}

function sortValue(a, key) {
  if (key === "state") return STATE_ORDER.indexOf(a.state) * 1e7 - a.in_state_s;
  if (key === "name") return a.name;
  if (key === "registered") return a.registered ? 0 : 1;
  return a[key] ?? "";
}

function agentHead() {
  const ths = COLS.map(([key, words, cls]) => {
    const active = key === sortKey;
    return el("th", { scope: "col", class: cls, "aria-sort": active ? (sortDir > 0 ? "ascending" : "descending") : null },
      el("button", { type: "button", class: "sort", "data-sort": key, "data-arrow": active ? (sortDir > 0 ? " ▲" : " ▼") : "",
        onclick: () => { sortDir = sortKey === key ? -sortDir : 1; sortKey = key; agentBox.dataset.key = ""; last && render(last); } }, t(words)));
  });
  if (me) ths.push(el("th", { scope: "col" }, t("wb2.a.action")));
  return el("thead", {}, el("tr", {}, ths));
}

let agentBox = null;

function agentRow(a) {
  const cells = {
    name: el("th", { scope: "row", class: "name" }),
    state: el("td", {}, el("span", { class: "st" })),
    reason: el("td"),
    time: el("td", { class: "num" }),
    queue: el("td"),
    call: el("td", { class: "num" }),
    phone: el("td"),
  };
  const tr = el("tr", { "data-agent": a.id }, ...Object.values(cells));
  if (me) {
    const sel = el("select", { "data-testid": "set-state", onchange: () => setState(a.id, sel) },
      el("option", { value: "" }, t("wb2.set")),
      SETTABLE.map((v) => el("option", { value: v }, v.startsWith("not_ready:") ? label("nr", v.slice(10)) : t("wb." + v))));
    cells.action = el("td", {}, sel);
    tr.append(cells.action);
  }
  return { tr, cells };
}

function updateAgentRow(r, a) {
  const set = (cell, text) => { if (cell.textContent !== text) cell.textContent = text; };
  r.agent = a;
  set(r.cells.name, a.name);
  r.cells.name.title = a.id;
  const st = r.cells.state.firstChild;
  st.className = "st st-" + a.state;
  st.title = a.state === "ready_no_phone" ? t("wb.ready_no_phone") : t("wb." + a.state);
  set(st, stateText(a.state));
  set(r.cells.reason, a.reason ? label("nr", a.reason) : "");
  set(r.cells.time, clock(a.in_state_s));
  set(r.cells.queue, a.call_queue ? queueName(a.call_queue) : "");
  set(r.cells.call, a.call_s == null ? "" : clock(a.call_s));
  set(r.cells.phone, a.registered ? "☎" : "✕");
  r.cells.phone.className = a.registered ? "level-ok" : "level-red";
  r.cells.phone.title = a.registered ? t("wb2.phone.yes") : t("wb2.phone.no");
  r.cells.phone.setAttribute("aria-label", r.cells.phone.title);
  r.cells.action?.firstChild.setAttribute("aria-label", t("wb2.set_who", { name: a.name }));
}

async function setState(id, sel) {
  const [state, reason] = sel.value.split(":");
  const name = agentRows.get(id)?.agent?.name ?? id;
  if (!state) return;
  const status = document.getElementById("agent-status");
  try {
    await api(token, "POST", `/api/agents/${encodeURIComponent(id)}/state`, reason ? { state, reason } : { state });
    status.textContent = t("wb2.set_done", { name, state: reason ? label("nr", reason) : t("wb." + state) });
  } catch (e) {
    status.textContent = describeError(e);
  }
  sel.value = "";
}

function queueFilter(b) {
  const sel = document.getElementById("agent-queue");
  const names = ["", ...b.queues.map((q) => q.name)];
  const key = names.join("|") + "|" + document.documentElement.lang;
  if (sel.dataset.key !== key) {
    const was = sel.value;
    sel.dataset.key = key;
    sel.replaceChildren(...names.map((n) => el("option", { value: n }, n ? queueName(n) : t("wb2.all"))));
    sel.value = names.includes(was) ? was : "";
  }
  return sel.value;
}

function renderPeople(b) {
  agentBox = document.getElementById("agent-box");
  const q = queueFilter(b);
  const list = (b.agent_list ?? []).filter((a) => !q || a.queues.includes(q));
  list.sort((x, y) => {
    const a = sortValue(x, sortKey), c = sortValue(y, sortKey);
    return (a < c ? -1 : a > c ? 1 : x.name.localeCompare(y.name)) * sortDir;
  });
  for (const [id, r] of agentRows) if (!list.some((a) => a.id === id)) { r.tr.remove(); agentRows.delete(id); }
  const rows = list.map((a) => {
    const r = agentRows.get(a.id) ?? agentRow(a);
    agentRows.set(a.id, r);
    updateAgentRow(r, a);
    return r.tr;
  });
  // An open state menu keeps its place: the rows are updated in place, not moved.
  const busy = agentBox.contains(document.activeElement) && document.activeElement.tagName === "SELECT";
  if (!busy) fit(agentBox, { rows, head: agentHead, key: `${list.map((a) => a.id).join()}|${sortKey}${sortDir}|${!!me}|${document.documentElement.lang}` });

  const calls = b.waiting_calls ?? [];
  document.getElementById("waiting-count").textContent = String(calls.length);
  fit(document.getElementById("waiting-box"), {
    head: () => el("thead", {}, el("tr", {}, ["wb2.w.caller", "wb2.w.number", "wb2.w.queue", "wb2.w.wait", "wb2.w.path", "wb2.w.ringing"].map((k, i) =>
      el("th", { scope: "col", class: i === 3 ? "num" : null }, t(k))))),
    rows: calls.map((c) => el("tr", { "data-wait": c.id, class: "w-" + c.level },
      el("th", { scope: "row" }, c.caller),
      el("td", { "data-testid": "called", title: c.called }, c.called_name ?? c.called ?? "—"),
      el("td", {}, c.queue ? queueName(c.queue) : "—"),
      el("td", { class: "num wait level-" + c.level, "data-testid": "wait-level" }, c.wait_s + " s"),
      el("td", { class: "path", title: c.menu_path.join(" › ") }, c.menu_path.join(" › ") || "—"),
      el("td", {}, c.ringing_agent ?? ""))),
    key: null,
  });

  const web = b.waiting_web ?? [];
  document.getElementById("web-count").textContent = String(web.length);
  fit(document.getElementById("web-box"), {
    head: () => el("thead", {}, el("tr", {}, ["wb2.web.ticket", "wb2.web.queue", "wb2.web.wait"].map((k, i) =>
      el("th", { scope: "col", class: i === 2 ? "num" : null }, t(k))))),
    rows: web.map((w) => el("tr", { "data-web": w.ticket, class: "w-" + w.level },
      el("th", { scope: "row" }, w.ticket),
      el("td", {}, queueName(w.queue)),
      el("td", { class: "num wait level-" + w.level }, clock(w.wait_s)))),
    key: null,
  });
}

/** The surge switch (C8): a supervisor's token only, when the engine can offer callbacks. */
function renderSurge(b) {
  const btn = document.getElementById("surge");
  btn.hidden = !me || !b.surge;
  if (btn.hidden) return;
  const on = b.surge.surge != null;
  btn.textContent = t(on ? "wb.surge.off" : "wb.surge.on");
  btn.setAttribute("aria-pressed", String(on));
  btn.classList.toggle("primary", on);
}

async function toggleSurge() {
  const btn = document.getElementById("surge");
  const on = btn.getAttribute("aria-pressed") !== "true";
  btn.disabled = true;
  try {
    const view = await api(token, "POST", "/api/surge", { on });
    if (last) render({ ...last, surge: view });
  } catch (e) {
    callsStatus("", e);
  } finally {
    btn.disabled = false;
  }
}

/** The feed is down: grey the board and say since when (the last frame's arrival). */
let lastFrameAt = null;
function feedStatus(ok) {
  const status = document.getElementById("conn");
  status.textContent = ok ? "● " + t("wb.live") : t("wb.offline");
  status.className = "status " + (ok ? "level-ok" : "level-red");
  document.body.classList.toggle("stale", !ok);
  const note = document.getElementById("stale");
  note.hidden = ok;
  if (ok) {
    lastFrameAt = new Date();
  } else {
    const since = (lastFrameAt ?? new Date()).toLocaleTimeString(document.documentElement.lang, { hour12: false });
    note.textContent = t("wb2.stale", { since });
    note.dataset.since = since;
  }
}

async function main() {
  document.documentElement.classList.add("wb");
  chrome(() => last && render(last));
  // A 4K screen (a TV across the room) starts in large-text mode unless someone chose.
  if (localStorage.getItem("large") == null && innerWidth >= 2880) document.documentElement.classList.add("large");
  document.getElementById("large").addEventListener("click", () => last && requestAnimationFrame(() => render(last)));
  document.getElementById("agent-queue").setAttribute("aria-label", t("wb2.filter"));
  document.getElementById("surge").addEventListener("click", toggleSurge);
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
  live("/api/wallboard/stream", token, "wallboard", render, feedStatus);
  translate();
  addEventListener("resize", () => last && render(last));
}

main();
