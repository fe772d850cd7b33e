// Shared by every page: the language, large-text mode, the token and the JSON API.
import { STRINGS } from "/assets/i18n.js";

const store = window.sessionStorage;

export function lang() {
  return localStorage.getItem("lang") === "en" ? "en" : "zh";
}

/** The string for `key` in the current language, with `{name}` filled from `vars`. */
export function t(key, vars = {}) {
  const s = STRINGS[lang()][key] ?? STRINGS.zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
}

/** The label of a value from the API (`prefix.value`), or the value itself when it has none. */
export function label(prefix, value) {
  const key = `${prefix}.${value}`;
  const s = t(key);
  return s === key ? String(value) : s;
}

/** Translates every element marked with data-i18n / data-i18n-label under `root`. */
export function translate(root = document) {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-label]").forEach((el) => {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    if ("placeholder" in el) el.placeholder = t(el.dataset.i18nLabel);
  });
}

/** The language switch and the large-text (适老) switch in the header. */
export function chrome(onChange) {
  const large = localStorage.getItem("large") === "1";
  // On the root element, so that everything sized in rem (headings, badges) grows too.
  document.documentElement.classList.toggle("large", large);
  const langBtn = document.getElementById("lang");
  const largeBtn = document.getElementById("large");
  langBtn?.addEventListener("click", () => {
    localStorage.setItem("lang", lang() === "en" ? "zh" : "en");
    translate();
    onChange?.();
  });
  largeBtn?.setAttribute("aria-pressed", String(large));
  largeBtn?.addEventListener("click", () => {
    const on = !document.documentElement.classList.contains("large");
    document.documentElement.classList.toggle("large", on);
    largeBtn.setAttribute("aria-pressed", String(on));
    localStorage.setItem("large", on ? "1" : "0");
  });
  document.getElementById("logout")?.addEventListener("click", () => {
    store.removeItem(tokenKey());
    location.reload();
  });
  translate();
}

function tokenKey() {
  return "token:" + location.pathname;
}

/** The token for this page: `?token=` (then hidden from the address bar) or session storage. */
export function token() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    store.setItem(tokenKey(), fromUrl);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return store.getItem(tokenKey());
}

/** Shows the sign-in form; resolves once a token works for `check` (an API path). */
export function signIn(check) {
  return new Promise((resolve) => {
    const existing = token();
    const form = document.getElementById("login");
    const app = document.getElementById("app");
    const tryToken = async (tok) => {
      const res = await fetch(check, { headers: { Authorization: "Bearer " + tok } });
      if (res.ok) {
        store.setItem(tokenKey(), tok);
        form.hidden = true;
        app.hidden = false;
        resolve({ token: tok, first: await res.json() });
        return true;
      }
      return false;
    };
    const show = (bad) => {
      app.hidden = true;
      form.hidden = false;
      form.querySelector(".bad").hidden = !bad;
      form.querySelector("input").focus();
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const tok = form.querySelector("input").value.trim();
      if (!(await tryToken(tok))) show(true);
    });
    if (existing) {
      tryToken(existing).then((ok) => { if (!ok) { store.removeItem(tokenKey()); show(true); } });
    } else {
      show(false);
    }
  });
}

/** Calls the JSON API; throws an Error carrying the API's {code, message}. */
export async function api(tok, method, path, body) {
  const headers = { Authorization: "Bearer " + tok };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's error page, a body-size limit): keep the status as the message.
  }
  if (!res.ok) {
    const err = new Error(data?.message ?? res.statusText);
    err.code = data?.code;
    err.status = res.status;
    throw err;
  }
  return data;
}

/** An API error for people: the code in the page's language where it has words for it, then
 * the server's own sentence (it names the field or the deadline). */
export function describeError(e) {
  const known = e.code ? label("errc", e.code) : "";
  const words = known && known !== e.code ? known : "";
  return `${t("err")}: ${words}${words && e.message ? ` (${e.message})` : e.message ?? ""}`;
}

/** Opens a live stream; `onData` gets each event's JSON. Reconnects by itself (SSE). */
export function live(path, tok, event, onData, onStatus) {
  const src = new EventSource(path + "?access_token=" + encodeURIComponent(tok));
  src.addEventListener(event, (e) => { onStatus?.(true); onData(JSON.parse(e.data)); });
  src.addEventListener("error", () => onStatus?.(false));
  return src;
}

/** `12:34:56` or `1:02:03` from seconds. */
export function clock(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(sec).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function percent(x) {
  return x == null ? "—" : (x * 100).toFixed(1) + "%";
}

/** Creates an element with attributes and children (strings become text, never HTML). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c instanceof Node ? c : String(c));
  return e;
}

export function dateTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(lang() === "en" ? "en-GB" : "zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
}

/** A call's extra party in words (`party` of the API's `parties[]`): "坐席 1002", "办理单位
 * 市自来水集团", "110", "班长 supervisor · 监听"; `unitName` names a unit id when it can. */
export function partyName(party, unitName = (id) => id) {
  switch (party.kind) {
    case "agent": return t("pt.kind.agent_n", { id: party.agent });
    case "unit": return t("pt.kind.unit_n", { name: unitName(party.unit) ?? party.unit });
    case "external": return label("svc", party.target);
    case "supervisor": return t("pt.kind.supervisor_n", { user: party.user, mode: label("mon", party.mode) });
    default: return String(party.kind);
  }
}

/** `14:03:27` (China time) from an API time, or "—". */
export function timeOfDay(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
}
