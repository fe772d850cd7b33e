// The knowledge panel of the desk (issue 16): the items suggested for the request while the
// agent types it (before a word is typed, from the call's queue and menu path), a search box,
// and one action that answers the citizen by citing an item: the ticket's W3 direct answer
// with the method `knowledge_base` then names the item and the version served, which the
// ticket keeps whatever the item becomes.
import { api, t, el, label } from "/assets/common.js";

const $ = (id) => document.getElementById(id);
let ctx = null;
let seq = 0; // the latest search: an older answer arriving late is dropped
let timer = null;
let cited = null; // {item, version, title}
let shown = null; // what the panel shows: {items, basis: [key, vars]}, again after a language switch
let call = null; // the call whose ticket is open: its queue and menu path seed the panel

/** `c`: token(), showError(e), unitName(id), queueName(q), keepWork(), updateNext(). */
export function initKb(c) {
  ctx = c;
  $("kb-search").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("kb-q").value.trim();
    // Asked on purpose: when it finds nothing, it is a gap for the knowledge page.
    if (q) search(q, ["kb.basis.query", { q }], true);
  });
  $("kb-uncite").addEventListener("click", () => {
    cited = null;
    showCited();
    ctx.keepWork();
  });
}

/** Opens the panel for the ticket in the form (`open` true, `c` the call it came from),
 * closes it (false), or draws it again in the page's language (null). */
export function kbPanel(open, c = null) {
  if (open === null) {
    draw();
    showCited();
    return;
  }
  $("kb-panel").hidden = !open;
  if (!open) return;
  call = c;
  seed();
}

/** The content changed: search again once the agent pauses. */
export function kbContent() {
  clearTimeout(timer);
  timer = setTimeout(seed, 350);
}

/** Searches what the agent typed; with nothing typed yet, the call's queue and menus. */
function seed() {
  const content = $("f-content").value.trim();
  if (content) return search(content, ["kb.basis.content", {}]);
  const menus = (call?.menu_path ?? []).map((s) => s.split(":")[0]).filter((m) => m !== "main");
  const words = [call?.queue ? ctx.queueName(call.queue) : null, ...menus.map((m) => label("menu", m))].filter(Boolean);
  if (!words.length) {
    shown = { items: [], basis: ["kb.hint", {}] };
    draw();
    return;
  }
  search(words.join(" "), ["kb.basis.call", { what: words.join(" · ") }]);
}

/** The page's own searches (as the agent types, from the call) are not kept as gaps when they
 * find nothing (`record=false`): half a sentence is no item to write. */
async function search(q, basis, record = false) {
  const mine = ++seq;
  const p = new URLSearchParams({ q: q.slice(0, 200), limit: "5" });
  if (!record) p.set("record", "false");
  try {
    const res = await api(ctx.token(), "GET", "/api/kb/search?" + p);
    if (mine !== seq) return;
    shown = { items: res.items, basis };
    draw();
  } catch (e) {
    if (mine === seq) ctx.showError(e);
  }
}

function draw() {
  if (!shown) return;
  const [key, vars] = shown.basis;
  const none = key !== "kb.hint" && !shown.items.length;
  $("kb-basis").textContent = t(key, vars) + (none ? ` · ${t("kb.none")}` : "");
  $("kb-hits").replaceChildren(...shown.items.map(hit));
}

const ENTITIES = { "&lt;": "<", "&gt;": ">", "&quot;": "\"", "&#39;": "'", "&amp;": "&" };

/** The snippet as nodes: the server escaped the text and marked the matched words with
 * `<mark>`; it is never parsed as HTML here. */
export function snippet(s) {
  const text = (x) => x.replace(/&(lt|gt|quot|#39|amp);/g, (m) => ENTITIES[m]);
  return s.split(/(<mark>[\s\S]*?<\/mark>)/).filter(Boolean).map((part) =>
    (part.startsWith("<mark>") && part.endsWith("</mark>") ? el("mark", {}, text(part.slice(6, -7))) : text(part)));
}

function hit(h) {
  const ref = t("kb.item_v", { id: h.id, v: h.version });
  return el("li", { "data-testid": "kb-hit", "data-item": h.id, "data-version": h.version },
    el("h3", {}, h.title),
    el("p", { class: "snippet" }, snippet(h.snippet)),
    el("p", { class: "meta muted" }, `${t("kb.source")}: ${h.source} · ${h.unit === "hotline" ? t("app.name") : ctx.unitName(h.unit)} · ${ref}`),
    el("div", { class: "row" },
      el("button", { type: "button", "data-testid": "kb-answer", "aria-label": `${t("kb.answer_with")}: ${h.title}`, onclick: () => answer(h) }, t("kb.answer_with"))));
}

/** One action: cite the item in the version served and answer the citizen with it — the
 * next step becomes a direct answer from the knowledge base, its words the item's answer —
 * and save the ticket (the form's own checks still apply). */
async function answer(h) {
  ctx.showError(null);
  try {
    const v = await api(ctx.token(), "GET", `/api/kb/items/${h.id}/versions/${h.version}`);
    cited = { item: h.id, version: h.version, title: h.title };
    $("f-next").value = "direct_close";
    $("f-method").value = "knowledge_base";
    $("f-answer").value = v.answer;
    ctx.updateNext();
    showCited();
    ctx.keepWork();
    $("ticket").requestSubmit();
  } catch (e) {
    ctx.showError(e);
  }
}

function showCited() {
  $("kb-cited").hidden = !cited;
  if (cited) $("kb-cited-text").textContent = t("kb.cited", { title: cited.title, id: cited.item, v: cited.version });
}

/** The item the answer cites, if any: {item, version, title}. */
export function kbCited() {
  return cited;
}

/** The citation of a form restored after a reload. */
export function kbRestore(c) {
  cited = c ?? null;
  showCited();
}

/** The ticket was saved: nothing is cited, nothing suggested. */
export function kbClear() {
  cited = null;
  shown = null;
  showCited();
  $("kb-hits").replaceChildren();
  $("kb-basis").textContent = "";
}
