// The desk's parties panel (issue 14): who is on the agent's call and how (the citizen, the
// agent, every consulted or conferenced party, supervisors), and the buttons of a three-way
// call: consult or conference someone in (a ready agent, a special seat's queue, a handling
// unit with a phone, an outside service), join a consultation, complete the transfer, drop a
// party, leave the others with the citizen. The engine decides what is possible: a refusal
// is shown in its own words, never swallowed.
import { api, t, el, label, partyName, timeOfDay } from "/assets/common.js";

const $ = (id) => document.getElementById(id);

let ctx = null; // { token(), view(), showError(e), unitName(id) }
let shown = ""; // what the list was last built from: rebuilt only when it changes (keeps focus)
let targetsKey = "";
let agents = []; // ready agents with a phone, fetched when the picker asks for agents

/** Wires the buttons; `c` gives the page's token, the desk view, its error line and unit names. */
export function initParties(c) {
  ctx = c;
  $("party-kind").addEventListener("change", () => { targetsKey = ""; refreshTargets(true); });
  $("party-target").addEventListener("focus", () => refreshTargets(true));
  $("btn-consult").addEventListener("click", () => add("consult"));
  $("btn-conference").addEventListener("click", () => add("conference"));
  $("btn-leave").addEventListener("click", () => act("POST", "leave", t("pt.left_done")));
}

/** Redraws the panel for the desk view `v` (every push; the list only when it changed). */
export function renderParties(v) {
  const c = v.call;
  const onCall = Boolean(c && c.agent && c.state === "talking");
  $("parties-panel").hidden = !onCall;
  if (!onCall) {
    shown = "";
    return;
  }
  const parties = c.parties ?? [];
  const live = parties.filter((p) => p.state !== "left");
  const consulting = live.some((p) => p.role === "consult");
  $("consult-note").hidden = !consulting;
  const others = live.filter((p) => p.role !== "monitor" && p.state === "talking");
  $("btn-leave").disabled = others.length === 0;
  refreshTargets(false);
  const key = JSON.stringify([c.id, c.on_hold, parties, document.documentElement.lang, v.call_in_units]);
  if (key === shown) return;
  shown = key;
  const rows = [
    ...row(t("pt.citizen", { caller: c.caller }), c.on_hold ? t("pt.on_hold") : t("pt.talking"), c.on_hold ? "held" : "talking", c.connected_at, null, []),
    ...row(t("pt.me", { agent: c.agent }), t("pt.talking"), "talking", c.connected_at, null, []),
    ...parties.flatMap((p) => partyRow(c, p)),
  ];
  $("parties").replaceChildren(...rows);
}

/** A party's row, and under it a row of its buttons when it has any (the desk's column is
 * narrow: the buttons get the whole width). */
function row(who, state, stateKey, joined, left, buttons, testid) {
  const main = el("tr", { "data-testid": testid ?? null, "data-state": stateKey, class: buttons.length ? "has-actions" : null },
    el("th", { scope: "row" }, who),
    el("td", { class: "party-state " + stateKey }, state),
    el("td", { class: "party-time" }, timeOfDay(joined), left ? ` – ${timeOfDay(left)}` : ""));
  if (!buttons.length) return [main];
  return [main, el("tr", { class: "party-actions", "data-testid": testid ? testid + "-actions" : null }, el("td", { colspan: 3 }, el("div", { class: "row" }, buttons)))];
}

function partyRow(c, p) {
  const who = partyName(p.party, ctx.unitName) + (p.role === "consult" ? ` (${t("pt.role.consult")})` : "");
  const buttons = [];
  if (p.state !== "left" && p.role !== "monitor") {
    const b = (key, method, path, done, testid) =>
      el("button", { type: "button", "aria-label": t(key + "_who", { who }), "data-testid": testid, onclick: () => act(method, path, t(done, { who })) }, t(key));
    if (p.role === "consult" && p.state === "talking") buttons.push(b("pt.join", "POST", `parties/${p.id}/join`, "pt.joined_done", "join"));
    if (p.state === "talking") buttons.push(b("pt.handover", "POST", `parties/${p.id}/handover`, "pt.handover_done", "handover"));
    buttons.push(b("pt.drop", "DELETE", `parties/${p.id}`, "pt.dropped", "drop"));
  }
  const state = label("pt.state", p.state);
  return row(who, state, p.state, p.joined_at, p.left_at, buttons, `party-${p.id}`);
}

/** The picker's choices for the chosen kind; agents are fetched (ready, with a phone, not
 * this agent) when `fetchAgents` and the kind is agent. */
async function refreshTargets(fetchAgents) {
  const v = ctx.view();
  if (!v) return;
  const kind = $("party-kind").value;
  if (kind === "agent" && fetchAgents) {
    try {
      const all = await api(ctx.token(), "GET", "/api/agents");
      agents = all.filter((a) => a.state === "ready" && a.registered && a.id !== v.agent.id);
    } catch (e) {
      ctx.showError(e);
    }
  }
  const numbers = v.call_in_numbers ?? [];
  const queues = (v.transfer_to ?? []).filter((x) => !numbers.includes(x));
  const choices = {
    agent: agents.map((a) => [a.id, `${a.id} ${a.name}`]),
    queue: queues.map((q) => [q, label("q", q)]),
    unit: (v.call_in_units ?? []).map((u) => [u.id, u.name]),
    number: numbers.map((n) => [n, label("svc", n)]),
  }[kind] ?? [];
  const key = JSON.stringify([kind, choices, document.documentElement.lang]);
  if (key === targetsKey) return;
  targetsKey = key;
  const select = $("party-target");
  const chosen = select.value;
  select.replaceChildren(...(choices.length
    ? choices.map(([value, text]) => el("option", { value }, text))
    : [el("option", { value: "" }, t("pt.none"))]));
  if (choices.some(([value]) => value === chosen)) select.value = chosen;
  $("btn-consult").disabled = !choices.length;
  $("btn-conference").disabled = !choices.length;
}

async function add(mode) {
  const target = $("party-target").value;
  if (!target) return;
  const kind = $("party-kind").value;
  const text = $("party-target").selectedOptions[0]?.textContent ?? target;
  await act("POST", "parties", t(mode === "consult" ? "pt.consulting" : "pt.conferencing", { who: text }), { [kind]: target, mode });
}

/** One call on the call's parties route; the result or the refusal in words. */
async function act(method, path, done, body) {
  const v = ctx.view();
  if (!v?.call) return;
  ctx.showError(null);
  try {
    await api(ctx.token(), method, `/api/calls/${v.call.id}/${path}`, body);
    $("parties-status").textContent = done;
  } catch (e) {
    $("parties-status").textContent = "";
    ctx.showError(e);
  }
}
