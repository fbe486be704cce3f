// Chorus layouts: how a widget arranges its cards. Each layout takes the
// cards (article.card elements from cards.js) in display order and places
// them; the widget (widget.js) decides what is shown and when (pace.js).
//
//   masonry    stable columns (masonry.js): a card keeps its column, no gap
//              is refilled with an older post
//   grid       equal cells, newest first
//   list       one column, newest first
//   carousel   a row that advances one card per pace; pauses on hover and
//              focus; swipe on touch (native scrolling); buttons
//   ticker     a horizontal crawl for page headers and screens; pauses on
//              hover, focus and with its button
//   spotlight  one post at a time, pinned and featured first
//
// What every layout promises:
//   - cards never cover each other, moving or not; moves are vertical in
//     columns, a new card fades in where it belongs;
//   - with prefers-reduced-motion nothing glides, crawls or fades: changes
//     are instant, and the ticker and carousel step instead of moving;
//   - whatever moves by itself can be paused (hover, focus, a button), as
//     WCAG 2.2.2 asks, and the feed layouts keep every card reachable with
//     the keyboard (role=feed, articles with aria-posinset/aria-setsize).
//
// Use: const layout = createLayout("grid", ctx); parent.append(layout.el);
//      layout.show(cardElements); layout.replace(oldEl, newEl);
//      layout.settled(); layout.destroy();
// ctx: { document, pace() (ms), replay() (bool), reduced() (bool),
//        hold(reason, on) (the pacer's), label (the feed's accessible name) }

import { Masonry, afterGlides } from "./masonry.js";

export const FEED_LAYOUTS = Object.freeze(["masonry", "grid", "list"]);

const FADE_MS = 450;

function make(doc, tag, className, text) {
  const el = doc.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function button(doc, className, label, symbol) {
  const b = make(doc, "button", `ctl ${className}`);
  b.type = "button";
  b.setAttribute("aria-label", label);
  b.title = label;
  const icon = make(doc, "span", "icon", symbol);
  icon.setAttribute("aria-hidden", "true");
  b.append(icon);
  return b;
}

// numberCards sets the feed pattern's position attributes.
function numberCards(els) {
  els.forEach((el, i) => {
    el.setAttribute("aria-posinset", String(i + 1));
    el.setAttribute("aria-setsize", String(els.length));
  });
}

// order puts els into parent as its element children, in order, moving
// only what is out of place; children that are not in els are removed.
function order(parent, els) {
  const want = new Set(els);
  for (const el of Array.from(parent.children)) if (el.classList.contains("card") && !want.has(el)) el.remove();
  let i = 0;
  for (const el of els) {
    const at = parent.children[i];
    if (at !== el) parent.insertBefore(el, at || null);
    i++;
  }
}

// watchHolds holds the pacer (and the layout's own motion) while the
// pointer is over el or the keyboard focus is inside it.
function watchHolds(el, hold) {
  el.addEventListener("pointerenter", (e) => {
    if (e.pointerType !== "touch") hold("hover", true);
  });
  el.addEventListener("pointerleave", () => hold("hover", false));
  el.addEventListener("focusin", () => hold("focus", true));
  el.addEventListener("focusout", (e) => {
    if (!el.contains(e.relatedTarget)) hold("focus", false);
  });
}

/**
 * createLayout returns the layout named kind (one of LAYOUTS in profile.js).
 * @param {string} kind
 * @param {object} ctx
 */
export function createLayout(kind, ctx) {
  switch (kind) {
    case "carousel":
      return new CarouselLayout(ctx);
    case "ticker":
      return new TickerLayout(ctx);
    case "spotlight":
      return new SpotlightLayout(ctx);
    case "grid":
      return new GridLayout(ctx);
    case "list":
      return new MasonryLayout(ctx, "list");
    default:
      return new MasonryLayout(ctx, "masonry");
  }
}

// ---- masonry -----------------------------------------------------------------

// Masonry (and list: one column of it) positions cards with transforms, so
// a new post at the top moves the others without a layout shift.
class MasonryLayout {
  constructor(ctx, kind) {
    this.kind = kind;
    this.ctx = ctx;
    const doc = ctx.document;
    this.el = make(doc, "div", `layout layout-${kind}`);
    this.feed = make(doc, "div", "posts");
    this.feed.setAttribute("role", "feed");
    this.feed.setAttribute("aria-label", ctx.label);
    this.el.append(this.feed);
    this._cols = 1;
    this.masonry = new Masonry(this.feed, { columns: () => this._cols, fit: "grow" });
    this._resize = new ResizeObserver(() => this._fit());
    this._resize.observe(this.el);
    watchHolds(this.el, ctx.hold);
  }

  // _fit picks the column count from the width: columns of at least 17rem
  // (one for a list).
  _fit() {
    const w = this.el.clientWidth;
    if (!w) return;
    const rem = Number.parseFloat(getComputedStyle(this.ctx.document.documentElement).fontSize) || 16;
    const n = this.kind === "list" ? 1 : Math.max(1, Math.min(6, Math.floor((w + rem) / (17 * rem + rem))));
    if (n !== this._cols) {
      this._cols = n;
    }
    this.masonry.update();
  }

  show(els) {
    const known = new Set(Array.from(this.feed.children));
    for (const el of els) if (!known.has(el)) el.classList.add("entering");
    order(this.feed, els);
    numberCards(els);
    this._fit();
  }

  replace(oldEl, newEl) {
    this.masonry.replace(oldEl, newEl);
  }

  settled() {
    return this.masonry.settled() && !this.feed.getAnimations({ subtree: true }).length;
  }

  destroy() {
    this._resize.disconnect();
    this.el.remove();
  }
}

// ---- grid --------------------------------------------------------------------

// parseTime reads a CSS time ("0.9s", "900ms") in milliseconds.
function parseTime(value, fallback) {
  const m = /^\s*(-?[\d.]+)(ms|s)\s*$/.exec(value || "");
  if (!m) return fallback;
  const n = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

// GridLayout: equal cells in rows of one height, newest first. Cards are
// positioned with transforms (no layout shift): a card that stays in its
// row glides along it; a new card, or one that moves to another row, waits
// invisible while the others glide, then fades in where it belongs, so no
// card ever crosses another.
class GridLayout {
  constructor(ctx) {
    this.kind = "grid";
    this.ctx = ctx;
    const doc = ctx.document;
    this.el = make(doc, "div", "layout layout-grid");
    this.feed = make(doc, "div", "posts chorus-masonry");
    this.feed.setAttribute("role", "feed");
    this.feed.setAttribute("aria-label", ctx.label);
    this.el.append(this.feed);
    this._rows = new Map(); // card -> the row it was placed in
    this._waiting = []; // cards that fade in when the glides end
    this._wave = 0;
    this._fadeTimer = 0;
    this._movingUntil = 0;
    this._frame = 0;
    this._width = 0;
    this._resize = new ResizeObserver(() => this._queue());
    this._resize.observe(this.el);
    watchHolds(this.el, ctx.hold);
  }

  _queue() {
    if (!this._frame) this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this._place();
    });
  }

  show(els) {
    order(this.feed, els);
    numberCards(els);
    for (const el of els) this._resize.observe(el);
    this._place();
  }

  _place() {
    const box = this.feed;
    const w = box.clientWidth;
    if (!w) return;
    const cs = getComputedStyle(box);
    const gap = Number.parseFloat(cs.rowGap) || 0;
    const rem = Number.parseFloat(getComputedStyle(this.ctx.document.documentElement).fontSize) || 16;
    const cols = Math.max(1, Math.floor((w + gap) / (17 * rem + gap)));
    const colW = (w - gap * (cols - 1)) / cols;
    const els = Array.from(box.children).filter((el) => el.classList.contains("card"));
    const instant = Math.abs(w - this._width) > 0.5;
    this._width = w;
    for (const el of els) {
      const width = `${Math.floor(colW)}px`;
      if (el.style.width !== width) el.style.width = width;
      el.style.minHeight = "";
    }
    const heights = els.map((el) => el.offsetHeight);
    const move = parseTime(cs.getPropertyValue("--chorus-move"), 900);
    const fade = parseTime(cs.getPropertyValue("--chorus-fade"), 600);
    let y = 0;
    const waiting = [];
    let moved = false;
    if (instant) box.classList.add("instant");
    for (let start = 0; start < els.length; start += cols) {
      const row = els.slice(start, start + cols);
      const rowH = Math.max(...heights.slice(start, start + cols));
      row.forEach((el, c) => {
        el.style.minHeight = `${rowH}px`; // cells of a row are one height
        const tf = `translate(${Math.round(c * (colW + gap))}px, ${Math.round(y)}px)`;
        const r = start / cols;
        const before = this._rows.get(el);
        if (!instant && (before === undefined || before !== r || el.classList.contains("entering"))) {
          el.classList.add("entering");
          waiting.push(el);
        } else if (el.style.transform && el.style.transform !== tf) {
          moved = true;
        }
        el.style.transform = tf;
        this._rows.set(el, r);
      });
      y += rowH + gap;
    }
    for (const el of this._rows.keys()) if (!el.isConnected) this._rows.delete(el);
    const height = `${Math.max(0, Math.ceil(y - gap))}px`;
    if (box.style.height !== height) box.style.height = height;
    void box.offsetHeight;
    if (instant) box.classList.remove("instant");
    // Entering cards fade in once every glide (this one's, or one still
    // running from before) has really ended.
    const now = performance.now();
    this._movingUntil = Math.max(this._movingUntil, now + (moved ? move : 0) + (waiting.length ? fade : 0));
    if (waiting.length) {
      for (const el of waiting) if (!this._waiting.includes(el)) this._waiting.push(el);
      const wave = ++this._wave;
      const reveal = () => {
        if (wave !== this._wave) return;
        clearTimeout(this._fadeTimer);
        this._fadeTimer = 0;
        for (const el of this._waiting) el.classList.remove("entering");
        this._waiting = [];
      };
      clearTimeout(this._fadeTimer);
      this._fadeTimer = setTimeout(reveal, move + 1000);
      afterGlides(box).then(reveal);
    }
  }

  replace(oldEl, newEl) {
    newEl.style.transform = oldEl.style.transform;
    newEl.style.width = oldEl.style.width;
    const row = this._rows.get(oldEl);
    if (row !== undefined) this._rows.set(newEl, row);
    oldEl.replaceWith(newEl);
    this._resize.unobserve(oldEl);
    this._queue();
  }

  settled() {
    return !this._fadeTimer && !this._frame && performance.now() >= this._movingUntil;
  }

  destroy() {
    cancelAnimationFrame(this._frame);
    clearTimeout(this._fadeTimer);
    this._resize.disconnect();
    this.el.remove();
  }
}

// ---- carousel ----------------------------------------------------------------

class CarouselLayout {
  constructor(ctx) {
    this.kind = "carousel";
    this.ctx = ctx;
    const doc = ctx.document;
    this.el = make(doc, "div", "layout layout-carousel");
    this.track = make(doc, "div", "track");
    this.track.setAttribute("role", "feed");
    this.track.setAttribute("aria-label", ctx.label);
    this.track.tabIndex = -1;
    const controls = make(doc, "div", "controls");
    this.prev = button(doc, "prev", "Previous post", "\u2039");
    this.toggle = button(doc, "toggle", "Pause", "\u275A\u275A");
    this.next = button(doc, "next", "Next post", "\u203A");
    controls.append(this.prev, this.toggle, this.next);
    this.el.append(this.track, controls);

    this._holds = new Set();
    this._timer = 0;
    this._userPaused = false;
    this._touchTimer = 0;
    const hold = (reason, on) => {
      if (on) this._holds.add(reason);
      else this._holds.delete(reason);
      ctx.hold(reason, on);
      this._schedule();
    };
    this._hold = hold;
    watchHolds(this.el, hold);
    this.track.addEventListener(
      "touchstart",
      () => {
        hold("touch", true);
        clearTimeout(this._touchTimer);
        this._touchTimer = setTimeout(() => hold("touch", false), 2 * this._dwell());
      },
      { passive: true },
    );
    this.prev.addEventListener("click", () => this.step(-1));
    this.next.addEventListener("click", () => this.step(1));
    this.toggle.addEventListener("click", () => this.setPaused(!this._userPaused));
    this._schedule();
  }

  _dwell() {
    return Math.max(5000, this.ctx.pace());
  }

  setPaused(on) {
    this._userPaused = on;
    this.toggle.setAttribute("aria-label", on ? "Play" : "Pause");
    this.toggle.title = on ? "Play" : "Pause";
    this.toggle.firstChild.textContent = on ? "\u25B6" : "\u275A\u275A";
    this.toggle.setAttribute("aria-pressed", String(on));
    this._hold("button", on);
  }

  _schedule() {
    clearTimeout(this._timer);
    this._timer = 0;
    if (this._holds.size) return;
    this._timer = setTimeout(() => {
      this._timer = 0;
      this.step(1, true);
      this._schedule();
    }, this._dwell());
  }

  // _stepWidth is one card and a gap.
  _stepWidth() {
    const first = this.track.querySelector(".card");
    if (!first) return 0;
    const gap = Number.parseFloat(getComputedStyle(this.track).columnGap) || 0;
    return first.getBoundingClientRect().width + gap;
  }

  // step scrolls one card forward (1) or back (-1); at the end, an
  // automatic step goes back to the start when replay is on.
  step(dir, auto = false) {
    const t = this.track;
    const w = this._stepWidth();
    if (!w) return;
    const behavior = this.ctx.reduced() ? "instant" : "smooth";
    const atEnd = t.scrollLeft + t.clientWidth >= t.scrollWidth - 2;
    if (dir > 0 && atEnd) {
      if (!auto || this.ctx.replay()) t.scrollTo({ left: 0, behavior });
      return;
    }
    t.scrollBy({ left: dir * w, behavior });
  }

  show(els) {
    // Keep the view still when cards are inserted before the one in view.
    const t = this.track;
    const anchor = t.scrollLeft > 0 ? Array.from(t.children).find((el) => el.offsetLeft + el.offsetWidth > t.scrollLeft) : null;
    const before = anchor ? anchor.offsetLeft : 0;
    const known = new Set(Array.from(t.children));
    if (!known.size) {
      order(t, els);
    } else {
      // Cards that left go; new ones come next, right after the last card
      // in view, so nothing in view moves.
      const want = new Set(els);
      for (const el of Array.from(t.children)) if (!want.has(el)) el.remove();
      const edge = t.scrollLeft + t.clientWidth;
      const after = Array.from(t.children).find((el) => el.offsetLeft >= edge - 1);
      for (const el of els) if (!known.has(el)) t.insertBefore(el, after || null);
    }
    numberCards(Array.from(t.children));
    if (anchor && anchor.isConnected) t.scrollLeft += anchor.offsetLeft - before;
  }

  replace(oldEl, newEl) {
    oldEl.replaceWith(newEl);
  }

  settled() {
    return !this.track.getAnimations({ subtree: true }).length;
  }

  destroy() {
    clearTimeout(this._timer);
    clearTimeout(this._touchTimer);
    for (const r of this._holds) this.ctx.hold(r, false);
    this.el.remove();
  }
}

// ---- ticker ------------------------------------------------------------------

class TickerLayout {
  constructor(ctx) {
    this.kind = "ticker";
    this.ctx = ctx;
    const doc = ctx.document;
    this.el = make(doc, "div", "layout layout-ticker");
    this.viewport = make(doc, "div", "ticker-viewport");
    this.track = make(doc, "div", "ticker-track");
    this.track.setAttribute("role", "feed");
    this.track.setAttribute("aria-label", ctx.label);
    this.viewport.append(this.track);
    this.toggle = button(doc, "toggle", "Pause", "\u275A\u275A");
    this.el.append(this.viewport, this.toggle);

    this._holds = new Set();
    this._userPaused = false;
    this._offset = 0;
    this._frame = 0;
    this._last = 0;
    this._stepTimer = 0;
    const hold = (reason, on) => {
      if (on) this._holds.add(reason);
      else this._holds.delete(reason);
      ctx.hold(reason, on);
      this._run();
    };
    this._hold = hold;
    watchHolds(this.el, hold);
    this.toggle.addEventListener("click", () => {
      this._userPaused = !this._userPaused;
      const on = this._userPaused;
      this.toggle.setAttribute("aria-label", on ? "Play" : "Pause");
      this.toggle.title = on ? "Play" : "Pause";
      this.toggle.firstChild.textContent = on ? "\u25B6" : "\u275A\u275A";
      this.toggle.setAttribute("aria-pressed", String(on));
      hold("button", on);
    });
    this._resize = new ResizeObserver(() => this._run());
    this._resize.observe(this.viewport);
  }

  // _speed is the crawl in px per second: --chorus-ticker-speed (rem/s).
  _speed() {
    const rem = Number.parseFloat(getComputedStyle(this.ctx.document.documentElement).fontSize) || 16;
    const v = Number.parseFloat(getComputedStyle(this.el).getPropertyValue("--chorus-ticker-speed"));
    return (Number.isFinite(v) && v > 0 ? v : 4) * rem;
  }

  _gap() {
    return Number.parseFloat(getComputedStyle(this.track).columnGap) || 0;
  }

  // _crawls: the cards are wider than the view (otherwise they stand still,
  // centred: a short loop would show a gap, and copies would repeat posts to
  // screen readers).
  _crawls() {
    return this.track.scrollWidth > this.viewport.clientWidth + 1;
  }

  _run() {
    const still = this._holds.size > 0 || !this._crawls();
    this.el.classList.toggle("still", !this._crawls());
    if (this.ctx.reduced()) {
      cancelAnimationFrame(this._frame);
      this._frame = 0;
      if (this._offset) this._place(0);
      clearTimeout(this._stepTimer);
      this._stepTimer = 0;
      if (!still) {
        this._stepTimer = setTimeout(() => {
          this._stepTimer = 0;
          const first = this.track.firstElementChild;
          if (first) this.track.append(first); // a step, no motion
          this._run();
        }, Math.max(5000, this.ctx.pace()));
      }
      return;
    }
    if (still) {
      cancelAnimationFrame(this._frame);
      this._frame = 0;
      if (!this._crawls()) this._place(0);
      return;
    }
    if (!this._frame) {
      this._last = performance.now();
      this._frame = requestAnimationFrame((t) => this._tick(t));
    }
  }

  _place(x) {
    this._offset = x;
    this.track.style.transform = x ? `translateX(${x.toFixed(2)}px)` : "";
  }

  _tick(now) {
    this._frame = 0;
    const dt = Math.min(100, Math.max(0, now - this._last));
    this._last = now;
    let x = this._offset - (this._speed() * dt) / 1000;
    // A card that has left on the left goes round to the end.
    const gap = this._gap();
    let first = this.track.firstElementChild;
    while (first && first !== this.track.lastElementChild && x + first.offsetWidth + gap <= 0) {
      x += first.offsetWidth + gap;
      this.track.append(first);
      first = this.track.firstElementChild;
    }
    this._place(x);
    this._run();
  }

  show(els) {
    const t = this.track;
    const want = new Set(els);
    const gap = this._gap();
    // Cards that left: those already passed on the left give their room back.
    for (const el of Array.from(t.children)) {
      if (want.has(el)) continue;
      if (el.offsetLeft + el.offsetWidth + this._offset <= 0) this._offset += el.offsetWidth + gap;
      el.remove();
    }
    // New cards enter next: right after the last card in view.
    const fresh = els.filter((el) => el.parentNode !== t);
    if (fresh.length) {
      const view = this.viewport.clientWidth;
      const after = Array.from(t.children).find((el) => el.offsetLeft + this._offset >= view);
      for (const el of fresh) t.insertBefore(el, after || null);
    }
    this._place(this._offset);
    numberCards(Array.from(t.children));
    this._run();
  }

  replace(oldEl, newEl) {
    oldEl.replaceWith(newEl);
  }

  settled() {
    return true;
  }

  destroy() {
    cancelAnimationFrame(this._frame);
    clearTimeout(this._stepTimer);
    this._resize.disconnect();
    for (const r of this._holds) this.ctx.hold(r, false);
    this.el.remove();
  }
}

// ---- spotlight ---------------------------------------------------------------

class SpotlightLayout {
  constructor(ctx) {
    this.kind = "spotlight";
    this.ctx = ctx;
    const doc = ctx.document;
    this.el = make(doc, "div", "layout layout-spotlight");
    this.stage = make(doc, "div", "stage");
    this.stage.setAttribute("role", "feed");
    this.stage.setAttribute("aria-label", ctx.label);
    const controls = make(doc, "div", "controls");
    this.prev = button(doc, "prev", "Previous post", "\u2039");
    this.toggle = button(doc, "toggle", "Pause", "\u275A\u275A");
    this.next = button(doc, "next", "Next post", "\u203A");
    this.position = make(doc, "span", "position");
    this.position.setAttribute("aria-hidden", "true");
    controls.append(this.prev, this.toggle, this.position, this.next);
    this.el.append(this.stage, controls);

    this._rotation = []; // card elements, in the order they come round
    this._current = null;
    this._seen = new Set();
    this._holds = new Set();
    this._timer = 0;
    this._shownAt = 0;
    this._userPaused = false;
    const hold = (reason, on) => {
      if (on) this._holds.add(reason);
      else this._holds.delete(reason);
      ctx.hold(reason, on);
      this._schedule();
    };
    this._hold = hold;
    watchHolds(this.el, hold);
    this.prev.addEventListener("click", () => this._go(-1));
    this.next.addEventListener("click", () => this._go(1));
    this.toggle.addEventListener("click", () => {
      this._userPaused = !this._userPaused;
      const on = this._userPaused;
      this.toggle.setAttribute("aria-label", on ? "Play" : "Pause");
      this.toggle.title = on ? "Play" : "Pause";
      this.toggle.firstChild.textContent = on ? "\u25B6" : "\u275A\u275A";
      this.toggle.setAttribute("aria-pressed", String(on));
      hold("button", on);
    });
  }

  // _dwell gives a post time to be read: the pace, or longer for long text.
  _dwell(el) {
    const chars = el ? (el.querySelector(".text")?.textContent || "").length : 0;
    return Math.min(20_000, Math.max(this.ctx.pace(), 3000 + chars * 60));
  }

  _schedule() {
    clearTimeout(this._timer);
    this._timer = 0;
    if (this._holds.size || !this._current) return;
    const wait = Math.max(0, this._shownAt + this._dwell(this._current) - performance.now());
    this._timer = setTimeout(() => {
      this._timer = 0;
      this._go(1, true);
    }, wait);
  }

  // _go shows the next (1) or previous (-1) post of the rotation. At the end
  // an automatic step starts again when replay is on, or when a post has
  // not been shown yet.
  _go(dir, auto = false) {
    const list = this._rotation;
    if (!list.length) return;
    let i = list.indexOf(this._current);
    i = i < 0 ? 0 : i + dir;
    if (i >= list.length) {
      if (auto && !this.ctx.replay() && list.every((el) => this._seen.has(el))) {
        this._schedule();
        return;
      }
      i = 0;
    }
    if (i < 0) i = list.length - 1;
    this._display(list[i]);
  }

  _display(el) {
    const old = this._current;
    this._current = el;
    this._seen.add(el);
    this._shownAt = performance.now();
    if (old !== el) {
      if (old && old.parentNode === this.stage) old.remove();
      if (el.parentNode !== this.stage) this.stage.append(el);
      if (!this.ctx.reduced()) el.animate([{ opacity: 0, transform: "translateY(0.6rem)" }, { opacity: 1, transform: "none" }], { duration: FADE_MS, easing: "ease-out" });
    }
    this._label();
    this._schedule();
  }

  // _label says where the post on stage is in the rotation.
  _label() {
    const el = this._current;
    if (!el) {
      this.position.textContent = "";
      return;
    }
    const n = this._rotation.indexOf(el);
    el.setAttribute("aria-posinset", String(n + 1));
    el.setAttribute("aria-setsize", String(this._rotation.length));
    this.position.textContent = `${n + 1} / ${this._rotation.length}`;
  }

  show(els) {
    const rank = (el) => (el.classList.contains("pinned") ? 0 : el.classList.contains("featured") ? 1 : 2);
    const ordered = els.map((el, i) => [rank(el), i, el]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((r) => r[2]);
    const old = new Set(this._rotation);
    // Posts that were never in the rotation come next, right after the one
    // on stage, newest first.
    const fresh = ordered.filter((el) => !old.has(el));
    let rotation = ordered.filter((el) => old.has(el));
    if (this._current && rotation.includes(this._current) && old.size) {
      const at = rotation.indexOf(this._current) + 1;
      rotation.splice(at, 0, ...fresh);
    } else {
      rotation = ordered;
    }
    this._rotation = rotation;
    if (!this._current || !rotation.includes(this._current)) {
      if (this._current && this._current.parentNode === this.stage) this._current.remove();
      this._current = null;
      if (rotation.length) this._display(rotation[0]);
      else this._label();
      return;
    }
    this._label();
  }

  replace(oldEl, newEl) {
    const i = this._rotation.indexOf(oldEl);
    if (i >= 0) this._rotation[i] = newEl;
    if (this._seen.delete(oldEl)) this._seen.add(newEl);
    if (this._current === oldEl) {
      this._current = newEl;
      oldEl.replaceWith(newEl);
      this._display(newEl);
    }
  }

  /** The card on stage, for tests. */
  current() {
    return this._current;
  }

  settled() {
    return !this.stage.getAnimations({ subtree: true }).length;
  }

  destroy() {
    clearTimeout(this._timer);
    for (const r of this._holds) this.ctx.hold(r, false);
    this.el.remove();
  }
}
