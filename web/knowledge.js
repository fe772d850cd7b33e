// The knowledge page (issue 16). For supervisors and the knowledge editor: the items used most
// (cited by tickets' direct answers and units' replies, listed by searches), the searches that
// found nothing (gaps to write), the items that expire soon, the withdrawn ones, and the
// editor's review queue (approve, or send back with a reason). For any staff member: one
// version of an item (`/knowledge#item=7&v=1`, the version a ticket cites).
import { chrome, signIn, api, t, el, translate, dateTime, label, describeError } from "/assets/common.js";

let token = null;
let me = null;
let units = new Map(); // unit id → name
let categories = new Map(); // category id → name
let stats = null;
let queue = [];

const $ = (id) => document.getElementById(id);

function pageError(e) {
  $("page-error").textContent = e ? describeError(e) : "";
}

function figures() {
  return me && (me.role === "supervisor" || me.role === "kb_editor");
}

function unitName(id) {
  return id === "hotline" ? t("app.name") : units.get(id) ?? id;
}

const num = (n) => el("td", { class: "num" }, String(n));

/** An item's title, linking to the version given (when there is one). */
function itemCell(id, version, title) {
  return el("td", {}, version ? el("a", { href: `#item=${id}&v=${version}`, "data-item": id }, title) : title);
}

function rows(body, list, width, cells) {
  $(body).replaceChildren(...(list.length
    ? list.map((x) => el("tr", {}, cells(x).map((c) => (c instanceof Node ? c : el("td", {}, String(c))))))
    : [el("tr", {}, el("td", { colspan: width, class: "muted" }, t("kn.none")))]));
}

function reason(r) {
  if (r?.kind === "expired") return t("kn.reason.expired", { on: r.on });
  if (r?.kind === "repealed") return t("kn.reason.repealed", { note: r.note });
  return "—";
}

function render() {
  if (!stats) return;
  $("totals").textContent = `${t("kn.count_cited", { a: stats.cited_answers, r: stats.cited_replies })} · ${t("kn.in_review_n", { n: stats.in_review })}`;
  rows("used", stats.most_used, 5, (u) => [itemCell(u.id, u.served, u.title), unitName(u.unit), num(u.answers), num(u.replies), num(u.shown)]);
  rows("gaps", stats.gaps, 4, (g) => [el("td", { "data-testid": "gap-query" }, g.query), num(g.staff), num(g.public), dateTime(g.last_at)]);
  $("gaps-note").textContent = t("kn.gaps_note", { kept: stats.gaps_kept, dropped: stats.gaps_not_kept });
  $("expiring-h").textContent = t("kn.expiring", { n: stats.remind_working_days });
  rows("expiring", stats.near_expiry, 4, (e) => [itemCell(e.id, null, e.title), unitName(e.unit), el("td", { class: "date" }, e.expires), num(e.working_days_left)]);
  rows("withdrawn", stats.withdrawn, 4, (w) => [itemCell(w.id, null, w.title), unitName(w.unit), dateTime(w.at), reason(w.reason)]);
  rows("review", queue, 5, reviewRow);
}

/** One item in review: its submitted version, and approve / send back (with a reason). */
function reviewRow(i) {
  const why = el("input", { type: "text", "aria-label": `${t("kn.reason_input")}: ${i.title}`, placeholder: t("kn.reason_input") });
  const act = async (what) => {
    pageError(null);
    if (what === "send-back" && !why.value.trim()) {
      $("review-status").textContent = t("kn.need_reason");
      why.focus();
      return;
    }
    try {
      await api(token, "POST", `/api/kb/items/${i.id}/${what}`, what === "send-back" ? { reason: why.value.trim() } : undefined);
      $("review-status").textContent = t(what === "approve" ? "kn.approved" : "kn.sent_back", { title: i.title });
      await load();
    } catch (e) {
      pageError(e);
    }
  };
  return [
    itemCell(i.id, i.version, i.title), unitName(i.unit), t("kb.item_v", { id: i.id, v: i.version }), dateTime(i.updated_at),
    el("td", {}, el("div", { class: "review-actions" },
      el("button", { type: "button", class: "primary", "data-testid": "approve", "aria-label": `${t("kn.approve")}: ${i.title}`, onclick: () => act("approve") }, t("kn.approve")),
      why,
      el("button", { type: "button", "data-testid": "send-back", "aria-label": `${t("kn.send_back")}: ${i.title}`, onclick: () => act("send-back") }, t("kn.send_back")))),
  ];
}

async function load() {
  if (!figures()) return;
  const [s, q] = await Promise.all([
    api(token, "GET", "/api/kb/stats?limit=50"),
    api(token, "GET", "/api/kb/items?state=in_review&limit=100"),
  ]);
  stats = s;
  queue = q;
  render();
}

/** `#item=7&v=1`: that version, as a ticket cited it, and which version is served now. */
async function showVersion() {
  const h = new URLSearchParams(location.hash.slice(1));
  const id = h.get("item"), v = h.get("v");
  if (!id || !v) {
    $("view").hidden = true;
    return;
  }
  const c = await api(token, "GET", `/api/kb/items/${encodeURIComponent(id)}/versions/${encodeURIComponent(v)}`);
  const item = await api(token, "GET", `/api/kb/items/${encodeURIComponent(id)}`).catch(() => null);
  $("view-h").textContent = `${c.title} · ${t("kb.item_v", { id, v })}`;
  $("view-served").textContent = item?.served ? t("kn.served_now", { v: item.served }) : t("kn.not_served");
  const src = c.source ?? {};
  const dd = (...x) => el("dd", {}, ...x);
  $("view-body").replaceChildren(
    el("dt", {}, t("kn.answer")), dd(c.answer),
    el("dt", {}, t("kn.questions")), dd((c.questions ?? []).join(" / ") || "—"),
    el("dt", {}, t("kb.source")), dd([src.name, src.number, src.issuer].filter(Boolean).join(" · "), src.link ? [" ", el("a", { href: src.link, rel: "noopener noreferrer" }, src.link)] : []),
    el("dt", {}, t("kn.unit")), dd(unitName(c.unit)),
    el("dt", {}, t("kn.category")), dd(categories.get(c.category) ?? c.category),
    el("dt", {}, t("kn.area")), dd(c.area),
    el("dt", {}, t("kn.effective")), dd(`${c.effective} – ${c.expires ?? t("kn.forever")}`),
  );
  $("view").hidden = false;
}

function guarded(step) {
  return step().then(() => pageError(null), pageError);
}

async function main() {
  chrome(() => {
    if (me) $("who").textContent = `${me.user} (${label("role", me.role)})`;
    render();
    guarded(showVersion);
  });
  const signed = await signIn("/api/me");
  token = signed.token;
  me = signed.first;
  const [u, c] = await Promise.all([
    api(token, "GET", "/api/dispatch/units").catch(() => ({ units: [] })),
    api(token, "GET", "/api/dispatch/categories").catch(() => ({ categories: [] })),
  ]);
  units = new Map(u.units.map((x) => [x.id, x.name]));
  categories = new Map((c.categories ?? []).map((x) => [x.id, x.name]));
  $("who").textContent = `${me.user} (${label("role", me.role)})`;
  $("stats").hidden = !figures();
  $("stats-only").hidden = figures();
  $("refresh").addEventListener("click", () => guarded(load));
  $("view-close").addEventListener("click", () => {
    history.replaceState(null, "", location.pathname);
    $("view").hidden = true;
  });
  window.addEventListener("hashchange", () => guarded(showVersion));
  await guarded(showVersion);
  await guarded(load);
  translate();
}

main();
