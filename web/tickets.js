// The ticket desk: handling units see their tickets (overdue in red) and sign, return, ask for
// extensions and reply; reviewers review and record callbacks; supervisors see everything.
// The actions offered are those the workflow core says the reader could take now.
import { chrome, signIn, api, t, el, translate, dateTime, label, describeError } from "/assets/common.js";

let token = null;
let me = null;
let after = null;
let units = new Map(); // unit id → name, from the dispatch catalogue
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

const BOOL = "bool", TEXT = "text", NUM = "number", FILES = "files", UNIT = "unit", CATEGORY = "category", DOMAIN = "domain";
const sel = (...v) => ({ select: v });
const MULTI = (...v) => ({ multi: v });
const RATINGS = sel("satisfied", "basically_satisfied", "unsatisfied");
// The form of each action the desk can send: action → fields; a field is [name, kind]. Which
// actions a ticket offers its reader comes from the engine (`actions` of the ticket).
const ACTIONS = {
  sign: [],
  return: [["reason", TEXT], ["suggestion", TEXT]],
  request_extension: [["reason", TEXT], ["days", NUM], ["caller_informed", BOOL]],
  assist_reply: [["text", TEXT]],
  feedback: [["contact", TEXT], ["verification", TEXT], ["legal_basis", TEXT], ["result", TEXT], ["caller_informed", BOOL], ["attachments", FILES], ["staged_follow_up", TEXT]],
  request_final_answer: [["case", sel("outside_scope", "against_rules_repeated", "false_report", "harassment", "repeat_without_new_facts")], ["explanation", TEXT]],
  complete: [["content", TEXT], ["caller_name", TEXT], ["area", TEXT], ["location", TEXT], ["urgency", sel("non_urgent", "urgent")], ["type", sel("consultation", "help", "suggestion", "complaint", "other")], ["domain", DOMAIN], ["category", CATEGORY]],
  accept: [],
  refuse: [["reason", sel("litigation", "arbitration", "discipline_inspection", "administrative_review", "information_disclosure", "petition_filed", "unlawful", "against_public_order", "secrets_or_privacy", "no_request")], ["explanation", TEXT]],
  classify: [["urgency", sel("non_urgent", "urgent")], ["type", sel("consultation", "help", "suggestion", "complaint", "other")], ["category", CATEGORY]],
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
  review_pass: [],
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

function unitName(id) {
  return units.get(id) ?? id;
}

function field([name, kind]) {
  const id = "a-" + name;
  let input;
  const none = () => el("option", { value: "" }, "—");
  if (kind === UNIT) kind = { options: [...units].map(([v, n]) => [v, n]) };
  else if (kind === CATEGORY) kind = { options: categories.map((c) => [c.id, `${c.name} → ${unitName(c.lead)}`]) };
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
      el("dt", {}, t("f.type")), el("dd", {}, t("type." + tk.type)),
      el("dt", {}, t("f.domain")), el("dd", {}, label("domain", tk.domain)),
      el("dt", {}, t("desk.caller")), el("dd", {}, tk.caller?.phone ?? "—"),
      el("dt", {}, t("tk.due")), el("dd", {}, Object.entries(due).filter(([k, v]) => v && k !== "warnings").map(([k, v]) => `${label("due", k)}: ${dateTime(v)}`).join(" · ") || "—"),
      ...(due.warnings?.length ? [el("dt", {}, t("tk.warnings")), el("dd", {}, due.warnings.join("; "))] : [])),
    ...(attachmentsOf(tk).length
      ? [el("ul", { "data-testid": "attachments" }, attachmentsOf(tk).map((a) => el("li", {}, a.sha256
        ? el("button", { type: "button", onclick: () => download(tk.id, a) }, "⬇ " + a.name)
        : a.name)))]
      : []),
    form,
    el("h3", {}, t("tk.history")),
    el("ol", { class: "history" }, (tk.history ?? []).map((h) => el("li", {}, `${dateTime(h.at)} · ${h.actor?.user ?? ""} · ${label("ev", h.event ?? "")}`))),
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
