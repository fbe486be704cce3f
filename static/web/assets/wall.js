// Chorus kiosk wall: /wall/{id}.
//
// What it promises the screen operator:
//   - it never goes blank and never shows an error to the audience: problems
//     go to the console, the only visible sign is a small dot in a corner;
//   - it follows the display protocol over a websocket, remembers the last
//     seq and, after any drop, reconnects by itself (exponential backoff with
//     jitter, 1 s to 30 s) resuming with ?since=<seq>;
//   - post content is untrusted: it reaches the page only through DOM text
//     APIs, and only http(s) or same-site URLs are ever used, as image
//     sources. The wall makes no links, so a tap on a touch screen can never
//     navigate the kiosk away.
//
// Test hook: window.chorusWall = { posts(), seq(), state() }.
"use strict";

(() => {
  const DEFAULT_LIMIT = 60;
  const MAX_CARDS = 200; // cards in the DOM, whatever the stream's display limit
  const MAX_TEXT = 1500; // code points rendered per post; CSS clamps the lines
  const MAX_MEDIA = 4;
  const CURSOR_IDLE_MS = 3000;
  const TIME_REFRESH_MS = 30_000;
  const BACKOFF_FIRST_MS = 2000; // first retry waits 1-2 s
  const BACKOFF_MAX_MS = 30_000; // later ones 15-30 s
  const STABLE_MS = 10_000; // a connection this old resets the backoff
  const HTTP_REFRESH_MS = 30_000; // HTTP snapshot at most this often while the websocket is down
  const INFO_RETRY_MS = 15_000;

  const NETWORKS = {
    x: "X",
    twitter: "X",
    mastodon: "Mastodon",
    bluesky: "Bluesky",
    instagram: "Instagram",
    youtube: "YouTube",
    reddit: "Reddit",
    facebook: "Facebook",
    threads: "Threads",
    tiktok: "TikTok",
    linkedin: "LinkedIn",
    rss: "RSS",
    webhook: "Webhook",
    demo: "Demo",
  };

  const KINDS = {
    reply: "\u21A9\uFE0E Reply",
    repost: "\u21C4 Repost",
    quote: "\u275D Quote",
  };

  // Hashtags (with at least one letter), mentions (user, user@host, or
  // handle.domain) and bare http(s) URLs, for highlighting only. Browsers
  // without lookbehind get a simpler pattern rather than no wall at all.
  const TAG = String.raw`[#\uFF03](?=[\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_])[\p{L}\p{M}\p{N}_]+`;
  const MENTION = String.raw`@[\p{L}\p{N}_](?:[\p{L}\p{M}\p{N}_.\-]*[\p{L}\p{M}\p{N}_])?(?:@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+)?`;
  const URL_TOKEN = String.raw`https?://[^\s<>"'\u201C\u201D]*[^\s<>"'\u201C\u201D.,;:!?)\]}]`;
  let TOKEN_RE;
  try {
    TOKEN_RE = new RegExp(
      String.raw`(?<![\p{L}\p{M}\p{N}_&/])(${TAG})|(?<![\p{L}\p{M}\p{N}_./])(${MENTION})|(${URL_TOKEN})`,
      "giu",
    );
  } catch {
    TOKEN_RE = new RegExp(`(${TAG})|(${MENTION})|(${URL_TOKEN})`, "giu");
  }
  const LANG_RE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;
  const STREAM_RE = /^[a-z0-9_-]{1,64}$/;

  const $ = (id) => document.getElementById(id);
  const root = document.documentElement;
  const body = document.body;
  const ui = {
    header: $("wall-header"),
    title: $("wall-title"),
    main: $("wall-main"),
    posts: $("posts"),
    empty: $("empty"),
    slate: $("slate"),
    slateTitle: $("slate-title"),
    unavailable: $("unavailable"),
    status: $("status"),
  };
  const params = new URLSearchParams(location.search);

  // ---- state ----------------------------------------------------------------

  const wall = {
    id: "",
    order: [], // post ids, newest first, as the server sent them
    posts: new Map(), // id -> { post, key }
    seq: null,
    paused: false,
    conn: "reconnecting", // or "live"
    unavailable: false,
    limit: MAX_CARDS, // until the stream's display_limit is known
    infoLoaded: false,
    hadPosts: false,
  };
  const cards = new Map(); // id -> { el, key }

  const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const str = (v) => (typeof v === "string" ? v : "");
  const isPost = (p) => p && typeof p === "object" && typeof p.id === "string" && p.id !== "" && p.id.length <= 512;

  // displayIds is what the wall shows, in order: pinned posts first, then
  // the rest, newest first, cut to the display limit.
  function displayIds() {
    const pinned = [];
    const rest = [];
    for (const id of wall.order) {
      (wall.posts.get(id).post.pinned === true ? pinned : rest).push(id);
    }
    return pinned.concat(rest).slice(0, wall.limit);
  }

  // trim drops the oldest posts beyond the display limit.
  function trim() {
    if (wall.order.length <= wall.limit) return;
    const keep = new Set(displayIds());
    wall.order = wall.order.filter((id) => keep.has(id));
    for (const id of wall.posts.keys()) {
      if (!keep.has(id)) wall.posts.delete(id);
    }
  }

  function entry(p) {
    return { post: p, key: JSON.stringify(p) };
  }

  function applySnapshot(msg) {
    const list = Array.isArray(msg.posts) ? msg.posts : [];
    wall.posts.clear();
    wall.order = [];
    for (const p of list) {
      if (!isPost(p) || wall.posts.has(p.id)) continue;
      wall.posts.set(p.id, entry(p));
      wall.order.push(p.id);
    }
    trim();
    dropStaleCards();
    setPaused(msg.paused === true);
    scheduleRender();
  }

  function upsert(p, isAdd) {
    if (!isPost(p)) return;
    if (wall.posts.has(p.id)) {
      wall.posts.set(p.id, entry(p)); // replace in place
    } else if (isAdd || p.pinned === true) {
      wall.posts.set(p.id, entry(p));
      wall.order.unshift(p.id);
      trim();
      dropStaleCards();
    } else {
      return; // an update for a post this wall no longer holds
    }
    scheduleRender();
  }

  function removePost(id) {
    if (typeof id !== "string" || !wall.posts.has(id)) return;
    wall.posts.delete(id);
    wall.order = wall.order.filter((x) => x !== id);
    dropStaleCards(); // off screen at once, not at the next frame
    scheduleRender();
  }

  function noteSeq(seq, exact) {
    if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) return;
    wall.seq = exact || wall.seq === null ? seq : Math.max(wall.seq, seq);
  }

  // ---- protocol -------------------------------------------------------------

  function handleMessage(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch (err) {
      console.warn("chorus wall: ignoring a message that is not JSON", err);
      return;
    }
    if (!msg || typeof msg !== "object") return;
    switch (msg.type) {
      case "snapshot":
        applySnapshot(msg);
        noteSeq(msg.seq, true);
        return;
      case "add":
      case "update":
        upsert(msg.post, msg.type === "add");
        break;
      case "remove":
        removePost(msg.id);
        break;
      case "control":
        if (msg.action === "pause") setPaused(true);
        else if (msg.action === "resume") setPaused(false);
        break;
      default:
        return; // unknown message types are ignored
    }
    noteSeq(msg.seq, false);
  }

  // ---- connection -----------------------------------------------------------

  let ws = null;
  let attempt = 0;
  let retryTimer = 0;
  let lastHTTP = 0;

  function wsURL() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let u = `${scheme}//${location.host}/ws/streams/${encodeURIComponent(wall.id)}`;
    if (wall.seq !== null) u += `?since=${wall.seq}`;
    return u;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (wall.unavailable || ws) return;
    let sock;
    try {
      sock = new WebSocket(wsURL());
    } catch (err) {
      console.warn("chorus wall: cannot open the websocket", err);
      scheduleReconnect();
      return;
    }
    ws = sock;
    let openedAt = 0;
    sock.addEventListener("open", () => {
      if (ws !== sock) return;
      openedAt = Date.now();
      setConn("live");
    });
    sock.addEventListener("message", (ev) => {
      if (ws !== sock) return;
      try {
        handleMessage(ev.data);
      } catch (err) {
        console.error("chorus wall: failed to apply a message", err);
      }
    });
    sock.addEventListener("error", () => {
      console.warn("chorus wall: websocket error; a close follows");
    });
    sock.addEventListener("close", (ev) => {
      if (ws !== sock) return;
      ws = null;
      console.info(`chorus wall: websocket closed (code ${ev.code}${ev.reason ? ", " + ev.reason : ""}); reconnecting`);
      if (openedAt && Date.now() - openedAt >= STABLE_MS) attempt = 0;
      setConn("reconnecting");
      if (!openedAt) connectFailed();
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (retryTimer || wall.unavailable) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
    attempt = Math.min(attempt + 1, 16);
    const delay = base / 2 + (Math.random() * base) / 2;
    retryTimer = setTimeout(() => {
      retryTimer = 0;
      connect();
    }, delay);
  }

  // reconnectNow skips the wait, for when the page has reason to think the
  // network is back (online, tab visible again).
  function reconnectNow() {
    if (ws || wall.unavailable) return;
    attempt = 0;
    connect();
  }

  // connectFailed runs when a websocket never opened: posts still appear
  // through the HTTP snapshot, and the stream may be gone.
  function connectFailed() {
    if (!wall.infoLoaded) loadStream();
    if (wall.seq === null || Date.now() - lastHTTP >= HTTP_REFRESH_MS) fetchSnapshot();
  }

  async function fetchSnapshot() {
    lastHTTP = Date.now();
    try {
      const limit = Math.min(wall.limit, MAX_CARDS);
      const res = await fetch(`/api/v1/streams/${encodeURIComponent(wall.id)}/posts?limit=${limit}`, {
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (res.status === 404) {
        loadStream();
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const data = await res.json();
      if (ws && ws.readyState === WebSocket.OPEN) return; // the live feed is newer
      if (!data || typeof data !== "object") return;
      if (wall.seq !== null && typeof data.seq === "number" && data.seq < wall.seq) return;
      applySnapshot(data);
      noteSeq(data.seq, true);
    } catch (err) {
      console.warn("chorus wall: cannot load posts over HTTP", err);
    }
  }

  let infoTimer = 0;
  let infoPending = false;

  async function loadStream() {
    if (infoPending) return;
    infoPending = true;
    clearTimeout(infoTimer);
    try {
      const res = await fetch(`/api/v1/streams/${encodeURIComponent(wall.id)}`, {
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (res.status === 404) {
        if (!wall.hadPosts) {
          showUnavailable();
          return;
        }
        // Posts were on screen: keep them rather than go dark mid-event.
        throw new Error("stream not found");
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const info = await res.json();
      if (wall.unavailable) {
        location.reload(); // the stream exists again
        return;
      }
      setTitle(str(info && info.title).trim() || wall.id);
      const n = Number(info && info.display_limit);
      wall.limit = Number.isInteger(n) && n > 0 ? Math.min(n, MAX_CARDS) : DEFAULT_LIMIT;
      wall.infoLoaded = true;
      trim();
      dropStaleCards();
      scheduleRender();
    } catch (err) {
      console.warn("chorus wall: cannot load the stream", err);
      infoTimer = setTimeout(loadStream, INFO_RETRY_MS);
    } finally {
      infoPending = false;
    }
  }

  // ---- screen state ---------------------------------------------------------

  function stateName() {
    if (wall.unavailable) return "unavailable";
    if (wall.paused) return "paused";
    return wall.conn;
  }

  function syncState() {
    body.dataset.state = stateName();
    body.dataset.conn = wall.conn;
    ui.status.setAttribute("aria-label", wall.conn === "live" ? "Live" : "Reconnecting");
  }

  function setConn(conn) {
    wall.conn = conn;
    syncState();
  }

  function setPaused(paused) {
    if (wall.paused === paused) return;
    wall.paused = paused;
    // Everything goes, or comes back, at once.
    ui.slate.hidden = !paused || wall.unavailable;
    ui.header.hidden = paused;
    ui.main.hidden = paused;
    syncState();
    if (!paused) layout();
  }

  function setTitle(title) {
    ui.title.textContent = title;
    ui.slateTitle.textContent = title;
    document.title = `${title} \u00B7 Chorus`;
  }

  function showUnavailable() {
    wall.unavailable = true;
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (ws) {
      const sock = ws;
      ws = null;
      sock.close(1000, "stream not available");
    }
    ui.header.hidden = true;
    ui.main.hidden = true;
    ui.slate.hidden = true;
    ui.unavailable.hidden = false;
    document.title = "Chorus";
    syncState();
    // Look again now and then; the page reloads once the stream exists.
    clearTimeout(infoTimer);
    infoTimer = setTimeout(loadStream, 60_000);
  }

  // ---- rendering ------------------------------------------------------------

  let renderFrame = 0;
  let renderTimer = 0;

  // scheduleRender batches changes into one DOM update per frame; the timer
  // covers pages whose frames are throttled (a hidden tab).
  function scheduleRender() {
    if (renderFrame) return;
    renderFrame = requestAnimationFrame(render);
    renderTimer = setTimeout(render, 250);
  }

  function dropStaleCards() {
    for (const [id, card] of cards) {
      if (!wall.posts.has(id)) {
        card.el.remove();
        cards.delete(id);
      }
    }
  }

  function render() {
    cancelAnimationFrame(renderFrame);
    clearTimeout(renderTimer);
    renderFrame = 0;
    renderTimer = 0;

    const ids = displayIds();
    const want = new Set(ids);
    for (const [id, card] of cards) {
      if (!want.has(id)) {
        card.el.remove();
        cards.delete(id);
      }
    }
    for (const id of ids) {
      const { post, key } = wall.posts.get(id);
      const card = cards.get(id);
      if (card && card.key === key) continue;
      let el;
      try {
        el = buildCard(post);
      } catch (err) {
        console.error("chorus wall: cannot show post", id, err);
        continue;
      }
      if (card) {
        // Replace in place: same spot, no entrance animation.
        el.classList.remove("fresh");
        el.style.transform = card.el.style.transform;
        el.style.width = card.el.style.width;
        card.el.replaceWith(el);
        card.el = el;
        card.key = key;
      } else {
        cards.set(id, { el, key });
      }
    }
    // Put the DOM in display order, moving only what is out of place.
    let i = 0;
    for (const id of ids) {
      const card = cards.get(id);
      if (!card) continue;
      const at = ui.posts.children[i];
      if (at !== card.el) ui.posts.insertBefore(card.el, at || null);
      i++;
    }
    if (cards.size > 0) wall.hadPosts = true;
    ui.empty.hidden = cards.size > 0;
    ui.posts.setAttribute("aria-busy", "false");
    layout();
  }

  function columnCount() {
    const forced = Number.parseInt(params.get("columns") || "", 10);
    if (forced >= 1) return Math.min(forced, 8);
    const w = window.innerWidth || 1280;
    const h = window.innerHeight || 720;
    const byShape = Math.max(2, Math.min(6, Math.round((w / h) * 2.25)));
    return Math.max(1, Math.min(byShape, Math.floor(w / 300)));
  }

  let layoutFrame = 0;
  function scheduleLayout() {
    if (!layoutFrame) layoutFrame = requestAnimationFrame(layout);
  }

  // layout places the cards in masonry columns: each card, in display order,
  // goes to the top of the shortest column, so the newest posts fill the top
  // of the screen. Cards that would not fit entirely are hidden (the first
  // card of a column always shows), and later, shorter cards may take the
  // room they leave.
  function layout() {
    cancelAnimationFrame(layoutFrame);
    layoutFrame = 0;
    if (wall.paused || wall.unavailable) return;
    const cols = columnCount();
    if (root.style.getPropertyValue("--cols") !== String(cols)) root.style.setProperty("--cols", String(cols));
    const rem = Number.parseFloat(getComputedStyle(root).fontSize) || 16;
    const gap = Math.round(rem * 0.9);
    const width = ui.posts.clientWidth;
    const height = ui.posts.clientHeight;
    const colW = Math.max(1, (width - gap * (cols - 1)) / cols);
    const list = Array.from(ui.posts.children);

    const spans = list.map((el) => (el.classList.contains("featured") && cols >= 2 ? Math.min(2, cols) : 1));
    list.forEach((el, i) => {
      const w = `${Math.floor(colW * spans[i] + gap * (spans[i] - 1))}px`;
      if (el.style.width !== w) el.style.width = w;
    });
    const heights = list.map((el) => el.offsetHeight); // one layout pass for all

    const colH = new Array(cols).fill(0);
    list.forEach((el, i) => {
      const span = spans[i];
      let best = 0;
      let bestY = Infinity;
      for (let c = 0; c + span <= cols; c++) {
        const y = Math.max(...colH.slice(c, c + span));
        if (y < bestY) {
          best = c;
          bestY = y;
        }
      }
      const x = Math.round(best * (colW + gap));
      const y = Math.round(bestY);
      const t = `translate(${x}px, ${y}px)`;
      if (el.style.transform !== t) el.style.transform = t;
      // A card that does not fit leaves its room to the next, shorter ones.
      const hidden = y > 0 && y + heights[i] > height;
      el.classList.toggle("offscreen", hidden);
      if (!hidden) for (let c = best; c < best + span; c++) colH[c] = y + heights[i] + gap;
    });

    const fresh = list.filter((el) => el.classList.contains("fresh"));
    if (fresh.length) {
      void ui.posts.offsetWidth; // settle the start state so the entrance animates
      for (const el of fresh) el.classList.remove("fresh");
    }
  }

  // ---- cards ----------------------------------------------------------------

  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // safeURL returns u as an absolute URL when it is http(s) or a path on
  // this site, and null otherwise (javascript:, data:, //host, ...).
  function safeURL(u) {
    if (typeof u !== "string") return null;
    const s = u.trim();
    if (s === "" || s.length > 4096) return null;
    const sitePath = s.startsWith("/");
    if (sitePath ? s.startsWith("//") || s.startsWith("/\\") : !/^https?:\/\//i.test(s)) return null;
    let url;
    try {
      url = new URL(s, location.href);
    } catch {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    if (sitePath && url.origin !== location.origin) return null;
    return url.href;
  }

  function hue(s) {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
    return h % 360;
  }

  function initials(name, handle) {
    const src = (name || handle || "").replace(/^[@#]+/, "").trim();
    const words = src.split(/\s+/u).filter(Boolean);
    const first = (w) => Array.from(w.replace(/^[^\p{L}\p{N}]+/u, ""))[0] || "";
    let s = first(words[0] || "");
    if (words.length > 1) s += first(words[words.length - 1]);
    return s.toLocaleUpperCase() || "?";
  }

  function networkLabel(net) {
    if (hasOwn(NETWORKS, net)) return NETWORKS[net];
    if (!net) return "Post";
    return net.charAt(0).toUpperCase() + net.slice(1);
  }

  function handleText(handle) {
    if (!handle) return "";
    return handle.startsWith("@") || handle.includes("/") ? handle : `@${handle}`;
  }

  function buildAvatar(author, fallbackKey) {
    const box = make("div", "avatar");
    box.style.backgroundColor = `hsl(${hue(str(author.id) || str(author.handle) || fallbackKey)} 45% 38%)`;
    const ini = make("span", "initials", initials(str(author.name), str(author.handle)));
    ini.setAttribute("aria-hidden", "true");
    box.append(ini);
    const src = safeURL(author.avatar_url);
    if (src) {
      const img = document.createElement("img");
      img.alt = "";
      img.loading = "lazy";
      img.decoding = "async";
      img.referrerPolicy = "no-referrer";
      img.addEventListener("error", () => img.remove(), { once: true });
      img.src = src;
      box.append(img);
    }
    return box;
  }

  // appendRich writes text into parent as text nodes, with link spans (from
  // the post's entities), hashtags, mentions and bare URLs in <span>s.
  function appendRich(parent, text, links) {
    let cps = Array.from(text);
    const cut = cps.length > MAX_TEXT;
    if (cut) cps = cps.slice(0, MAX_TEXT);
    const ranges = [];
    if (Array.isArray(links)) {
      for (const l of links) {
        if (!l || typeof l !== "object") continue;
        const s = Number(l.start);
        const e = Number(l.end);
        const ok = Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e > s && e <= cps.length;
        if (ok && safeURL(l.url)) ranges.push([s, e]);
      }
    }
    ranges.sort((a, b) => a[0] - b[0]);
    let pos = 0;
    for (const [s, e] of ranges) {
      if (s < pos) continue; // overlapping span
      appendTokens(parent, cps.slice(pos, s).join(""));
      parent.append(token("link", cps.slice(s, e).join("")));
      pos = e;
    }
    appendTokens(parent, cps.slice(pos).join("") + (cut ? "\u2026" : ""));
  }

  // token is a highlighted word, isolated so that an LTR hashtag keeps its
  // '#' in front inside RTL text, and an RTL one inside LTR text.
  function token(className, text) {
    const span = make("span", className, text);
    span.dir = "auto";
    return span;
  }

  function appendTokens(parent, s) {
    if (!s) return;
    let last = 0;
    for (const m of s.matchAll(TOKEN_RE)) {
      if (m.index > last) parent.append(document.createTextNode(s.slice(last, m.index)));
      parent.append(token(m[1] ? "tag" : m[2] ? "mention" : "link", m[0]));
      last = m.index + m[0].length;
    }
    if (last < s.length) parent.append(document.createTextNode(s.slice(last)));
  }

  function setLang(el, lang) {
    if (LANG_RE.test(lang)) el.setAttribute("lang", lang);
  }

  function buildMedia(post, card) {
    const list = Array.isArray(post.media) ? post.media.filter((m) => m && typeof m === "object") : [];
    const multi = list.length > 1;
    const items = [];
    for (const m of list) {
      if (items.length === MAX_MEDIA) break;
      const kind = str(m.kind) || "image";
      const src =
        kind === "video"
          ? safeURL(m.preview_url)
          : multi
            ? safeURL(m.preview_url) || safeURL(m.url)
            : safeURL(m.url) || safeURL(m.preview_url);
      if (src) items.push({ m, kind, src });
    }
    if (items.length === 0) return null;

    const box = make("div", "media");
    box.dataset.count = String(items.length);
    if (items.length === 1) {
      const w = Number(items[0].m.width);
      const h = Number(items[0].m.height);
      if (w > 0 && h > 0) box.style.aspectRatio = String(Math.min(2, Math.max(0.8, w / h)));
    }
    if (post.sensitive === true || str(post.content_warning)) box.classList.add("blurred");
    for (const { m, kind, src } of items) {
      const cell = make("div", kind === "video" ? "media-item video" : "media-item");
      const img = document.createElement("img");
      img.alt = str(m.alt);
      img.loading = "lazy";
      img.decoding = "async";
      img.referrerPolicy = "no-referrer";
      img.addEventListener(
        "error",
        () => {
          cell.remove();
          const left = box.children.length;
          if (left === 0) {
            box.remove();
            card.classList.remove("has-media");
          } else {
            box.dataset.count = String(left);
          }
          scheduleLayout();
        },
        { once: true },
      );
      img.src = src;
      cell.append(img);
      box.append(cell);
    }
    return box;
  }

  // Formatters in the browser's locale; an old browser without them shows
  // clock times instead of losing the wall.
  let rtf = null;
  let dtf = null;
  try {
    rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    dtf = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  } catch (err) {
    console.warn("chorus wall: no Intl.RelativeTimeFormat; showing clock times", err);
  }

  function relTime(ms, now) {
    if (!rtf) return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const s = Math.min(0, Math.round((ms - now) / 1000)); // a clock ahead of ours reads "now"
    const a = -s;
    if (a < 45) return rtf.format(0, "second");
    if (a < 3600) return rtf.format(Math.round(s / 60), "minute");
    if (a < 86400) return rtf.format(Math.round(s / 3600), "hour");
    if (a < 7 * 86400) return rtf.format(Math.round(s / 86400), "day");
    if (a < 30 * 86400) return rtf.format(Math.round(s / (7 * 86400)), "week");
    if (a < 365 * 86400) return rtf.format(Math.round(s / (30 * 86400)), "month");
    return rtf.format(Math.round(s / (365 * 86400)), "year");
  }

  function buildTime(created) {
    const ms = Date.parse(created);
    if (!Number.isFinite(ms)) return null;
    const t = make("time", "time", relTime(ms, Date.now()));
    t.dateTime = new Date(ms).toISOString();
    t.title = dtf ? dtf.format(ms) : new Date(ms).toLocaleString();
    return t;
  }

  function refreshTimes() {
    const now = Date.now();
    for (const t of ui.posts.querySelectorAll("time.time")) {
      const ms = Date.parse(t.dateTime);
      if (!Number.isFinite(ms)) continue;
      const text = relTime(ms, now);
      if (t.textContent !== text) t.textContent = text;
    }
  }

  // buildCard makes one post's card. The DOM it builds is a contract for
  // browser tests; see static/README.md.
  function buildCard(p) {
    const author = p.author && typeof p.author === "object" ? p.author : {};
    const network = str(p.network).toLowerCase();
    const kind = str(p.kind) || "original";
    const lang = str(p.lang);

    const card = make("article", "card fresh");
    card.dataset.id = p.id;
    card.dataset.network = network;
    card.dataset.kind = kind;
    if (p.pinned === true) card.classList.add("pinned");
    if (p.featured === true) card.classList.add("featured");
    if (p.sensitive === true) card.classList.add("sensitive");

    const head = make("div", "card-head");
    head.append(buildAvatar(author, p.id));
    const who = make("div", "who");
    const nameRow = make("div", "name-row");
    const name = make("span", "name", str(author.name) || str(author.handle) || networkLabel(network));
    name.dir = "auto";
    nameRow.append(name);
    if (author.verified === true) {
      const v = make("span", "verified", "\u2713");
      v.setAttribute("role", "img");
      v.setAttribute("aria-label", "Verified");
      v.title = "Verified";
      nameRow.append(v);
    }
    who.append(nameRow);
    const handle = handleText(str(author.handle));
    if (handle) {
      const h = make("div", "handle", handle);
      h.dir = "auto";
      who.append(h);
    }
    const badge = make("span", "network", networkLabel(network));
    badge.dataset.network = network;
    head.append(who, badge);
    card.append(head);

    const flags = [];
    if (p.pinned === true) flags.push(make("span", "flag pin", "Pinned"));
    if (hasOwn(KINDS, kind)) flags.push(make("span", "flag kind", KINDS[kind]));
    if (flags.length) {
      const row = make("p", "flags");
      row.append(...flags);
      card.append(row);
    }

    const cwText = str(p.content_warning);
    if (p.sensitive === true || cwText) {
      const cw = make("p", "cw", `\u26A0\uFE0E ${cwText || "Sensitive content"}`);
      cw.dir = "auto";
      setLang(cw, lang);
      card.append(cw);
    }

    const text = str(p.text);
    if (text.trim()) {
      const t = make("p", "text");
      t.dir = "auto";
      setLang(t, lang);
      appendRich(t, text, p.links);
      card.append(t);
    }

    const media = buildMedia(p, card);
    if (media) {
      card.classList.add("has-media");
      card.append(media);
    }

    const time = buildTime(p.created_at);
    if (time) {
      const foot = make("div", "card-foot");
      foot.append(time);
      card.append(foot);
    }
    return card;
  }

  // ---- kiosk niceties -------------------------------------------------------

  let cursorTimer = 0;
  function showCursor() {
    root.classList.remove("no-cursor");
    clearTimeout(cursorTimer);
    cursorTimer = setTimeout(() => root.classList.add("no-cursor"), CURSOR_IDLE_MS);
  }

  let wakeLock = null;
  async function keepAwake() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible" || wakeLock) return;
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      wakeLock.addEventListener("release", () => {
        wakeLock = null;
      });
    } catch (err) {
      console.debug("chorus wall: no screen wake lock", err);
    }
  }

  // ---- start ----------------------------------------------------------------

  function streamFromPath(path) {
    const m = /^\/wall\/([^/]+)\/?$/.exec(path);
    if (!m) return "";
    try {
      const id = decodeURIComponent(m[1]);
      return STREAM_RE.test(id) ? id : "";
    } catch {
      return "";
    }
  }

  function start() {
    const theme = params.get("theme");
    if (theme === "light" || theme === "dark") root.dataset.theme = theme;

    window.chorusWall = Object.freeze({
      posts: () => Array.from(ui.posts.children, (el) => el.dataset.id),
      seq: () => wall.seq,
      state: () => stateName(),
    });

    addEventListener("mousemove", showCursor, { passive: true });
    addEventListener("pointerdown", showCursor, { passive: true });
    showCursor();
    keepAwake();
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "visible") return;
      keepAwake();
      reconnectNow();
      scheduleRender();
    });
    addEventListener("online", reconnectNow);
    addEventListener("offline", () => {
      if (ws) ws.close(4000, "browser went offline"); // reconnects when back
    });
    addEventListener("resize", scheduleLayout);
    if ("ResizeObserver" in window) new ResizeObserver(scheduleLayout).observe(ui.main);
    setInterval(refreshTimes, TIME_REFRESH_MS);

    wall.id = streamFromPath(location.pathname);
    if (!wall.id) {
      showUnavailable();
      clearTimeout(infoTimer); // nothing to look up
      return;
    }
    setTitle(wall.id);
    syncState();
    loadStream();
    connect();
  }

  try {
    start();
  } catch (err) {
    console.error("chorus wall: failed to start", err);
  }
})();
