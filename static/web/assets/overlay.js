// Chorus broadcast overlay: /overlay/{id}, a transparent page for OBS, vMix
// and CasparCG browser sources (1920x1080). It shows the post that is on air
// and nothing else. The page module: it wires protocol.js, cards.js and
// profile.js to the page.
//
// What it promises the broadcaster:
//   - the background is transparent; only the card on air is drawn, inside
//     the title-safe area, with an in and an out animation;
//   - what is on air is the stream's on-air state (the display protocol's
//     air messages and the snapshot's on_air), the same on every overlay on
//     every node, and it survives restarts: producers change it with the
//     air, next and clear actions, never the page;
//   - a post taken off the screens (removed, its author hidden or banned)
//     leaves the air at once, and the stream's pause takes the card off
//     until it resumes;
//   - post content is untrusted: cards.js draws it with DOM text APIs only,
//     no links; images only from Chorus (its media proxy);
//   - while disconnected it keeps what is on air and reconnects by itself
//     (protocol.js): a dropped connection never drops the graphic.
//
// URL options: ?layout=lower (a lower third, the default) or full (a
// full-frame card), ?profile=NAME (theme, colours, font and card fields of a
// display profile), ?theme=light|dark, ?token= (a private stream's viewer
// token).
//
// Test hook: window.chorusOverlay = { onAir(), state(), seq() }.

import { StreamClient, STATUS } from "./protocol.js";
import { createRenderer } from "./cards.js";
import { loadProfile, lookTokens, applyTokens, parseDuration } from "./profile.js";

const STREAM_RE = /^[a-z0-9_-]{1,64}$/;
const params = new URLSearchParams(location.search);
const root = document.documentElement;
const slot = document.getElementById("slot");

const show = {
  onAir: null, // { post, at, advance_ms } from the server, or null
  paused: false,
  card: null, // the card element in the slot
  key: "", // what the card was drawn from
  timer: null, // the auto-advance line's animation
};
let renderer = createRenderer({ document, links: "none", images: "site", fields: { counts: false } });
let client = null;

function streamFromPath(path) {
  const m = /^\/overlay\/([^/]+)\/?$/.exec(path);
  if (!m) return "";
  try {
    const id = decodeURIComponent(m[1]);
    return STREAM_RE.test(id) ? id : "";
  } catch {
    return "";
  }
}

const isObject = (v) => !!v && typeof v === "object" && !Array.isArray(v);

// takeOnAir reads an on_air value: { post, at, advance_ms } or null.
function takeOnAir(v) {
  if (!isObject(v) || !isObject(v.post) || typeof v.post.id !== "string") return null;
  return v;
}

function outMs() {
  return parseDuration(getComputedStyle(root).getPropertyValue("--overlay-out").trim()) ?? 450;
}

// leave plays the card's out animation and removes it.
function leave(card) {
  if (!card) return;
  card.classList.remove("in");
  card.classList.add("out");
  const done = () => card.remove();
  card.addEventListener("transitionend", done, { once: true });
  setTimeout(done, outMs() + 200);
}

// draw makes what is shown match show.onAir (and pause).
function draw() {
  const want = show.paused ? null : show.onAir;
  const key = want ? JSON.stringify(want) : "";
  if (key === show.key) return;
  const old = show.card;
  show.key = key;
  show.card = null;
  show.timer?.cancel();
  show.timer = null;
  if (!want) {
    leave(old);
    syncState();
    return;
  }
  let card;
  try {
    card = renderer.render(want.post);
  } catch (err) {
    console.error("chorus overlay: cannot show the post on air", err);
    leave(old);
    syncState();
    return;
  }
  const sameOld = old && old.dataset.id === want.post.id;
  if (sameOld) {
    // The same post, changed (an edit, a new timer): swap in place.
    card.classList.add("in");
    old.replaceWith(card);
  } else {
    leave(old);
    slot.append(card);
    void card.offsetWidth; // start from the "before" state
    card.classList.add("in");
  }
  show.card = card;
  const advance = Number(want.advance_ms);
  const at = Date.parse(want.at);
  if (advance > 0 && Number.isFinite(at)) {
    const line = document.createElement("div");
    line.className = "timer";
    line.setAttribute("aria-hidden", "true");
    card.append(line);
    const left = Math.max(0, at + advance - Date.now());
    show.timer = line.animate([{ transform: `scaleX(${Math.min(1, left / advance)})` }, { transform: "scaleX(0)" }], {
      duration: left,
      fill: "forwards",
    });
  }
  syncState();
}

function syncState() {
  document.body.dataset.state = show.card ? "in" : "out";
  document.body.dataset.onAir = show.card ? show.card.dataset.id : "";
}

function connect(id) {
  client = new StreamClient(id, { token: params.get("token") || "", surface: "overlay" });
  client.on("snapshot", ({ paused, onAir }) => {
    show.paused = paused;
    show.onAir = takeOnAir(onAir);
    draw();
  });
  client.on("air", ({ onAir }) => {
    show.onAir = takeOnAir(onAir);
    draw();
  });
  client.on("update", ({ post }) => {
    if (show.onAir && post.id === show.onAir.post.id) {
      show.onAir = { ...show.onAir, post };
      draw();
    }
  });
  client.on("remove", ({ id: postID }) => {
    if (show.onAir && postID === show.onAir.post.id) {
      show.onAir = null;
      draw();
    }
  });
  client.on("control", ({ action }) => {
    if (action === "pause" || action === "resume") {
      show.paused = action === "pause";
      draw();
    }
  });
  // Nothing about the connection ever shows on air: a producer finds it in
  // the browser source's console and in body[data-conn].
  client.on("status", (status) => {
    document.body.dataset.conn = status;
    if (status === STATUS.PRIVATE) console.error(`chorus overlay: ${id} is private and refused this address's viewer token (?token=)`);
    else if (status === STATUS.UNAVAILABLE) console.error(`chorus overlay: there is no stream ${id}`);
  });
  client.start();
}

async function start() {
  const layout = params.get("layout") === "full" ? "full" : "lower";
  root.dataset.layout = layout;
  window.chorusOverlay = Object.freeze({
    onAir: () => (show.card ? show.card.dataset.id : null),
    state: () => document.body.dataset.state,
    seq: () => (client ? client.seq : null),
  });
  const id = streamFromPath(location.pathname);
  if (!id) {
    console.error("chorus overlay: the address names no stream: /overlay/<stream id>");
    return;
  }
  // The profile's look, before anything is drawn.
  const probe = new StreamClient(id, { token: params.get("token") || "", surface: "overlay" });
  const doc = await loadProfile(probe, params.get("profile") || "default");
  const theme = params.get("theme");
  root.dataset.theme = ["light", "dark"].includes(theme) ? theme : doc.loaded && doc.profile.theme !== "auto" ? doc.profile.theme : "dark";
  applyTokens(root.style, lookTokens(doc.profile, doc.fontFamily));
  const fields = doc.profile.fields;
  renderer = createRenderer({
    document,
    links: "none",
    images: "site",
    fields: { avatar: fields.avatar, handle: fields.handle, network: fields.network, time: fields.time, media: fields.media, counts: false, flags: false },
  });
  connect(id);
}

start().catch((err) => console.error("chorus overlay: failed to start", err));
