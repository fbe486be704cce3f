// Chorus home page: lists the public streams and leads each kind of user
// to their surface: the kiosk wall, the widget for brand sites, the
// broadcast overlay, and the feeds; the "How to use" examples name the
// first stream and the origin this page is served from.
// Stream titles are data, so they reach the page through DOM text APIs only.
"use strict";

(() => {
  const list = document.getElementById("stream-list");
  const status = document.getElementById("streams-status");
  const LAYOUTS = ["masonry", "grid", "carousel", "ticker", "spotlight", "list"];

  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function link(href, className, text, label) {
    const a = make("a", className, text);
    a.href = href;
    if (label) a.setAttribute("aria-label", label);
    return a;
  }

  // attr quotes a value for an HTML attribute in a snippet people paste.
  function attr(v) {
    return String(v).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function streamItem(s, i) {
    const id = s.id;
    const title = (typeof s.title === "string" && s.title.trim()) || id;
    const enc = encodeURIComponent(id);

    const li = make("li", "stream");
    li.dataset.id = id;
    const main = make("div", "stream-main");
    const h = make("h3", "stream-title", title);
    h.dir = "auto";
    const meta = make("p", "stream-meta");
    meta.append(make("code", "stream-id", id));
    if (typeof s.moderation === "string" && s.moderation) {
      meta.append(make("span", "pill", `${s.moderation} moderation`));
    }
    const n = Number(s.display_limit);
    if (Number.isInteger(n) && n > 0) meta.append(make("span", "pill", `up to ${n} posts on screen`));
    main.append(h, meta);

    const actions = make("div", "stream-links");
    const more = make("button", "button quiet more", "Feeds");
    more.type = "button";
    const panelID = `stream-more-${i}`;
    more.setAttribute("aria-expanded", "false");
    more.setAttribute("aria-controls", panelID);
    more.setAttribute("aria-label", `Feeds and data: ${title}`);
    actions.append(
      link(`/wall/${enc}`, "button primary", "Open wall", `Open wall: ${title}`),
      link(`/embed/${enc}`, "button quiet", "Widget", `Widget preview: ${title}`),
      link(`/overlay/${enc}`, "button quiet", "Overlay", `Broadcast overlay: ${title}`),
      more,
    );

    const panel = make("div", "stream-more");
    panel.id = panelID;
    panel.hidden = true;
    const feeds = make("ul", "chips");
    for (const [href, text] of [
      [`/api/v1/streams/${enc}/posts`, "Posts (JSON)"],
      [`/api/v1/streams/${enc}/cards.html`, "Email cards"],
      [`/feeds/${enc}.atom`, "Atom"],
      [`/feeds/${enc}.rss`, "RSS"],
      [`/feeds/${enc}.json`, "JSON Feed"],
    ]) {
      const item = make("li");
      item.append(link(href, "chip", text));
      feeds.append(item);
    }
    panel.append(feeds);
    more.addEventListener("click", () => {
      const open = more.getAttribute("aria-expanded") !== "true";
      more.setAttribute("aria-expanded", String(open));
      panel.hidden = !open;
    });

    li.append(main, actions, panel);
    return li;
  }

  // examples fills the "How to use" snippets for stream id (or the
  // placeholder) on the origin this page is served from.
  function examples(id) {
    const origin = location.origin;
    const enc = encodeURIComponent(id);
    const set = (elID, text) => {
      const el = document.getElementById(elID);
      if (el) el.textContent = text;
    };
    set("kiosk-example", `chromium --kiosk --noerrdialogs ${origin}/wall/${enc}`);
    set("overlay-example", `${origin}/overlay/${enc}`);
    set("embed-example", `<script src="${attr(origin)}/embed.js" async></script>\n<chorus-wall stream="${attr(id)}" layout="masonry"></chorus-wall>`);
  }

  // layoutLinks turns the layout names into previews of the stream in each.
  function layoutLinks(id) {
    const box = document.getElementById("layout-links");
    if (!box) return;
    const enc = encodeURIComponent(id);
    const parts = [];
    LAYOUTS.forEach((name, i) => {
      if (i > 0) parts.push(i === LAYOUTS.length - 1 ? " or " : ", ");
      const a = link(`/embed/${enc}?layout=${name}`, "", "", `Preview the ${name} layout`);
      a.append(make("code", "", name));
      parts.push(a);
    });
    box.replaceChildren(...parts);
  }

  // copy puts a snippet on the clipboard and says so; where the Clipboard
  // API is missing or refused, it selects the text for Ctrl+C instead.
  async function copy(button) {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const say = (text) => {
      button.textContent = text;
      clearTimeout(button._reset);
      button._reset = setTimeout(() => { button.textContent = "Copy"; }, 2500);
    };
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
      await navigator.clipboard.writeText(source.textContent);
      say("Copied");
      announce("Copied to the clipboard.");
    } catch (err) {
      const range = document.createRange();
      range.selectNodeContents(source);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      const keys = /Mac|iP(hone|ad)/.test(navigator.platform) ? "\u2318C" : "Ctrl+C";
      say(`Press ${keys}`);
      announce(`Selected. Press ${keys} to copy.`);
    }
  }

  const live = make("p", "visually-hidden");
  live.setAttribute("role", "status");
  document.body.append(live);
  function announce(text) {
    live.textContent = text;
  }

  for (const b of document.querySelectorAll("button.copy[data-copy]")) {
    b.addEventListener("click", () => copy(b));
  }

  function showStatus(text, retry) {
    status.replaceChildren(document.createTextNode(text));
    if (retry) {
      const b = make("button", "button small", "Try again");
      b.type = "button";
      b.addEventListener("click", load);
      status.append(" ", b);
    }
    status.hidden = false;
  }

  async function load() {
    showStatus("Loading streams\u2026");
    examples("your-stream");
    try {
      const res = await fetch("/api/v1/streams", { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const data = await res.json();
      const streams = Array.isArray(data && data.streams) ? data.streams.filter((s) => s && typeof s.id === "string" && s.id) : [];
      list.replaceChildren(...streams.map(streamItem));
      if (streams.length === 0) {
        showStatus("No streams yet. Declare one under \u201Cstreams\u201D in the config file, then restart or reload the configuration, or create one in the ");
        status.append(link("/console", "", "console"), " as an owner.");
        return;
      }
      examples(streams[0].id);
      layoutLinks(streams[0].id);
      status.hidden = true;
    } catch (err) {
      console.warn("chorus: cannot load streams", err);
      showStatus("Couldn\u2019t load the streams. Is the server running?", true);
    }
  }

  load();
})();
