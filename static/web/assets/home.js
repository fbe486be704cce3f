// Chorus home page: lists the streams with links to their walls and feeds.
// Stream titles are data, so they reach the page through DOM text APIs only.
"use strict";

(() => {
  const list = document.getElementById("stream-list");
  const status = document.getElementById("streams-status");

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

  function streamItem(s) {
    const id = typeof s.id === "string" ? s.id : "";
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
      meta.append(make("span", "pill", s.moderation === "manual" ? "manual moderation" : `${s.moderation} moderation`));
    }
    const n = Number(s.display_limit);
    if (Number.isInteger(n) && n > 0) meta.append(make("span", "pill", `up to ${n} posts on screen`));
    main.append(h, meta);

    const links = make("div", "stream-links");
    links.append(
      link(`/wall/${enc}`, "button primary", "Open wall", `Open wall: ${title}`),
      link(`/api/v1/streams/${enc}/posts`, "button", "JSON", `Posts of ${title} as JSON`),
    );
    li.append(main, links);
    return li;
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
    try {
      const res = await fetch("/api/v1/streams", { headers: { Accept: "application/json" }, cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const data = await res.json();
      const streams = Array.isArray(data && data.streams) ? data.streams.filter((s) => s && typeof s.id === "string" && s.id) : [];
      list.replaceChildren(...streams.map(streamItem));
      if (streams.length > 0) {
        const example = document.getElementById("kiosk-example");
        if (example) {
          example.textContent = `chromium --kiosk --noerrdialogs ${location.origin}/wall/${encodeURIComponent(streams[0].id)}`;
        }
      }
      if (streams.length === 0) {
        showStatus("No streams yet. Declare one under \u201Cstreams\u201D in the config file, then restart or reload the configuration.");
      } else {
        status.hidden = true;
      }
    } catch (err) {
      console.warn("chorus: cannot load streams", err);
      showStatus("Couldn\u2019t load the streams. Is the server running?", true);
    }
  }

  load();
})();
