// The agent's desktop: state buttons, the call pop-up (pushed by the engine), the ticket form
// that completes the draft the answered call opened, transfer, and wrap-up; beside them the
// web requests (issue 13) offered to the agent, accepted here and handled in the same form,
// and the knowledge items suggested for the request (issue 16), one of which answers it.
import { chrome, signIn, live, api, t, clock, el, translate, dateTime, timeOfDay, label, describeError, lang } from "/assets/common.js";
import { initParties, renderParties } from "/assets/desk-parties.js";
import { initKb, kbPanel, kbRestore, kbCited, kbClear, kbContent } from "/assets/desk-kb.js";
import { initArea, areaCode, areaShow, areaOptions, areaRestore } from "/assets/desk-area.js";
import { initPhone } from "/assets/phone.js";

let token = null;
let view = null;
let received = 0;
let ticket = null; // the draft being filled: {id, version, state}
let historyOf = null; // the call whose caller's earlier tickets are shown
let units = new Map(); // unit id → name: a suggested category shows the unit it goes to
let domains = []; // the catalogue's content domains
let suggestTimer = null;
let lastCall = null; // the call the open ticket came from, kept after the caller hangs up
let webOffer = null; // the web request offered now: {id, tk} (tk once fetched)
const webTickets = new Map(); // ticket id → promise of the ticket, for the offer and the list
let webListShown = "";

/** The agent's unsaved work (the ticket, its call, the form) in this tab's session storage:
 * a reload or a crashed page restores it; saving clears it. Session storage, not local: it
 * holds a citizen's words, and goes when the tab is closed. */
const WORK_KEY = "desk.work";
const FIELDS = ["f-content", "f-name", "f-area", "f-urgency", "f-type", "f-domain", "f-category", "f-next", "f-answer", "f-method", "f-service", "f-refuse", "f-explanation"];

function keepWork() {
  if (!ticket?.id) return;
  const form = {};
  for (const f of FIELDS) form[f] = $(f).value;
  // The suggested categories are options the page fetched: keep them so the choice survives.
  const categories = [...$("f-category").options].map((o) => [o.value, o.textContent]);
  sessionStorage.setItem(WORK_KEY, JSON.stringify({ agent: view?.agent.id, ticket: ticket.id, call: lastCall, form, categories, cited: kbCited(), areas: areaOptions(), area: areaCode() ?? "" }));
}

function storedWork() {
  try {
    const w = JSON.parse(sessionStorage.getItem(WORK_KEY) ?? "null");
    return w && (!view || w.agent === view.agent.id) ? w : null;
  } catch {
    return null;
  }
}

function restoreForm(w) {
  if (w.categories?.length) {
    $("f-category").replaceChildren(...w.categories.map(([v, text]) => el("option", { value: v }, text)));
  }
  for (const f of FIELDS) if (w.form?.[f] != null) $(f).value = w.form[f];
  areaRestore(w.areas, w.area);
  kbRestore(w.cited);
}

function forgetWork() {
  sessionStorage.removeItem(WORK_KEY);
  lastCall = null;
}

const $ = (id) => document.getElementById(id);

function showError(e) {
  $("desk-error").textContent = e ? describeError(e) : "";
}

function queueName(q) {
  const s = t("q." + q);
  return s === "q." + q ? q : s;
}

function render(v) {
  view = v;
  received = performance.now();
  const a = v.agent;
  $("who").textContent = `${a.name} (${a.id})`;
  $("state").textContent = t("state." + a.state) + (a.reason ? ` · ${t("reason." + a.reason)}` : "");
  $("state").dataset.state = a.state;
  $("btn-wrap").disabled = a.state !== "wrap_up";
  // The button of the state the agent is in is the highlighted one.
  for (const [id, state] of [["btn-ready", "ready"], ["btn-not-ready", "not_ready"], ["btn-logout", "logged_out"]]) {
    $(id).classList.toggle("primary", a.state === state);
    $(id).setAttribute("aria-pressed", String(a.state === state));
  }
  // Surge mode (C8): an agent who is not taking calls is asked to stand by and get ready.
  const standby = v.surge && (a.state === "not_ready" || a.state === "logged_out");
  $("surge").hidden = !standby;
  if (standby) $("surge").textContent = t("desk.surge", { since: timeOfDay(v.surge.since) });
  $("phone").textContent = t(a.registered ? "desk.phone_ok" : "desk.phone_off");
  $("phone").className = a.registered ? "muted" : "error";
  $("timer-label").textContent = t(a.wrap_up_left_s != null ? "desk.wrap_left" : "desk.in_state");
  const c = v.call;
  const offered = Boolean(c && !c.agent);
  $("ringing").hidden = a.state !== "reserved" || Boolean(c);
  transferTargets(v.transfer_to ?? []);
  if (c && !offered) {
    lastCall = { id: c.id, caller: c.caller, called: c.called, called_name: c.called_name, menu_path: c.menu_path, queue: c.queue, wait: waited(c, v.at), ticket: c.ticket };
  }
  // After the caller hangs up, the call's facts stay beside its unsaved ticket.
  const shown = c ?? (ticket && !ticketSaved() && lastCall ? lastCall : null);
  $("popup").hidden = !shown;
  $("call-controls").hidden = !c || offered;
  const held = Boolean(c?.on_hold);
  $("btn-hold").textContent = t(held ? "desk.resume" : "desk.hold");
  $("btn-hold").setAttribute("aria-pressed", String(held));
  $("btn-hold").classList.toggle("primary", held);
  if (shown) {
    $("popup").classList.toggle("offered", offered);
    $("popup").classList.toggle("ended", !c);
    $("call-h").textContent = t(!c ? "desk.call_ended" : offered ? "desk.offered" : "desk.call");
    $("c-caller").textContent = shown.caller;
    // The number dialled: an integrated number (12315, 12333) tells the agent the subject.
    $("c-number").textContent = shown.called_name ?? shown.called ?? "—";
    $("c-path").textContent = shown.menu_path.map(menuStep).join(" → ") || "—";
    $("c-queue").textContent = shown.queue ? queueName(shown.queue) : "—";
    $("c-wait").textContent = c ? waited(c, v.at) : shown.wait;
    $("c-ticket").textContent = shown.ticket ?? "…";
  }
  if (c) {
    if (historyOf !== c.id) showHistory(c.id);
    if (c.ticket && (!ticket || ticket.id !== c.ticket)) openTicket(c.ticket);
    if (c.ticket && lastCall && !lastCall.ticket) lastCall.ticket = c.ticket;
  }
  renderParties(v);
  renderWeb(v);
  tick();
}

/** The server's clock now, from the last push's `at` (the agent's PC clock may be off). */
function serverNow() {
  return view ? Date.parse(view.at) + (performance.now() - received) : Date.now();
}

function announce(text) {
  $("web-announce").textContent = text;
}

/** A web ticket, fetched once (its content and files do not change while it is offered/held). */
function webTicket(id) {
  if (!webTickets.has(id)) {
    webTickets.set(id, api(token, "GET", "/api/tickets/" + id).catch((e) => {
      webTickets.delete(id);
      throw e;
    }));
  }
  return webTickets.get(id);
}

/** A call's ticket is on the form and unsaved: it keeps the form, web requests wait. */
function callTicketOpen() {
  if (view?.call?.ticket) return true;
  return Boolean(ticket && !ticket.web && !ticketSaved() && !$("ticket").hidden);
}

/** The offer (announced once), the held web requests and the capacity, from a push. */
function renderWeb(v) {
  const offer = v.web_offer ?? null;
  if (offer !== (webOffer?.id ?? null)) {
    webOffer = offer ? { id: offer, tk: null } : null;
    $("web-offer").hidden = true;
    if (offer) {
      announce(t("web.new", { id: offer }));
      webTicket(offer).then((tk) => {
        if (webOffer?.id !== offer) return;
        webOffer.tk = tk;
        showOffer(tk);
      }).catch(showError);
    }
  }
  $("web-capacity").textContent = v.web_capacity ? t("web.capacity", { n: v.web_capacity }) : t("web.capacity.none");
  const items = v.web_items ?? [];
  const busy = callTicketOpen();
  const key = [items.join(","), lang(), ticket?.id, ticketSaved(), busy].join("|");
  if (key === webListShown) return;
  webListShown = key;
  if (!items.length) {
    $("web-items").replaceChildren(el("li", { class: "muted" }, t("web.none")));
    return;
  }
  $("web-items").replaceChildren(...items.map((id) => {
    const open = ticket?.id === id && !ticketSaved();
    const text = el("span", { class: "muted" });
    webTicket(id).then((tk) => { text.textContent = ` ${label("ch", tk.channel)} · ${tk.content.slice(0, 40)}`; }).catch(() => {});
    const button = el("button", {
      type: "button", "data-testid": "web-open", "data-ticket": id, disabled: busy || open,
      "aria-current": open ? "true" : null, "aria-label": `${t("web.open")} ${id}`,
      onclick: () => openTicket(id),
    }, t("web.open"));
    return el("li", { class: open ? "current" : null }, el("strong", {}, id), text, " ", button);
  }));
}

function showOffer(tk) {
  $("w-id").textContent = tk.id;
  $("w-channel").textContent = label("ch", tk.channel);
  $("w-type").textContent = label("type", tk.type);
  $("w-content").textContent = tk.content;
  $("w-place").textContent = [tk.area, tk.location].filter(Boolean).join(" · ") || "—";
  fileLinks($("w-files"), tk);
  $("web-offer").hidden = false;
  tick();
}

/** The citizen's files as links; the download carries the token (a plain link could not). */
function fileLinks(list, tk) {
  const files = (tk.history ?? []).filter((e) => e.event === "files_attached").flatMap((e) => e.files ?? []);
  if (!files.length) {
    list.replaceChildren(el("li", { class: "muted" }, t("web.no_files")));
    return;
  }
  list.replaceChildren(...files.map((f) => {
    const href = `/api/tickets/${encodeURIComponent(tk.id)}/attachments/${encodeURIComponent(f.sha256)}`;
    const size = f.size != null ? ` (${Math.max(1, Math.round(f.size / 1024))} KB)` : "";
    return el("li", {}, el("a", { href, download: f.name, "data-testid": "web-file", onclick: (e) => download(e, href, f.name) }, f.name), size);
  }));
}

async function download(e, href, name) {
  e.preventDefault();
  try {
    const res = await fetch(href, { headers: { Authorization: "Bearer " + token } });
    if (!res.ok) throw new Error(res.statusText);
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    showError(err);
  }
}

/** The offer's wait since the server received it: amber from 2 minutes, red from 2.5 (the
 * wallboard's alarm), past 3 the response limit (C13) is missed. */
function webWait() {
  const tk = webOffer?.tk;
  if (!tk) return;
  const s = Math.max(0, (serverNow() - Date.parse(tk.received_at)) / 1000);
  const w = $("w-wait");
  w.textContent = clock(s);
  w.className = s >= 150 ? "level-red" : s >= 120 ? "level-amber" : "level-ok";
  $("w-wait-note").textContent = t(s >= 180 ? "web.late" : "web.limit");
}

async function webDecide(action) {
  const id = webOffer?.id;
  const buttons = [$("btn-web-accept"), $("btn-web-decline")];
  if (!id || !view || buttons.some((b) => b.disabled)) return;
  showError(null);
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const tk = await api(token, "POST", `/api/agents/${view.agent.id}/items/${id}/${action}`);
    $("web-offer").hidden = true;
    announce(t(action === "accept" ? "web.accepted" : "web.declined", { id }));
    if (action === "accept") {
      if (tk) webTickets.set(id, Promise.resolve(tk));
      // Handled at once, unless a call's ticket holds the form: then it waits in the list.
      if (!callTicketOpen()) await openTicket(id);
    }
  } catch (e) {
    showError(e);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/** The form for a web ticket: filled from the ticket, the citizen's words read-only, its
 * files listed, and "refuse with a reason" among the next steps; back to normal for a call. */
function webForm(tk) {
  const web = Boolean(ticket?.web);
  document.querySelectorAll(".w-only").forEach((e) => { e.hidden = !web; });
  $("f-content").readOnly = web;
  $("f-web").hidden = !web;
  if (!web) {
    if ($("f-next").value === "refuse") $("f-next").value = "none";
    return;
  }
  $("f-web-text").textContent = t("web.form", { id: tk.id, channel: label("ch", tk.channel), at: dateTime(tk.received_at) });
  $("f-content").value = tk.content;
  $("f-name").value = tk.caller?.name ?? "";
  $("f-area").value = tk.area_code ? "" : (tk.area ?? "");
  $("f-location").value = tk.location ?? "";
  $("f-urgency").value = tk.urgency;
  if ([...$("f-type").options].some((o) => o.value === tk.type)) $("f-type").value = tk.type;
  if (tk.domain && tk.domain !== "unclassified") $("f-domain").value = tk.domain;
  fileLinks($("f-files"), tk);
}

/** The transfer choices: this hotline's queues, then the outside numbers it can dial (none
 * without a gateway), rebuilt only when the list changes. */
let targetsShown = "";
function transferTargets(targets) {
  const key = targets.join(",") + "|" + document.documentElement.lang;
  if (key === targetsShown) return;
  targetsShown = key;
  const chosen = $("transfer-to").value;
  const name = (x) => {
    const q = t("q." + x);
    if (q !== "q." + x) return q;
    const s = t("svc." + x);
    return s !== "svc." + x ? s : x;
  };
  $("transfer-to").replaceChildren(...targets.map((x) => el("option", { value: x }, name(x))));
  if (targets.includes(chosen)) $("transfer-to").value = chosen;
  $("btn-transfer").disabled = targets.length === 0;
}

/** One step of the caller's way through the voice menu: `main:2` → "主菜单 按2". Menus the
 * pages have no name for show their id. */
function menuStep(step) {
  const [menu, key] = step.split(":");
  if (key === undefined) return label("menu", menu);
  // Not a key: the caller pressed nothing, or the menus' time ran out.
  if (/^[a-z_]+$/.test(key)) return `${label("menu", menu)} ${t("menu.step." + key)}`;
  return t("menu.key", { menu: label("menu", menu), key });
}

/** How long the caller has waited for a person: final once answered, running while it rings. */
function waited(c, at) {
  if (c.wait_s != null) return c.wait_s.toFixed(1) + " s";
  if (!c.queued_at) return "—";
  return Math.max(0, (Date.parse(at) - Date.parse(c.queued_at)) / 1000).toFixed(0) + " s";
}

/** The caller's earlier tickets (W6), looked up by the call while it rings: the number never
 * reaches the page. */
async function showHistory(call) {
  historyOf = call;
  $("history-panel").hidden = false;
  try {
    const hist = await api(token, "GET", "/api/tickets?same_caller_as_call=" + encodeURIComponent(call) + "&limit=10");
    if (historyOf !== call) return;
    const own = view?.call?.ticket;
    const items = hist.items.filter((i) => i.id !== own && i.call_id !== call);
    $("history").replaceChildren(
      ...(items.length
        ? items.map((i) => el("li", {}, el("a", { href: "/tickets#" + i.id }, i.id), ` ${dateTime(i.received_at)} · ${label("type", i.type)} · ${label("st", i.state)} · ${i.content}`))
        : [el("li", { class: "muted" }, t("desk.history.none"))]),
    );
  } catch (e) {
    if (historyOf === call) historyOf = null; // try again at the next push
    showError(e);
  }
}

/** The time in the current state, or in wrap-up the time left before ready again. */
function tick() {
  if (!view) return;
  webWait();
  const gone = (performance.now() - received) / 1000;
  const left = view.agent.wrap_up_left_s;
  $("timer").textContent = clock(left != null ? Math.max(0, left - gone) : view.agent.in_state_s + gone);
}

function ticketSaved() {
  return !$("saved").hidden;
}

async function openTicket(id) {
  const opening = { id, version: null };
  ticket = opening;
  $("saved").hidden = true;
  $("conflict").hidden = true;
  try {
    const tk = await api(token, "GET", "/api/tickets/" + id);
    if (ticket !== opening) return; // another ticket was opened meanwhile
    ticket.version = tk.version;
    ticket.state = tk.state;
    // A web request (any internet channel) the agent accepted: theirs to handle in this form.
    ticket.web = tk.channel !== "phone";
    const form = $("ticket");
    // A ticket half saved before a reload (completed, not yet closed or dispatched) is still
    // the agent's to finish.
    const work = storedWork();
    const mine = work?.ticket === id;
    form.hidden = !(tk.state === "draft" || (!ticket.web && mine && tk.state === "received") || (ticket.web && tk.state === "accepted"));
    $("no-ticket").hidden = !form.hidden;
    if (!form.hidden) {
      form.reset();
      areaShow(tk.area_code, tk.area_path);
      webForm(tk);
      if (mine) restoreForm(work);
      if (ticket.web) {
        lastCall = null;
        await suggest(tk.domain === "unclassified");
        if (mine) restoreForm(work);
        keepWork();
        $("f-next").focus();
      }
    }
    if (mine && !lastCall && !ticket.web) lastCall = work.call;
    updateNext();
    kbPanel(!form.hidden, form.hidden ? null : ticket.web ? null : lastCall);
    if (view) render(view);
  } catch (e) {
    showError(e);
  }
}

/** Another person changed the ticket while the agent typed: the current version is shown
 * beside the form, which keeps what the agent typed; saving again goes on from the current
 * version. */
async function showConflict() {
  const tk = await api(token, "GET", "/api/tickets/" + ticket.id);
  const theirs = tk.history.filter((e) => e.seq > ticket.version && e.actor?.role !== "system");
  ticket.version = tk.version;
  ticket.state = tk.state;
  $("conflict-list").replaceChildren(
    el("li", {}, `${t("tk.state")}: ${label("st", tk.state)}`),
    el("li", {}, `${t("f.content")}: ${tk.content}`),
    ...theirs.map((e) => el("li", {}, `${dateTime(e.at)} · ${e.actor?.user ?? ""} (${label("role", e.actor?.role ?? "")}) · ${label("ev", e.event)}`)),
  );
  $("conflict").hidden = false;
}

function updateNext() {
  const next = $("f-next").value;
  document.querySelectorAll(".n-direct").forEach((e) => { e.hidden = next !== "direct_close"; });
  document.querySelectorAll(".n-link").forEach((e) => { e.hidden = next !== "link_emergency"; });
  document.querySelectorAll(".n-refuse").forEach((e) => { e.hidden = next !== "refuse"; });
}

async function loadCatalogue() {
  const u = await api(token, "GET", "/api/dispatch/units");
  units = new Map(u.units.map((x) => [x.id, x.name]));
  const cat = await api(token, "GET", "/api/dispatch/categories");
  domains = cat.domains;
  domainOptions();
}

/** The domain choices in the page's language (again after a language switch). */
function domainOptions() {
  const chosen = $("f-domain").value;
  // No silent default: an unclassified request's domain is the agent's choice (or the
  // suggestion's); the field is required.
  $("f-domain").replaceChildren(el("option", { value: "" }, "—"), ...domains.map((d) => el("option", { value: d }, label("domain", d))));
  if (chosen) $("f-domain").value = chosen;
}

/** The catalogue's categories for the content; the first one's domain is chosen unless the
 * ticket already has one (`setDomain` false). */
async function suggest(setDomain = true) {
  const q = $("f-content").value.trim();
  if (!q) return;
  try {
    // With an area picked, each category names the unit it goes to there (dispatch by area).
    const area = areaCode() ? "&area=" + encodeURIComponent(areaCode()) : "";
    const res = await api(token, "GET", "/api/dispatch/categories?q=" + encodeURIComponent(q) + area);
    $("f-category").replaceChildren(
      el("option", { value: "" }, "—"),
      ...res.categories.map((c, i) => el("option", { value: c.id, selected: i === 0 }, `${c.name} → ${c.lead ? units.get(c.lead) ?? c.lead : "—"}${i === 0 ? ` (${t("f.suggested")})` : ""}`)),
    );
    const first = res.categories[0];
    if (first && setDomain) $("f-domain").value = first.domain;
  } catch (e) {
    showError(e);
  }
}

/** One action on the call's ticket, at the version the page last saw (a change by someone
 * else in between is refused with 409 rather than overwritten). */
async function act(action) {
  const tk = await api(token, "POST", `/api/tickets/${ticket.id}/actions`, { ...action, version: ticket.version });
  ticket.version = tk.version;
  ticket.state = tk.state;
  return tk;
}

async function save(e) {
  e.preventDefault();
  const button = $("ticket").querySelector("button[type=submit]");
  if (button.disabled) return; // a double click saves once
  showError(null);
  const opt = (v) => (v.trim() ? v.trim() : undefined);
  const category = $("f-category").value || undefined;
  const next = $("f-next").value;
  if (next === "dispatch" && !category) {
    showError(new Error(t("desk.need_category")));
    $("f-category").focus();
    return;
  }
  if (next === "refuse" && !$("f-explanation").value.trim()) {
    showError(new Error(t("web.need_explanation")));
    $("f-explanation").focus();
    return;
  }
  button.disabled = true;
  try {
    // Saved in steps (complete, then close, dispatch or link): after a step that failed, a
    // second try goes on from where the ticket is instead of completing it again.
    if (ticket.state === "draft") await act({
      action: "complete",
      content: $("f-content").value.trim(),
      caller_name: opt($("f-name").value),
      area: areaCode() ? undefined : opt($("f-area").value),
      area_code: areaCode(),
      urgency: $("f-urgency").value,
      type: $("f-type").value,
      domain: $("f-domain").value,
      category,
    });
    // A web ticket: the agent's classification first (dispatch needs a real domain), once.
    if (ticket.web && ticket.state === "accepted" && !ticket.classified) {
      await act({ action: "classify", urgency: $("f-urgency").value, type: $("f-type").value, domain: $("f-domain").value, category, area_code: areaCode() });
      ticket.classified = true;
    }
    let tk;
    if (next === "direct_close") {
      const method = $("f-method").value;
      const cite = method === "knowledge_base" ? kbCited() : null;
      tk = await act({ action: "direct_close", method, answer: $("f-answer").value, knowledge: cite ? { item: cite.item, version: cite.version } : undefined });
    }
    if (next === "dispatch") tk = await act({ action: "dispatch", category });
    if (next === "link_emergency") tk = await act({ action: "link_emergency", service: $("f-service").value });
    if (next === "refuse") tk = await act({ action: "refuse", reason: $("f-refuse").value, explanation: $("f-explanation").value.trim() });
    $("ticket").hidden = true;
    $("conflict").hidden = true;
    kbClear();
    kbPanel(false);
    const saved = $("saved");
    saved.hidden = false;
    saved.textContent = `${t("desk.saved")}: ${ticket.id} · ${label("st", ticket.state)}`;
    forgetWork();
    if (view) render(view);
    if (!ticket.web && view?.agent.state === "wrap_up") await api(token, "POST", `/api/agents/${view.agent.id}/wrap-up-done`);
  } catch (err) {
    showError(err);
    if (err.code === "version_conflict") await showConflict().catch(showError);
  } finally {
    button.disabled = false;
  }
}

async function setState(body) {
  showError(null);
  try {
    await api(token, "POST", `/api/agents/${view.agent.id}/state`, body);
  } catch (e) {
    showError(e);
  }
}

async function main() {
  chrome(() => {
    domainOptions();
    kbPanel(null);
    webListShown = "";
    if (webOffer?.tk) showOffer(webOffer.tk);
    if (view) render(view);
  });
  const signed = await signIn("/api/desk");
  token = signed.token;
  initParties({ token: () => token, view: () => view, showError, unitName: (id) => units.get(id) });
  initKb({ token: () => token, showError, unitName: (id) => units.get(id) ?? id, queueName, keepWork, updateNext });
  render(signed.first);
  initPhone(() => token).catch(showError);
  await loadCatalogue().catch(showError);
  $("btn-ready").addEventListener("click", () => setState({ state: "ready" }));
  $("btn-not-ready").addEventListener("click", () => setState({ state: "not_ready", reason: $("reason").value }));
  $("btn-logout").addEventListener("click", () => setState({ state: "logged_out" }));
  $("btn-wrap").addEventListener("click", async () => {
    try { await api(token, "POST", `/api/agents/${view.agent.id}/wrap-up-done`); } catch (e) { showError(e); }
  });
  $("btn-transfer").addEventListener("click", async () => {
    showError(null);
    try {
      await api(token, "POST", `/api/calls/${view.call.id}/transfer`, { queue: $("transfer-to").value });
      $("saved").hidden = false;
      $("saved").textContent = t("desk.transfer.done");
    } catch (e) {
      showError(e);
    }
  });
  $("btn-hold").addEventListener("click", async () => {
    showError(null);
    const b = $("btn-hold");
    if (b.disabled || !view?.call) return;
    b.disabled = true;
    try {
      await api(token, "POST", `/api/calls/${view.call.id}/hold`, { hold: !view.call.on_hold });
    } catch (e) {
      showError(e);
    } finally {
      b.disabled = false;
    }
  });
  $("f-next").addEventListener("change", updateNext);
  $("btn-web-accept").addEventListener("click", () => webDecide("accept"));
  $("btn-web-decline").addEventListener("click", () => webDecide("decline"));
  $("f-content").addEventListener("input", () => { clearTimeout(suggestTimer); suggestTimer = setTimeout(suggest, 400); kbContent(); });
  // A picked area changes where each category goes: suggest again, keeping the domain.
  initArea(() => token, () => { suggest(false); keepWork(); });
  $("ticket").addEventListener("submit", save);
  $("ticket").addEventListener("input", keepWork);
  $("ticket").addEventListener("change", keepWork);
  // A reload while a ticket was unsaved (the call may be over): its form comes back.
  const work = storedWork();
  if (work && !view?.call?.ticket) {
    lastCall = work.call;
    await openTicket(work.ticket);
  }
  const status = $("conn");
  live("/api/desk/stream", token, "desk", render, (ok) => {
    status.textContent = ok ? "● " + t("wb.live") : t("wb.offline");
    status.className = "status " + (ok ? "level-ok" : "level-red");
  });
  setInterval(tick, 1000);
  updateNext();
  translate();
}

main();
