// The area picker of the desk's ticket form (issue 21, 网格化): the agent types part of a
// street's or community's name, picks the area from the tree's hits (each shown with its path
// 市 › 区 › 街道 › 社区), and the dispatch suggestion follows that area (the catalogue's rules
// for the area, up the tree to the city's units).
import { api, el } from "/assets/common.js";

const $ = (id) => document.getElementById(id);
let tokenOf = () => null;
let onPick = () => {};
let timer = null;
let asked = 0;

/** Wires the search box and the choice; `picked(code)` runs when the area changes. */
export function initArea(token, picked) {
  tokenOf = token;
  onPick = picked;
  $("f-area").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  $("f-area-pick").addEventListener("change", () => onPick(areaCode()));
}

/** The picked area's code, or undefined (nothing picked: the typed words are free text). */
export function areaCode() {
  return $("f-area-pick").value || undefined;
}

/** Shows `code` with its path as the only choice (a ticket opened with its area). */
export function areaShow(code, path) {
  $("f-area-pick").replaceChildren(el("option", { value: "" }, "—"), ...(code ? [el("option", { value: code, selected: true }, path ?? code)] : []));
}

/** The choices as kept in session storage, and back. */
export function areaOptions() {
  return [...$("f-area-pick").options].map((o) => [o.value, o.textContent]);
}
export function areaRestore(options, value) {
  if (options?.length) $("f-area-pick").replaceChildren(...options.map(([v, text]) => el("option", { value: v }, text)));
  if (value != null) $("f-area-pick").value = value;
}

async function search() {
  const q = $("f-area").value.trim();
  const mine = ++asked;
  if (!q) return;
  try {
    const res = await api(tokenOf(), "GET", "/api/areas?limit=20&q=" + encodeURIComponent(q));
    if (mine !== asked) return; // a later search answers instead
    const keep = areaCode();
    $("f-area-pick").replaceChildren(
      el("option", { value: "" }, "—"),
      ...res.areas.map((a) => el("option", { value: a.code, selected: a.code === keep }, a.path)),
    );
    $("f-area-pick").dataset.hits = String(res.areas.length);
    if (keep && areaCode() !== keep) onPick(areaCode());
  } catch {
    // The search is a help; the form still works without it.
  }
}
