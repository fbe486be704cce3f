// Chorus console audit log: every event of a stream, newest first, with
// who did it (the real actor: a user, "key:<name>", or "curation" for the
// rules), why, and the post or author; filtered by actor, event and post.

import { api, path, query } from "./api.js";
import { h, clear, num, table, timeEl } from "./dom.js";

const EVENTS = [
  "approve", "hold", "reject", "remove", "release", "pin", "unpin", "feature", "unfeature", "order_pins", "edit",
  "pause", "resume", "hide_author", "show_author", "ban_author", "unban_author",
];

const LIMIT = 50;

/** mountAudit draws the stream's audit log. */
export function mountAudit(app, main, { stream, params }) {
  const f = { actor: params.get("actor") || "", event: params.get("event") || "", post: params.get("post") || "" };
  let offset = Number(params.get("offset")) || 0;
  const body = h("tbody");
  const status = h("p", { className: "count-line", attrs: { role: "status" } }, "Loading\u2026");
  const pager = h("div", { className: "pager" });
  const go = (patch) => {
    Object.assign(f, patch);
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
    if (patch.offset) q.set("offset", String(patch.offset));
    app.go(`/console/streams/${encodeURIComponent(stream)}/audit${q.toString() ? `?${q}` : ""}`, { replace: true });
  };
  const actor = h("input", { type: "text", id: "a-actor", value: f.actor, autocomplete: "off", placeholder: "maria, key:ci, curation" });
  const postIn = h("input", { type: "text", id: "a-post", value: f.post, autocomplete: "off", placeholder: "x:1861000000000000101" });
  const event = h("select", { id: "a-event" }, h("option", { value: "" }, "Every event"), EVENTS.map((e) => h("option", { value: e }, e.replace("_", " "))));
  event.value = f.event;
  const form = h(
    "form",
    {
      className: "filters audit-filters",
      onsubmit: (ev) => {
        ev.preventDefault();
        go({ actor: actor.value.trim(), event: event.value, post: postIn.value.trim(), offset: 0 });
      },
    },
    h("label", { className: "filter" }, h("span", {}, "Actor"), actor),
    h("label", { className: "filter" }, h("span", {}, "Event"), event),
    h("label", { className: "filter" }, h("span", {}, "Post"), postIn),
    h("button", { type: "submit", className: "btn primary" }, "Filter"),
    f.actor || f.event || f.post ? h("button", { type: "button", className: "btn quiet", onclick: () => go({ actor: "", event: "", post: "", offset: 0 }) }, "Clear") : null,
  );
  main.append(
    h(
      "section",
      { className: "view view-audit", aria: { labelledby: "a-title" } },
      h("div", { className: "view-head" }, h("h1", { id: "a-title" }, "Audit log", h("span", { className: "sub" }, ` \u00B7 ${app.streamTitle(stream)}`)), status),
      form,
      table("table audit", ["When", "Event", "Post or author", "Actor", "Why"], body),
      pager,
    ),
  );
  const filterLink = (text, patch, cls) =>
    h("button", { type: "button", className: `linkish ${cls || ""}`.trim(), title: "Show only these", onclick: () => go({ ...patch, offset: 0 }) }, text);

  (async () => {
    let data;
    try {
      data = await api("GET", query(path("streams", stream, "audit"), { actor: f.actor, event: f.event, post: f.post, limit: LIMIT, offset }));
    } catch (err) {
      status.textContent = `The audit could not be loaded: ${err.message}`;
      return;
    }
    const entries = data.entries || [];
    status.textContent = `${num(data.total)} events`;
    clear(body);
    if (!entries.length) body.append(h("tr", {}, h("td", { colSpan: 5, className: "hint" }, "No events match.")));
    for (const e of entries) {
      body.append(
        h(
          "tr",
          { dataset: { seq: String(e.seq) } },
          h("td", { className: "nowrap" }, timeEl(e.at)),
          h("td", {}, filterLink(e.event.replace("_", " "), { event: e.event }, `ev ev-${e.event}`)),
          h("td", { className: "mono" }, e.post_id ? filterLink(e.post_id, { post: e.post_id }) : e.author || "\u2013"),
          h("td", {}, filterLink(e.actor, { actor: e.actor })),
          h("td", { dir: "auto" }, [e.rule ? `rule \u201C${e.rule}\u201D` : "", e.reason].filter(Boolean).join(": ")),
        ),
      );
    }
    clear(pager);
    if (offset > 0) pager.append(h("button", { type: "button", className: "btn", onclick: () => go({ offset: Math.max(0, offset - LIMIT) }) }, "Newer"));
    if (offset + entries.length < data.total) pager.append(h("button", { type: "button", className: "btn", onclick: () => go({ offset: offset + LIMIT }) }, "Older"));
  })();
  return null;
}
