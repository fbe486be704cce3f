// Chorus masonry: places the cards of a container in columns, for the kiosk
// wall and for widgets. The container's element children are the cards, in
// display order (the page keeps that order); this module only positions
// them (absolute position, transform) and decides which fit.
//
// What it promises the audience:
//   - a card keeps its column: new posts enter at the top of a column and
//     push only that column down, so cards move vertically, all together,
//     on one timing curve, and never cross or cover each other mid-move;
//   - a new (or reshaped) card is invisible while the others make room,
//     then fades in where it belongs: nothing ever lands on a moving card;
//   - the screen stands still between changes: after a change, the next one
//     waits for the move and fade to end plus a hold (--chorus-hold), so at
//     a busy moment several posts arrive together, calmly, not a constant
//     churn;
//   - within a column, cards are in display order and contiguous from the
//     top, so an older post never fills the room a newer one left. What
//     does not fit depends on `fit`: "clip" (the wall) shows every card that
//     starts above the bottom edge, cut by the container, so columns run
//     off the screen without gaps; "whole" shows only whole cards, and the
//     first that does not fit ends its column; "grow" shows every card and
//     sets the container's height to the tallest column (a page that
//     scrolls). Hidden cards get .offscreen;
//   - a change of column count or width lays everything out again at once,
//     without motion; in feed mode (a phone) cards simply flow and the page
//     scrolls.
//
// Timings come from CSS custom properties on the container: --chorus-move
// (the glide), --chorus-fade, --chorus-hold; the card transitions in CSS use
// the same properties, and prefers-reduced-motion sets move and fade to 0s.
//
// Use:
//   const m = new Masonry(container, { columns: () => 4 });
//   m.update();               // after cards were added, removed or reordered
//   m.replace(oldEl, newEl);  // swap a card's element in place
//   m.settled();              // true when nothing moves and nothing waits

const ENTERING = "entering"; // invisible, no transition: waiting to fade in
const OFFSCREEN = "offscreen"; // does not fit: hidden
const INSTANT = "instant"; // on the container: no transitions this frame

// parseTime reads a CSS time ("0.9s", "900ms") in milliseconds.
function parseTime(value, fallback) {
  const m = /^\s*(-?[\d.]+)(ms|s)\s*$/.exec(value || "");
  if (!m) return fallback;
  const n = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

// keepOrdered returns the positions in list to keep so that their indexes
// increase (the longest increasing run); the others are out of order.
function keepOrdered(list, index) {
  const n = list.length;
  const len = new Array(n).fill(1);
  const prev = new Array(n).fill(-1);
  let best = -1;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (index.get(list[j]) < index.get(list[i]) && len[j] + 1 > len[i]) {
        len[i] = len[j] + 1;
        prev[i] = j;
      }
    }
    if (best < 0 || len[i] > len[best]) best = i;
  }
  const keep = new Set();
  for (let i = best; i >= 0; i = prev[i]) keep.add(list[i]);
  return keep;
}

/**
 * afterGlides resolves when every transform transition under container that
 * runs now has finished (or was cancelled).
 * @param {HTMLElement} container
 */
export function afterGlides(container) {
  const running = container.getAnimations({ subtree: true }).filter((a) => a.transitionProperty === "transform");
  return Promise.all(running.map((a) => a.finished.catch(() => {}))).then(() => {});
}

export class Masonry {
  /**
   * @param {HTMLElement} container  holds the cards; position: relative
   * @param {object} [options]
   * @param {() => number} [options.columns]  how many columns now
   * @param {() => boolean} [options.feed]  true to let cards flow (phones)
   * @param {(el: HTMLElement) => number} [options.span]  columns a card spans
   *   (default: 2 for .featured, else 1)
   * @param {(el: HTMLElement) => string} [options.key]  a card's identity
   *   (default: data-id)
   * @param {"clip"|"whole"|"grow"} [options.fit]  what to do with cards
   *   beyond the container's bottom edge (default "clip")
   */
  constructor(container, options = {}) {
    this.container = container;
    container.classList.add("chorus-masonry");
    this._columns = options.columns || (() => 1);
    this._feed = options.feed || (() => false);
    this._span = options.span || ((el) => (el.classList.contains("featured") ? 2 : 1));
    this._key = options.key || ((el) => el.dataset.id);
    this._fit = ["clip", "whole", "grow"].includes(options.fit) ? options.fit : "clip";

    this._cols = null; // per column: card keys, top to bottom
    this._placed = new Map(); // key -> { el, h, span, cols, visible }
    this._count = 0;
    this._width = -1;
    this._wasFeed = false;

    // A card that changes height by itself (a font arriving, a brand's
    // style, a longer time label) asks for a layout too.
    this._observer =
      typeof ResizeObserver === "function" ? new ResizeObserver((entries) => this._resized(entries)) : null;

    this._timer = 0; // a pending step
    this._stepCount = 0; // layouts so far; a fade-in belongs to one
    this._fading = false; // entering cards wait for the glides to end
    this._busyUntil = 0; // no step before this (move, fade, hold)
    this._movingUntil = 0; // cards glide or fade until this
  }

  /** update asks for a layout: at once when the screen is still, else after the hold. */
  update() {
    if (this._timer) return;
    const wait = Math.max(0, this._busyUntil - performance.now());
    this._timer = setTimeout(() => {
      this._timer = 0;
      this._step();
    }, wait);
  }

  /**
   * replace swaps a card's element for a new one in the same place. While
   * cards are moving, the new one waits invisible for the next layout.
   */
  replace(oldEl, newEl) {
    newEl.style.transform = oldEl.style.transform;
    newEl.style.width = oldEl.style.width;
    if (oldEl.classList.contains(OFFSCREEN)) newEl.classList.add(OFFSCREEN);
    if (oldEl.classList.contains(ENTERING) || performance.now() < this._movingUntil) newEl.classList.add(ENTERING);
    oldEl.replaceWith(newEl);
    this._observer?.unobserve(oldEl);
    this.update();
  }

  _resized(entries) {
    for (const e of entries) {
      const p = this._placed.get(this._key(e.target));
      if (!p || p.el !== e.target) continue;
      const h = e.borderBoxSize && e.borderBoxSize[0] ? e.borderBoxSize[0].blockSize : e.target.offsetHeight;
      if (Math.abs(h - p.h) > 1) {
        this.update();
        return;
      }
    }
  }

  /** settled is true when no card moves or fades and no layout waits. */
  settled() {
    return !this._timer && !this._fading && performance.now() >= this._movingUntil;
  }

  _timings() {
    const cs = getComputedStyle(this.container);
    return {
      move: parseTime(cs.getPropertyValue("--chorus-move"), 900),
      fade: parseTime(cs.getPropertyValue("--chorus-fade"), 600),
      hold: parseTime(cs.getPropertyValue("--chorus-hold"), 2000),
    };
  }

  _step() {
    const now = performance.now();
    if (now < this._busyUntil) {
      this.update();
      return;
    }
    const box = this.container;
    if (box.clientWidth === 0) return; // hidden (paused): the page asks again when it shows
    const els = Array.from(box.children).filter((el) => this._key(el));
    const t = this._timings();
    if (this._feed()) {
      this._stepFeed(els, t);
      return;
    }
    box.classList.remove("feed");
    const count = Math.max(1, Math.floor(this._columns()) || 1);
    const width = box.clientWidth;
    const rebuild = this._wasFeed || !this._cols || count !== this._count || Math.abs(width - this._width) > 0.5;
    this._wasFeed = false;
    if (rebuild) {
      this._cols = Array.from({ length: count }, () => []);
      this._count = count;
      this._width = width;
    }
    const old = rebuild ? new Map() : this._placed;
    const visibleBefore = new Set();
    for (const [key, p] of this._placed) if (p.visible && p.el.isConnected) visibleBefore.add(key);

    const index = new Map(els.map((el, i) => [this._key(el), i]));
    const byKey = new Map(els.map((el) => [this._key(el), el]));
    const gap = Number.parseFloat(getComputedStyle(box).rowGap) || 0;
    const colW = Math.max(1, (width - gap * (count - 1)) / count);
    const spanOf = (el) => Math.max(1, Math.min(count, Math.floor(this._span(el)) || 1));

    // Forget cards that left, and move out of the way those whose span
    // changed or whose order in their column no longer holds: they enter
    // again as new cards.
    const evict = new Set();
    for (const [key, p] of old) {
      const el = byKey.get(key);
      if (!el) evict.add(key);
      else if (spanOf(el) !== p.span) evict.add(key);
    }
    for (const col of this._cols) {
      const present = col.filter((k) => !evict.has(k));
      const keep = keepOrdered(present, index);
      for (const k of present) if (!keep.has(k)) evict.add(k);
    }
    for (const [key, p] of this._placed) if (byKey.get(key) !== p.el) this._observer?.unobserve(p.el);
    if (evict.size) {
      for (let c = 0; c < this._cols.length; c++) this._cols[c] = this._cols[c].filter((k) => !evict.has(k));
      for (const k of evict) old.delete(k);
    }

    // Widths first, then every height in one layout pass.
    const heights = new Map();
    for (const el of els) {
      const s = spanOf(el);
      const w = `${Math.floor(colW * s + gap * (s - 1))}px`;
      if (el.style.width !== w) el.style.width = w;
    }
    for (const el of els) heights.set(this._key(el), el.offsetHeight);

    const entering = new Set();
    for (const el of els) {
      const key = this._key(el);
      const p = old.get(key);
      if (!p || el.classList.contains(ENTERING) || Math.abs(p.h - heights.get(key)) > 0.5) {
        if (!rebuild || !visibleBefore.has(key) || el.classList.contains(ENTERING)) entering.add(key);
      }
    }

    // Place the new cards. Cards newer than every placed one go on top of
    // the shortest columns, oldest first, so the newest ends up highest;
    // others (older posts, a first layout) go into the shortest columns in
    // display order.
    const total = (c) => this._cols[c].reduce((sum, k) => sum + heights.get(k) + gap, 0);
    const fresh = els.map((el) => this._key(el)).filter((k) => !old.has(k));
    let newest = Infinity;
    for (const k of old.keys()) newest = Math.min(newest, index.get(k));
    const onTop = old.size ? fresh.filter((k) => index.get(k) < newest).reverse() : [];
    const rest = fresh.filter((k) => !onTop.includes(k));
    // A wide card goes where it starts highest, counting the hole it leaves
    // above itself in its shorter column as lost height too.
    const place = (key, top) => {
      const s = spanOf(byKey.get(key));
      let best = 0;
      let bestScore = Infinity;
      for (let c = 0; c + s <= count; c++) {
        const hs = [];
        for (let i = c; i < c + s; i++) hs.push(total(i));
        const h = Math.max(...hs);
        const score = top ? h : hs.reduce((sum, x) => sum + h - x, h);
        if (score < bestScore - 0.5) {
          best = c;
          bestScore = score;
        }
      }
      const cols = [];
      for (let c = best; c < best + s; c++) {
        const col = this._cols[c];
        let at = top ? 0 : col.length;
        if (!top) while (at > 0 && index.get(col[at - 1]) > index.get(key)) at--;
        col.splice(at, 0, key);
        cols.push(c);
      }
      return cols;
    };
    const placed = new Map();
    for (const key of onTop) placed.set(key, place(key, true));
    for (const key of rest) placed.set(key, place(key, false));

    // Positions: each card below the ones before it in its columns. The
    // first card that does not fit ends its columns.
    const fits = {
      clip: (y) => y < height - 0.5,
      whole: (y, h) => y + h <= height + 0.5,
      grow: () => true,
    }[this._fit];
    const colsOf = new Map();
    this._cols.forEach((col, c) => {
      for (const k of col) {
        if (!colsOf.has(k)) colsOf.set(k, []);
        colsOf.get(k).push(c);
      }
    });
    const height = box.clientHeight;
    const bottom = new Array(count).fill(0);
    const closed = new Array(count).fill(false);
    const next = new Map();
    for (const el of els) {
      const key = this._key(el);
      const cols = colsOf.get(key);
      const h = heights.get(key);
      let y = 0;
      for (const c of cols) y = Math.max(y, bottom[c]);
      const visible = !cols.some((c) => closed[c]) && (y === 0 || fits(y, h));
      if (!visible) for (const c of cols) closed[c] = true;
      for (const c of cols) bottom[c] = y + h + gap;
      next.set(key, { el, h, span: cols.length, cols, visible, x: Math.round(cols[0] * (colW + gap)), y: Math.round(y) });
    }

    // Apply: moves glide together; entering cards wait, invisible.
    if (rebuild) box.classList.add(INSTANT);
    let moved = false;
    const waiting = [];
    for (const [key, p] of next) {
      const el = p.el;
      const tf = `translate(${p.x}px, ${p.y}px)`;
      if (entering.has(key)) {
        el.classList.add(ENTERING);
        el.classList.remove(OFFSCREEN);
        el.style.transform = tf;
        waiting.push(p);
        continue;
      }
      const was = old.get(key);
      if (el.style.transform !== tf) {
        el.style.transform = tf;
        if (!rebuild && ((was && was.visible) || p.visible)) moved = true;
      }
      el.classList.toggle(OFFSCREEN, !p.visible);
    }
    if (this._fit === "grow") {
      const tall = `${Math.max(0, Math.ceil(Math.max(...bottom) - gap))}px`;
      if (box.style.height !== tall) box.style.height = tall;
    }
    void box.offsetHeight; // commit positions before transitions return
    if (rebuild) box.classList.remove(INSTANT);
    for (const [key, p] of next) if (!this._placed.has(key) || this._placed.get(key).el !== p.el) this._observer?.observe(p.el);
    this._placed = new Map([...next].map(([k, p]) => [k, { el: p.el, h: p.h, span: p.span, cols: p.cols, visible: p.visible }]));

    const move = moved ? t.move : 0;
    const fade = waiting.length ? t.fade : 0;
    const start = performance.now();
    this._movingUntil = start + move + fade;
    this._busyUntil = moved || waiting.length ? start + move + fade + t.hold : start;
    const step = ++this._stepCount;
    this._fading = waiting.length > 0;
    if (!waiting.length) return;
    // The entering cards fade in when the glides have ended, not after a
    // timer of the glide's length: a busy machine starts transitions a
    // frame late, and one drawing a frame a second starts them seconds late,
    // so a timer would fade cards in on top of cards still moving.
    const glides = this._glides(next.values());
    const arrived = glides.length
      ? Promise.all(glides.map((a) => a.finished.catch(() => {})))
      : new Promise((resolve) => setTimeout(resolve, move));
    arrived.then(() => {
      if (step !== this._stepCount) return; // a newer layout placed these cards again
      this._fading = false;
      for (const p of waiting) {
        if (!p.el.isConnected) continue;
        p.el.classList.toggle(OFFSCREEN, !p.visible);
        p.el.classList.remove(ENTERING);
      }
      // The fade and the hold count from now, however late the glide ended.
      const now = performance.now();
      this._movingUntil = Math.max(this._movingUntil, now + fade);
      this._busyUntil = Math.max(this._busyUntil, now + fade + t.hold);
    });
  }

  /** _glides are the running transform transitions of the placed cards. */
  _glides(placed) {
    const out = [];
    for (const p of placed) {
      if (typeof p.el.getAnimations !== "function") continue;
      for (const a of p.el.getAnimations()) {
        if (a.transitionProperty === "transform" && a.playState !== "finished") out.push(a);
      }
    }
    return out;
  }

  // _stepFeed lets cards flow in one column; the page scrolls.
  _stepFeed(els, t) {
    this.container.classList.add("feed");
    if (!this._wasFeed) {
      for (const el of els) {
        el.style.transform = "";
        el.style.width = "";
        el.classList.remove(OFFSCREEN);
      }
      this._cols = null;
      this._observer?.disconnect();
      this._placed.clear();
      this._wasFeed = true;
    }
    const waiting = els.filter((el) => el.classList.contains(ENTERING));
    if (!waiting.length) return;
    void this.container.offsetHeight; // commit the invisible start
    for (const el of waiting) el.classList.remove(ENTERING);
    this._movingUntil = performance.now() + t.fade;
  }
}
