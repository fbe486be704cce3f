// Chorus display-protocol client: one curated stream, live, for any page
// (the kiosk wall, widgets, overlays, the console). It has no DOM
// assumptions: it needs WebSocket, fetch and timers, and listens to the
// page's online and visibility events only where they exist.
//
// What it promises the page that uses it:
//   - it follows the display protocol over a websocket, remembers the last
//     seq and, after any drop, reconnects by itself with exponential backoff
//     and jitter (1-2 s first, at most 30 s; back to fast after a connection
//     that lived 10 s, when the browser goes online, or when the page becomes
//     visible again), resuming with ?since=<seq>;
//   - it asks for batched frames (?batch=1): a frame may hold one message
//     or a JSON array of messages, applied in order; bad JSON, unknown
//     types and malformed messages are logged and skipped, never thrown;
//   - the screen never goes back in time: a snapshot whose seq is lower than
//     the last seq delivered (or that has none, once one was delivered) is
//     refused and the socket reconnected later, and a message older than
//     that seq is dropped. Only when the server keeps offering an older state
//     for a minute, over three connections or more, is it taken, with a
//     warning: the display protocol sends one only when the server's data
//     was deleted, and then the screen must take it;
//   - a server that is still loading (HTTP 503 or 429 with Retry-After,
//     websocket close 1013, a socket held open in silence) costs nothing on
//     screen: the page keeps what it has, the client retries with backoff,
//     never sooner than Retry-After;
//   - when a websocket cannot open and nothing was delivered yet (or every
//     30 s while it stays down), it loads GET /api/v1/streams/{id}/posts, so
//     posts show anyway; a live socket always wins over that snapshot;
//   - it never delivers an empty world by accident: a snapshot without a
//     posts array is refused, and a stream that disappears (404) is reported
//     as "unavailable", or one that refuses the viewer token (401) as
//     "private", only while nothing was delivered yet;
//   - a private stream's viewer token (options.token, from the page's
//     ?token= or the widget's token attribute) goes with the websocket and
//     every API call, as ?token=.
//
// Use:
//   const client = new StreamClient("summit", { base: "https://chorus.example" });
//   client.on("snapshot", ({ seq, posts, pins, paused, onAir, via }) => ...);
//   client.on("add", ({ seq, post, pins }) => ...); // also "update"; pins only when the message has them
//   client.on("remove", ({ seq, id, pins }) => ...);
//   client.on("pins", ({ seq, pins }) => ...);    // only the pin order changed
//   client.on("control", ({ seq, action }) => ...); // "pause", "resume", ...
//   client.on("message", (msg) => ...);           // every message applied, any type
//   client.on("status", (status) => ...);         // "live" | "reconnecting" | "unavailable" | "private"
//   client.on("info", (stream) => ...);           // GET /api/v1/streams/{id}
//   client.on("stale", ({ seq, last }) => ...);   // an older snapshot was refused
//   client.start(); ... client.stop();

import { DEFAULT_LIMIT, MAX_POSTS, isPins } from "./posts.js";

/** Connection states a page shows. */
export const STATUS = Object.freeze({
  LIVE: "live", // the websocket is open
  RECONNECTING: "reconnecting", // connecting or waiting to retry (also before the first connection)
  UNAVAILABLE: "unavailable", // the stream does not exist and nothing was shown
  PRIVATE: "private", // the stream needs a viewer token (none, or a bad one) and nothing was shown
});

const BACKOFF_FIRST_MS = 2000; // the first retry waits 1-2 s
const BACKOFF_MAX_MS = 30_000; // later ones at most 15-30 s
const STABLE_MS = 10_000; // a connection this old resets the backoff
const HTTP_REFRESH_MS = 30_000; // HTTP snapshot at most this often while the socket is down
const INFO_RETRY_MS = 15_000;
const UNAVAILABLE_RETRY_MS = 60_000; // how often a missing stream is looked up again
const RETRY_AFTER_MAX_MS = 60_000; // a longer Retry-After is capped
const STALE_GIVE_UP_MS = 60_000; // an older state offered this long (and ...
const STALE_GIVE_UP_OFFERS = 3; // ... this often) is the server's new truth

const CLOSE_TRY_AGAIN = 1013; // the server is loading its state
const CLOSE_OFFLINE = 4000; // ours: the browser went offline
const CLOSE_STALE = 4001; // ours: the server offered an older state

const isObject = (v) => !!v && typeof v === "object" && !Array.isArray(v);

function seqOf(v) {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

/**
 * displayLimit reads a stream's display_limit: an integer from 1 to
 * MAX_POSTS, or DEFAULT_LIMIT when it is missing or odd.
 * @param {unknown} info
 */
export function displayLimit(info) {
  const n = Number(isObject(info) ? info.display_limit : NaN);
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_POSTS) : DEFAULT_LIMIT;
}

/**
 * retryAfterMs reads a Retry-After header (seconds or an HTTP date) as
 * milliseconds from now, capped at a minute; 0 when absent or odd.
 * @param {string|null} value
 * @param {number} [now]
 */
export function retryAfterMs(value, now = Date.now()) {
  if (!value) return 0;
  const s = value.trim();
  let ms = /^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s) - now;
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  return Math.min(ms, RETRY_AFTER_MAX_MS);
}

/**
 * StreamClient keeps one page connected to one curated stream.
 */
export class StreamClient {
  /**
   * @param {string} stream  the curated stream's id
   * @param {object} [options]
   * @param {string|URL} [options.base]  the Chorus server; default: this page's
   * @param {number} [options.limit]  posts asked of the HTTP snapshot; default:
   *   the stream's display_limit
   * @param {string} [options.token]  a viewer token for a private stream: added
   *   as ?token= to the websocket and every API URL
   * @param {string} [options.surface]  "wall" or "overlay": the page is one of
   *   those a stream that needs rights may exempt (added as ?surface= to the
   *   websocket and every API URL); left out, the stream shows only posts
   *   whose rights were granted, as every widget does
   * @param {boolean} [options.watchPage]  reconnect on online/visible (default true)
   * @param {string} [options.socketPath]  another websocket that speaks these
   *   messages (the console's feed, "/ws/console"): it is opened instead of
   *   the stream's, with the same resume and backoff, and no HTTP snapshot or
   *   stream description is loaded
   * @param {typeof WebSocket} [options.WebSocket]
   * @param {typeof fetch} [options.fetch]
   * @param {() => number} [options.random]  jitter source, for tests
   */
  constructor(stream, options = {}) {
    this.stream = String(stream);
    this._base = new URL(String(options.base ?? globalThis.location.href));
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this._fetch = options.fetch ?? ((...a) => globalThis.fetch(...a));
    this._random = options.random ?? Math.random;
    this._fixedLimit = options.limit !== undefined ? displayLimit({ display_limit: options.limit }) : null;
    this._limit = this._fixedLimit ?? DEFAULT_LIMIT;
    this._watchPage = options.watchPage !== false;
    this._socketPath = typeof options.socketPath === "string" ? options.socketPath : null;
    this._token = typeof options.token === "string" && options.token ? options.token : "";
    this._surface = options.surface === "wall" || options.surface === "overlay" ? options.surface : "";

    this._listeners = new Map();
    this._running = false;
    this._status = STATUS.RECONNECTING;
    this._seq = null;
    this._info = null;
    this._delivered = false; // some post reached the page
    this._staleSince = 0;
    this._staleOffers = 0;

    this._ws = null;
    this._attempt = 0;
    this._retryTimer = 0;
    this._retryAt = 0; // not before this time (Retry-After)
    this._lastHTTP = 0;
    this._httpPending = false;
    this._infoTimer = 0;
    this._infoPending = false;

    this._onOnline = () => this.reconnectNow();
    this._onOffline = () => {
      if (this._ws) this._ws.close(CLOSE_OFFLINE, "browser went offline"); // reconnects when back
    };
    this._onVisible = () => {
      if (globalThis.document?.visibilityState === "visible") this.reconnectNow();
    };
  }

  /** The last seq delivered, or null before any. */
  get seq() {
    return this._seq;
  }

  /** "live", "reconnecting" or "unavailable". */
  get status() {
    return this._status;
  }

  /** The stream's description once loaded, else null. */
  get info() {
    return this._info;
  }

  /** Posts the HTTP snapshot asks for. */
  get limit() {
    return this._limit;
  }

  /**
   * on calls fn for every event of type; it returns a function that stops.
   * A listener that throws is logged and does not stop the others.
   */
  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this._listeners.get(type)?.delete(fn);
  }

  _emit(type, value) {
    for (const fn of this._listeners.get(type) || []) {
      try {
        fn(value);
      } catch (err) {
        console.error(`chorus: a ${type} listener failed`, err);
      }
    }
  }

  /** start loads the stream's description and connects. */
  start() {
    if (this._running) return;
    this._running = true;
    if (this._watchPage && typeof globalThis.addEventListener === "function") {
      globalThis.addEventListener("online", this._onOnline);
      globalThis.addEventListener("offline", this._onOffline);
      globalThis.document?.addEventListener("visibilitychange", this._onVisible);
    }
    if (!this._socketPath) this._loadInfo();
    this._connect();
  }

  /** stop closes the connection and every timer; start may be called again. */
  stop() {
    this._running = false;
    clearTimeout(this._retryTimer);
    clearTimeout(this._infoTimer);
    this._retryTimer = 0;
    this._infoTimer = 0;
    this._closeSocket(1000, "page closed");
    if (typeof globalThis.removeEventListener === "function") {
      globalThis.removeEventListener("online", this._onOnline);
      globalThis.removeEventListener("offline", this._onOffline);
      globalThis.document?.removeEventListener("visibilitychange", this._onVisible);
    }
  }

  /**
   * reconnectNow skips the backoff wait, for when the page has reason to
   * think the network is back; it still honours the server's Retry-After.
   */
  reconnectNow() {
    if (!this._running || this._ws || this._waiting()) return;
    this._attempt = 0;
    if (Date.now() < this._retryAt) {
      clearTimeout(this._retryTimer);
      this._retryTimer = 0;
      this._scheduleReconnect();
      return;
    }
    this._connect();
  }

  // ---- websocket ------------------------------------------------------------

  _url(path) {
    const u = new URL(path, this._base);
    if (this._token) u.searchParams.set("token", this._token);
    if (this._surface) u.searchParams.set("surface", this._surface);
    return u;
  }

  /**
   * url returns an absolute URL on the Chorus server for path (with the
   * viewer token, if any), for pages that load more from the same API.
   * @param {string} path
   */
  url(path) {
    return this._url(path).href;
  }

  /**
   * get fetches path from the Chorus server as JSON data: no cookies, no
   * cache, the viewer token added. It returns the Response.
   * @param {string} path
   */
  get(path) {
    return this._get(path);
  }

  _wsURL() {
    const u = this._url(this._socketPath ?? `/ws/streams/${encodeURIComponent(this.stream)}`);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("batch", "1"); // several messages per frame, as an array: _frame reads both
    if (this._seq !== null) u.searchParams.set("since", String(this._seq));
    return u.href;
  }

  _connect() {
    clearTimeout(this._retryTimer);
    this._retryTimer = 0;
    if (!this._running || this._ws || this._waiting()) return;
    let sock;
    try {
      sock = new this._WebSocket(this._wsURL());
    } catch (err) {
      console.warn("chorus: cannot open the websocket", err);
      this._connectFailed();
      this._scheduleReconnect();
      return;
    }
    this._ws = sock;
    let openedAt = 0;
    sock.addEventListener("open", () => {
      if (this._ws !== sock) return;
      openedAt = Date.now();
      this._setStatus(STATUS.LIVE);
    });
    sock.addEventListener("message", (ev) => {
      if (this._ws === sock) this._frame(ev.data, sock);
    });
    sock.addEventListener("error", () => {
      console.warn("chorus: websocket error; a close follows");
    });
    sock.addEventListener("close", (ev) => {
      if (this._ws !== sock) return;
      this._ws = null;
      const why = `code ${ev.code}${ev.reason ? ", " + ev.reason : ""}`;
      if (ev.code === CLOSE_TRY_AGAIN) {
        console.info(`chorus: the server is loading (${why}); keeping what is shown and retrying`);
      } else {
        console.info(`chorus: websocket closed (${why}); reconnecting`);
        if (openedAt && Date.now() - openedAt >= STABLE_MS) this._attempt = 0;
      }
      this._setStatus(STATUS.RECONNECTING);
      if (!openedAt) this._connectFailed();
      this._scheduleReconnect();
    });
  }

  _closeSocket(code, reason) {
    const sock = this._ws;
    if (!sock) return;
    this._ws = null; // its close event is ours, not news
    try {
      sock.close(code, reason);
    } catch (err) {
      console.warn("chorus: cannot close the websocket", err);
    }
  }

  _scheduleReconnect() {
    if (this._retryTimer || !this._running || this._waiting()) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this._attempt);
    this._attempt = Math.min(this._attempt + 1, 16);
    const delay = Math.max(base / 2 + (this._random() * base) / 2, this._retryAt - Date.now());
    this._retryTimer = setTimeout(() => {
      this._retryTimer = 0;
      this._connect();
    }, delay);
  }

  // _connectFailed runs when a websocket never opened: posts still come
  // through the HTTP snapshot, and the stream may be gone.
  _connectFailed() {
    if (this._socketPath) return; // a feed has no HTTP fallback
    if (!this._info) this._loadInfo();
    if (this._seq === null || Date.now() - this._lastHTTP >= HTTP_REFRESH_MS) this._fetchSnapshot();
  }

  _setStatus(status) {
    if (this._status === status) return;
    this._status = status;
    this._emit("status", status);
  }

  // ---- messages -------------------------------------------------------------

  _frame(data, sock) {
    if (typeof data !== "string") {
      console.warn("chorus: ignoring a binary frame");
      return;
    }
    let parsed;
    try {
      parsed = JSON.parse(data);
    } catch (err) {
      console.warn("chorus: ignoring a frame that is not JSON", err);
      return;
    }
    for (const msg of Array.isArray(parsed) ? parsed : [parsed]) {
      if (this._ws !== sock) return; // refused a stale snapshot: the rest is stale too
      try {
        this._message(msg, sock);
      } catch (err) {
        console.error("chorus: failed to apply a message", err);
      }
    }
  }

  _message(msg, sock) {
    if (!isObject(msg) || typeof msg.type !== "string") {
      console.warn("chorus: ignoring a malformed message", msg);
      return;
    }
    const seq = seqOf(msg.seq);
    if (msg.type === "snapshot") {
      if (!this._snapshot(msg, seq, "websocket")) {
        this._closeSocket(CLOSE_STALE, "older than what is shown");
        this._setStatus(STATUS.RECONNECTING);
        this._scheduleReconnect();
      }
      return;
    }
    if (seq !== null && this._seq !== null && seq < this._seq) {
      console.debug(`chorus: dropping a ${msg.type} at seq ${seq}, older than ${this._seq}`);
      return;
    }
    const pins = isPins(msg.pins) ? msg.pins : undefined;
    switch (msg.type) {
      case "add":
      case "update":
        if (isObject(msg.post)) {
          if (msg.type === "add") this._delivered = true;
          this._emit(msg.type, { seq, post: msg.post, pins });
        } else console.warn(`chorus: ignoring a ${msg.type} without a post`);
        break;
      case "remove":
        if (typeof msg.id === "string") this._emit("remove", { seq, id: msg.id, pins });
        else console.warn("chorus: ignoring a remove without an id");
        break;
      case "pins":
        if (pins) this._emit("pins", { seq, pins });
        else console.warn("chorus: ignoring a pins message without a list");
        break;
      case "control":
        if (typeof msg.action === "string") this._emit("control", { seq, action: msg.action });
        else console.warn("chorus: ignoring a control without an action");
        break;
      case "air":
        this._emit("air", { seq, onAir: isObject(msg.on_air) ? msg.on_air : null });
        break;
      default:
      // a type this client does not know: "message" listeners may
    }
    this._emit("message", msg);
    if (seq !== null) this._seq = this._seq === null ? seq : Math.max(this._seq, seq);
  }

  // _snapshot delivers a snapshot unless it is older than what was
  // delivered; it returns false when it refused it.
  _snapshot(msg, seq, via) {
    if (!Array.isArray(msg.posts)) {
      console.warn("chorus: ignoring a snapshot without posts");
      return true; // malformed, not stale: keep the connection
    }
    if (this._seq !== null && (seq === null || seq < this._seq)) {
      const now = Date.now();
      if (!this._staleSince) this._staleSince = now;
      this._staleOffers++;
      if (now - this._staleSince < STALE_GIVE_UP_MS || this._staleOffers < STALE_GIVE_UP_OFFERS) {
        console.warn(`chorus: refusing a snapshot at seq ${seq} older than ${this._seq} (${via})`);
        this._emit("stale", { seq, last: this._seq, via });
        return false;
      }
      console.warn(`chorus: the server has offered only an older state for a minute (its data was reset?); taking seq ${seq}`);
    }
    this._staleSince = 0;
    this._staleOffers = 0;
    if (msg.posts.length > 0) this._delivered = true;
    const pins = isPins(msg.pins) ? msg.pins : msg.pins === null ? null : undefined;
    const onAir = isObject(msg.on_air) ? msg.on_air : null;
    this._emit("snapshot", { seq, posts: msg.posts, pins, paused: msg.paused === true, onAir, via });
    this._emit("message", msg);
    if (seq !== null) this._seq = seq;
    return true;
  }

  // ---- HTTP -----------------------------------------------------------------

  _noteRetryAfter(res) {
    const ms = retryAfterMs(res.headers.get("Retry-After"));
    if (ms > 0) this._retryAt = Math.max(this._retryAt, Date.now() + ms);
  }

  async _get(path) {
    return this._fetch(this._url(path).href, {
      cache: "no-store",
      credentials: "omit",
      headers: { Accept: "application/json" },
    });
  }

  async _fetchSnapshot() {
    if (this._httpPending) return;
    this._httpPending = true;
    this._lastHTTP = Date.now();
    try {
      const res = await this._get(`/api/v1/streams/${encodeURIComponent(this.stream)}/posts?limit=${this._limit}`);
      if (res.status === 404 || res.status === 401) {
        this._loadInfo();
        return;
      }
      if (res.status === 503 || res.status === 429) {
        this._noteRetryAfter(res);
        console.info(`chorus: the server asks to wait (HTTP ${res.status}); keeping what is shown`);
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const data = await res.json();
      if (!this._running || (this._ws && this._ws.readyState === 1)) return; // the live feed is newer
      if (!isObject(data)) throw new Error("not a snapshot");
      this._snapshot(data, seqOf(data.seq), "http");
    } catch (err) {
      console.warn("chorus: cannot load posts over HTTP", err);
    } finally {
      this._httpPending = false;
    }
  }

  async _loadInfo() {
    if (this._infoPending || !this._running) return;
    this._infoPending = true;
    clearTimeout(this._infoTimer);
    this._infoTimer = 0;
    let retry = INFO_RETRY_MS;
    try {
      const res = await this._get(`/api/v1/streams/${encodeURIComponent(this.stream)}`);
      if (res.status === 404 || res.status === 401) {
        if (!this._delivered) {
          this._becomeUnavailable(res.status === 401 ? STATUS.PRIVATE : STATUS.UNAVAILABLE);
          retry = UNAVAILABLE_RETRY_MS;
          return;
        }
        // Posts were delivered: keep them rather than go dark mid-event
        // (a viewer token that expired keeps the screen as it is).
        throw new Error(res.status === 401 ? "the viewer token was refused" : "stream not found");
      }
      if (res.status === 503 || res.status === 429) this._noteRetryAfter(res);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const info = await res.json();
      if (!isObject(info)) throw new Error("not a stream");
      this._info = info;
      if (this._fixedLimit === null) this._limit = displayLimit(info);
      retry = 0;
      this._emit("info", info);
      if (this._waiting()) {
        this._setStatus(STATUS.RECONNECTING); // the stream exists again, or lets this screen in
        this._attempt = 0;
        this._connect();
      }
    } catch (err) {
      console.warn("chorus: cannot load the stream", err);
    } finally {
      this._infoPending = false;
      if (retry && this._running) this._infoTimer = setTimeout(() => this._loadInfo(), retry);
    }
  }

  _becomeUnavailable(status) {
    clearTimeout(this._retryTimer);
    this._retryTimer = 0;
    this._closeSocket(1000, "stream not available");
    this._setStatus(status);
  }

  // _waiting reports whether the stream is missing or closed to this
  // screen: no websocket is tried until a look-up finds it open.
  _waiting() {
    return this._status === STATUS.UNAVAILABLE || this._status === STATUS.PRIVATE;
  }
}
