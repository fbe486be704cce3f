// Chorus console "On screen now": exactly what the stream's walls show,
// from the same display protocol (protocol.js) and the same list (posts.js)
// a wall uses, drawn with the same cards (cards.js), with the moderator's
// controls: remove, pin and unpin, feature and unfeature, reorder pins,
// ban. Paused screens are said so; the pause button is in the header.
//
// What it promises: the order here is the walls' order (pins first, in pin
// order); a change reaches this view as it reaches the walls; a redraw
// touches only the cards that changed.

import { api, path } from "./api.js";
import { h, clear, num } from "./dom.js";
import { createRenderer } from "./cards.js";
import { PostList } from "./posts.js";
import { StreamClient, STATUS } from "./protocol.js";

/** mountScreen draws what the stream's screens show now. */
export function mountScreen(app, main, { stream }) {
  const canAct = app.may("moderator", stream);
  const renderer = createRenderer({ links: "new-tab" });
  const list = new PostList({});
  const grid = h("ol", { className: "screen-grid", aria: { label: "Posts on screen, in the walls' order" } });
  const count = h("p", { className: "count-line", attrs: { role: "status" } }, "Connecting\u2026");
  const slate = h(
    "div",
    { className: "screen-slate", hidden: true },
    h("strong", {}, "Every screen shows the slate."),
    " The posts below come back when the screens resume.",
  );
  const empty = h("div", { className: "q-empty", hidden: true }, h("h2", {}, "Nothing on screen yet"), h("p", {}, "Approved posts appear here and on every wall."));
  main.append(
    h(
      "section",
      { className: "view view-screen", aria: { labelledby: "sc-title" } },
      h("div", { className: "view-head" }, h("h1", { id: "sc-title" }, "On screen now", h("span", { className: "sub" }, ` \u00B7 ${app.streamTitle(stream)}`)), count),
      slate,
      grid,
      empty,
    ),
  );

  const drawn = new Map(); // id -> { key, el }
  let cursor = null;
  let paused = false;

  const pinned = () => list.ids().filter((id) => list.isPinned(id));

  function buildItem(id) {
    const { post } = list.get(id);
    const isPinned = list.isPinned(id);
    const card = renderer.render(post);
    const pins = pinned();
    const at = pins.indexOf(id);
    const actions = h("div", { className: "q-actions", attrs: { role: "group" }, aria: { label: "Actions" } });
    const b = (action, text, key, cls = "", disabled = false) =>
      actions.append(
        h("button", { type: "button", className: `act ${cls}`.trim(), tabIndex: -1, disabled, dataset: { action }, attrs: key ? { "aria-keyshortcuts": key } : {} }, text, key ? h("kbd", { aria: { hidden: "true" } }, key) : null),
      );
    if (canAct) {
      b("remove", "Remove", "x", "danger");
      b("pin", isPinned ? "Unpin" : "Pin", "p");
      b("feature", post.featured ? "Unfeature" : "Feature", "f");
      if (isPinned) {
        b("pinUp", "Earlier", "[", "", at <= 0);
        b("pinDown", "Later", "]", "", at < 0 || at >= pins.length - 1);
      }
      b("ban", "Ban author", "b", "danger-quiet");
    }
    const li = h("li", { className: `screen-item${isPinned ? " pinned" : ""}`, tabIndex: -1, dataset: { id } }, card, canAct ? actions : null);
    li.setAttribute("aria-label", `${isPinned ? `Pinned ${at + 1} of ${pins.length}: ` : ""}post by ${post.author?.handle || post.author?.name || "someone"}`);
    return li;
  }

  function mark(el, on) {
    el.classList.toggle("current", on);
    if (on) el.setAttribute("aria-current", "true");
    else el.removeAttribute("aria-current");
    for (const btn of el.querySelectorAll("button")) btn.tabIndex = on ? 0 : -1;
  }

  // draw brings the grid in line with the list, rebuilding only changed cards.
  function draw() {
    const ids = list.ids();
    const pins = pinned().join("\n");
    const keep = new Set(ids);
    for (const [id, d] of drawn) {
      if (!keep.has(id)) {
        d.el.remove();
        drawn.delete(id);
      }
    }
    let prev = null;
    for (const id of ids) {
      const key = `${list.get(id).key}|${list.isPinned(id)}|${pins}`;
      let d = drawn.get(id);
      if (!d || d.key !== key) {
        const el = buildItem(id);
        const hadFocus = d && d.el.contains(document.activeElement);
        if (d) d.el.replaceWith(el);
        d = { key, el };
        drawn.set(id, d);
        if (id === cursor) mark(el, true);
        if (hadFocus) el.focus({ preventScroll: true });
      }
      const want = prev ? prev.nextElementSibling : grid.firstElementChild;
      if (want !== d.el) grid.insertBefore(d.el, want);
      prev = d.el;
    }
    if (cursor && !drawn.has(cursor)) cursor = null;
    if (!cursor && ids.length) select(ids[0], false);
    count.textContent = `${num(ids.length)} on screen${pinned().length ? `, ${num(pinned().length)} pinned` : ""}`;
    empty.hidden = ids.length > 0;
  }

  function select(id, focus = true) {
    if (cursor && drawn.has(cursor)) mark(drawn.get(cursor).el, false);
    cursor = id;
    const d = drawn.get(id);
    if (!d) return;
    mark(d.el, true);
    if (focus) {
      d.el.focus({ preventScroll: true });
      d.el.scrollIntoView({ block: "nearest" });
    }
  }

  function step(n) {
    const ids = list.ids();
    const i = ids.indexOf(cursor);
    const j = Math.max(0, Math.min(ids.length - 1, i + n));
    if (ids[j]) select(ids[j]);
  }

  function showPaused() {
    slate.hidden = !paused;
    grid.classList.toggle("is-paused", paused);
  }

  const client = new StreamClient(stream, { limit: 200, surface: "wall" });
  client.on("snapshot", ({ posts, pins, paused: p }) => {
    list.reset(posts, pins);
    paused = p;
    showPaused();
    draw();
  });
  client.on("add", ({ post, pins }) => list.add(post, pins) && draw());
  client.on("update", ({ post, pins }) => list.update(post, pins) && draw());
  client.on("remove", ({ id, pins }) => list.remove(id, pins) && draw());
  client.on("pins", ({ pins }) => list.setPins(pins) && draw());
  client.on("control", ({ action }) => {
    if (action === "pause" || action === "resume") {
      paused = action === "pause";
      showPaused();
    }
  });
  client.on("info", (info) => {
    list.limit = Math.min(200, Number(info.display_limit) || 60);
    draw();
  });
  client.on("status", (s) => {
    if (s !== STATUS.LIVE && !drawn.size) count.textContent = "Connecting\u2026";
  });
  client.start();

  async function act(action, id) {
    const e = list.get(id);
    if (!e) return;
    const post = e.post;
    const who = post.author?.handle ? `@${post.author.handle}` : "the post";
    try {
      if (action === "remove") {
        await api("POST", path("streams", stream, "posts", id, "remove"));
        app.toast(`Removed ${who}'s post from every screen.`, { undo: () => api("POST", path("streams", stream, "posts", id, "approve")) });
      } else if (action === "pin" || action === "feature") {
        const on = action === "pin" ? !list.isPinned(id) : !post.featured;
        const a = on ? action : `un${action}`;
        await api("POST", path("streams", stream, "posts", id, a));
        app.toast(`${label(a)} ${who}'s post.`, {
          undo: () => api("POST", path("streams", stream, "posts", id, on ? `un${action}` : action)),
        });
      } else if (action === "pinUp" || action === "pinDown") {
        const order = pinned();
        const i = order.indexOf(id);
        const j = action === "pinUp" ? i - 1 : i + 1;
        if (i < 0 || j < 0 || j >= order.length) return;
        const before = [...order];
        [order[i], order[j]] = [order[j], order[i]];
        await api("PUT", path("streams", stream, "pins"), { order });
        app.toast(`Moved ${who}'s post ${action === "pinUp" ? "earlier" : "later"} among the pins.`, {
          undo: () => api("PUT", path("streams", stream, "pins"), { order: before }),
        });
      } else if (action === "ban") {
        const key = post.author?.handle ? `${post.network}:${String(post.author.handle).replace(/^@/, "").toLowerCase()}` : post.author?.id ? `${post.network}:#${post.author.id}` : "";
        if (!key) return;
        const answer = await app.confirm({
          title: `Ban ${key} from ${app.streamTitle(stream)}?`,
          text: "Their posts leave every screen of this stream and everything they post later is rejected.",
          ok: "Ban author",
          reason: true,
        });
        if (!answer.ok) return;
        await api("POST", path("streams", stream, "authors", key, "ban"), answer.reason ? { reason: answer.reason } : undefined);
        app.toast(`Banned ${key}.`, { undo: () => api("POST", path("streams", stream, "authors", key, "unban")) });
      }
    } catch (err) {
      app.error(err, `Could not ${action} ${who}'s post`);
    }
  }

  grid.addEventListener("click", (ev) => {
    const li = ev.target.closest(".screen-item");
    if (!li) return;
    const btn = ev.target.closest("button[data-action]");
    if (cursor !== li.dataset.id) select(li.dataset.id, !btn && !ev.target.closest("a"));
    if (btn) act(btn.dataset.action, li.dataset.id);
  });

  const k = app.keyboard;
  const offs = [k.on("next", () => step(1)), k.on("prev", () => step(-1))];
  if (canAct) {
    for (const action of ["remove", "pin", "feature", "pinUp", "pinDown", "ban"]) offs.push(k.on(action, () => cursor && act(action, cursor)));
  }
  window.chorusScreen = { ids: () => list.ids(), pins: () => pinned(), paused: () => paused, live: () => client.status === STATUS.LIVE };
  return () => {
    client.stop();
    offs.forEach((off) => off());
    delete window.chorusScreen;
  };
}

function label(action) {
  return { pin: "Pinned", unpin: "Unpinned", feature: "Featured", unfeature: "Unfeatured" }[action] || action;
}
