// The ticket desk: handling units see their tickets (overdue in red) and sign, return, ask for
// extensions and reply (citing knowledge items as the legal basis, issue 16); reviewers review
// (with the cited versions) and record callbacks; supervisors see everything.
// The actions offered are those the workflow core says the reader could take now.
import { chrome, signIn, api, t, el, translate, dateTime, label, describeError } from "/assets/common.js";

let token = null;
let me = null;
let after = null;
let units = new Map(); // unit id → name, from the dispatch catalogue
let parents = new Map(); // unit id → its parent unit (下派 goes down this tree)
let categories = []; // the catalogue's categories, for dispatch and classification
let domains = []; // the catalogue's content domains, for completing a draft

const $ = (id) => document.getElementById(id);

/** Shows what went wrong loading the list or a ticket (cleared by the next success). */
function pageError(e) {
  $("page-error").textContent = e ? describeError(e) : "";
}

/** Runs a loading step, reporting its failure on the page instead of dropping it. */
function guarded(step) {
  return step().then(() => pageError(null), pageError);
}

const BOOL = "bool", TEXT = "text", NUM = "number", FILES = "files", UNIT = "unit", SUB_UNIT = "sub_unit", CATEGORY = "category", DOMAIN = "domain", CITES = "cites";
const sel = (...v) => ({ select: v });
const MULTI = (...v) => ({ multi: v });
const RATINGS = sel("satisfied", "basically_satisfied", "unsatisfied");
// W13: who makes the callback (issue 15); left empty, the engine's `[callback] by` decides.
const CALLBACK_BY = { select: ["robot", "agent"], none: "tk.callback_by.default" };
// The form of each action the desk can send: action → fields; a field is [name, kind]. Which
// actions a ticket offers its reader comes from the engine (`actions` of the ticket).
const ACTIONS = {
  sign: [],
  hand_on: [["unit", SUB_UNIT], ["reason", TEXT]],
  return: [["reason", TEXT], ["suggestion", TEXT]],
  request_extension: [["reason", TEXT], ["days", NUM], ["caller_informed", BOOL]],
  assist_reply: [["text", TEXT]],
  feedback: [["contact", TEXT], ["verification", TEXT], ["legal_basis", TEXT], ["cites", CITES], ["result", TEXT], ["caller_informed", BOOL], ["attachments", FILES], ["staged_follow_up", TEXT]],
  request_final_answer: [["case", sel("outside_scope", "against_rules_repeated", "false_report", "harassment", "repeat_without_new_facts")], ["explanation", TEXT]],
  complete: [["content", TEXT], ["caller_name", TEXT], ["area", TEXT], ["location", TEXT], ["urgency", sel("non_urgent", "urgent")], ["type", sel("consultation", "help", "suggestion", "complaint", "other")], ["domain", DOMAIN], ["category", CATEGORY]],
  accept: [],
  refuse: [["reason", sel("litigation", "arbitration", "discipline_inspection", "administrative_review", "information_disclosure", "petition_filed", "unlawful", "against_public_order", "secrets_or_privacy", "no_request")], ["explanation", TEXT]],
  classify: [["urgency", sel("non_urgent", "urgent")], ["type", sel("consultation", "help", "suggestion", "complaint", "other")], ["category", CATEGORY], ["area_code", TEXT]],
  direct_close: [["method", sel("knowledge_base", "special_seat", "three_way_transfer")], ["answer", TEXT]],
  link_emergency: [["service", sel("110", "119", "120", "122", "water", "power", "gas", "heating")], ["reference", TEXT]],
  record_linked_result: [["result", TEXT]],
  link_repeat: [["earlier", TEXT], ["note", TEXT]],
  clear_repeat: [["reason", TEXT]],
  dispatch: [["category", CATEGORY], ["lead", UNIT]],
  accept_return: [["note", TEXT]],
  reject_return: [["reason", TEXT]],
  approve_extension: [["days", NUM]],
  reject_extension: [["reason", TEXT]],
  review_pass: [["callback_by", CALLBACK_BY]],
  set_callback_by: [["callback_by", CALLBACK_BY]],
  review_send_back: [["failed", MULTI("complete", "accurate", "concrete_solution", "answers_concern")], ["reason", TEXT]],
  callback: [["method", sel("phone", "sms", "web", "robot")], ["consent", BOOL], ["contacted", BOOL], ["solved", BOOL], ["rating", RATINGS], ["reason", TEXT]],
  record_rating: [["rating", RATINGS], ["reason", TEXT]],
  check_unsatisfied: [["confirmed", BOOL], ["note", TEXT]],
  approve_final_answer: [],
  reject_final_answer: [["reason", TEXT]],
  remind: [["note", TEXT]],
  supervise: [["reason", sel("late_dispatch", "late_sign_off", "late_feedback", "reply_not_matching_facts", "passed_back_and_forth", "refused_within_duty", "repeated_unresolved")], ["note", TEXT]],
  close_supervision: [["reason", sel("late_dispatch", "late_sign_off", "late_feedback", "reply_not_matching_facts", "passed_back_and_forth", "refused_within_duty", "repeated_unresolved", "late_return_decision", "late_callback")], ["note", TEXT]],
  follow_up: [["note", TEXT]],
  archive: [],
};

function row(i) {
  return el("tr", { class: i.overdue ? "overdue" : "", "data-id": i.id },
    el("td", {}, el("a", { href: "#" + i.id, onclick: (e) => { e.preventDefault(); guarded(() => show(i.id)); } }, i.id)),
    el("td", {}, t("st." + i.state), i.overdue ? el("span", { class: "badge" }, t("tk.overdue.badge")) : null, i.supervised ? el("span", { class: "badge" }, t("tk.supervised")) : null),
    el("td", {}, t("type." + i.type)),
    el("td", {}, i.lead_unit ? unitName(i.lead_unit) : "—"),
    el("td", {}, dateTime(i.received_at)),
    el("td", {}, dateTime(i.next_due)),
    el("td", {}, i.content));
}

async function load(more = false) {
  const q = new URLSearchParams({ limit: "50" });
  if ($("q-state").value) q.set("state", $("q-state").value);
  if ($("q-overdue").checked) q.set("overdue", "true");
  if ($("q-supervised").checked) q.set("supervised", "true");
  if (more && after) q.set("after", after);
  const page = await api(token, "GET", "/api/tickets?" + q);
  const rows = page.items.map(row);
  if (more) $("list").append(...rows);
  else $("list").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 7, class: "muted" }, t("tk.none")))]));
  after = page.next;
  $("more").hidden = !after;
}

/** Whether `unit` is below `of` in the units' tree. */
function below(unit, of) {
  for (let p = parents.get(unit), i = 0; p && i < 50; p = parents.get(p), i++) if (p === of) return true;
  return false;
}

function unitName(id) {
  return units.get(id) ?? id;
}

/** The knowledge items a reply cites (W11's legal basis, issue 16), as picked: {item, version,
 * title}. The reply names each by item and the version served when it was picked. */
let citing = [];

/** A search over the served items, as typed (Enter: a search on purpose, kept as a gap when it
 * finds nothing), and the items picked, each removable. */
function citePicker(id) {
  citing = [];
  const results = el("ol", { "data-testid": "cite-results", "aria-label": t("kb.search") });
  const chosen = el("ol", { "data-testid": "cite-chosen", "aria-label": t("kb.chosen") });
  const drawChosen = () => chosen.replaceChildren(...(citing.length
    ? citing.map((c) => el("li", { "data-item": c.item, "data-version": c.version },
      el("span", {}, `${c.title} · ${t("kb.item_v", { id: c.item, v: c.version })}`),
      el("button", { type: "button", "aria-label": `${t("kb.remove")}: ${c.title}`, onclick: () => { citing = citing.filter((x) => x !== c); drawChosen(); } }, t("kb.remove"))))
    : [el("li", { class: "muted" }, t("kb.none_chosen"))]));
  let seq = 0;
  let timer = null;
  const search = async (record) => {
    const mine = ++seq;
    const q = input.value.trim().slice(0, 200);
    if (!q) return results.replaceChildren();
    const p = new URLSearchParams({ q, limit: "5" });
    if (!record) p.set("record", "false");
    try {
      const res = await api(token, "GET", "/api/kb/search?" + p);
      if (mine !== seq) return;
      results.replaceChildren(...(res.items.length
        ? res.items.map((h) => el("li", { "data-item": h.id },
          el("span", {}, `${h.title} · ${h.source} · ${t("kb.item_v", { id: h.id, v: h.version })}`),
          el("button", {
            type: "button", "data-testid": "cite-add", "data-item": h.id, "aria-label": `${t("kb.cite")}: ${h.title}`,
            onclick: () => {
              if (!citing.some((c) => c.item === h.id)) citing.push({ item: h.id, version: h.version, title: h.title });
              drawChosen();
            },
          }, t("kb.cite"))))
        : [el("li", { class: "muted" }, t("kb.none"))]));
    } catch (e) {
      if (mine === seq) results.replaceChildren(el("li", { class: "error" }, describeError(e)));
    }
  };
  const input = el("input", {
    id, type: "search", name: "cites-q", maxlength: 200, "data-testid": "cite-q",
    oninput: () => { clearTimeout(timer); timer = setTimeout(() => search(false), 300); },
    onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); search(true); } },
  });
  drawChosen();
  return el("div", { class: "kb-pick" }, input, results, el("span", { class: "muted" }, t("kb.chosen")), chosen);
}

/** Every knowledge item a ticket cites, from its history: the W3 direct answer's and the
 * units' replies' (the version cited, whatever the item became since). */
function citationsOf(tk) {
  const out = [];
  const seen = new Set();
  for (const h of tk.history ?? []) {
    const refs = [];
    if (h.knowledge) refs.push([h.knowledge, "answer"]);
    for (const c of h.feedback?.cites ?? []) refs.push([c, "reply"]);
    for (const [r, kind] of refs) {
      const key = `${kind}:${r.item}:${r.version}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ ...r, kind });
      }
    }
  }
  return out;
}

/** The cited versions, each with its title (fetched) and a link to that exact version. */
function citations(tk) {
  const cites = citationsOf(tk);
  if (!cites.length) return [];
  return [el("section", { "data-testid": "citations", "aria-labelledby": "cites-h" },
    el("h3", { id: "cites-h" }, t("kb.cites_title")),
    el("ul", { class: "kb-cites" }, cites.map((c) => {
      const title = el("strong", { "data-testid": "cite-title" }, "…");
      api(token, "GET", `/api/kb/items/${c.item}/versions/${c.version}`)
        .then((v) => { title.textContent = `${v.title} (${v.source.name})`; })
        .catch(() => { title.textContent = "—"; });
      return el("li", { "data-item": c.item, "data-version": c.version, "data-kind": c.kind },
        `${t(c.kind === "answer" ? "kb.cites_answer" : "kb.cites_reply")}: `, title,
        ` · ${t("kb.item_v", { id: c.item, v: c.version })} · `,
        el("a", { href: `/knowledge#item=${c.item}&v=${c.version}`, "data-testid": "cite-link" }, t("kb.open_version")));
    })))];
}

function field([name, kind]) {
  const id = "a-" + name;
  if (kind === CITES) return [el("label", { for: id }, label("fld", name)), citePicker(id)];
  let input;
  const none = () => el("option", { value: "" }, kind.none ? t(kind.none) : "—");
  if (kind === UNIT) kind = { options: [...units].map(([v, n]) => [v, n]) };
  // 下派: only the units below the signed-in unit.
  else if (kind === SUB_UNIT) kind = { options: [...units].filter(([v]) => below(v, me?.unit)).map(([v, n]) => [v, n]) };
  else if (kind === CATEGORY) kind = { options: categories.map((c) => [c.id, `${c.name} → ${c.lead ? unitName(c.lead) : "—"}`]) };
  else if (kind === DOMAIN) kind = { options: domains.map((d) => [d, label("domain", d)]) };
  if (kind.options) input = el("select", { id, name }, none(), kind.options.map(([v, n]) => el("option", { value: v }, n)));
  else if (kind === BOOL) input = el("input", { type: "checkbox", id, name });
  else if (kind === NUM) input = el("input", { type: "number", id, name, min: 1 });
  else if (kind === FILES) input = el("input", { type: "file", id, name, multiple: true });
  else if (kind.select) input = el("select", { id, name }, none(), kind.select.map((v) => el("option", { value: v }, label("opt", v))));
  else if (kind.multi) input = el("select", { id, name, multiple: true }, kind.multi.map((v) => el("option", { value: v }, label("opt", v))));
  else input = el("input", { id, name });
  return [el("label", { for: id }, label("fld", name)), input];
}

/** Uploads one file to the ticket; the reply then names it by its SHA-256. */
async function upload(id, file) {
  const res = await fetch(`/api/tickets/${id}/attachments?name=${encodeURIComponent(file.name)}`, {
    method: "POST",
    headers: { Authorization: "Bearer " + token, "Content-Type": "application/octet-stream" },
    body: file,
  });
  const data = await res.json();
  if (!res.ok) {
    const err = new Error(data?.message ?? res.statusText);
    err.code = data?.code;
    throw err;
  }
  return { name: data.name, sha256: data.sha256 };
}

/** Downloads an attachment with the token (a plain link could not carry it). */
async function download(id, a) {
  const res = await fetch(`/api/tickets/${id}/attachments/${a.sha256}`, { headers: { Authorization: "Bearer " + token } });
  if (!res.ok) return;
  const url = URL.createObjectURL(await res.blob());
  const link = el("a", { href: url, download: a.name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function collect(form, fields, id) {
  const body = {};
  for (const [name, kind] of fields) {
    if (kind === CITES) {
      if (citing.length) body[name] = citing.map((c) => ({ item: c.item, version: c.version }));
      continue;
    }
    const input = form.elements[name];
    if (kind === BOOL) body[name] = input.checked;
    else if (kind === NUM) { if (input.value) body[name] = Number(input.value); }
    else if (kind === FILES) body[name] = await Promise.all([...input.files].map((f) => upload(id, f)));
    else if (kind.multi) body[name] = [...input.selectedOptions].map((o) => o.value);
    else if (input.value.trim()) body[name] = input.value.trim();
  }
  return body;
}

/** The files of the reply the ticket holds now (under review, awaiting callback, …). */
function attachmentsOf(tk) {
  return tk.detail?.feedback?.attachments ?? [];
}

/** The actions the ticket offers its reader now that this desk has a form for. */
function actionsOf(tk) {
  return (tk.actions ?? []).filter((a) => a in ACTIONS);
}

async function show(id) {
  const tk = await api(token, "GET", "/api/tickets/" + encodeURIComponent(id));
  const due = tk.due ?? {};
  const form = el("form", { class: "ticket", "aria-label": t("tk.action") });
  const offered = actionsOf(tk);
  const choose = el("select", { id: "a-action", name: "action" }, offered.map((a) => el("option", { value: a }, label("act", a))));
  const fieldsBox = el("div", { class: "ticket" });
  const msg = el("p", { role: "status" });
  const refresh = () => fieldsBox.replaceChildren(...(ACTIONS[choose.value] ?? []).flatMap(field));
  choose.addEventListener("change", refresh);
  form.append(el("label", { for: "a-action" }, t("tk.action")), choose, fieldsBox, el("span"), el("button", { class: "primary", type: "submit" }, t("tk.submit")), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button.disabled) return; // a double click acts once
    button.disabled = true;
    try {
      const body = await collect(form, ACTIONS[choose.value], id);
      // At the version shown: what someone else did meanwhile is refused (409), not overwritten.
      await api(token, "POST", `/api/tickets/${id}/actions`, { action: choose.value, ...body, version: tk.version });
      msg.className = "notice";
      msg.textContent = t("tk.done");
      await load();
      await show(id);
    } catch (err) {
      msg.className = "error";
      msg.textContent = describeError(err);
    } finally {
      button.disabled = false;
    }
  });
  refresh();
  $("detail").replaceChildren(
    el("h2", { "data-state": tk.state }, `${tk.id} · ${t("st." + tk.state)}`),
    el("p", {}, tk.content || "—"),
    el("dl", {},
      ...(tk.number ? [el("dt", {}, t("desk.number")), el("dd", { "data-testid": "number" }, tk.number)] : []),
      el("dt", {}, t("f.type")), el("dd", {}, t("type." + tk.type)),
      el("dt", {}, t("f.domain")), el("dd", {}, label("domain", tk.domain)),
      el("dt", {}, t("desk.caller")), el("dd", {}, tk.caller?.phone ?? "—"),
      ...(tk.area_path ? [el("dt", {}, t("f.area")), el("dd", { "data-testid": "area-path" }, tk.area_path)] : []),
      // 下派: the whole chain of units, the dispatched one first.
      ...(tk.assignment?.handed_from?.length
        ? [el("dt", {}, t("tk.chain")), el("dd", { "data-testid": "unit-chain" }, [...tk.assignment.handed_from, tk.assignment.lead].map(unitName).join(" → "))]
        : []),
      ...(tk.state === "awaiting_callback" || tk.callback_by
        ? [el("dt", {}, t("tk.callback_by")), el("dd", { "data-testid": "callback-by" }, tk.callback_by ? label("opt", tk.callback_by) : t("tk.callback_by.default"))]
        : []),
      el("dt", {}, t("tk.due")), el("dd", {}, Object.entries(due).filter(([k, v]) => v && k !== "warnings").map(([k, v]) => `${label("due", k)}: ${dateTime(v)}`).join(" · ") || "—"),
      ...(due.warnings?.length ? [el("dt", {}, t("tk.warnings")), el("dd", {}, due.warnings.join("; "))] : [])),
    ...(attachmentsOf(tk).length
      ? [el("ul", { "data-testid": "attachments" }, attachmentsOf(tk).map((a) => el("li", {}, a.sha256
        ? el("button", { type: "button", onclick: () => download(tk.id, a) }, "⬇ " + a.name)
        : a.name)))]
      : []),
    ...citations(tk),
    form,
    el("h3", {}, t("tk.history")),
    el("ol", { class: "history" }, (tk.history ?? []).map((h) => el("li", {}, `${dateTime(h.at)} · ${h.actor?.user ?? ""} · ${label("ev", h.event ?? "")}${h.callback_by ? ": " + label("opt", h.callback_by) : ""}${h.event === "handed_on" ? `: ${unitName(h.from)} → ${unitName(h.to)} (${h.reason})` : ""}`))),
  );
  if (offered.length === 0) form.replaceWith(el("p", { class: "muted", "data-testid": "no-actions" }, t("tk.no_actions")));
}

async function main() {
  chrome(() => guarded(load));
  const signed = await signIn("/api/me");
  token = signed.token;
  me = signed.first;
  const [u, c] = await Promise.all([
    api(token, "GET", "/api/dispatch/units").catch(() => ({ units: [] })),
    api(token, "GET", "/api/dispatch/categories").catch(() => ({ categories: [] })),
  ]);
  units = new Map(u.units.map((x) => [x.id, x.name]));
  parents = new Map(u.units.filter((x) => x.parent).map((x) => [x.id, x.parent]));
  categories = c.categories;
  domains = c.domains ?? [];
  $("who").textContent = `${me.user} (${label("role", me.role)}${me.unit ? ": " + unitName(me.unit) : ""})`;
  $("filter").addEventListener("submit", (e) => { e.preventDefault(); guarded(load); });
  $("more").addEventListener("click", () => guarded(() => load(true)));
  await guarded(load);
  if (location.hash.length > 1) await guarded(() => show(decodeURIComponent(location.hash.slice(1))));
  translate();
}

main();
