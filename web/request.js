// The citizen's request form (/request), and what the lookup page shares with it: words,
// the kept language / elderly choice, errors tied to their fields, the public API. Without
// this script the form is a plain multipart post the server answers with a page; with it the
// page checks what the server checks, sends JSON, uploads each file and shows the receipt.
import { REQUEST_STRINGS } from "/assets/request-i18n.js";

document.documentElement.classList.add("js");
export const LANG = document.body.dataset.lang === "en" ? "en" : "zh";
export const ELDERLY = document.body.dataset.elderly === "1";
const $ = (id) => document.getElementById(id);

/** The words for `key` (the elderly twin in elderly mode), `{name}` filled from `vars`. */
export function t(key, vars = {}) {
  const table = REQUEST_STRINGS[LANG];
  const s = (ELDERLY && table[key + ".elderly"]) || table[key] || REQUEST_STRINGS.zh[key] || key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

/** Remembers the language and elderly mode the citizen picks; a later visit without them in
 * the address comes back to the same choice (one reload, the server fills the words). */
export function keepChoices() {
  const url = new URL(location.href);
  const params = url.searchParams;
  if (params.has("lang")) localStorage.setItem("request.lang", LANG);
  if (params.has("elderly")) localStorage.setItem("request.elderly", ELDERLY ? "1" : "0");
  const lang = localStorage.getItem("request.lang");
  const elderly = localStorage.getItem("request.elderly");
  let reload = false;
  if (!params.has("lang") && (lang === "en" || lang === "zh") && lang !== LANG) {
    params.set("lang", lang);
    reload = true;
  }
  if (!params.has("elderly") && elderly === "1" && !ELDERLY) {
    params.set("elderly", "1");
    reload = true;
  }
  if (reload) {
    location.replace(url.href);
    return true;
  }
  document.querySelectorAll("a[data-lang]").forEach((a) =>
    a.addEventListener("click", () => localStorage.setItem("request.lang", a.dataset.lang)));
  $("elderly-link")?.addEventListener("click", (e) =>
    localStorage.setItem("request.elderly", e.currentTarget.dataset.elderly));
  return false;
}

/** `path?lang=..[&elderly=1][&k=v]` for links between the two pages. */
export function pageHref(path, extra = {}) {
  const p = new URLSearchParams({ lang: LANG });
  if (ELDERLY) p.set("elderly", "1");
  for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
  return `${path}?${p}`;
}

/** A date of the API in China time, the way the server writes it on its pages. */
export function chinaDate(iso, timeOnly = false) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso ?? "";
  const d = new Date(ms + 8 * 3600 * 1000);
  const two = (n) => String(n).padStart(2, "0");
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  if (timeOnly) return time;
  if (LANG === "en") {
    const month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()];
    return `${two(d.getUTCDate())} ${month} ${d.getUTCFullYear()} ${time}`;
  }
  return `${d.getUTCFullYear()}年${two(d.getUTCMonth() + 1)}月${two(d.getUTCDate())}日 ${time}`;
}

export function sizeText(bytes) {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

/** Calls the public API in the page's language: {status, data, retryAfter}; throws only when
 * the network fails. */
export async function call(method, path, body, contentType = "application/json") {
  const url = path + (path.includes("?") ? "&" : "?") + "lang=" + LANG;
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = contentType;
    init.body = contentType === "application/json" ? JSON.stringify(body) : body;
  }
  const res = await fetch(url, init);
  let data = null;
  try {
    data = await res.json();
  } catch {
    // Not JSON (a proxy's page): the status decides.
  }
  return { status: res.status, data, retryAfter: res.headers.get("Retry-After") };
}

/** The sentence for a refusal: the server's own (in the page's language) or ours. */
export function refusalText(code, message, vars = {}) {
  if (code === "rate_limited" && !message) {
    return vars.s ? t("err.rate_limited", vars) : t("err.rate_limited_now");
  }
  if (message) return message;
  const key = "err." + (code || "unknown");
  return t(key, vars) === key ? t("err.unknown") : t(key, vars);
}

/** Marks field `id` invalid with `text`: aria-invalid, the message tied by aria-describedby
 * and shown with the word "错误/Error" (not by colour alone). */
export function fieldError(id, text) {
  const input = $(id);
  const error = $(`${id}-error`) ?? $(`${id.split("-")[0]}-error`);
  const group = input?.closest("fieldset") ?? input?.closest(".field");
  if (error) {
    error.textContent = "";
    error.append(Object.assign(document.createElement("span"), { className: "sr-prefix", textContent: t("err.prefix") }), text);
    error.hidden = false;
  }
  group?.classList.add("invalid");
  const targets = group?.tagName === "FIELDSET" ? group.querySelectorAll("input") : [input];
  targets.forEach((el) => el?.setAttribute("aria-invalid", "true"));
  const describer = group?.tagName === "FIELDSET" ? group : input;
  if (describer && error) {
    const ids = (describer.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
    if (!ids.includes(error.id)) describer.setAttribute("aria-describedby", [...ids, error.id].join(" "));
  }
}

/** Clears every field error under `root`. */
export function clearErrors(root) {
  root.querySelectorAll(".field-error").forEach((e) => { e.hidden = true; e.textContent = ""; });
  root.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
  root.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
}

/** The error summary at the top: each problem a link to its field; it takes the focus so a
 * screen reader reads it (it is also role=alert). */
function summary(problems) {
  const box = $("error-summary");
  const list = $("error-list");
  list.textContent = "";
  for (const p of problems) {
    const a = document.createElement("a");
    a.href = "#" + p.field;
    a.textContent = p.text;
    a.addEventListener("click", (e) => { e.preventDefault(); $(p.field)?.focus(); });
    const li = document.createElement("li");
    li.append(a);
    list.append(li);
  }
  box.hidden = problems.length === 0;
  if (problems.length) box.focus();
}

const MAX_CHARS = 2000;
const MAX_FILES = 5;
const MAX_FILE_BYTES = 10 * 1024 * 1024;
const chars = (s) => [...s].length;

/** JPEG, PNG, WebP or PDF by the first bytes, as the server checks (not by the name). */
async function fileKind(file) {
  const b = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const starts = (...xs) => xs.every((x, i) => b[i] === x);
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (starts(0x52, 0x49, 0x46, 0x46) && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return "image/webp";
  if (starts(0x25, 0x50, 0x44, 0x46, 0x2d)) return "application/pdf";
  return null;
}

/** The field a refusal code of the contract is about. */
const FIELD_OF = {
  content_required: "content", content_too_long: "content", bad_type: "type-consultation",
  bad_phone: "phone", phone_required_for_callback: "phone", challenge_required: "challenge_answer",
  challenge_failed: "challenge_answer", too_many_files: "files", file_too_large: "files",
  unsupported_file_type: "files",
};

/** Self-service before a request (issue 16): as the citizen writes, the knowledge base's
 * public answers that match are shown under the field (read-only: nothing to tab through).
 * One search after the writing pauses, none for a few characters; a refused or failed search
 * (throttled, the public channel off) hides the panel and never stops the form. */
function suggestAnswers(content) {
  const panel = $("kb-suggest");
  const list = $("kb-suggest-list");
  if (!panel || !list) return;
  let timer = null;
  let asked = "";
  const ENTITIES = { "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'", "&amp;": "&" };
  const plain = (x) => x.replace(/&(lt|gt|quot|#39|amp);/g, (m) => ENTITIES[m]);
  // The server escaped the snippet and marked the matched words with <mark>: never parsed.
  const snippet = (s) => s.split(/(<mark>[\s\S]*?<\/mark>)/).filter(Boolean).map((part) => {
    if (part.startsWith("<mark>") && part.endsWith("</mark>")) {
      return Object.assign(document.createElement("mark"), { textContent: plain(part.slice(6, -7)) });
    }
    return document.createTextNode(plain(part));
  });
  const show = (items) => {
    list.replaceChildren(...items.slice(0, 3).map((h) => {
      const li = document.createElement("li");
      li.dataset.testid = "kb-suggestion";
      const title = Object.assign(document.createElement("h4"), { textContent: h.title });
      const text = document.createElement("p");
      text.append(...snippet(h.snippet));
      const source = Object.assign(document.createElement("p"), { className: "hint", textContent: t("kb.source", { name: h.source }) });
      li.append(title, text, source);
      return li;
    }));
    panel.hidden = items.length === 0;
  };
  const search = async () => {
    const q = content.value.trim().slice(0, 200);
    if (q === asked) return;
    asked = q;
    if ([...q].length < 4) return show([]);
    try {
      // While writing: not kept as a search that found nothing (`record=false`).
      const r = await fetch(`/api/public/kb/search?record=false&q=${encodeURIComponent(q)}`);
      if (!r.ok) return show([]);
      const body = await r.json();
      if (content.value.trim().slice(0, 200) === q) show(body.items || []);
    } catch {
      show([]);
    }
  };
  content.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 600);
  });
  if (content.value.trim()) search();
}

/** The area picker (issue 21): as the citizen types part of a street's or community's name,
 * the area tree's hits are offered with their paths; a choice sends the request straight to
 * the local office (dispatch by area). Without this script the typed words are free text. */
function pickArea() {
  const input = $("area");
  const select = $("area_code");
  const field = $("area-code-field");
  if (!input || !select || !field) return;
  let timer = null;
  let asked = 0;
  const search = async () => {
    const q = input.value.trim().slice(0, 50);
    const mine = ++asked;
    if (!q) return;
    try {
      const r = await fetch(`/api/public/areas?limit=20&q=${encodeURIComponent(q)}`);
      if (!r.ok || mine !== asked) return;
      const body = await r.json();
      const keep = select.value;
      const none = Object.assign(document.createElement("option"), { value: "", textContent: "—" });
      select.replaceChildren(none, ...(body.areas || []).map((a) => Object.assign(document.createElement("option"), { value: a.code, textContent: a.path, selected: a.code === keep })));
      field.hidden = select.options.length <= 1 && !keep;
    } catch {
      // A help only: the typed words still go with the request.
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 400);
  });
}

function initForm() {
  $("print")?.addEventListener("click", () => window.print());
  const form = $("request-form");
  if (!form || form.hidden) return;
  form.noValidate = true; // the script's checks speak plainer words than the browser's
  const content = $("content");
  const count = $("content-count");
  const live = $("content-count-live");
  let liveTimer = null;
  const counter = () => {
    const left = MAX_CHARS - chars(content.value);
    count.textContent = left >= 0 ? t("f.content.left", { n: left }) : t("f.content.over", { n: -left });
    count.classList.toggle("over", left < 0);
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => { live.textContent = count.textContent; }, 1200);
  };
  content.addEventListener("input", counter);
  counter();
  live.textContent = "";
  suggestAnswers(content);
  pickArea();

  const filesInput = $("files");
  filesInput.addEventListener("change", () => {
    const list = $("files-chosen");
    list.textContent = "";
    for (const f of filesInput.files) {
      list.append(Object.assign(document.createElement("li"), { textContent: t("f.files.size", { name: f.name, size: sizeText(f.size) }) }));
    }
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const problems = await check(form);
    if (problems.length) {
      problems.forEach((p) => fieldError(p.field, p.text));
      summary(problems);
      return;
    }
    summary([]);
    await send(form);
  });
}

/** What the server would refuse, found before sending: [{field, text}]. */
async function check(form) {
  const problems = [];
  const add = (code, vars) => problems.push({ field: FIELD_OF[code] ?? "content", text: t("err." + code, vars) });
  const content = $("content").value.trim();
  if (!content) add("content_required");
  else if (chars(content) > MAX_CHARS) add("content_too_long");
  if (!form.querySelector("input[name=type]:checked")) add("bad_type");
  const phone = normalPhone($("phone").value);
  if (phone && !/^\+?\d{5,20}$/.test(phone)) add("bad_phone");
  else if (!phone && $("callback_consent").checked) add("phone_required_for_callback");
  for (const id of ["area", "location", "name"]) {
    const input = $(id);
    if (chars(input.value) > Number(input.maxLength)) problems.push({ field: id, text: t("err.field_too_long", { field: id }) });
  }
  const files = [...$("files").files];
  if (files.length > MAX_FILES) add("too_many_files");
  for (const f of files) {
    if (f.size > MAX_FILE_BYTES) problems.push({ field: "files", text: `${f.name}: ${t("err.file_too_large")}` });
    else if (!(await fileKind(f))) problems.push({ field: "files", text: `${f.name}: ${t("err.unsupported_file_type")}` });
  }
  if (!$("challenge").hidden && !$("challenge_answer").value.trim()) add("challenge_required");
  return problems;
}

const normalPhone = (s) => s.replace(/[\s-]/g, "");

/** Sends the request as JSON, then each file; shows the receipt or the refusal. */
async function send(form) {
  const button = $("submit");
  const status = $("sending");
  const text = (id) => $(id).value.trim() || undefined;
  const body = {
    content: $("content").value.trim(),
    type: form.querySelector("input[name=type]:checked")?.value,
    // A chosen area names the place; the words typed to find it were only the search.
    area: $("area_code")?.value ? undefined : text("area"), location: text("location"), name: text("name"),
    area_code: $("area_code")?.value || undefined,
    phone: normalPhone($("phone").value) || undefined,
    callback_consent: $("callback_consent").checked,
  };
  if (!$("challenge").hidden) {
    body.challenge = { id: $("challenge_id").value, answer: $("challenge_answer").value.trim() };
  }
  button.disabled = true;
  status.textContent = t("sending");
  try {
    const res = await call("POST", "/api/public/requests", body);
    if (res.status === 201 && res.data?.id) {
      const failed = await upload(res.data, [...$("files").files], status);
      showReceipt(res.data, failed);
      return;
    }
    refused(form, res);
  } catch {
    summary([{ field: "submit", text: t("err.network") }]);
  } finally {
    button.disabled = false;
    status.textContent = "";
  }
}

/** A refusal of the submit, tied to its field; a challenge is shown with its question. */
function refused(form, res) {
  const code = res.data?.code ?? (res.status === 413 ? "body_too_large" : "unknown");
  const text = refusalText(code, res.data?.message, { s: res.retryAfter });
  const challenge = res.data?.challenge;
  if (challenge?.id) {
    $("challenge").hidden = false;
    $("challenge_id").disabled = false;
    $("challenge_answer").disabled = false;
    $("challenge_id").value = challenge.id;
    $("challenge-question").textContent = challenge.question;
    $("challenge_answer").value = "";
  }
  const field = FIELD_OF[code];
  if (field) fieldError(field, text);
  summary([{ field: field ?? "content", text }]);
}

/** Uploads each file to the new ticket; returns the sentences for those refused. */
async function upload(receipt, files, status) {
  const failed = [];
  const done = [];
  for (const [i, f] of files.entries()) {
    status.textContent = t("uploading", { i: i + 1, n: files.length });
    const path = `/api/public/requests/${encodeURIComponent(receipt.id)}/files?code=${encodeURIComponent(receipt.query_code)}&name=${encodeURIComponent(f.name)}`;
    try {
      const res = await call("POST", path, f, f.type || "application/octet-stream");
      if (res.status === 201) done.push(res.data ?? { name: f.name, size: f.size });
      else failed.push(`${f.name}: ${refusalText(res.data?.code, res.data?.message)}`);
    } catch {
      failed.push(`${f.name}: ${t("err.network")}`);
    }
  }
  receipt.uploaded = done;
  return failed;
}

function showReceipt(r, failed) {
  $("request-form").hidden = true;
  $("intro").hidden = true;
  $("error-summary").hidden = true;
  $("rc-id").textContent = r.id;
  $("rc-code").textContent = r.query_code;
  $("rc-received").textContent = chinaDate(r.received_at);
  const minutes = Math.max(1, Math.round((Date.parse(r.respond_by) - Date.parse(r.received_at)) / 60000)) || 3;
  $("rc-promise").textContent = t("rc.promise", { minutes, time: chinaDate(r.respond_by, true) });
  $("rc-status").href = pageHref("/request/status", { id: r.id, code: r.query_code });
  $("rc-again").href = pageHref("/request");
  const list = $("rc-file-list");
  list.textContent = "";
  for (const f of r.uploaded ?? []) {
    list.append(Object.assign(document.createElement("li"), { textContent: t("f.files.size", { name: f.name, size: sizeText(f.size ?? 0) }) }));
  }
  $("rc-files").hidden = !(r.uploaded ?? []).length;
  if (failed.length) {
    const box = Object.assign(document.createElement("div"), { className: "error-box" });
    box.setAttribute("role", "alert");
    box.append(t("err.files_not_sent"));
    const ul = document.createElement("ul");
    for (const f of failed) ul.append(Object.assign(document.createElement("li"), { textContent: f }));
    box.append(ul);
    $("rc-promise").after(box);
  }
  const receipt = $("receipt");
  receipt.hidden = false;
  document.title = `${t("rc.title")} · ${r.id}`;
  receipt.focus();
}

if (document.body.dataset.page === "request" && !keepChoices()) initForm();
