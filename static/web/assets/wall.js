// Chorus kiosk wall: /wall/{id}. The page module: it wires the shared
// modules (protocol.js, posts.js, cards.js, masonry.js) to the wall's page,
// and owns what only a kiosk needs: the pause slate, the unavailable page,
// the status dot, the hidden pointer and the wake lock.
//
// What it promises the screen operator:
//   - it never goes blank and never shows an error to the audience: problems
//     go to the console, the only visible sign is a small dot in a corner,
//     and while the server is away or loading the last posts stay on screen
//     (protocol.js keeps the connection promises: backoff, resume, never an
//     older state);
//   - post content is untrusted (cards.js draws it with DOM text APIs only),
//     and the wall makes no links, so a tap on a touch screen can never
//     navigate the kiosk away;
//   - cards never slide over each other, the screen stands still between
//     changes, and an older post never fills a newer one's room
//     (masonry.js); on a phone the wall is one column that scrolls;
//   - removals and pause take effect at once; other changes are drawn at the
//     next frame (at most 250 ms later).
//
// URL options: ?theme=light|dark|auto, ?columns=1..8, ?mark=off (no Chorus mark
// or name anywhere), ?header=off (no header at all), ?profile=NAME (a display
// profile; a stored default applies without it), ?token= (a private stream's
// viewer token).
//
// Test hook: window.chorusWall = { posts(), seq(), state(), settled() }.

import { StreamClient, STATUS, displayLimit } from "./protocol.js";
import { PostList, MAX_POSTS } from "./posts.js";
import { createRenderer } from "./cards.js";
import { Masonry } from "./masonry.js";
import { loadProfile, lookTokens, applyTokens, preferredLanguages, byLanguage, recentEnough, parseDuration } from "./profile.js";

const CURSOR_IDLE_MS = 3000;
const TIME_REFRESH_MS = 30_000;
const FEED_BELOW_PX = 640; // narrower screens get the scrolling phone layout
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
  unavailableTitle: $("unavailable-title"),
  unavailableText: $("unavailable-text"),
  status: $("status"),
};
const params = new URLSearchParams(location.search);

const list = new PostList({ max: MAX_POSTS }); // the display limit arrives with the stream
const cards = new Map(); // id -> { el, key }
const wall = { paused: false, unavailable: "", conn: STATUS.RECONNECTING }; // unavailable: "", "unavailable" or "private"
let client = null;

let renderer = createRenderer({ document, links: "none", onResize: () => masonry.update() });
// What a display profile asks of the wall (see applyProfile).
const look = { limit: 0, maxAge: 0, langs: [], header: "" };
const shape = { columns: 4, feed: false }; // set by fitScreen
const masonry = new Masonry(ui.posts, { columns: () => shape.columns, feed: () => shape.feed, fit: "clip" });

// ---- screen state -----------------------------------------------------------

function stateName() {
  if (wall.unavailable) return wall.unavailable;
  if (wall.paused) return "paused";
  return wall.conn;
}

function syncState() {
  body.dataset.state = stateName();
  body.dataset.conn = wall.conn;
  ui.status.setAttribute("aria-label", wall.conn === STATUS.LIVE ? "Live" : "Reconnecting");
}

function setPaused(paused) {
  if (wall.paused === paused) return;
  wall.paused = paused;
  // Everything goes, or comes back, at once.
  ui.slate.hidden = !paused || wall.unavailable !== "";
  ui.header.hidden = paused;
  ui.main.hidden = paused;
  syncState();
  if (!paused) masonry.update();
}

function setTitle(title) {
  if (look.header) title = look.header;
  ui.title.textContent = title;
  ui.slateTitle.textContent = title;
  document.title = `${title} \u00B7 Chorus`;
}

// UNAVAILABLE_TEXT is what the wall says when it cannot show its stream.
const UNAVAILABLE_TEXT = {
  [STATUS.UNAVAILABLE]: ["This wall isn\u2019t available", "Check the wall\u2019s address, or ask the event team."],
  [STATUS.PRIVATE]: ["This wall is private", "Its address needs a valid viewer token. Ask the event team for the screen\u2019s link."],
};

// setUnavailable shows why the wall cannot show its stream (STATUS.UNAVAILABLE
// or STATUS.PRIVATE), or with "" hides that page.
function setUnavailable(why) {
  if (wall.unavailable === why) return;
  const on = why !== "";
  wall.unavailable = why;
  if (on) [ui.unavailableTitle.textContent, ui.unavailableText.textContent] = UNAVAILABLE_TEXT[why];
  ui.unavailable.hidden = !on;
  ui.slate.hidden = on || !wall.paused;
  ui.header.hidden = on || wall.paused;
  ui.main.hidden = on || wall.paused;
  document.title = on ? "Chorus" : `${ui.title.textContent} \u00B7 Chorus`;
  syncState();
  if (!on) masonry.update();
}

// ---- posts ------------------------------------------------------------------

let renderFrame = 0;
let renderTimer = 0;

// scheduleRender batches changes into one DOM update per frame; the timer
// covers pages whose frames are throttled (a hidden tab).
function scheduleRender() {
  if (renderFrame) return;
  renderFrame = requestAnimationFrame(render);
  renderTimer = setTimeout(render, 250);
}

// dropStaleCards takes cards of posts the list no longer holds off the
// screen at once, not at the next frame: a takedown must not wait.
function dropStaleCards() {
  let dropped = false;
  for (const [id, card] of cards) {
    if (!list.has(id)) {
      card.el.remove();
      cards.delete(id);
      dropped = true;
    }
  }
  if (dropped) masonry.update();
}

function render() {
  cancelAnimationFrame(renderFrame);
  clearTimeout(renderTimer);
  renderFrame = 0;
  renderTimer = 0;

  const recent = recentEnough(look.maxAge);
  let ids = list.ids().filter((id) => recent(list.get(id).post));
  ids = byLanguage(ids, (id) => list.get(id).post.lang, look.langs, (id) => list.isPinned(id));
  if (look.limit) ids = ids.slice(0, look.limit); // the profile's posts, chosen after the languages
  const want = new Set(ids);
  for (const [id, card] of cards) {
    if (!want.has(id)) {
      card.el.remove();
      cards.delete(id);
    }
  }
  for (const id of ids) {
    const { post, key } = list.get(id);
    const card = cards.get(id);
    if (card && card.key === key) continue;
    let el;
    try {
      el = renderer.render(post);
    } catch (err) {
      console.error("chorus wall: cannot show post", id, err);
      continue;
    }
    if (card) {
      masonry.replace(card.el, el); // same spot
      card.el = el;
      card.key = key;
    } else {
      el.classList.add("entering");
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
  ui.empty.hidden = cards.size > 0;
  ui.posts.setAttribute("aria-busy", "false");
  masonry.update();
}

// fitScreen picks the layout for the screen: a scrolling column on a
// narrow one, else masonry columns (from ?columns= or the screen's shape),
// whose count also sets the root font size (wall.css's --cols).
function fitScreen() {
  const w = window.innerWidth || 1280;
  const h = window.innerHeight || 720;
  let n;
  const forced = Number.parseInt(params.get("columns") || "", 10);
  if (forced >= 1) {
    n = Math.min(forced, 8);
  } else {
    const byShape = Math.max(2, Math.min(6, Math.round((w / h) * 2.25)));
    n = Math.max(1, Math.min(byShape, Math.floor(w / 300)));
  }
  const feed = w < FEED_BELOW_PX;
  if (feed) n = 1;
  root.classList.toggle("feed", feed);
  if (root.style.getPropertyValue("--cols") !== String(n)) root.style.setProperty("--cols", String(n));
  shape.columns = n;
  shape.feed = feed;
}

// ---- the stream -------------------------------------------------------------

function connect(id) {
  client = new StreamClient(id, { token: params.get("token") || "", surface: "wall" });
  client.on("snapshot", ({ posts, pins, paused }) => {
    list.reset(posts, pins);
    dropStaleCards();
    setPaused(paused);
    scheduleRender();
  });
  const changed = (yes) => {
    if (!yes) return;
    dropStaleCards(); // a removal, or the oldest making room
    scheduleRender();
  };
  client.on("add", ({ post, pins }) => changed(list.add(post, pins)));
  client.on("update", ({ post, pins }) => changed(list.update(post, pins)));
  client.on("remove", ({ id: postID, pins }) => changed(list.remove(postID, pins)));
  client.on("pins", ({ pins }) => changed(list.setPins(pins)));
  client.on("control", ({ action }) => {
    if (action === "pause") setPaused(true);
    else if (action === "resume") setPaused(false);
  });
  client.on("info", (info) => {
    const title = typeof info.title === "string" ? info.title.trim() : "";
    setTitle(title || id);
    list.limit = displayLimit(info);
    dropStaleCards();
    scheduleRender();
  });
  client.on("status", (status) => {
    if (status === STATUS.UNAVAILABLE || status === STATUS.PRIVATE) {
      setUnavailable(status);
      return;
    }
    setUnavailable("");
    wall.conn = status;
    syncState();
  });
  client.start();
}

// applyProfile applies a display profile named with ?profile=, or a stored
// default (the built-in default is the widgets' look: the wall keeps its own
// until one is stored). URL options win over it.
async function applyProfile(id) {
  const named = params.get("profile");
  const doc = await loadProfile(new StreamClient(id, { token: params.get("token") || "" }), named || "default");
  if (!doc.loaded || (!named && !doc.stored)) return;
  const p = doc.profile;
  if (!params.get("theme")) root.dataset.theme = p.theme;
  applyTokens(root.style, lookTokens(p, doc.fontFamily));
  if (!p.show_mark && params.get("mark") === null) root.dataset.mark = "off";
  if (doc.logoSrc) {
    const logo = document.createElement("img");
    logo.className = "logo";
    logo.alt = "";
    logo.referrerPolicy = "no-referrer";
    logo.src = doc.logoSrc;
    ui.header.insertBefore(logo, ui.title);
  }
  look.header = p.header;
  look.limit = Math.min(p.posts, MAX_POSTS);
  look.maxAge = parseDuration(p.max_age) || 0;
  look.langs = preferredLanguages(p);
  renderer = createRenderer({ document, links: "none", fields: { ...p.fields }, onResize: () => masonry.update() });
  // The calm between layout steps is the pace, less the glide and the fade.
  const pace = parseDuration(p.pace);
  if (pace) root.style.setProperty("--chorus-hold", `${Math.max(0, pace - 1500) / 1000}s`);
}

// ---- kiosk niceties ---------------------------------------------------------

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

// ---- start ------------------------------------------------------------------

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

const isOff = (v) => v !== null && /^(0|off|false|no|hide)$/i.test(v.trim());

function start() {
  const theme = params.get("theme");
  if (theme === "light" || theme === "dark" || theme === "auto") root.dataset.theme = theme;
  if (isOff(params.get("mark"))) root.dataset.mark = "off";
  if (isOff(params.get("header"))) root.dataset.header = "off";

  window.chorusWall = Object.freeze({
    posts: () => Array.from(ui.posts.children, (el) => el.dataset.id),
    seq: () => (client ? client.seq : null),
    state: () => stateName(),
    settled: () => !renderFrame && masonry.settled(),
  });

  addEventListener("mousemove", showCursor, { passive: true });
  addEventListener("pointerdown", showCursor, { passive: true });
  showCursor();
  keepAwake();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    keepAwake();
    scheduleRender();
  });
  fitScreen();
  addEventListener("resize", () => {
    fitScreen();
    masonry.update();
  });
  if ("ResizeObserver" in window) new ResizeObserver(() => masonry.update()).observe(ui.main);
  setInterval(() => renderer.refreshTimes(ui.posts), TIME_REFRESH_MS);

  const id = streamFromPath(location.pathname);
  if (!id) {
    setUnavailable(true); // not a stream id: nothing to look up
    return;
  }
  setTitle(id);
  syncState();
  applyProfile(id)
    .catch((err) => console.warn("chorus wall: cannot apply the display profile", err))
    .finally(() => {
      setTitle(id);
      connect(id);
    });
}

try {
  start();
} catch (err) {
  console.error("chorus wall: failed to start", err);
}
