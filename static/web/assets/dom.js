// Chorus DOM helpers for the console and sign-in pages: elements built with
// createElement, text through textContent and text nodes, attributes
// through properties or setAttribute. Nothing here parses HTML, so text
// from posts, users or the server can never become markup.

/**
 * h makes an element: h("button", { className: "x", type: "button",
 * onclick: fn, dataset: { id }, aria: { label: "Close" } }, "text", child).
 * Props that are functions named on* become listeners; `aria` and `data`
 * maps set aria-* and data-* attributes; `attrs` sets others. Children are
 * nodes or strings (as text); null, undefined and false are skipped.
 * @param {string} tag
 * @param {object} [props]
 * @param {...(Node|string|number|null|undefined|false)} children
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "aria") for (const [a, av] of Object.entries(v)) el.setAttribute(`aria-${a}`, String(av));
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "attrs") for (const [a, av] of Object.entries(v)) el.setAttribute(a, String(av));
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el[k] = v;
  }
  append(el, ...children);
  return el;
}

/** append adds children (nodes, or strings as text) to el. */
export function append(el, ...children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * table is a scrollable table with column headers and the given body:
 * table("table audit", ["When", "Event"], tbody).
 */
export function table(className, headers, body) {
  return h(
    "div",
    { className: "table-wrap" },
    h("table", { className }, h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))), body),
  );
}

/** clear removes every child of el. */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** $ finds one element (in root, default the document). */
export const $ = (sel, root = document) => root.querySelector(sel);

const numberFormat = new Intl.NumberFormat(undefined);

/** num formats a count for people: 1234 gives "1,234". */
export const num = (n) => numberFormat.format(Number(n) || 0);

/**
 * when says how long ago an RFC 3339 time was ("3 min ago", "in 20 s"),
 * or "never" for none.
 */
export function when(iso, now = Date.now()) {
  const ms = Date.parse(iso || "");
  if (!Number.isFinite(ms) || ms <= 0) return "never";
  const d = Math.round((ms - now) / 1000);
  const a = Math.abs(d);
  const [n, unit] =
    a < 60 ? [a, "s"] : a < 3600 ? [Math.round(a / 60), "min"] : a < 86400 ? [Math.round(a / 3600), "h"] : [Math.round(a / 86400), "d"];
  return d < 0 ? `${n} ${unit} ago` : d === 0 ? "now" : `in ${n} ${unit}`;
}

/** exactTime is a full local date and time for a title or a table. */
export function exactTime(iso) {
  const ms = Date.parse(iso || "");
  if (!Number.isFinite(ms)) return "";
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/**
 * timeEl is a <time> with the relative time as text and the exact time as
 * its title.
 */
export function timeEl(iso) {
  const t = h("time", { className: "rel", dateTime: iso || "", title: exactTime(iso) }, when(iso));
  return t;
}

/** refreshTimes rewrites every time.rel under root. */
export function refreshTimes(root = document) {
  for (const t of root.querySelectorAll("time.rel")) {
    const text = when(t.dateTime);
    if (t.textContent !== text) t.textContent = text;
  }
}

let liveRegion = null;

/** announce says msg to screen readers through a polite live region. */
export function announce(msg) {
  if (!liveRegion) {
    liveRegion = h("div", { className: "sr-only", aria: { live: "polite" }, attrs: { role: "status" } });
    document.body.append(liveRegion);
  }
  liveRegion.textContent = "";
  // A new text node after a tick makes screen readers read it again.
  setTimeout(() => {
    liveRegion.textContent = msg;
  }, 30);
}
