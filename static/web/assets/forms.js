// Chorus console form helpers: labelled fields that carry the settings key
// they edit (data-key), so a 400 naming a key ("filters.min_followers:
// expected a whole number") shows its message next to that field, linked
// with aria-describedby and aria-invalid.

import { h } from "./dom.js";

let uid = 0;

/**
 * field wraps a control with its label, an optional hint and a place for
 * its error: field("filters.min_followers", "Minimum followers", input, "0 for none").
 */
export function field(key, labelText, control, hint) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  const err = h("p", { className: "field-error", id: `${id}-err`, hidden: true });
  const hintEl = hint ? h("p", { className: "field-hint", id: `${id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintEl && hintEl.id, err.id].filter(Boolean).join(" "));
  const isCheck = control.type === "checkbox";
  return h(
    "div",
    { className: `field${isCheck ? " field-check" : ""}`, dataset: { key } },
    isCheck ? h("label", { htmlFor: id }, control, " ", labelText) : h("label", { htmlFor: id }, labelText),
    isCheck ? null : control,
    hintEl,
    err,
  );
}

/**
 * checks is a group of checkboxes under a legend, as a field with the key
 * it edits: checks("sources", "Sources", ids.map((v) => [v, v, on(v)])).
 * value() lists the ticked values.
 * @param {string} key
 * @param {string} legend
 * @param {[string, string, boolean][]} items  value, label, ticked
 * @param {string} [none]  said when there are no items
 */
export function checks(key, legend, items, none = "") {
  const boxes = items.map(([v, label, on]) => ({ v, label, c: input("checkbox", on) }));
  const el = h(
    "div",
    { className: "field", dataset: { key } },
    h(
      "fieldset",
      { className: "inline-checks" },
      h("legend", {}, legend),
      boxes.length ? boxes.map(({ label, c }) => h("label", {}, c, " ", label)) : h("span", { className: "hint" }, none),
    ),
    h("p", { className: "field-error", hidden: true }),
  );
  return { el, value: () => boxes.filter((b) => b.c.checked).map((b) => b.v) };
}

/** input makes an <input>; text, number or checkbox. */
export function input(type, value, extra = {}) {
  const el = h("input", { type, autocomplete: "off", ...extra });
  if (type === "checkbox") el.checked = !!value;
  else el.value = value === undefined || value === null ? "" : String(value);
  return el;
}

/** options makes a <select> of [value, label] pairs. */
export function options(pairs, value, extra = {}) {
  const sel = h("select", extra);
  for (const [v, t] of pairs) sel.append(h("option", { value: v }, t));
  sel.value = value ?? "";
  return sel;
}

/** lines is a textarea of one entry per line. */
export function lines(list, extra = {}) {
  const t = h("textarea", { rows: 3, spellcheck: false, ...extra });
  t.value = (Array.isArray(list) ? list : []).join("\n");
  return t;
}

/** listOf reads a textarea or a comma list back as entries. */
export function listOf(el) {
  return el.value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** intOf reads a number input: an integer, or 0 when empty. */
export function intOf(el) {
  const v = el.value.trim();
  return v === "" ? 0 : Number(v);
}

/** clearErrors hides every field error under root. */
export function clearErrors(root) {
  for (const e of root.querySelectorAll(".field-error")) {
    e.hidden = true;
    e.textContent = "";
  }
  for (const c of root.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
}

/**
 * showErrors puts each problem next to the field whose data-key is its
 * key (or the nearest parent key: "filters.spam.max_links" falls back to
 * "filters.spam"); it returns the problems no field took, and focuses the
 * first field with an error.
 * @param {HTMLElement} root
 * @param {{key: string, message: string}[]} problems
 * @param {(key: string) => string} [mapKey]  rewrites a server key first
 */
export function showErrors(root, problems, mapKey = (k) => k) {
  const left = [];
  let first = null;
  for (const p of problems) {
    let key = mapKey(p.key);
    let box = null;
    while (key && !box) {
      box = root.querySelector(`.field[data-key="${CSS.escape(key)}"]`);
      if (!box) key = key.includes(".") ? key.slice(0, key.lastIndexOf(".")) : "";
    }
    if (!box) {
      left.push(p);
      continue;
    }
    const err = box.querySelector(".field-error");
    err.textContent = err.textContent ? `${err.textContent} ${p.message}` : p.message;
    err.hidden = false;
    const control = box.querySelector("input, select, textarea");
    if (control) {
      control.setAttribute("aria-invalid", "true");
      if (!first) first = control;
    }
  }
  if (first) first.focus();
  return left;
}
