// Chorus console: the page moderators, managers and owners work in. This
// module is the shell: who is signed in, which stream and view the address
// names, the live feed, the pause button, undo, toasts and dialogs. Each
// view is its own module.
//
// What it promises:
//   - one live feed (/ws/console through protocol.js: resume with since,
//     backoff) keeps every view current; when it restarts, views reload;
//   - the pause button of the stream shown is always visible to those who
//     may use it, asks first, and says when screens are paused;
//   - the last action can be undone with u (or the toast's button) for 10 s;
//   - an ended session leads to the sign-in page, and back;
//   - no view ever puts text from a post, a user or the server into HTML.

import { api, whoami, path, may, ApiError } from "./api.js";
import { h, clear, $, num, refreshTimes, announce } from "./dom.js";
import { Keyboard, fillHelp } from "./keyboard.js";
import { StreamClient } from "./protocol.js";
import { mountOverview } from "./overview.js";
import { mountQueue, mountSearch } from "./moderate.js";
import { mountScreen } from "./screen.js";
import { mountAudit } from "./audit.js";
import { mountSettings, mountNewStream } from "./settings.js";
import { mountSources } from "./sources.js";
import { mountProfiles } from "./profiles.js";
import { mountUsers, mountKeys, mountAccount } from "./people.js";

const UNDO_MS = 10_000;
const THEME_KEY = "chorus.console.theme";

/** Listeners is a tiny event emitter. */
class Listeners {
  constructor() {
    this._m = new Map();
  }
  on(type, fn) {
    if (!this._m.has(type)) this._m.set(type, new Set());
    this._m.get(type).add(fn);
    return () => this._m.get(type).delete(fn);
  }
  emit(type, v) {
    for (const fn of this._m.get(type) || []) {
      try {
        fn(v);
      } catch (err) {
        console.error(`console: a ${type} listener failed`, err);
      }
    }
  }
}

const app = {
  session: null,
  streams: [], // [{id, title, moderation, ...}] the caller may see
  figures: new Map(), // id -> figures from the feed
  keyboard: new Keyboard(),
  events: new Listeners(), // "changes" {stream, seq, posts}, "figures", "resync", "route"
  stream: "", // the stream the view is about
  lastUndo: null,

  may(need, stream = this.stream) {
    return may(this.session, need, stream);
  },

  /** go navigates inside the console without reloading the page. */
  go(url, { replace = false } = {}) {
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    route();
  },

  streamTitle(id) {
    const s = this.streams.find((x) => x.id === id);
    return (s && s.title) || id;
  },

  async refreshStreams() {
    const data = await api("GET", "/api/v1/streams");
    const all = Array.isArray(data && data.streams) ? data.streams : [];
    this.streams = all.filter((s) => this.may("viewer", s.id));
    fillStreamPicker();
  },

  /**
   * toast shows a message at the bottom; with undo, it offers "Undo (u)"
   * for 10 s, and u does the same.
   */
  toast(text, { undo, kind = "info", timeout } = {}) {
    const box = $("#toasts");
    const t = h("div", { className: `toast toast-${kind}`, attrs: { role: kind === "error" ? "alert" : "status" } }, h("span", {}, text));
    let timer = 0;
    const close = () => {
      clearTimeout(timer);
      t.remove();
      if (app.lastUndo && app.lastUndo.toast === t) app.lastUndo = null;
    };
    if (undo) {
      const entry = { toast: t, at: Date.now(), run: undo };
      app.lastUndo = entry;
      t.append(
        h(
          "button",
          {
            type: "button",
            className: "btn quiet",
            onclick: () => runUndo(entry),
          },
          "Undo ",
          h("kbd", {}, "u"),
        ),
      );
    }
    t.append(h("button", { type: "button", className: "icon-btn close", aria: { label: "Dismiss" }, onclick: close }, "\u00D7"));
    while (box.childElementCount >= 4) box.firstElementChild.remove();
    box.append(t);
    timer = setTimeout(close, timeout || (undo ? UNDO_MS : kind === "error" ? 12_000 : 5000));
    return close;
  },

  error(err, what) {
    if (err instanceof ApiError && err.status === 401) return; // on the way to sign in
    const msg = err && err.message ? err.message : String(err);
    this.toast(what ? `${what}: ${msg}` : msg, { kind: "error" });
  },

  /**
   * confirm asks a yes/no question in a dialog: resolves { ok, reason }.
   * ok is focused, so Enter confirms and Escape cancels.
   */
  confirm({ title, text, ok = "Confirm", danger = true, reason = false }) {
    const dlg = $("#confirm");
    $("#confirm-title").textContent = title;
    $("#confirm-text").textContent = text;
    const okBtn = $("#confirm-ok");
    okBtn.textContent = ok;
    okBtn.className = danger ? "btn danger" : "btn primary";
    $("#confirm-reason-field").hidden = !reason;
    $("#confirm-reason").value = "";
    const back = document.activeElement;
    return new Promise((resolve) => {
      dlg.returnValue = "";
      // The close event comes a moment after the dialog closed: one left
      // over from the dialog before (Escape, then b again at once) arrives
      // while this one is open, and must not answer it.
      const onClose = () => {
        if (dlg.open) return;
        dlg.removeEventListener("close", onClose);
        resolve({ ok: dlg.returnValue === "ok", reason: $("#confirm-reason").value.trim() });
        if (back && back.isConnected) back.focus({ preventScroll: true });
      };
      dlg.addEventListener("close", onClose);
      dlg.showModal();
      okBtn.focus();
    });
  },
};

async function runUndo(entry) {
  if (!entry || app.lastUndo !== entry) return false;
  app.lastUndo = null;
  entry.toast.remove();
  if (Date.now() - entry.at > UNDO_MS) {
    app.toast("Too late to undo (10 s); do the opposite action instead.");
    return true;
  }
  try {
    await entry.run();
    app.toast("Undone.");
  } catch (err) {
    app.error(err, "Could not undo");
  }
  return true;
}

// ---- theme ----------------------------------------------------------------

function applyTheme(theme) {
  const t = ["light", "dark", "auto"].includes(theme) ? theme : "auto";
  document.documentElement.dataset.theme = t;
  for (const r of document.querySelectorAll('input[name="theme"]')) r.checked = r.value === t;
}

function setupTheme() {
  let saved = "auto";
  try {
    saved = localStorage.getItem(THEME_KEY) || "auto";
  } catch {
    // storage off: the system's choice
  }
  applyTheme(saved);
  for (const r of document.querySelectorAll('input[name="theme"]')) {
    r.addEventListener("change", () => {
      applyTheme(r.value);
      try {
        localStorage.setItem(THEME_KEY, r.value);
      } catch {
        // not kept, fine
      }
    });
  }
}

// ---- header -----------------------------------------------------------------

function fillStreamPicker() {
  const sel = $("#stream-select");
  clear(sel);
  for (const s of app.streams) sel.append(h("option", { value: s.id, title: s.id }, s.title || s.id));
  sel.value = app.stream;
}

// The header stays on top: what scrolls under it (the selected post, the
// bulk bar, the paused banner) keeps clear of its height.
function trackHeaderHeight() {
  const bar = $("#bar");
  const set = () => document.documentElement.style.setProperty("--bar-h", `${Math.ceil(bar.getBoundingClientRect().height)}px`);
  set();
  if (typeof ResizeObserver === "function") new ResizeObserver(set).observe(bar);
}

function setupHeader() {
  trackHeaderHeight();
  const s = app.session;
  $("#me-name").textContent = s.user;
  $("#me-user").textContent = s.user;
  $("#me-role").textContent = `${s.role}${s.all_streams ? " of every stream" : ` of ${s.streams.join(", ")}`}`;
  $("#me-initial").textContent = (s.user || "?").charAt(0).toUpperCase();
  for (const el of document.querySelectorAll("[data-needs]")) el.hidden = !may(s, el.dataset.needs);
  $("#stream-select").addEventListener("change", (ev) => {
    const tab = tabOf(location.pathname) || "queue";
    app.go(`/console/streams/${encodeURIComponent(ev.target.value)}/${tab}`);
  });
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest("a[href^='/console']");
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey || a.target) return;
    ev.preventDefault();
    $("#menu").open = false;
    app.go(a.getAttribute("href"));
  });
  $("#help-btn").addEventListener("click", showHelp);
  $("#pause").addEventListener("click", togglePause);
  $("#resume").addEventListener("click", togglePause);
  $("#sign-out").addEventListener("click", () => signOut("/api/v1/session"));
  $("#sign-out-all").addEventListener("click", () => signOut("/api/v1/sessions"));
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && $("#menu").open) {
      $("#menu").open = false;
      $("#menu summary").focus();
    }
  });
}

async function signOut(p) {
  try {
    await api("DELETE", p);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      app.error(err, "Could not sign out");
      return;
    }
  }
  location.assign("/login");
}

function showHelp() {
  fillHelp($("#help-keys"), app.keyboard.helpRows());
  const dlg = $("#help");
  if (!dlg.open) dlg.showModal();
}

// ---- pause ----------------------------------------------------------------

function pausedNow(id) {
  const f = app.figures.get(id);
  return !!(f && f.paused);
}

function showPause() {
  const id = app.stream;
  const btn = $("#pause");
  const banner = $("#paused-banner");
  const can = !!id && app.may("moderator", id);
  const paused = !!id && pausedNow(id);
  btn.hidden = !can;
  // "screens" goes on phones, where the header has no room to spare.
  btn.replaceChildren(h("span", {}, paused ? "Resume" : "Pause", h("span", { className: "pause-more" }, " screens")));
  btn.classList.toggle("is-paused", paused);
  btn.setAttribute("aria-pressed", String(paused));
  banner.hidden = !paused;
  $("#resume").hidden = !can;
  $("#paused-title").textContent = app.streamTitle(id);
  document.body.classList.toggle("paused", paused);
}

async function togglePause() {
  const id = app.stream;
  if (!id || !app.may("moderator", id)) return;
  const pause = !pausedNow(id);
  const title = app.streamTitle(id);
  const answer = await app.confirm(
    pause
      ? {
          title: `Pause every screen of ${title}?`,
          text: "Every wall, widget and overlay of this stream hides its posts and shows the slate within a second, until someone resumes.",
          ok: "Pause screens",
          reason: true,
        }
      : { title: `Resume the screens of ${title}?`, text: "Every screen shows its posts again.", ok: "Resume screens", danger: false, reason: true },
  );
  if (!answer.ok) return;
  try {
    await api("POST", path("streams", id, pause ? "pause" : "resume"), answer.reason ? { reason: answer.reason } : undefined);
    const f = app.figures.get(id) || { id };
    app.figures.set(id, { ...f, paused: pause });
    showPause();
    announce(pause ? "Screens paused" : "Screens resumed");
    app.toast(pause ? `Screens of ${title} paused: they show the slate.` : `Screens of ${title} resumed.`);
  } catch (err) {
    app.error(err, pause ? "Could not pause" : "Could not resume");
  }
}

// ---- feed -----------------------------------------------------------------

let feed = null;
let reconnectCheck = 0;

function startFeed() {
  feed = new StreamClient("console", { socketPath: "/ws/console" });
  feed.on("message", (msg) => {
    if (msg.type === "snapshot") {
      for (const f of Array.isArray(msg.figures) ? msg.figures : []) app.figures.set(f.id, f);
      app.events.emit("figures", null);
      app.events.emit("resync", msg.seq);
      showPause();
    } else if (msg.type === "changes" && typeof msg.stream === "string" && Array.isArray(msg.posts)) {
      app.events.emit("changes", { stream: msg.stream, seq: Number(msg.seq) || 0, posts: msg.posts });
    } else if (msg.type === "figures" && Array.isArray(msg.streams)) {
      for (const f of msg.streams) app.figures.set(f.id, f);
      app.events.emit("figures", null);
      showPause();
      showHeld();
    }
  });
  feed.on("status", (status) => {
    const conn = $("#conn");
    conn.dataset.status = status;
    conn.querySelector(".conn-text").textContent = status === "live" ? "Live" : "Reconnecting";
    clearTimeout(reconnectCheck);
    // A feed that will not come back may mean the session ended.
    if (status !== "live") reconnectCheck = setTimeout(() => whoami(true).catch(() => {}), 3000);
  });
  feed.start();
}

function showHeld() {
  const f = app.figures.get(app.stream);
  $("#tab-held").textContent = f ? num(f.held) : "";
}

// ---- routing ----------------------------------------------------------------

const TABS = {
  queue: mountQueue,
  screen: mountScreen,
  search: mountSearch,
  audit: mountAudit,
  settings: mountSettings,
  profiles: mountProfiles,
};

function tabOf(pathname) {
  const m = /^\/console\/streams\/[^/]+\/([a-z]+)/.exec(pathname);
  return m ? m[1] : "";
}

let unmount = null;

function route() {
  if (unmount) {
    try {
      unmount();
    } catch (err) {
      console.error("console: unmount failed", err);
    }
    unmount = null;
  }
  const main = $("#main");
  clear(main);
  for (const d of document.querySelectorAll("dialog[open]")) d.close();
  const parts = location.pathname.replace(/\/+$/, "").split("/").slice(2).map(decodeURIComponent);
  let mount = mountOverview;
  let stream = "";
  let tab = "";
  const params = new URLSearchParams(location.search);
  if (parts[0] === "streams" && parts[1]) {
    stream = parts[1];
    tab = parts[2] || "queue";
    mount = TABS[tab];
  } else if (parts[0]) {
    mount = { new: mountNewStream, sources: mountSources, users: mountUsers, keys: mountKeys, account: mountAccount }[parts[0]];
  }
  app.stream = stream;
  app.keyboard.view = tab || parts[0] || "overview";
  document.body.dataset.view = app.keyboard.view;
  $("#stream-pick").hidden = !stream;
  $("#tabs").hidden = !stream;
  if (stream) {
    fillStreamPicker();
    for (const a of document.querySelectorAll("#tabs a")) {
      a.href = `/console/streams/${encodeURIComponent(stream)}/${a.dataset.tab}`;
      if (a.dataset.tab === tab) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
      if (a.dataset.needs) a.hidden = !app.may(a.dataset.needs, stream);
    }
  }
  showPause();
  showHeld();
  if (!mount || (stream && !app.streams.some((s) => s.id === stream))) {
    main.append(
      h(
        "section",
        { className: "empty-state" },
        h("h1", {}, stream ? "No such stream" : "Page not found"),
        h("p", {}, stream ? `You have no stream “${stream}”, or it was deleted.` : "The console has no page here."),
        h("p", {}, h("a", { href: "/console" }, "All streams")),
      ),
    );
    document.title = "Not found · Chorus console";
    return;
  }
  document.title = `${stream ? `${app.streamTitle(stream)} · ${tab}` : "Streams"} · Chorus console`;
  unmount = mount(app, main, { stream, params }) || null;
  app.events.emit("route", null);
}

// ---- keys the shell answers ---------------------------------------------------

function setupKeys() {
  const k = app.keyboard;
  k.on("help", showHelp);
  k.on("undo", () => {
    if (!app.lastUndo) {
      app.toast("Nothing to undo.");
      return;
    }
    runUndo(app.lastUndo);
  });
  k.on("search", () => {
    if (!app.stream) return false;
    if (tabOf(location.pathname) === "search") {
      $("#q")?.focus();
      return;
    }
    app.go(`/console/streams/${encodeURIComponent(app.stream)}/search`);
  });
  k.on("queue", () => (app.stream ? app.go(`/console/streams/${encodeURIComponent(app.stream)}/queue`) : false));
  k.on("screen", () => (app.stream ? app.go(`/console/streams/${encodeURIComponent(app.stream)}/screen`) : false));
  k.on("pause", () => {
    if (!app.stream || !app.may("moderator")) return false;
    togglePause();
  });
  k.on("escape", () => {
    if ($("#menu").open) {
      $("#menu").open = false;
      return;
    }
    app.events.emit("escape", null);
  });
}

// ---- start --------------------------------------------------------------------

async function start() {
  setupTheme();
  try {
    app.session = await whoami();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      clear($("#main")).append(h("p", { className: "error", attrs: { role: "alert" } }, `The console could not start: ${err.message || err}`));
    }
    return;
  }
  if (app.session.kind === "key" || app.session.kind === "token") {
    clear($("#main")).append(h("p", { className: "error", attrs: { role: "alert" } }, "The console is for people who sign in."));
    return;
  }
  setupHeader();
  setupKeys();
  try {
    await app.refreshStreams();
    const data = await api("GET", "/api/v1/overview");
    for (const f of data.streams || []) app.figures.set(f.id, f);
  } catch (err) {
    app.error(err, "Could not load the streams");
  }
  window.addEventListener("popstate", route);
  setInterval(() => refreshTimes(document), 15_000);
  startFeed();
  document.body.dataset.state = "ready";
  route();
}

// Test hooks: the browser tests read state through these, never internals.
window.chorusConsole = {
  ready: () => document.body.dataset.state === "ready",
  live: () => feed !== null && feed.status === "live",
  view: () => app.keyboard.view,
  figures: (id) => app.figures.get(id) || null,
};

start();
