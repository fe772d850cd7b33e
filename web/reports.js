// The supervisors' report page (/reports): the conformance report of a period rule by rule,
// and the agents' and queues' figures, from GET /api/conformance and /api/stats/*; prints
// on A4 (the buttons and the form are left off the paper).
import { t, chrome, signIn, api, describeError, translate } from "/assets/common.js";
import { staffing } from "/assets/staffing.js";

const $ = (s) => document.querySelector(s);

function today() {
  // China time, whatever the browser's zone.
  return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (cls) td.className = cls;
  return td;
}

function secs(s) {
  if (s === null || s === undefined) return "–";
  const v = Math.round(s);
  return v >= 3600 ? `${Math.floor(v / 3600)}h${String(Math.floor((v % 3600) / 60)).padStart(2, "0")}m`
    : v >= 60 ? `${Math.floor(v / 60)}m${String(v % 60).padStart(2, "0")}s` : `${v}s`;
}

function pct(x) {
  return x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`;
}

/** A rule's measured figures in one line (numbers and rates only; lists are the links). */
function measured(m) {
  return Object.entries(m ?? {})
    .filter(([, v]) => v !== null && typeof v !== "object")
    .map(([k, v]) => `${k}: ${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3) : v}`)
    .join(" · ");
}

function rows(tbody, items, render) {
  tbody.replaceChildren(...items.map((it) => {
    const tr = document.createElement("tr");
    tr.append(...render(it));
    return tr;
  }));
}

async function show(tok) {
  const from = $("#p-from").value, to = $("#p-to").value;
  const q = `?from=${from}&to=${to}`;
  $("#page-error").textContent = "";
  try {
    const [c, a, qs, st, ns] = await Promise.all([
      api(tok, "GET", `/api/conformance${q}`),
      api(tok, "GET", `/api/stats/agents${q}`),
      api(tok, "GET", `/api/stats/queues${q}`),
      api(tok, "GET", `/api/stats/staffing?day=${from}`),
      api(tok, "GET", `/api/stats/numbers${q}`),
    ]);
    staffing(st);
    $("#c-period").textContent = `${c.from_day} – ${c.to_day}`;
    $("#c-summary").textContent = t("rp.summary", { pass: c.passed, fail: c.failed, na: c.not_measurable });
    rows($("[data-testid=conformance] tbody"), c.rules, (r) => {
      const status = cell(t("rp.st." + r.status), "st-" + r.status);
      status.dataset.status = r.status;
      const links = [...r.calls, ...r.tickets];
      const broke = cell(links.join(" ") + (r.breaches > links.length ? ` …(${r.breaches})` : ""));
      const what = cell(measured(r.measured) || r.reason || "");
      if (r.reason && measured(r.measured)) what.title = r.reason;
      const title = t("rule." + r.rule);
      const row = [cell(r.rule), cell(title === "rule." + r.rule ? r.title : title), cell(r.target), what, status, broke];
      row[0].dataset.rule = r.rule;
      return row;
    });
    rows($("[data-testid=agents] tbody"), a.agents, (x) => [
      cell(x.agent), cell(x.offered), cell(x.answered), cell(x.ring_no_answer),
      cell(`${secs(x.talk_s)} (${secs(x.avg_talk_s)})`), cell(secs(x.hold_s)),
      cell(`${secs(x.wrap_up_s)} (${secs(x.avg_wrap_up_s)})`),
      cell(`${secs(x.not_ready_s)} ${Object.entries(x.not_ready_by_reason).map(([k, v]) => `${k} ${secs(v)}`).join(", ")}`),
      cell(pct(x.occupancy)), cell(x.web_items), cell(`${x.tickets_created} / ${x.tickets_closed}`),
    ]);
    rows($("[data-testid=queues] tbody"), qs.queues, (x) => [
      cell(x.queue), cell(x.calls.offered), cell(x.calls.answered), cell(x.calls.answered_within_15s),
      cell(x.calls.abandoned), cell(pct(x.calls.connection_rate)), cell(x.ring_no_answer),
      cell(`${secs(x.talk_s)} (${secs(x.avg_talk_s)})`), cell(`${secs(x.wrap_up_s)} (${secs(x.avg_wrap_up_s)})`),
    ]);
    // Per number dialled: 12345 and the integrated numbers (12315, 12333, …).
    rows($("[data-testid=numbers] tbody"), ns.numbers, (x) => [
      cell(x.number), cell(x.calls.offered), cell(x.calls.answered), cell(x.calls.answered_within_15s),
      cell(x.calls.abandoned), cell(pct(x.calls.answer_rate_15s)), cell(pct(x.calls.connection_rate)),
    ]);
    document.body.dataset.loaded = `${from}/${to}`;
  } catch (e) {
    $("#page-error").textContent = describeError(e);
  }
}

let shown = null;
chrome(() => { translate(); shown?.(); });
signIn("/api/stats/agents").then(({ token: tok }) => {
  const url = new URL(location.href);
  $("#p-from").value = url.searchParams.get("from") ?? today();
  $("#p-to").value = url.searchParams.get("to") ?? $("#p-from").value;
  shown = () => show(tok);
  $("#period").addEventListener("submit", (e) => { e.preventDefault(); show(tok); });
  $("#print").addEventListener("click", () => window.print());
  // The CSV needs the token too: fetched, then handed to the browser as a file.
  for (const what of ["agents", "queues", "numbers"]) {
    $(`#csv-${what}`).addEventListener("click", async () => {
      const q = `?from=${$("#p-from").value}&to=${$("#p-to").value}&format=csv`;
      const res = await fetch(`/api/stats/${what}${q}`, { headers: { Authorization: "Bearer " + tok } });
      if (!res.ok) { $("#page-error").textContent = `${t("err")}: ${res.status}`; return; }
      const a = document.createElement("a");
      a.href = URL.createObjectURL(await res.blob());
      a.download = `${what}-${$("#p-from").value}-${$("#p-to").value}.csv`;
      a.click();
      URL.revokeObjectURL(a.href);
    });
  }
  show(tok);
});
