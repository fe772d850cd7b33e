// The citizen's progress lookup (/request/status): the id + code form, the view in plain
// words (state, dates in China time, the reply, the timeline) and, when the ticket waits for
// the citizen's rating, the rating form. Without this script the form is a GET back to this
// page and the rating form a plain post; with it both go to the JSON API.
import { t, keepChoices, call, chinaDate, sizeText, refusalText, fieldError, clearErrors, pageHref, LANG, ELDERLY } from "/assets/request.js";

const $ = (id) => document.getElementById(id);

/** Creates an element; strings become text, never HTML. */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c != null && c !== "") e.append(c);
  return e;
}

const ID = /^\d{8}-\d{6}$/;
const CODE = /^[2-9A-HJ-NP-Z]{8}$/;
let current = null; // {id, code} of the view shown

/** The view as the server renders it (request_pages.rs view_html), built in the page. */
function render(view, code) {
  const box = $("result");
  box.textContent = "";
  box.append(
    el("h2", {}, t("st.heading", { id: view.id })),
    el("p", { class: "state", "data-state": view.state }, el("span", { class: "state-label" }, t("st.state")), " ", view.state_text ?? ""),
  );
  const facts = el("dl", { class: "facts" });
  const fact = (key, value) => { if (value) facts.append(el("div", {}, el("dt", {}, t(key)), el("dd", {}, value))); };
  fact("st.received", view.received_at && chinaDate(view.received_at));
  fact("st.respond_by", view.respond_by && chinaDate(view.respond_by));
  fact("st.responded", view.responded_at && chinaDate(view.responded_at));
  fact("st.unit", view.unit);
  fact("st.rating", view.rating && t("rate." + view.rating));
  box.append(facts);
  for (const [key, field] of [["st.answer", "answer"], ["st.reply", "reply"]]) {
    if (view[field]) box.append(el("h3", {}, t(key)), el("p", { class: "reply" }, view[field]));
  }
  if (view.files?.length) {
    box.append(el("h3", {}, t("st.files")), el("ul", {}, view.files.map((f) => el("li", {}, `${f.name} (${sizeText(f.size ?? 0)})`))));
  }
  if (view.timeline?.length) {
    box.append(el("h3", {}, t("st.timeline")), el("ol", { class: "timeline" },
      view.timeline.map((s) => el("li", {}, el("time", { datetime: s.at }, chinaDate(s.at)), " ", s.text ?? ""))));
  }
  if (view.can_rate) box.append(ratingForm(view.id, code));
}

/** The rating form, the same as the server's (it also works as a plain post). */
function ratingForm(id, code) {
  const action = `/api/public/requests/${encodeURIComponent(id)}/rating?code=${encodeURIComponent(code)}`;
  const choice = (r) => el("div", { class: "choice" },
    el("input", { type: "radio", id: `rating-${r}`, name: "rating", value: r, required: true }),
    el("label", { for: `rating-${r}` }, t("rate." + r)));
  return el("form", { id: "rating", class: "rating", method: "post", action, "data-testid": "rating-form" },
    el("h3", {}, t("rate.title")),
    el("input", { type: "hidden", name: "lang", value: LANG }),
    el("input", { type: "hidden", name: "elderly", value: ELDERLY ? "1" : "0" }),
    el("fieldset", { class: "field", id: "rating-group" },
      el("legend", {}, t("rate.legend")),
      ["satisfied", "basically_satisfied", "unsatisfied"].map(choice),
      el("p", { class: "field-error", id: "rating-error", hidden: true })),
    el("div", { class: "field" },
      el("label", { for: "reason" }, t("rate.reason")),
      el("p", { class: "hint", id: "reason-hint" }, t("rate.reason.hint")),
      el("textarea", { id: "reason", name: "reason", rows: "3", maxlength: "2000", "aria-describedby": "reason-hint" }),
      el("p", { class: "field-error", id: "reason-error", hidden: true })),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, t("rate.submit"))));
}

function lookupError(text) {
  $("lookup-error").textContent = text;
}

async function lookup(id, code, focus) {
  lookupError("");
  $("result").textContent = "";
  $("result").setAttribute("aria-busy", "true");
  try {
    const res = await call("GET", `/api/public/requests/${encodeURIComponent(id)}?code=${encodeURIComponent(code)}`);
    if (res.status === 200 && res.data?.id) {
      current = { id, code };
      render(res.data, code);
      if (focus) $("result").focus();
    } else {
      lookupError(refusalText(res.data?.code ?? (res.status === 404 ? "not_found" : "unknown"), res.data?.message, { s: res.retryAfter }));
    }
  } catch {
    lookupError(t("err.network"));
  } finally {
    $("result").removeAttribute("aria-busy");
  }
}

async function rate(form) {
  clearErrors(form);
  const rating = form.querySelector("input[name=rating]:checked")?.value;
  const reason = $("reason").value.trim();
  if (!rating) return fieldError("rating-satisfied", t("err.bad_rating")), $("rating-satisfied").focus();
  if (rating === "unsatisfied" && !reason) return fieldError("reason", t("err.rating_reason_required")), $("reason").focus();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const res = await call("POST", `/api/public/requests/${encodeURIComponent(current.id)}/rating?code=${encodeURIComponent(current.code)}`,
      { rating, reason: reason || undefined });
    if (res.status === 200 && res.data?.id) {
      render(res.data, current.code);
      const done = el("p", { class: "notice", role: "status", tabindex: "-1" }, t("rate.done"));
      $("result").prepend(done);
      done.focus();
      return;
    }
    const code = res.data?.code;
    const text = refusalText(code, res.data?.message, { s: res.retryAfter });
    if (code === "rating_reason_required" || code === "missing_field") fieldError("reason", text);
    else fieldError("rating-satisfied", text);
  } catch {
    fieldError("rating-satisfied", t("err.network"));
  } finally {
    button.disabled = false;
  }
}

function init() {
  if (keepChoices()) return;
  const form = $("lookup");
  form.noValidate = true;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearErrors(form);
    const id = $("id").value.trim();
    const code = $("code").value.trim().toUpperCase();
    $("code").value = code;
    let first = null;
    if (!ID.test(id)) { fieldError("id", t("err.id_format")); first ??= "id"; }
    if (!CODE.test(code)) { fieldError("code", t("err.code_format")); first ??= "code"; }
    if (first) return $(first).focus();
    // The address follows the lookup, so a reload (or a bookmark) shows it again.
    history.replaceState(null, "", pageHref("/request/status", { id, code }));
    lookup(id, code, true);
  });
  // A rating form the server rendered, or one the script built: both go through the API.
  $("result").addEventListener("submit", (e) => {
    if (e.target.id !== "rating" || !current) return;
    e.preventDefault();
    rate(e.target);
  });
  const id = $("id").value.trim();
  const code = $("code").value.trim().toUpperCase();
  if (id && code) {
    current = { id, code };
    if (!$("result").children.length) lookup(id, code, false);
  }
}

init();
