// The ticket desk: handling units see their tickets (overdue in red) and sign, return, ask for
// extensions and reply; reviewers review and record callbacks; supervisors see everything.
// The actions offered are those the role may take; the workflow core has the last word.
import { chrome, signIn, api, t, el, translate, dateTime } from "/assets/common.js";

let token = null;
let me = null;
let after = null;

const $ = (id) => document.getElementById(id);

const BOOL = "bool", TEXT = "text", NUM = "number", FILES = "files";
const sel = (...v) => ({ select: v });
const MULTI = (...v) => ({ multi: v });
const RATINGS = sel("satisfied", "basically_satisfied", "unsatisfied");
// action → [roles, fields]; a field is [name, kind]
const ACTIONS = {
  sign: [["unit"], []],
  return: [["unit"], [["reason", TEXT], ["suggestion", TEXT]]],
  request_extension: [["unit"], [["reason", TEXT], ["days", NUM], ["caller_informed", BOOL]]],
  assist_reply: [["unit"], [["text", TEXT]]],
  feedback: [["unit"], [["contact", TEXT], ["verification", TEXT], ["legal_basis", TEXT], ["result", TEXT], ["caller_informed", BOOL], ["attachments", FILES], ["staged_follow_up", TEXT]]],
  request_final_answer: [["unit"], [["case", sel("outside_scope", "against_rules_repeated", "false_report", "harassment", "repeat_without_new_facts")], ["explanation", TEXT]]],
  accept: [["agent", "supervisor"], []],
  dispatch: [["agent", "supervisor"], [["category", TEXT], ["lead", TEXT]]],
  accept_return: [["reviewer", "supervisor"], [["note", TEXT]]],
  reject_return: [["reviewer", "supervisor"], [["reason", TEXT]]],
  approve_extension: [["reviewer", "supervisor"], [["days", NUM]]],
  reject_extension: [["reviewer", "supervisor"], [["reason", TEXT]]],
  review_pass: [["reviewer", "supervisor"], []],
  review_send_back: [["reviewer", "supervisor"], [["failed", MULTI("complete", "accurate", "concrete_solution", "answers_concern")], ["reason", TEXT]]],
  callback: [["agent", "supervisor"], [["method", sel("phone", "sms", "web", "robot")], ["consent", BOOL], ["contacted", BOOL], ["solved", BOOL], ["rating", RATINGS], ["reason", TEXT]]],
  record_rating: [["agent", "supervisor"], [["rating", RATINGS], ["reason", TEXT]]],
  check_unsatisfied: [["reviewer", "supervisor"], [["confirmed", BOOL], ["note", TEXT]]],
  approve_final_answer: [["reviewer", "supervisor"], []],
  reject_final_answer: [["reviewer", "supervisor"], [["reason", TEXT]]],
  remind: [["agent", "reviewer", "supervisor"], [["note", TEXT]]],
  supervise: [["supervisor"], [["reason", sel("late_dispatch", "late_sign_off", "late_feedback", "reply_not_matching_facts", "passed_back_and_forth", "refused_within_duty", "repeated_unresolved")], ["note", TEXT]]],
  archive: [["agent", "supervisor"], []],
};

function row(i) {
  return el("tr", { class: i.overdue ? "overdue" : "", "data-id": i.id },
    el("td", {}, el("a", { href: "#" + i.id, onclick: (e) => { e.preventDefault(); show(i.id); } }, i.id)),
    el("td", {}, t("st." + i.state), i.overdue ? el("span", { class: "badge" }, t("tk.overdue.badge")) : null, i.supervised ? el("span", { class: "badge" }, t("tk.supervised")) : null),
    el("td", {}, t("type." + i.type)),
    el("td", {}, i.lead_unit ?? "—"),
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

function field([name, kind]) {
  const id = "a-" + name;
  let input;
  if (kind === BOOL) input = el("input", { type: "checkbox", id, name });
  else if (kind === NUM) input = el("input", { type: "number", id, name, min: 1 });
  else if (kind === FILES) input = el("input", { type: "file", id, name, multiple: true });
  else if (kind.select) input = el("select", { id, name }, el("option", { value: "" }, "—"), kind.select.map((v) => el("option", { value: v }, v)));
  else if (kind.multi) input = el("select", { id, name, multiple: true }, kind.multi.map((v) => el("option", { value: v }, v)));
  else input = el("input", { id, name });
  return [el("label", { for: id }, name), input];
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

function actionsFor(role) {
  return Object.entries(ACTIONS).filter(([, [roles]]) => roles.includes(role));
}

async function show(id) {
  const tk = await api(token, "GET", "/api/tickets/" + id);
  const due = tk.due ?? {};
  const form = el("form", { class: "ticket", "aria-label": t("tk.action") });
  const choose = el("select", { id: "a-action", name: "action" }, actionsFor(me.role).map(([a]) => el("option", { value: a }, t("act." + a))));
  const fieldsBox = el("div", { class: "ticket" });
  const msg = el("p", { role: "status" });
  const refresh = () => fieldsBox.replaceChildren(...ACTIONS[choose.value][1].flatMap(field));
  choose.addEventListener("change", refresh);
  form.append(el("label", { for: "a-action" }, t("tk.action")), choose, fieldsBox, el("span"), el("button", { class: "primary", type: "submit" }, t("tk.submit")), msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const body = await collect(form, ACTIONS[choose.value][1], id);
      await api(token, "POST", `/api/tickets/${id}/actions`, { action: choose.value, ...body });
      msg.className = "notice";
      msg.textContent = t("tk.done");
      await load();
      await show(id);
    } catch (err) {
      msg.className = "error";
      msg.textContent = `${t("err")}: ${err.code ?? ""} ${err.message}`;
    }
  });
  refresh();
  $("detail").replaceChildren(
    el("h2", { "data-state": tk.state }, `${tk.id} · ${t("st." + tk.state)}`),
    el("p", {}, tk.content || "—"),
    el("dl", {},
      el("dt", {}, t("f.type")), el("dd", {}, t("type." + tk.type)),
      el("dt", {}, t("f.domain")), el("dd", {}, t("domain." + tk.domain)),
      el("dt", {}, t("desk.caller")), el("dd", {}, tk.caller?.phone ?? "—"),
      el("dt", {}, t("tk.due")), el("dd", {}, Object.entries(due).filter(([, v]) => v).map(([k, v]) => `${k}: ${dateTime(v)}`).join(" · ") || "—")),
    attachmentsOf(tk).length
      ? el("ul", { "data-testid": "attachments" }, attachmentsOf(tk).map((a) => el("li", {}, a.sha256
        ? el("button", { type: "button", onclick: () => download(tk.id, a) }, "⬇ " + a.name)
        : a.name)))
      : null,
    form,
    el("h3", {}, t("tk.history")),
    el("ol", { class: "history" }, (tk.history ?? []).map((h) => el("li", {}, `${dateTime(h.at)} · ${h.actor?.user ?? ""} · ${h.kind?.event ?? h.event ?? ""}`))),
  );
  if (actionsFor(me.role).length === 0) form.hidden = true;
}

async function main() {
  chrome(() => load());
  const signed = await signIn("/api/me");
  token = signed.token;
  me = signed.first;
  $("who").textContent = `${me.user} (${me.role}${me.unit ? ": " + me.unit : ""})`;
  $("filter").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  $("more").addEventListener("click", () => load(true));
  await load();
  if (location.hash.length > 1) await show(location.hash.slice(1));
  translate();
}

main();
