// Chorus console overview: every stream the moderator may see, live: held
// posts, approved in the last hour, connected screens, paused state and
// moderation mode. Figures come from GET /api/v1/overview, then from the
// feed as they change.

import { api } from "./api.js";
import { h, clear, num } from "./dom.js";

function figure(value, labelText, cls = "") {
  return h("div", { className: `fig ${cls}`.trim() }, h("span", { className: "fig-value" }, value), h("span", { className: "fig-label" }, labelText));
}

function streamCard(app, s, f) {
  const id = s.id;
  const base = `/console/streams/${encodeURIComponent(id)}`;
  const paused = !!(f && f.paused);
  const mode = (f && f.moderation) || s.moderation || "auto";
  const delay = f && f.delay && f.delay !== "0s" ? ` \u00B7 ${f.delay} delay` : "";
  return h(
    "li",
    { className: `stream-card${paused ? " is-paused" : ""}`, dataset: { id } },
    h(
      "div",
      { className: "stream-card-head" },
      h("h2", {}, h("a", { href: `${base}/queue` }, s.title || id)),
      h("code", { className: "stream-id" }, id),
    ),
    h(
      "p",
      { className: "badges" },
      h("span", { className: `badge ${paused ? "badge-paused" : "badge-live"}` }, paused ? "Paused" : "Live"),
      h("span", { className: "badge" }, `${mode === "manual" ? "Manual" : "Auto"} moderation${delay}`),
    ),
    h(
      "div",
      { className: "figs" },
      figure(f ? num(f.held) : "\u2013", "held", f && f.held > 0 ? "fig-attn" : ""),
      figure(f ? num(f.approved_last_hour) : "\u2013", "approved, last hour"),
      figure(f ? num(f.screens) : "\u2013", f && f.screens === 1 ? "screen" : "screens"),
    ),
    h(
      "p",
      { className: "stream-links" },
      h("a", { className: "btn primary", href: `${base}/queue` }, "Open queue"),
      h("a", { className: "btn", href: `${base}/screen` }, "On screen"),
      app.may("manager", id) ? h("a", { className: "btn quiet", href: `${base}/settings` }, "Settings") : null,
      h("a", { className: "btn quiet", href: `/wall/${encodeURIComponent(id)}`, target: "_blank", rel: "noopener" }, "Open wall \u2197"),
    ),
  );
}

/** mountOverview draws the streams overview. */
export function mountOverview(app, main) {
  const list = h("ul", { className: "stream-grid", aria: { label: "Streams" } });
  const status = h("p", { className: "hint", attrs: { role: "status" } }, "Loading\u2026");
  main.append(
    h(
      "section",
      { className: "view view-overview", aria: { labelledby: "o-title" } },
      h(
        "div",
        { className: "view-head" },
        h("h1", { id: "o-title" }, "Streams"),
        app.may("owner", "") ? h("a", { className: "btn primary", href: "/console/new" }, "New stream") : null,
      ),
      status,
      list,
    ),
  );
  const draw = () => {
    clear(list);
    for (const s of app.streams) list.append(streamCard(app, s, app.figures.get(s.id)));
    status.textContent = app.streams.length ? "" : "You have no streams yet.";
    status.hidden = app.streams.length > 0;
  };
  let stopped = false;
  (async () => {
    try {
      await app.refreshStreams();
      const data = await api("GET", "/api/v1/overview");
      for (const f of data.streams || []) app.figures.set(f.id, f);
    } catch (err) {
      app.error(err, "Could not load the figures");
    }
    if (!stopped) draw();
  })();
  const off = app.events.on("figures", draw);
  window.chorusOverview = { figures: (id) => app.figures.get(id) || null };
  return () => {
    stopped = true;
    off();
    delete window.chorusOverview;
  };
}
