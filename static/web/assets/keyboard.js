// Chorus keyboard layer for the console: one table of shortcuts that both
// the key handler and the help sheet read, so the help can never say what
// the keys do not do.
//
// What it promises:
//   - a shortcut never fires while the moderator types: in an input, a
//     textarea, a select or anything editable, only Escape works (it leaves
//     the field); while a dialog is open only the dialog's keys work;
//   - a shortcut fires only in the views it belongs to, and only when its
//     handler is set (a viewer's console sets no action handlers);
//   - modifier keys other than Shift never trigger a shortcut, so the
//     browser's and the system's own shortcuts keep working.

/**
 * SHORTCUTS: every key the console answers. `views` lists where it works
 * ("*" everywhere); `action` names the handler a view registers.
 */
export const SHORTCUTS = Object.freeze([
  { keys: ["j"], action: "next", help: "Next post", views: ["queue", "search", "screen"] },
  { keys: ["k"], action: "prev", help: "Previous post", views: ["queue", "search", "screen"] },
  { keys: ["J"], label: "Shift+j", action: "selectNext", help: "Add the next post to the selection", views: ["queue", "search"] },
  { keys: ["K"], label: "Shift+k", action: "selectPrev", help: "Add the previous post to the selection", views: ["queue", "search"] },
  { keys: ["a"], action: "approve", help: "Approve (the selection, if any)", views: ["queue", "search"] },
  { keys: ["r"], action: "reject", help: "Reject (the selection, if any)", views: ["queue", "search"] },
  { keys: ["h"], action: "hold", help: "Back to the queue", views: ["search"] },
  { keys: ["p"], action: "pin", help: "Pin or unpin (approves a held post first)", views: ["queue", "search", "screen"] },
  { keys: ["f"], action: "feature", help: "Feature or unfeature (approves a held post first)", views: ["queue", "search", "screen"] },
  { keys: ["x"], action: "remove", help: "Remove from every screen", views: ["queue", "search", "screen"] },
  { keys: ["b"], action: "ban", help: "Ban the author (asks first)", views: ["queue", "search", "screen"] },
  { keys: ["E"], label: "Shift+e", action: "erase", help: "Erase the author's data (managers; asks you to type their key)", views: ["queue", "search"] },
  { keys: ["v"], action: "reveal", help: "Show or blur a sensitive post's pictures", views: ["queue", "search", "screen"] },
  { keys: ["["], action: "pinUp", help: "Move a pinned post earlier", views: ["screen"] },
  { keys: ["]"], action: "pinDown", help: "Move a pinned post later", views: ["screen"] },
  { keys: ["u"], action: "undo", help: "Undo the last action (for 10 s)", views: ["*"] },
  { keys: ["P"], label: "Shift+p", action: "pause", help: "Pause or resume every screen of the stream (asks first)", views: ["*"] },
  { keys: ["/"], action: "search", help: "Search", views: ["*"] },
  { keys: ["g"], action: "queue", help: "Go to the queue", views: ["*"] },
  { keys: ["s"], action: "screen", help: "Go to what screens show now", views: ["*"] },
  { keys: ["?"], action: "help", help: "Show these shortcuts", views: ["*"] },
  { keys: ["Escape"], label: "Esc", action: "escape", help: "Close, or clear the selection", views: ["*"] },
]);

/** isTyping says whether a key event belongs to a field being edited. */
export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target.getAttribute("type") || "text").toLowerCase();
  return !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"].includes(type);
}

/**
 * Keyboard dispatches keys to the handlers of the current view.
 */
export class Keyboard {
  constructor(doc = document) {
    this._doc = doc;
    this._view = "";
    this._handlers = new Map();
    this._onKey = (ev) => this._key(ev);
    doc.addEventListener("keydown", this._onKey);
  }

  /** view sets the view the page shows ("queue", "screen", ...). */
  set view(name) {
    this._view = name;
  }

  get view() {
    return this._view;
  }

  /**
   * on sets the handler of an action; it returns a function that removes
   * it. A handler returning false lets the key through.
   */
  on(action, fn) {
    this._handlers.set(action, fn);
    return () => {
      if (this._handlers.get(action) === fn) this._handlers.delete(action);
    };
  }

  /** shortcut finds the entry a key event means in the current view. */
  shortcut(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return null;
    return (
      SHORTCUTS.find(
        (s) => s.keys.includes(ev.key) && (s.views.includes("*") || s.views.includes(this._view)) && this._handlers.has(s.action),
      ) || null
    );
  }

  _key(ev) {
    if (ev.defaultPrevented || ev.isComposing) return;
    const dialog = this._doc.querySelector("dialog[open]");
    if (dialog) return; // dialogs have their own keys (Escape closes them)
    if (isTyping(ev.target)) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    const s = this.shortcut(ev);
    if (!s) return;
    if (this._handlers.get(s.action)(ev) === false) return;
    ev.preventDefault();
  }

  /**
   * helpRows lists the shortcuts that work in the current view, for the
   * help sheet: [{ keys: ["j"], help }].
   */
  helpRows() {
    return SHORTCUTS.filter((s) => (s.views.includes("*") || s.views.includes(this._view)) && this._handlers.has(s.action)).map(
      (s) => ({ keys: s.label ? [s.label] : s.keys, help: s.help }),
    );
  }
}

/**
 * fillHelp writes the help sheet into a <dl> from the rows the current
 * view answers to.
 * @param {HTMLElement} dl
 * @param {{keys: string[], help: string}[]} rows
 */
export function fillHelp(dl, rows) {
  while (dl.firstChild) dl.firstChild.remove();
  for (const r of rows) {
    const dt = document.createElement("dt");
    r.keys.forEach((k, i) => {
      if (i) dt.append(" or ");
      const kbd = document.createElement("kbd");
      kbd.textContent = k;
      dt.append(kbd);
    });
    const dd = document.createElement("dd");
    dd.textContent = r.help;
    dl.append(dt, dd);
  }
}
