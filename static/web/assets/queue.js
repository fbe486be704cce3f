// Chorus moderation list: the console's queue (and its search results),
// a page of posts at a time, kept live by the console's feed.
//
// What it promises the moderator:
//   - it is cheap at any size: it loads pages of PAGE posts as the
//     moderator works down the list (never the whole queue), and a change
//     from the feed touches only the one item it is about, never the list;
//   - a post another moderator handled leaves the list as soon as the feed
//     says so, and a new held post joins it in its place (new posts are
//     counted but not drawn when they sort below what is loaded);
//   - the selection is kept: when the selected post leaves, the next one
//     is selected, and the first post is selected when the list opens;
//   - an action shows at once (the post leaves the list) and is undone on
//     screen if the server refuses it;
//   - post content is drawn only by cards.js (DOM text APIs), the "why"
//     and facts only through textContent.

import { createRenderer } from "./cards.js";
import { h, clear, num, timeEl, announce } from "./dom.js";
import { rightsWords, rightsDetail } from "./rights.js";

let itemIDs = 0; // ids for aria-describedby

/** Posts loaded per page. */
export const PAGE = 50;


const languageNames = (() => {
  try {
    return new Intl.DisplayNames(undefined, { type: "language" });
  } catch {
    return null;
  }
})();

/** language names a language code for people: "ar" gives "Arabic (ar)". */
export function language(code) {
  if (!code) return "unknown";
  try {
    const name = languageNames && languageNames.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

/** sentiment says a score from -1 to 1 in words. */
export function sentiment(score) {
  const n = Number(score) || 0;
  const word = n > 0.05 ? "positive" : n < -0.05 ? "negative" : "neutral";
  return `${word} (${n >= 0 ? "+" : ""}${n.toFixed(2)})`;
}

const FILTER_LABELS = {
  trusted_authors: "Trusted author",
  blocked_authors: "Blocked author",
  blocked_words: "Blocked word",
  blocked_hashtags: "Blocked hashtag",
  profanity: "Profanity filter",
  allow_list_only: "Allow list only",
  exclude_kinds: "Excluded kind",
  media_only: "Media only",
  min_text_length: "Text too short",
  min_followers: "Too few followers",
  languages: "Language filter",
  sensitive: "Sensitive content",
  spam: "Spam filter",
};

/** whyLabel names a why value ("rule:No links") for people, as the filters list it. */
export function whyLabel(why) {
  const w = String(why || "");
  if (w.startsWith("rule:")) return `Rule \u201C${w.slice(5)}\u201D`;
  if (w.startsWith("filter:")) return FILTER_LABELS[w.slice(7)] || `Filter ${w.slice(7)}`;
  return { mode: "Moderation mode", moderator: "A moderator", source: "Deleted at its source" }[w] || (w ? w : "Unknown");
}

/**
 * why says what decided a post in two parts: a badge (what kind of
 * thing: Rule, Filter, Mode, Moderator, Source) and the detail (which
 * rule, which filter and its reason, who and why).
 */
export function why(hit) {
  const w = String(hit.why || "");
  const reason = hit.reason && hit.reason !== "moderator" ? hit.reason : "";
  if (w.startsWith("rule:")) return { kind: "rule", badge: "Rule", detail: `\u201C${w.slice(5)}\u201D` };
  if (w.startsWith("filter:")) {
    const name = FILTER_LABELS[w.slice(7)] || w.slice(7);
    const r = reason.replace(/^spam:\s*/i, "");
    const same = r.toLowerCase().startsWith(name.toLowerCase());
    const detail = !r ? name : same ? r.charAt(0).toUpperCase() + r.slice(1) : `${name}: ${r}`;
    return { kind: "filter", badge: "Filter", detail };
  }
  if (w === "mode") return { kind: "mode", badge: "Mode", detail: reason || "the stream's moderation mode" };
  if (w === "source") return { kind: "source", badge: "Source", detail: reason || "deleted at its source" };
  const who = hit.actor && hit.actor !== "curation" ? hit.actor : "a moderator";
  return { kind: "person", badge: "Moderator", detail: reason ? `${who}: ${reason}` : who };
}

const STATUS_WORDS = { held: "Held", approved: "Approved", rejected: "Rejected", removed: "Removed" };

/**
 * Queue is one moderation list in the page.
 *
 *   const q = new Queue(listEl, { load, act, canAct });
 *   q.open(view)                  // a new list: { stream, status, network, lang, why, media, sort, q }
 *   q.changes(stream, seq, hits)  // from the feed
 *   q.next(); q.prev(); q.extend(+1); q.targets(); q.current()
 */
export class Queue {
  /**
   * @param {HTMLOListElement} list  the list element the posts go in
   * @param {object} o
   * @param {(view: object, offset: number, limit: number) => Promise<{total:number, seq:number, posts:object[]}>} o.load
   * @param {(action: string, hits: object[]) => void} o.act  called by the item buttons
   * @param {(action: string, hit: object) => boolean} o.canAct  whether a button shows
   * @param {(q: Queue) => void} [o.onChange]  after the count or the selection changed
   * @param {boolean} [o.live]  whether new posts from the feed may join (false for search)
   */
  constructor(list, o) {
    this.list = list;
    this._load = o.load;
    this._act = o.act;
    this._canAct = o.canAct;
    this._rights = o.rights || (() => false);
    this._onChange = o.onChange || (() => {});
    this._live = o.live !== false;
    this.renderer = createRenderer({ links: "new-tab", fields: { counts: true } });
    this.view = null;
    this.items = new Map(); // id -> { hit, el }
    this.total = 0;
    this.seq = 0;
    this.cursor = null; // the selected post's id
    this.checked = new Set(); // ids chosen for a bulk action
    this._end = false; // the last page came back short: nothing more to load
    this.loading = false;
    this.error = "";
    this._generation = 0;
    this._buffer = []; // feed changes that arrived while a page loads
    // _gone: posts this page moved out of the list, id -> when; a page
    // loaded before the server has them decided must not bring them back.
    this._gone = new Map();
    this._revealed = new Set();
    list.addEventListener("click", (ev) => this._click(ev));
    list.addEventListener("change", (ev) => this._checkbox(ev));
  }

  /** open shows a new list for view, selecting its first post. */
  async open(view) {
    this.view = { ...view };
    this.items.clear();
    this.checked.clear();
    this.cursor = null;
    this.total = 0;
    this.seq = 0;
    this._end = false;
    clear(this.list);
    await this._page(0, true);
  }

  /**
   * resync: the feed started over at seq, sending nothing from before it.
   * A list loaded before seq may have missed changes: it loads again (now,
   * or when the page being loaded turns out older than seq).
   */
  resync(seq) {
    this._floor = Math.max(this._floor || 0, Number(seq) || 0);
    if (!this.loading && this.view && this.seq < this._floor) this.reload();
  }

  /** reload loads the list again (the feed restarted), keeping the selection when it can. */
  async reload() {
    if (!this.view) return;
    const keep = this.cursor;
    await this.open(this.view);
    if (keep && this.items.has(keep)) this.select(keep);
  }

  /** more says whether the server holds posts of this list that are not loaded. */
  get more() {
    return !this._end && this.total > this.items.size;
  }

  // recount asks the server how many posts the list has, a moment after
  // live changes moved the count: the feed's changes keep it close, the
  // server keeps it right.
  _recount() {
    clearTimeout(this._recountTimer);
    this._recountTimer = setTimeout(async () => {
      const view = this.view;
      try {
        const page = await this._load(view, 0, 1);
        if (view !== this.view || this.loading) return;
        this.total = Number(page.total) || 0;
        this._end = false;
        this._onChange(this);
        if (this.items.size < PAGE / 2 && this.more) this.loadMore();
      } catch {
        // the next change tries again
      }
    }, 1500);
  }

  /** loadMore fetches the next page, if there is one. */
  async loadMore() {
    if (!this.more || this.loading) return;
    await this._page(this.items.size, false);
  }

  async _page(offset, first) {
    const gen = ++this._generation;
    this.loading = true;
    this.error = "";
    this._onChange(this);
    let page;
    try {
      page = await this._load(this.view, offset, PAGE);
    } catch (err) {
      if (gen !== this._generation) return;
      this.loading = false;
      this.error = err && err.message ? err.message : String(err);
      this._onChange(this);
      return;
    }
    if (gen !== this._generation) return; // a newer list replaced this one
    this.loading = false;
    this.total = Number(page.total) || 0;
    if (first) this.seq = Number(page.seq) || 0;
    const frag = document.createDocumentFragment();
    const now = Date.now();
    for (const [id, at] of this._gone) if (now - at > 60_000) this._gone.delete(id);
    for (const hit of page.posts || []) {
      const id = hit && hit.post && hit.post.id;
      if (typeof id !== "string" || this.items.has(id) || this._gone.has(id)) continue;
      const el = this._build(hit);
      this.items.set(id, { hit, el });
      frag.append(el);
    }
    this.list.append(frag);
    this._end = (page.posts || []).length < PAGE;
    const buffered = this._buffer;
    this._buffer = [];
    for (const b of buffered) this.changes(b.stream, b.seq, b.hits);
    if (first || !this.cursor) {
      const firstEl = this.list.firstElementChild;
      if (firstEl) this.select(firstEl.dataset.id, { focus: first ? "soft" : false });
    }
    this._onChange(this);
    if (first && this.seq < (this._floor || 0)) this.reload();
  }

  // ---- live changes -----------------------------------------------------

  /** matches says whether a hit belongs in this list now. */
  matches(hit) {
    const v = this.view;
    if (!v || !hit || !hit.post) return false;
    if (v.status && hit.status !== v.status) return false;
    if (v.network && String(hit.post.network).toLowerCase() !== v.network.toLowerCase()) return false;
    if (v.lang && String(hit.post.lang || "").toLowerCase() !== v.lang.toLowerCase()) return false;
    if (v.why && hit.why !== v.why) return false;
    const hasMedia = Array.isArray(hit.post.media) && hit.post.media.length > 0;
    if (v.media === "true" && !hasMedia) return false;
    if (v.media === "false" && hasMedia) return false;
    return true;
  }

  /**
   * changes applies the feed's news about posts of stream after seq: the
   * items they are about change or leave; new matching posts join (when
   * the list is live).
   */
  changes(stream, seq, hits) {
    if (!this.view || stream !== this.view.stream) return;
    if (this.loading && this.items.size === 0) {
      this._buffer.push({ stream, seq, hits });
      return;
    }
    if (seq <= this.seq) return; // the page already reflects it
    let changed = false;
    for (const hit of hits) {
      const id = hit && hit.post && hit.post.id;
      if (typeof id !== "string") continue;
      if (this._gone.has(id)) {
        if (this.matches(hit)) continue; // the server has not caught up with what this page did
        this._gone.delete(id);
      }
      const have = this.items.get(id);
      const fits = this.matches(hit) && (!this.view.q || have);
      if (have && fits) {
        this._replace(id, hit);
      } else if (have) {
        this._drop(id);
        this.total = Math.max(0, this.total - 1);
        changed = true;
      } else if (fits && this._live) {
        this.total++;
        this._insert(hit);
        changed = true;
      }
    }
    if (changed) {
      this._onChange(this);
      this._recount();
    }
  }

  // _insert draws a new post where the sort order puts it, unless it sorts
  // below what is loaded (it comes with a later page).
  _insert(hit) {
    const oldest = this.view.sort === "oldest";
    const t = Date.parse(hit.post.created_at) || 0;
    let before = null;
    for (const el of this.list.children) {
      const other = Date.parse(this.items.get(el.dataset.id)?.hit.post.created_at) || 0;
      if (oldest ? t < other : t > other) {
        before = el;
        break;
      }
    }
    if (!before && this.more) return; // below the loaded part
    const el = this._build(hit);
    this.items.set(hit.post.id, { hit, el });
    this.list.insertBefore(el, before);
    if (!this.cursor) this.select(hit.post.id, { focus: false });
  }

  _replace(id, hit) {
    const item = this.items.get(id);
    const el = this._build(hit);
    if (this.cursor === id) this._mark(el, true);
    if (this.checked.has(id)) el.querySelector(".q-check").checked = true;
    const hadFocus = item.el.contains(document.activeElement);
    item.el.replaceWith(el);
    item.el = el;
    item.hit = hit;
    if (hadFocus) el.focus({ preventScroll: true });
  }

  // _drop takes a post out of the list, moving the selection on.
  _drop(id) {
    const item = this.items.get(id);
    if (!item) return;
    if (this.cursor === id) {
      const next = item.el.nextElementSibling || item.el.previousElementSibling;
      const hadFocus = item.el.contains(document.activeElement) || document.activeElement === document.body;
      this.cursor = null;
      if (next) this.select(next.dataset.id, { focus: hadFocus ? "soft" : false });
    }
    item.el.remove();
    this.items.delete(id);
    this.checked.delete(id);
    if (this.items.size < PAGE / 2 && this.more) this.loadMore();
  }

  /**
   * take removes posts at once, for an action that moves them out of
   * this list, and returns what puts them back (when the server refuses).
   */
  take(ids) {
    const taken = [];
    for (const id of ids) {
      const item = this.items.get(id);
      if (!item) continue;
      taken.push({ hit: item.hit, after: item.el.previousElementSibling?.dataset.id || null });
      this._gone.set(id, Date.now());
      this._drop(id);
      this.total = Math.max(0, this.total - 1);
    }
    this._onChange(this);
    this._recount();
    return () => {
      for (const t of taken.reverse()) this.restore(t.hit, t.after);
      this._onChange(this);
    };
  }

  /** restore puts a post back after the post `after` (or first). */
  restore(hit, after) {
    if (!hit) return;
    this._gone.delete(hit.post.id);
    if (this.items.has(hit.post.id)) return;
    const el = this._build(hit);
    const prev = after && this.items.get(after);
    if (prev) prev.el.after(el);
    else this.list.prepend(el);
    this.items.set(hit.post.id, { hit, el });
    this.total++;
    this.select(hit.post.id);
  }

  /** patch changes a drawn post's standing (pinned, featured, status) at once. */
  patch(id, fields) {
    const item = this.items.get(id);
    if (!item) return null;
    const before = item.hit;
    this._replace(id, { ...before, ...fields });
    return () => this.items.has(id) && this._replace(id, before);
  }

  // ---- selection --------------------------------------------------------

  /** current is the selected post's hit, or null. */
  current() {
    return this.cursor ? this.items.get(this.cursor)?.hit || null : null;
  }

  /** targets are the posts an action applies to: the checked ones, else the selected one. */
  targets() {
    if (this.checked.size) return [...this.list.children].filter((el) => this.checked.has(el.dataset.id)).map((el) => this.items.get(el.dataset.id).hit);
    const c = this.current();
    return c ? [c] : [];
  }

  /**
   * select makes id the selected post. focus: true moves the focus to it
   * (scrolling it into view); "soft" does so only when the focus is in
   * the list or nowhere; false leaves the focus.
   */
  select(id, { focus = true } = {}) {
    const item = this.items.get(id);
    if (!item) return;
    if (this.cursor && this.cursor !== id) {
      const old = this.items.get(this.cursor);
      if (old) this._mark(old.el, false);
    }
    this.cursor = id;
    this._mark(item.el, true);
    const active = document.activeElement;
    const inList = !active || active === document.body || this.list.contains(active);
    if (focus === true || (focus === "soft" && inList)) {
      item.el.focus({ preventScroll: true });
      item.el.scrollIntoView({ block: "nearest" });
    }
    this._onChange(this);
  }

  _mark(el, on) {
    el.classList.toggle("current", on);
    if (on) el.setAttribute("aria-current", "true");
    else el.removeAttribute("aria-current");
    for (const b of el.querySelectorAll(".q-actions button, .q-check, .reveal")) b.tabIndex = on ? 0 : -1;
  }

  /** step moves the selection by n posts; it reports whether it moved. */
  step(n) {
    const el = this.cursor ? this.items.get(this.cursor)?.el : null;
    let to = el ? (n > 0 ? el.nextElementSibling : el.previousElementSibling) : this.list.firstElementChild;
    if (!to && n > 0 && this.more) this.loadMore();
    if (!to) return false;
    this.select(to.dataset.id);
    if (n > 0 && !to.nextElementSibling?.nextElementSibling) this.loadMore();
    return true;
  }

  next() {
    return this.step(1);
  }

  prev() {
    return this.step(-1);
  }

  /** extend checks the selected post and the next (n = 1) or previous (-1), moving to it. */
  extend(n) {
    if (!this.cursor) return;
    this._check(this.cursor, true);
    if (this.step(n)) this._check(this.cursor, true);
    this._onChange(this);
  }

  /** uncheck clears the bulk selection. */
  uncheck() {
    for (const id of [...this.checked]) this._check(id, false);
    this._onChange(this);
  }

  _check(id, on) {
    const item = this.items.get(id);
    if (!item) return;
    if (on) this.checked.add(id);
    else this.checked.delete(id);
    const box = item.el.querySelector(".q-check");
    if (box) box.checked = on;
    item.el.classList.toggle("checked", on);
  }

  /** reveal shows (or blurs again) the selected post's sensitive pictures. */
  reveal() {
    const item = this.cursor && this.items.get(this.cursor);
    const media = item && item.el.querySelector(".media");
    if (!media) return false;
    const shown = media.classList.toggle("revealed");
    if (shown) this._revealed.add(this.cursor);
    else this._revealed.delete(this.cursor);
    const btn = item.el.querySelector(".reveal");
    if (btn) btn.textContent = shown ? "Blur pictures" : "Show pictures";
    return true;
  }

  // ---- drawing ----------------------------------------------------------

  _build(hit) {
    const p = hit.post;
    const card = this.renderer.render({ ...p, pinned: hit.pinned === true, featured: hit.featured === true });
    const who = p.author && (p.author.handle || p.author.name) ? `@${String(p.author.handle || p.author.name).replace(/^@/, "")}` : "this post";
    const li = h(
      "li",
      { className: `q-item status-${hit.status}`, tabIndex: -1, dataset: { id: p.id, status: hit.status } },
      h(
        "label",
        { className: "q-select" },
        h("input", { type: "checkbox", className: "q-check", tabIndex: -1, aria: { label: `Select the post by ${who}` } }),
      ),
      h("div", { className: "q-card" }, card),
      this._side(hit),
    );
    li.setAttribute("aria-label", `${STATUS_WORDS[hit.status] || hit.status} post by ${who}`);
    // Screen readers read the label on focus, then the post's text and why.
    const described = [];
    for (const el of [card.querySelector(".cw"), card.querySelector(".text"), li.querySelector(".q-why")]) {
      if (!el) continue;
      el.id = `q${++itemIDs}`;
      described.push(el.id);
    }
    if (described.length) li.setAttribute("aria-describedby", described.join(" "));
    const media = card.querySelector(".media.blurred");
    if (media) {
      const btn = h("button", { type: "button", className: "reveal", tabIndex: -1, dataset: { action: "reveal" } }, "Show pictures");
      media.after(btn);
      if (this._revealed.has(p.id)) {
        media.classList.add("revealed");
        btn.textContent = "Blur pictures";
      }
    }
    return li;
  }

  _side(hit) {
    const p = hit.post;
    const side = h("div", { className: "q-side" });
    const head = h(
      "p",
      { className: "q-status" },
      h("span", { className: `status-badge status-${hit.status}` }, STATUS_WORDS[hit.status] || hit.status),
      hit.pinned ? h("span", { className: "flag-badge" }, "Pinned") : null,
      hit.featured ? h("span", { className: "flag-badge" }, "Featured") : null,
      hit.decided_at ? h("span", { className: "q-when" }, timeEl(hit.decided_at)) : null,
    );
    const w = why(hit);
    const whyEl = h(
      "p",
      { className: "q-why" },
      h("span", { className: `why-badge why-${w.kind}` }, w.badge),
      h("span", { className: "why-detail", dir: "auto" }, w.detail),
    );
    const hist = hit.author_history;
    const facts = h("dl", { className: "q-facts" });
    const fact = (label, ...value) => facts.append(h("dt", {}, label), h("dd", {}, ...value));
    fact("Language", language(p.lang));
    fact("Sentiment", sentiment(p.sentiment));
    if (hist) {
      const record = h(
        "span",
        { className: "record" },
        h("span", { className: "ok" }, `${num(hist.approved)} approved`),
        " \u00B7 ",
        h("span", { className: hist.rejected + hist.removed > 0 ? "bad" : "" }, `${num(hist.rejected)} rejected`),
        hist.removed ? ` \u00B7 ${num(hist.removed)} removed` : "",
      );
      fact("Author before", record);
      if (hist.banned_in && hist.banned_in.length) fact("Banned in", h("strong", { className: "bad" }, hist.banned_in.join(", ")));
    }
    if (p.author && Number(p.author.followers) > 0) fact("Followers", num(p.author.followers));
    if (Array.isArray(hit.tags) && hit.tags.length) fact("Tags", hit.tags.join(", "));
    // The right to use the post, where the stream's widgets need it.
    let rightsActions = null;
    if (this._rights() || hit.rights) {
      const state = (hit.rights && hit.rights.state) || "none";
      const detail = rightsDetail(hit.rights);
      fact(
        "Rights",
        h("span", { className: `rights-badge rights-${state}` }, rightsWords(hit.rights)),
        detail ? h("span", { className: "rights-detail", dir: "auto" }, ` ${detail}`) : null,
      );
      if (this._canAct("rights", hit)) {
        rightsActions = h("div", { className: "q-rights", attrs: { role: "group" }, aria: { label: "Rights" } });
        const rb = (action, label, cls = "") =>
          rightsActions.append(h("button", { type: "button", className: `act act-rights-${action} ${cls}`.trim(), tabIndex: -1, dataset: { action: `rights-${action}` } }, label));
        if (state !== "granted") {
          rb("request", state === "requested" ? "Ask again" : "Request rights");
          rb("grant", "Record consent");
        } else {
          rb("revoke", "Revoke rights", "danger-quiet");
        }
      }
    }

    const actions = h("div", { className: "q-actions", attrs: { role: "group" }, aria: { label: "Actions" } });
    const button = (action, label, key, cls = "") => {
      if (!this._canAct(action, hit)) return;
      actions.append(
        h(
          "button",
          { type: "button", className: `act act-${action} ${cls}`.trim(), tabIndex: -1, dataset: { action }, attrs: { "aria-keyshortcuts": key } },
          label,
          h("kbd", { aria: { hidden: "true" } }, key),
        ),
      );
    };
    if (hit.status !== "approved") button("approve", "Approve", "a", "primary");
    if (hit.status === "held") button("reject", "Reject", "r", "danger");
    if (hit.status !== "held") button("hold", "Back to queue", "h");
    button("pin", hit.pinned ? "Unpin" : "Pin", "p");
    button("feature", hit.featured ? "Unfeature" : "Feature", "f");
    if (hit.status === "approved" || hit.status === "held") button("remove", "Remove", "x");
    button("ban", "Ban author", "b", "danger-quiet");
    side.append(head, whyEl, facts);
    if (rightsActions) side.append(rightsActions);
    if (actions.childElementCount) side.append(actions);
    // Erasure is about the person, not this post: it sits apart from the
    // post's actions, and asks for the author's key typed (erase.js).
    if (hit.author_key && this._canAct("erase", hit)) {
      side.append(
        h(
          "p",
          { className: "q-author-tools" },
          h(
            "button",
            { type: "button", className: "act act-erase link-danger", tabIndex: -1, dataset: { action: "erase" }, attrs: { "aria-keyshortcuts": "Shift+E" } },
            "Erase author\u2019s data\u2026",
            h("kbd", { aria: { hidden: "true" } }, "E"),
          ),
        ),
      );
    }
    return side;
  }

  _click(ev) {
    const li = ev.target.closest(".q-item");
    if (!li || !this.items.has(li.dataset.id)) return;
    const btn = ev.target.closest("button[data-action]");
    if (ev.target.closest("a, input, label")) {
      if (this.cursor !== li.dataset.id) this.select(li.dataset.id, { focus: false });
      return;
    }
    if (this.cursor !== li.dataset.id) this.select(li.dataset.id, { focus: !btn });
    if (!btn) return;
    if (btn.dataset.action === "reveal") {
      this.reveal();
      return;
    }
    const hit = this.items.get(li.dataset.id).hit;
    this._act(btn.dataset.action, this.checked.has(hit.post.id) ? this.targets() : [hit]);
  }

  _checkbox(ev) {
    const box = ev.target.closest(".q-check");
    const li = box && box.closest(".q-item");
    if (!li) return;
    this._check(li.dataset.id, box.checked);
    this._onChange(this);
  }

  /** summary says how many posts the list holds, for people. */
  summary() {
    const v = this.view || {};
    const what = v.q ? "matching" : (STATUS_WORDS[v.status] || "").toLowerCase() || "posts";
    return `${num(this.total)} ${what}`;
  }

  /** say announces an outcome to screen readers. */
  say(msg) {
    announce(msg);
  }
}
