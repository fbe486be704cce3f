// Chorus widget: the <chorus-wall> custom element a brand puts on its own
// pages. embed.js is this module and the ones it imports, bundled (see
// static/bundle); the iframe page /embed/{id} runs the same bundle.
//
//   <script src="https://chorus.example/embed.js" async></script>
//   <chorus-wall stream="summit" layout="masonry" theme="light" limit="20"></chorus-wall>
//
// What it promises the brand and its visitors:
//   - it lives in a Shadow DOM: the page's CSS cannot reach inside and the
//     widget's CSS cannot leak out; styles are constructed stylesheets, so
//     a page whose CSP forbids inline styles still shows it; the brand
//     themes it with theme.css's custom properties and ::part();
//   - nothing happens until it scrolls into view (within 300 px): no
//     socket, no request, no image;
//   - it reserves its height from the start (the layout's, or the height
//     attribute), and nothing inside ever changes it, so the page never
//     shifts; more posts scroll inside it;
//   - it talks to the Chorus server it came from and to nobody else (images
//     come through Chorus's media proxy), sends no cookies
//     (credentials: "omit"), sets none, and stores nothing about visitors;
//   - post content is untrusted: cards.js draws it with DOM text APIs only;
//     links open in a new tab with rel="noopener noreferrer";
//   - new posts join a queue and appear one per pace (pace.js); a quiet
//     stream replays posts already shown; prefers-reduced-motion stops every
//     glide, crawl and fade; whatever moves can be paused (hover, focus,
//     buttons), and new posts are announced politely, at most every 30 s;
//   - the stream's pause (the moderators' panic button) hides every post at
//     once behind a calm slate.
//
// Attributes: stream (required), layout, theme (light, dark, auto), limit,
// profile, pace ("4s"), replay ("on"/"off"), token (viewer token of a
// private stream), height (a CSS length, or "auto" to grow with the posts),
// load-more ("off" hides the button). Attributes win over the profile.
//
// Test hook: element.chorus = { posts(), queued(), state(), settled(), layout() }.

import { StreamClient, STATUS } from "./protocol.js";
import { PostList, MAX_POSTS, isPost } from "./posts.js";
import { createRenderer } from "./cards.js";
import { Pacer } from "./pace.js";
import { LAYOUTS, loadProfile, normalize, lookTokens, applyTokens, preferredLanguages, byLanguage, recentEnough, parseDuration } from "./profile.js";
import { createLayout, FEED_LAYOUTS } from "./layouts.js";

const ATTRIBUTES = ["stream", "layout", "theme", "limit", "profile", "pace", "replay", "token", "height", "load-more"];
const STREAM_RE = /^[a-z0-9_-]{1,64}$/;
const LENGTH_RE = /^\d{1,5}(\.\d+)?(px|rem|em|vh|svh|dvh)?$/;
const ANNOUNCE_EVERY_MS = 30_000;
const TIME_REFRESH_MS = 30_000;
const PAGE_SIZE = 20;
const IN_VIEW_MARGIN = "300px 0px";
const SCALE_FROM_PX = 2400; // wider widgets scale up ...
const SCALE_BASE_PX = 1600; // ... as if this wide ...
const MAX_SCALE = 2.5; // ... at most this much

const isOn = (v) => v !== null && !/^(0|off|false|no)$/i.test(v.trim());

// sheetsFrom builds the constructed stylesheets every widget adopts, once.
function sheetsFrom(styles) {
  if (typeof CSSStyleSheet !== "function" || !("adoptedStyleSheets" in Document.prototype)) return null;
  try {
    return styles.map((text) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      return sheet;
    });
  } catch (err) {
    console.warn("chorus: constructed stylesheets are not available", err);
    return null;
  }
}

/**
 * defineChorusWall registers <chorus-wall> (or name).
 * @param {object} options
 * @param {string} options.origin  the Chorus server (its origin is used)
 * @param {string[]} [options.styles]  CSS texts adopted in every shadow root
 * @param {string[]} [options.stylesheets]  paths on Chorus of the same CSS,
 *   linked instead where constructed stylesheets are missing
 * @param {string} [options.name]
 */
export function defineChorusWall(options) {
  const name = options.name || "chorus-wall";
  if (customElements.get(name)) return customElements.get(name);
  const origin = new URL(options.origin || location.href).origin;
  let shared; // the constructed sheets, built on first use

  class ChorusWall extends HTMLElement {
    static get observedAttributes() {
      return ATTRIBUTES;
    }

    constructor() {
      super();
      this._shadow = this.attachShadow({ mode: "open" });
      this._built = false;
      this._started = false;
      this._session = null; // what one stream connection holds
      this._observer = null;
      this._reflecting = false;
      this._restartQueued = false;
      // A draft set before embed.js defined the element is an own property
      // hiding the accessor: take it over.
      if (Object.prototype.hasOwnProperty.call(this, "draft")) {
        const draft = this.draft;
        delete this.draft;
        this.draft = draft;
      }
    }

    connectedCallback() {
      if (!this._built) this._build();
      this._reserve();
      if (this._started) return;
      if (typeof IntersectionObserver !== "function") {
        this._start();
        return;
      }
      this._observer = new IntersectionObserver(
        (entries) => {
          const seen = entries.some((e) => e.isIntersecting);
          if (seen && !this._started) this._start();
          if (this._session) this._session.pacer.hold("offscreen", !seen);
        },
        { rootMargin: IN_VIEW_MARGIN },
      );
      this._observer.observe(this);
    }

    disconnectedCallback() {
      this._observer?.disconnect();
      this._observer = null;
      this._stop();
      this._started = false;
    }

    attributeChangedCallback(attr, before, after) {
      if (this._reflecting || before === after || !this._built) return;
      if (attr === "theme") this._reflectedTheme = undefined; // the page's own choice from now on
      if (attr === "height" || attr === "layout") this._reserve();
      this._queueRestart();
    }

    /**
     * draft is an unsaved profile (the "profile" object of a PUT) shown
     * instead of the stored one: the console's live preview. Its font and
     * logo need the server (font stack, media proxy), so the stored
     * profile's stay. Setting it restarts the widget, as an attribute does.
     */
    get draft() {
      return this._draft || null;
    }

    set draft(value) {
      this._draft = value && typeof value === "object" && !Array.isArray(value) ? value : null;
      if (this._built) this._queueRestart();
    }

    _queueRestart() {
      if (!this._started || this._restartQueued) return;
      this._restartQueued = true;
      queueMicrotask(() => {
        this._restartQueued = false;
        if (!this._started) return;
        this._stop();
        this._start();
      });
    }

    /** Test hook and a small read API for integrators. */
    get chorus() {
      const s = () => this._session;
      return Object.freeze({
        posts: () => (s() ? s().shownIds.slice() : []),
        queued: () => (s() ? s().pacer.ids() : []),
        state: () => this._ui.widget.dataset.state,
        settled: () => !!s() && !s().frame && (!s().layout || s().layout.settled()),
        layout: () => (s() && s().layout ? s().layout.kind : ""),
      });
    }

    // ---- the shadow root --------------------------------------------------

    _build() {
      this._built = true;
      const doc = this.ownerDocument;
      const el = (tag, className, part, text) => {
        const e = doc.createElement(tag);
        if (className) e.className = className;
        if (part) e.setAttribute("part", part);
        if (text !== undefined) e.textContent = text;
        return e;
      };
      shared ??= sheetsFrom(options.styles || []);
      this._profileSheet = null;
      if (shared) {
        this._profileSheet = new CSSStyleSheet();
        this._profileSheet.replaceSync(":host, :host([theme]) {}");
        this._shadow.adoptedStyleSheets = [...shared, this._profileSheet];
      } else {
        for (const path of options.stylesheets || []) {
          const link = el("link");
          link.rel = "stylesheet";
          link.href = new URL(path, origin).href;
          this._shadow.append(link);
        }
      }
      const widget = el("div", "widget", "widget");
      widget.dataset.state = "idle";
      const head = el("header", "head", "header");
      head.hidden = true;
      const logo = el("img", "logo", "logo");
      logo.alt = "";
      logo.hidden = true;
      logo.referrerPolicy = "no-referrer";
      const headline = el("span", "headline", "headline");
      headline.dir = "auto";
      const mark = el("span", "mark", "mark", "Chorus");
      head.append(logo, headline, mark);
      const body = el("div", "body", "body");
      const empty = el("p", "empty", "empty", "Posts will appear here.");
      empty.hidden = true;
      const moreRow = el("div", "more-row");
      moreRow.hidden = true;
      const more = el("button", "more", "more-button", "Load more posts");
      more.type = "button";
      moreRow.append(more);
      body.append(empty, moreRow);
      const slate = el("div", "slate", "slate");
      slate.hidden = true;
      const slateTitle = el("p", "slate-title", "", "We\u2019ll be right back");
      slate.append(slateTitle);
      const live = el("div", "sr-only");
      live.setAttribute("aria-live", "polite");
      live.setAttribute("aria-atomic", "true");
      widget.append(head, body, slate, live);
      this._shadow.append(widget);
      this._ui = { widget, head, logo, headline, mark, body, empty, moreRow, more, slate, live };
      more.addEventListener("click", () => this._loadMore());
      // On a very wide box (a 4K screen at one device pixel per CSS pixel)
      // everything scales up, so cards read as they do on a desktop.
      if (typeof ResizeObserver === "function") {
        new ResizeObserver(() => this._scale()).observe(this);
      }
    }

    _scale() {
      const w = this.clientWidth;
      const z = w > SCALE_FROM_PX ? Math.min(MAX_SCALE, w / SCALE_BASE_PX) : 1;
      const v = z === 1 ? "" : z.toFixed(3);
      if (this._ui.widget.style.zoom !== v) this._ui.widget.style.zoom = v;
    }

    // _reserve sets the widget's height before anything loads: the height
    // attribute, else the layout's (widget.css), so the page never shifts.
    _reserve() {
      const w = this._ui.widget;
      const layout = this.getAttribute("layout");
      if (!this._session || !this._session.layout) w.dataset.layout = LAYOUTS.includes(layout) ? layout : "masonry";
      const h = (this.getAttribute("height") || "").trim().toLowerCase();
      w.classList.toggle("grows", h === "auto");
      if (h && LENGTH_RE.test(h)) w.style.height = /\d$/.test(h) ? `${h}px` : h;
      else w.style.removeProperty("height");
    }

    // ---- a session: one stream, one profile -------------------------------

    _start() {
      const stream = (this.getAttribute("stream") || "").trim();
      this._started = true;
      if (!STREAM_RE.test(stream)) {
        console.warn(`chorus-wall: stream=${JSON.stringify(stream)} is not a stream id (a-z, 0-9, - and _)`);
        this._setState("unavailable");
        return;
      }
      const token = this.getAttribute("token") || "";
      const client = new StreamClient(stream, { base: origin, token, limit: MAX_POSTS });
      const session = {
        client,
        stream,
        list: new PostList({ limit: MAX_POSTS, max: MAX_POSTS }),
        limit: 20,
        cards: new Map(), // id -> { el, key }
        shownIds: [],
        layout: null,
        renderer: null,
        pacer: null,
        profile: normalize({}),
        langs: [],
        maxAge: 0,
        frame: 0,
        timer: 0,
        paused: false,
        unavailable: "", // or why the stream cannot be shown: "unavailable", "private"
        conn: STATUS.RECONNECTING,
        title: stream,
        fresh: 0,
        announceTimer: 0,
        lastAnnounce: 0,
        exhausted: false,
        loadingMore: false,
        snapshots: 0,
        clock: 0,
        nameSeq: 0,
      };
      session.pacer = new Pacer({
        pace: 4000,
        onRelease: (post) => this._release(session, post),
        onReplay: () => this._replay(session),
      });
      this._session = session;
      this._setState("loading");
      loadProfile(client, (this.getAttribute("profile") || "default").trim()).then((stored) => {
        if (this._session !== session) return;
        const doc = this._draft ? { ...stored, profile: normalize(this._draft) } : stored;
        this._applyProfile(session, doc);
        this._syncState(session);
        this._listen(session);
        session.pacer.start();
        client.start();
        session.clock = setInterval(() => {
          session.renderer?.refreshTimes(this._ui.body);
          if (session.maxAge) this._schedule(session);
        }, TIME_REFRESH_MS);
      });
    }

    _stop() {
      const s = this._session;
      if (!s) return;
      this._session = null;
      s.client.stop();
      s.pacer.stop();
      cancelAnimationFrame(s.frame);
      clearTimeout(s.timer);
      clearTimeout(s.announceTimer);
      clearInterval(s.clock);
      s.moreObserver?.disconnect();
      this._ui.widget.classList.remove("has-more");
      s.layout?.destroy();
      for (const { el } of s.cards.values()) el.remove();
      this._ui.empty.hidden = true;
      this._ui.moreRow.hidden = true;
      this._setState("idle");
    }

    _setState(state) {
      this._ui.widget.dataset.state = state;
    }

    _syncState(s) {
      if (s.unavailable) this._setState(s.unavailable);
      else if (s.paused) this._setState("paused");
      else this._setState(s.conn);
    }

    _applyProfile(s, doc) {
      const p = doc.profile;
      s.profile = p;
      const attr = (n) => this.getAttribute(n);
      const layout = LAYOUTS.includes(attr("layout")) ? attr("layout") : p.layout;
      const themeAttr = attr("theme");
      const ours = this._reflectedTheme !== undefined && themeAttr === this._reflectedTheme;
      if (!["light", "dark", "auto"].includes(themeAttr) || ours) {
        // The page named no theme: the profile's, reflected so theme.css's
        // :host([theme]) rules apply (page CSS still wins over them).
        this._reflecting = true;
        this.setAttribute("theme", p.theme);
        this._reflecting = false;
        this._reflectedTheme = p.theme;
      }
      if (this._profileSheet) applyTokens(this._profileSheet.cssRules[0].style, lookTokens(p, doc.fontFamily));

      const ui = this._ui;
      ui.logo.hidden = !doc.logoSrc;
      if (doc.logoSrc) ui.logo.src = doc.logoSrc;
      ui.headline.textContent = p.header;
      ui.mark.hidden = !p.show_mark;
      ui.head.hidden = !doc.logoSrc && !p.header && !p.show_mark;

      const limit = Number.parseInt(attr("limit") || "", 10);
      // The list holds all the stream sends; the widget shows `limit` of
      // them, chosen after the language order.
      s.limit = Number.isInteger(limit) && limit > 0 ? Math.min(limit, MAX_POSTS) : Math.min(p.posts, MAX_POSTS);
      const pace = parseDuration(attr("pace"));
      s.pacer.pace = pace !== null && pace >= 1000 ? pace : parseDuration(p.pace) || 4000;
      s.pacer.max = s.limit;
      s.replay = attr("replay") !== null ? isOn(attr("replay")) : p.replay;
      s.pacer.replay = s.replay && FEED_LAYOUTS.includes(layout);
      s.maxAge = parseDuration(p.max_age) || 0;
      s.langs = preferredLanguages(p);
      s.loadMore = FEED_LAYOUTS.includes(layout) && (attr("load-more") === null || isOn(attr("load-more")));

      const reduced = typeof matchMedia === "function" ? matchMedia("(prefers-reduced-motion: reduce)") : null;
      s.renderer = createRenderer({
        document: this.ownerDocument,
        base: origin + "/",
        links: "new-tab",
        images: "site",
        fields: { ...p.fields },
        onResize: () => this._schedule(s),
      });
      s.layout = createLayout(layout, {
        document: this.ownerDocument,
        pace: () => s.pacer.pace,
        replay: () => s.replay,
        reduced: () => !!reduced && reduced.matches,
        hold: (reason, on) => s.pacer.hold(reason, on),
        label: "Posts",
      });
      ui.widget.dataset.layout = layout;
      ui.widget.classList.toggle("has-more", s.loadMore);
      this._reserve();
      ui.body.prepend(s.layout.el);
      if (s.loadMore && s.layout.feed) {
        // "Load more" follows the bottom of the cards by a transform, so
        // the feed growing moves nothing in the page's layout.
        s.moreObserver = new ResizeObserver(() => {
          const f = s.layout.feed;
          ui.moreRow.style.transform = `translateY(${Math.round(f.offsetTop + f.offsetHeight)}px)`;
        });
        s.moreObserver.observe(s.layout.feed);
      }
    }

    _listen(s) {
      const c = s.client;
      const changed = (yes) => {
        if (yes) this._schedule(s);
      };
      c.on("snapshot", ({ posts, pins, paused }) => {
        this._snapshot(s, posts, pins);
        this._setPaused(s, paused);
      });
      c.on("add", ({ post, pins }) => {
        const repinned = pins !== undefined && s.list.setPins(pins);
        if (s.list.has(post.id)) changed(s.list.update(post) || repinned);
        else {
          s.pacer.push(post);
          changed(repinned);
        }
      });
      c.on("update", ({ post, pins }) => {
        s.pacer.update(post);
        changed(s.list.update(post, pins));
      });
      c.on("remove", ({ id, pins }) => {
        s.pacer.drop(id);
        if (s.list.remove(id, pins)) this._render(s); // a takedown does not wait
      });
      c.on("pins", ({ pins }) => changed(s.list.setPins(pins)));
      c.on("control", ({ action }) => {
        if (action === "pause") this._setPaused(s, true);
        else if (action === "resume") this._setPaused(s, false);
      });
      c.on("info", (info) => {
        const title = typeof info.title === "string" && info.title.trim() ? info.title.trim() : s.stream;
        s.title = title;
        s.layout?.el.querySelector('[role="feed"]')?.setAttribute("aria-label", `Posts from ${title}`);
      });
      c.on("status", (status) => {
        s.unavailable = status === STATUS.UNAVAILABLE || status === STATUS.PRIVATE ? status : "";
        if (!s.unavailable) s.conn = status;
        this._syncState(s);
        if (s.unavailable) this._render(s);
      });
    }

    // _snapshot takes a whole state. The first fills the widget at once;
    // a later one (a reconnect that could not resume) keeps what is shown
    // that is still there and queues what is new, so nothing jumps.
    _snapshot(s, posts, pins) {
      const incoming = posts.filter(isPost);
      s.snapshots++;
      if (s.snapshots === 1 || s.list.size === 0) {
        s.pacer.clear();
        s.list.reset(incoming, pins);
        this._render(s);
        return;
      }
      const inSnapshot = new Set(incoming.map((p) => p.id));
      const held = s.list.ids().map((id) => s.list.get(id).post);
      const oldest = incoming.length ? Date.parse(incoming[incoming.length - 1].created_at) : Infinity;
      const older = held.filter((p) => !inSnapshot.has(p.id) && Date.parse(p.created_at) < oldest);
      const fresh = incoming.filter((p) => !s.list.has(p.id));
      for (const id of s.pacer.ids()) if (!inSnapshot.has(id)) s.pacer.drop(id);
      s.list.reset(
        incoming.filter((p) => s.list.has(p.id)),
        pins,
      );
      s.list.append(older);
      for (const p of fresh.reverse()) s.pacer.push(p);
      this._render(s);
    }

    _setPaused(s, paused) {
      if (s.paused === paused) return;
      s.paused = paused;
      this._ui.slate.hidden = !paused;
      this._ui.body.hidden = paused;
      s.pacer.hold("paused", paused);
      this._syncState(s);
      if (!paused) this._schedule(s);
    }

    // _release shows a post the pacer let through, at once: the pacer's
    // cadence is the screen's.
    _release(s, post) {
      if (!s.list.add(post)) return;
      s.fresh++;
      this._announce(s);
      this._render(s);
    }

    // _replay brings the oldest post shown (not pinned) back to the top.
    _replay(s) {
      const ids = s.shownIds.filter((id) => !s.list.isPinned(id));
      if (ids.length < 2) return false;
      const id = ids[ids.length - 1];
      const entry = s.list.get(id);
      if (!entry) return false;
      s.list.remove(id);
      s.list.add(entry.post);
      this._render(s);
      return true;
    }

    _announce(s) {
      clearTimeout(s.announceTimer);
      const wait = s.lastAnnounce + ANNOUNCE_EVERY_MS - performance.now();
      const say = () => {
        if (!s.fresh || this._session !== s) return;
        s.lastAnnounce = performance.now();
        this._ui.live.textContent = s.fresh === 1 ? "1 new post" : `${s.fresh} new posts`;
        s.fresh = 0;
      };
      if (wait <= 0) say();
      else s.announceTimer = setTimeout(say, wait);
    }

    _schedule(s) {
      if (s.frame) return;
      s.frame = requestAnimationFrame(() => this._render(s));
      s.timer = setTimeout(() => this._render(s), 250);
    }

    // _render draws what the list holds, in display order, through the
    // layout: pinned first, then the visitor's languages, then newest first,
    // without posts older than the profile's max_age.
    _render(s) {
      cancelAnimationFrame(s.frame);
      clearTimeout(s.timer);
      s.frame = 0;
      s.timer = 0;
      if (this._session !== s || !s.layout) return;
      const recent = recentEnough(s.maxAge);
      let ids = s.list.ids().filter((id) => recent(s.list.get(id).post));
      ids = byLanguage(ids, (id) => s.list.get(id).post.lang, s.langs, (id) => s.list.isPinned(id));
      ids = ids.slice(0, s.limit);
      const want = new Set(ids);
      for (const [id, card] of s.cards) {
        if (!want.has(id)) {
          card.el.remove();
          s.cards.delete(id);
        }
      }
      const feed = FEED_LAYOUTS.includes(s.layout.kind);
      for (const id of ids) {
        const { post, key } = s.list.get(id);
        const card = s.cards.get(id);
        if (card && card.key === key) continue;
        let el;
        try {
          el = s.renderer.render(post);
        } catch (err) {
          console.error("chorus-wall: cannot show post", id, err);
          continue;
        }
        el.setAttribute("part", post.featured === true ? "card featured-card" : "card");
        if (feed) el.tabIndex = 0;
        const name = el.querySelector(".name");
        if (name) {
          name.id = `n${++s.nameSeq}`;
          el.setAttribute("aria-labelledby", name.id);
        }
        if (card) {
          s.layout.replace(card.el, el);
          card.el = el;
          card.key = key;
        } else {
          s.cards.set(id, { el, key });
        }
      }
      s.shownIds = ids.filter((id) => s.cards.has(id));
      s.layout.show(s.shownIds.map((id) => s.cards.get(id).el));
      const ui = this._ui;
      ui.empty.hidden = s.shownIds.length > 0 || s.snapshots === 0;
      if (s.unavailable && !s.shownIds.length) {
        ui.empty.hidden = false;
        ui.empty.textContent = s.unavailable === STATUS.PRIVATE ? "This stream is private: it needs a valid viewer token." : "This stream isn\u2019t available.";
      } else ui.empty.textContent = "Posts will appear here.";
      ui.moreRow.hidden = !s.loadMore || s.exhausted || s.shownIds.length === 0 || s.limit >= MAX_POSTS;
    }

    // _loadMore shows more of the posts held, or asks for the posts before
    // the oldest one held.
    async _loadMore() {
      const s = this._session;
      if (!s || s.loadingMore) return;
      const held = s.list.ids().length;
      if (held > s.shownIds.length) {
        const more = Math.min(PAGE_SIZE, held - s.shownIds.length);
        s.limit = Math.min(MAX_POSTS, s.limit + more);
        this._ui.live.textContent = more === 1 ? "1 more post" : `${more} more posts`;
        this._render(s);
        return;
      }
      const order = s.list.ids().filter((id) => !s.list.isPinned(id));
      const oldest = order[order.length - 1];
      if (!oldest) return;
      s.loadingMore = true;
      const more = this._ui.more;
      more.disabled = true;
      more.textContent = "Loading\u2026";
      try {
        const path = `/api/v1/streams/${encodeURIComponent(s.stream)}/posts?before=${encodeURIComponent(oldest)}&limit=${PAGE_SIZE}`;
        const res = await s.client.get(path);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const data = await res.json();
        const posts = data && Array.isArray(data.posts) ? data.posts : [];
        const added = s.list.append(posts);
        s.limit = Math.min(MAX_POSTS, s.limit + added);
        if (!added || data.more === false) s.exhausted = true;
        this._ui.live.textContent = added === 1 ? "1 more post" : `${added} more posts`;
      } catch (err) {
        console.warn("chorus-wall: cannot load more posts", err);
      } finally {
        s.loadingMore = false;
        more.disabled = false;
        more.textContent = "Load more posts";
        if (this._session === s) this._render(s);
      }
    }
  }

  customElements.define(name, ChorusWall);
  return ChorusWall;
}
