// Chorus console views that judge posts: the queue and search. Both are a
// Queue (queue.js) with filters above it; this module turns keys and
// buttons into moderator actions, shows them at once, and offers undo.
//
// What it promises:
//   - the queue opens with its first post selected and the keyboard alone
//     works it: j/k, a/r/p/f/x, b (asks first), Shift+j/k for a range;
//   - an action on a range is one bulk call; on one post, one call;
//   - the post leaves the list at once and comes back if the server
//     refuses; u puts everything back as it was (for 10 s);
//   - a viewer sees the same lists with no action anywhere.

import { api, path, query } from "./api.js";
import { h, clear, num } from "./dom.js";
import { Queue, language, whyLabel } from "./queue.js";
import { askErase, mayErase, summary as erasedSummary } from "./erase.js";
import { askRights } from "./rights.js";

const STATUSES = [
  ["held", "Held"],
  ["approved", "Approved"],
  ["rejected", "Rejected"],
  ["removed", "Removed"],
];

// What puts a post back to a status.
const RESTORE = { held: "hold", approved: "approve", rejected: "reject", removed: "remove" };
const PAST = { approve: "Approved", reject: "Rejected", hold: "Put back in the queue", remove: "Removed", pin: "Pinned", unpin: "Unpinned", feature: "Featured", unfeature: "Unfeatured" };
const NEW_STATUS = { approve: "approved", reject: "rejected", hold: "held", remove: "removed" };

/** label names a post for toasts: "@ana: first words…". */
function label(hit) {
  const p = hit.post || {};
  const who = p.author && p.author.handle ? `@${String(p.author.handle).replace(/^@/, "")}` : "a post";
  const text = String(p.text || "").replace(/\s+/g, " ").trim();
  return text ? `${who}: \u201C${text.length > 40 ? text.slice(0, 40) + "\u2026" : text}\u201D` : who;
}

/**
 * Moderation wires one Queue to the API, the keyboard and the feed.
 */
class Moderation {
  constructor(app, stream, list, { live, onChange }) {
    this.app = app;
    this.stream = stream;
    this.canAct = app.may("moderator", stream);
    this.canErase = mayErase(app, stream);
    this.queue = new Queue(list, {
      live,
      load: (view, offset, limit) => this.load(view, offset, limit),
      act: (action, hits) => this.act(action, hits),
      canAct: (action) => (action === "erase" ? this.canErase : this.canAct),
      rights: () => this.rightsRequired(),
      onChange,
    });
    this.offs = [];
  }

  load(view, offset, limit) {
    const params = {
      status: view.status,
      network: view.network,
      lang: view.lang,
      why: view.why,
      media: view.media,
      offset,
      limit,
    };
    if (view.search) return api("GET", query(path("streams", this.stream, "search"), { ...params, q: view.q, sort: view.sort || "newest" }));
    return api("GET", query(path("streams", this.stream, "queue"), { ...params, order: view.sort }));
  }

  /** bind registers the keys and the feed; it returns what undoes that. */
  bind() {
    const k = this.app.keyboard;
    const q = this.queue;
    const offs = [
      k.on("next", () => q.next()),
      k.on("prev", () => q.prev()),
      k.on("reveal", () => q.reveal()),
      k.on("selectNext", () => q.extend(1)),
      k.on("selectPrev", () => q.extend(-1)),
      this.app.events.on("escape", () => q.uncheck()),
      this.app.events.on("changes", (c) => q.changes(c.stream, c.seq, c.posts)),
      // The feed started over: reload only if it may have missed changes
      // made after the page was loaded.
      this.app.events.on("resync", (seq) => q.resync(seq)),
    ];
    if (this.canAct) {
      for (const action of ["approve", "reject", "hold", "pin", "feature", "remove", "ban"]) {
        offs.push(
          k.on(action, () => {
            const hits = q.targets();
            if (!hits.length) return;
            this.act(action, hits);
          }),
        );
      }
    }
    if (this.canErase) {
      offs.push(
        k.on("erase", () => {
          const hits = q.targets();
          if (hits.length) this.erase(hits[0]);
        }),
      );
    }
    return () => offs.forEach((off) => off());
  }

  /** act does action on hits, at once on screen, then on the server. */
  async act(action, hits) {
    if (action === "erase" && hits.length) return this.erase(hits[0]);
    if (!this.canAct || !hits.length) return;
    if (action.startsWith("rights-")) return this.rights(action.slice("rights-".length), hits[0]);
    if (action === "ban") return this.ban(hits[0]);
    if (action === "pin" || action === "feature") return this.flag(action, hits);
    return this.setStatus(action, hits);
  }

  async call(action, hits) {
    if (hits.length === 1) {
      return api("POST", path("streams", this.stream, "posts", hits[0].post.id, action));
    }
    const res = await api("POST", path("streams", this.stream, "bulk"), { action, posts: hits.map((x) => x.post.id) });
    if (res && Array.isArray(res.failed) && res.failed.length) {
      throw new Error(`${res.failed.length} of ${hits.length} failed: ${res.failed[0].error}`);
    }
    return res;
  }

  async setStatus(action, hits) {
    const q = this.queue;
    const status = NEW_STATUS[action];
    hits = hits.filter((x) => x.status !== status);
    if (!hits.length) return;
    const ids = hits.map((x) => x.post.id);
    const leaves = !q.matches({ ...hits[0], status });
    const putBack = leaves ? q.take(ids) : this.patchAll(hits, { status });
    q.uncheck();
    const what = hits.length === 1 ? label(hits[0]) : `${num(hits.length)} posts`;
    try {
      await this.call(action, hits);
    } catch (err) {
      putBack();
      this.app.error(err, `Could not ${action} ${what}`);
      return;
    }
    q.say(`${PAST[action]}: ${what}`);
    this.app.toast(`${PAST[action]} ${what}.`, { undo: () => this.restore(hits) });
  }

  // restore puts each post back to the status it had.
  async restore(hits) {
    const byStatus = new Map();
    for (const x of hits) {
      const a = RESTORE[x.status];
      if (!a) continue;
      if (!byStatus.has(a)) byStatus.set(a, []);
      byStatus.get(a).push(x);
    }
    for (const [a, list] of byStatus) {
      await this.call(a, list);
      for (const x of list) if (this.queue.matches(x)) this.queue.restore(x, null);
    }
    for (const x of hits) {
      if (x.pinned) await this.call("pin", [x]).catch(() => {});
      if (x.featured) await this.call("feature", [x]).catch(() => {});
    }
  }

  patchAll(hits, fields) {
    const undo = hits.map((x) => this.queue.patch(x.post.id, fields)).filter(Boolean);
    return () => undo.forEach((u) => u());
  }

  // flag pins or features (or takes it off) each post; a post not yet on
  // screen is approved first.
  async flag(kind, hits) {
    const q = this.queue;
    const field = kind === "pin" ? "pinned" : "featured";
    const on = !hits[0][field];
    const action = on ? kind : `un${kind}`;
    const approveFirst = on ? hits.filter((x) => x.status !== "approved") : [];
    const leaves = approveFirst.length > 0 && !q.matches({ ...approveFirst[0], status: "approved" });
    const putBack = leaves
      ? q.take(approveFirst.map((x) => x.post.id))
      : this.patchAll(hits, approveFirst.length ? { [field]: on, status: "approved" } : { [field]: on });
    q.uncheck();
    const what = hits.length === 1 ? label(hits[0]) : `${num(hits.length)} posts`;
    try {
      if (approveFirst.length) await this.call("approve", approveFirst);
      await this.call(action, hits);
    } catch (err) {
      putBack();
      this.app.error(err, `Could not ${action} ${what}`);
      return;
    }
    q.say(`${PAST[action]}: ${what}`);
    this.app.toast(`${PAST[action]}${approveFirst.length ? " and approved" : ""} ${what}.`, {
      undo: async () => {
        await this.call(on ? `un${kind}` : kind, hits);
        if (approveFirst.length) await this.restore(approveFirst);
      },
    });
  }

  async ban(hit) {
    const key = hit.author_key;
    if (!key) {
      this.app.toast("This post's author cannot be banned: the network gave no handle or id.", { kind: "error" });
      return;
    }
    const title = this.app.streamTitle(this.stream);
    const answer = await this.app.confirm({
      title: `Ban ${key} from ${title}?`,
      text: "Their posts leave every screen of this stream, those waiting are rejected, and everything they post later is rejected, on every node.",
      ok: "Ban author",
      reason: true,
    });
    if (!answer.ok) return;
    const q = this.queue;
    const mine = [...q.items.values()].map((i) => i.hit).filter((x) => x.author_key === key);
    const leaving = mine.filter((x) => !q.matches({ ...x, status: x.status === "approved" ? "removed" : "rejected" }));
    const putBack = q.take(leaving.map((x) => x.post.id));
    try {
      await api("POST", path("streams", this.stream, "authors", key, "ban"), answer.reason ? { reason: answer.reason } : undefined);
    } catch (err) {
      putBack();
      this.app.error(err, `Could not ban ${key}`);
      return;
    }
    q.say(`Banned ${key}`);
    this.app.toast(`Banned ${key} from ${title}.`, {
      undo: async () => {
        await api("POST", path("streams", this.stream, "authors", key, "unban"));
        await this.restore(mine);
      },
    });
  }

  /** rightsRequired says whether the stream's widgets need rights. */
  rightsRequired() {
    const s = this.app.streams.find((x) => x.id === this.stream);
    return !!(s && s.rights_required);
  }

  /** rights requests, records or revokes the right to use hit's post. */
  async rights(action, hit) {
    const rights = await askRights(this.app, this.stream, hit, action);
    if (!rights) return;
    this.queue.patch(hit.post.id, { rights });
    const words = { requested: "Rights requested", granted: "Consent recorded", revoked: "Rights revoked" };
    this.queue.say(`${words[rights.state] || "Rights changed"}: ${label(hit)}`);
    if (action !== "request") this.app.toast(`${words[rights.state] || "Rights changed"}: ${label(hit)}.`);
  }

  /**
   * erase erases the data of the author of hit, after the typed
   * confirmation (erase.js); their posts leave the list. There is no undo:
   * the stored copies are overwritten.
   */
  async erase(hit) {
    if (!this.canErase) return;
    const key = hit.author_key;
    if (!key) {
      this.app.toast("This post's author cannot be erased by author: the network gave no handle or id. Remove the post instead.", { kind: "error" });
      return;
    }
    const done = await askErase(this.app, this.stream, key);
    if (!done) return;
    const q = this.queue;
    q.take([...q.items.values()].map((i) => i.hit).filter((x) => x.author_key === key).map((x) => x.post.id));
    q.say(`Erased ${key}`);
    this.app.toast(erasedSummary(key, done, this.app.streamTitle(this.stream)));
    for (const w of (done.report && done.report.warnings) || []) this.app.toast(w, { kind: "error" });
  }
}

// ---- shared drawing -------------------------------------------------------

function select(id, labelText, options, value, onChange) {
  const sel = h("select", { id, onchange: (ev) => onChange(ev.target.value) });
  for (const [v, text] of options) sel.append(h("option", { value: v }, text));
  sel.value = value || "";
  return h("label", { className: "filter" }, h("span", {}, labelText), sel);
}

function viewFrom(params, defaults) {
  const v = { ...defaults };
  for (const k of ["status", "network", "lang", "why", "media", "sort", "q"]) if (params.has(k)) v[k] = params.get(k);
  return v;
}

function toURL(stream, tab, view, defaults) {
  const q = new URLSearchParams();
  for (const k of ["q", "status", "network", "lang", "why", "media", "sort"]) if (view[k] && view[k] !== defaults[k]) q.set(k, view[k]);
  const s = q.toString();
  return `/console/streams/${encodeURIComponent(stream)}/${tab}${s ? `?${s}` : ""}`;
}

// drawFilters fills the filter bar from the facets of the stream's posts of
// the chosen status (with counts), keeping what is chosen even at 0.
async function facetOptions(stream, status) {
  try {
    return await api("GET", query(path("streams", stream, "facets"), { status }));
  } catch {
    return { network: [], lang: [], why: [], media: [] };
  }
}

function withChosen(list, chosen) {
  const out = Array.isArray(list) ? [...list] : [];
  if (chosen && !out.some((f) => f.value === chosen)) out.push({ value: chosen, count: 0 });
  return out;
}

function filterBar(stream, view, onChange, statuses) {
  const bar = h("div", { className: "filters" });
  const draw = async () => {
    const f = await facetOptions(stream, view.status);
    clear(bar);
    bar.append(select("f-status", "Status", statuses, view.status, (v) => onChange({ status: v, why: "" })));
    bar.append(
      select("f-network", "Network", [["", "All networks"], ...withChosen(f.network, view.network).map((x) => [x.value, `${x.value} (${num(x.count)})`])], view.network, (v) => onChange({ network: v })),
      select("f-lang", "Language", [["", "All languages"], ...withChosen(f.lang, view.lang).map((x) => [x.value, `${language(x.value)} (${num(x.count)})`])], view.lang, (v) => onChange({ lang: v })),
      select("f-why", "Reason", [["", "Any reason"], ...withChosen(f.why, view.why).map((x) => [x.value, `${whyLabel(x.value)} (${num(x.count)})`])], view.why, (v) => onChange({ why: v })),
      select("f-media", "Media", [["", "With or without media"], ["true", "With media"], ["false", "Without media"]], view.media, (v) => onChange({ media: v })),
      select("f-sort", "Order", [["newest", "Newest first"], ["oldest", "Oldest first"]], view.sort, (v) => onChange({ sort: v })),
    );
  };
  draw();
  return { el: bar, draw };
}

function bulkBar(m) {
  const text = h("span", { className: "bulk-count" });
  const b = (action, t, cls) => h("button", { type: "button", className: `btn ${cls || ""}`, onclick: () => m.act(action, m.queue.targets()) }, t);
  const bar = h(
    "div",
    { className: "bulk", hidden: true, attrs: { role: "region" }, aria: { label: "Selected posts" } },
    text,
    m.canAct ? b("approve", "Approve all", "primary") : null,
    m.canAct ? b("reject", "Reject all", "danger") : null,
    m.canAct ? b("remove", "Remove all") : null,
    h("button", { type: "button", className: "btn quiet", onclick: () => m.queue.uncheck() }, "Clear selection"),
  );
  return {
    el: bar,
    show(q) {
      bar.hidden = q.checked.size === 0;
      text.textContent = `${num(q.checked.size)} selected`;
    },
  };
}

// ---- the queue ----------------------------------------------------------------

const QUEUE_DEFAULTS = { status: "held", network: "", lang: "", why: "", media: "", sort: "newest" };

/**
 * listView is what the queue and search share: the count, the list with
 * its bulk bar, "Load more", the empty and error states, and the test hook
 * window.chorusQueue. `parts(m)` gives what goes between the heading and
 * the list (the search box, the filters).
 */
function listView(app, main, { stream, view, live, title, kind, empty, failed, parts }) {
  const count = h("p", { className: "count-line", attrs: { role: "status" } });
  const list = h("ol", { className: "q-list", aria: { label: kind === "search" ? "Results" : "Posts" } });
  const errorLine = h("p", { className: "error", attrs: { role: "alert" }, hidden: true });
  let bulk;
  let more;
  const onChange = (q) => {
    count.textContent = q.loading && !q.items.size ? "Loading\u2026" : q.summary();
    empty.hidden = q.loading || q.items.size > 0 || !!q.error;
    errorLine.hidden = !q.error;
    errorLine.textContent = q.error ? `${failed}: ${q.error}` : "";
    if (bulk) bulk.show(q);
    if (more) more.hidden = !q.more;
  };
  const m = new Moderation(app, stream, list, { live, onChange });
  bulk = bulkBar(m);
  more = h("button", { type: "button", className: "btn load-more", hidden: true, onclick: () => m.queue.loadMore() }, "Load more");
  main.append(
    h(
      "section",
      { className: `view view-${kind}`, aria: { labelledby: `${kind}-title` } },
      h("div", { className: "view-head" }, h("h1", { id: `${kind}-title` }, title, h("span", { className: "sub" }, ` \u00B7 ${app.streamTitle(stream)}`)), count),
      ...parts(m),
      bulk.el,
      errorLine,
      list,
      empty,
      more,
      m.canAct ? null : h("p", { className: "hint" }, "You can read this stream; acting on posts needs the moderator role."),
    ),
  );
  const off = m.bind();
  m.queue.open(view);
  window.chorusQueue = {
    ids: () => [...list.children].map((el) => el.dataset.id),
    current: () => m.queue.cursor,
    checked: () => [...m.queue.checked],
    total: () => m.queue.total,
    loading: () => m.queue.loading,
  };
  return () => {
    off();
    delete window.chorusQueue;
  };
}

/** mountQueue draws the stream's moderation queue. */
export function mountQueue(app, main, { stream, params }) {
  const view = viewFrom(params, QUEUE_DEFAULTS);
  view.stream = stream;
  const setView = (patch) => {
    Object.assign(view, patch);
    app.go(toURL(stream, "queue", view, QUEUE_DEFAULTS), { replace: true });
  };
  const unfiltered = view.status === "held" && !view.network && !view.lang && !view.why && !view.media;
  const empty = h(
    "div",
    { className: "q-empty", hidden: true },
    h("h2", {}, unfiltered ? "Nothing waits for a moderator" : "No posts here"),
    h("p", {}, view.status === "held" ? "New held posts appear here as they arrive, without a reload." : "Try another status or filter."),
  );
  return listView(app, main, {
    stream, view, live: true, title: "Queue", kind: "queue", empty, failed: "The posts could not be loaded",
    parts: () => [filterBar(stream, view, setView, STATUSES).el],
  });
}

// ---- search -------------------------------------------------------------------

/** FIELDS are the search fields the README lists, for the field helper. */
export const FIELDS = [
  ["text", "words or \"a phrase\" in the post's text", 'text:"rooftop stage"'],
  ["hashtags", "a hashtag, with or without #", "hashtags:ChorusLive"],
  ["mentions", "a mention, with or without @", "mentions:SummitHQ"],
  ["author_handle", "the author's handle; * wildcards work", "author_handle:ana*"],
  ["author_name", "words of the author's name", 'author_name:"Ana Pérez"'],
  ["author_key", "one author on one network", 'author_key:"mastodon:ana@social.example"'],
  ["network", "x, mastodon, bluesky, instagram, ...", "network:mastodon"],
  ["lang", "a language code", "lang:ar"],
  ["kind", "original, reply, repost or quote", "kind:reply"],
  ["status", "held, approved, rejected or removed", "status:held"],
  ["reason", "words of the reason", 'reason:"blocked word"'],
  ["rule", "the rule that decided", 'rule:"no links"'],
  ["why", "rule:<name>, filter:<key>, mode, moderator", 'why:"filter:spam"'],
  ["tags", "a tag a rule added", "tags:keynote"],
  ["has_media", "true or false", "has_media:true"],
  ["pinned", "true or false", "pinned:true"],
  ["featured", "true or false", "featured:true"],
  ["followers", "a number, with > >= < <=", "followers:>1000"],
  ["sentiment", "-1 to 1, with > >= < <=", "sentiment:<0"],
  ["created_at", "an RFC 3339 time, with > or <", 'created_at:>"2026-11-23T00:00:00Z"'],
  ["decided_at", "an RFC 3339 time, with > or <", 'decided_at:<"2026-11-23T00:00:00Z"'],
];

const SEARCH_DEFAULTS = { q: "", status: "", network: "", lang: "", why: "", media: "", sort: "newest" };

/** mountSearch draws search over everything the stream gathered. */
export function mountSearch(app, main, { stream, params }) {
  const view = viewFrom(params, SEARCH_DEFAULTS);
  view.stream = stream;
  view.search = true;
  const empty = h("div", { className: "q-empty", hidden: true }, h("h2", {}, "No posts match"), h("p", {}, "Try fewer words, another status, or a field from the list."));
  const input = h("input", {
    type: "search",
    id: "q",
    name: "q",
    value: view.q || "",
    autocomplete: "off",
    spellcheck: false,
    placeholder: 'keynote, "main stage", hashtags:ChorusLive, followers:>1000',
    aria: { describedby: "q-help" },
  });
  const insert = (text) => {
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? start;
    const before = input.value.slice(0, start);
    const sep = before && !/\s$/.test(before) ? " " : "";
    input.value = before + sep + text + input.value.slice(end);
    const at = (before + sep + text).length;
    input.focus();
    input.setSelectionRange(at, at);
  };
  const helper = h(
    "details",
    { className: "field-help" },
    h("summary", {}, "Fields"),
    h(
      "div",
      { className: "field-help-panel" },
      h("p", { className: "hint", id: "q-help" }, "Words and \"phrases\" search the text, author, hashtags and reason. + must, - must not, * and ? wildcards. Choose a field to add it:"),
      h(
        "ul",
        { className: "field-list" },
        FIELDS.map(([name, what, example]) =>
          h(
            "li",
            {},
            h("button", { type: "button", className: "field-btn", onclick: () => insert(`${name}:`) }, h("code", {}, `${name}:`)),
            h("span", { className: "field-what" }, what),
            h("button", { type: "button", className: "example-btn", title: "Use this example", onclick: () => insert(example) }, h("code", {}, example)),
          ),
        ),
      ),
    ),
  );
  const setView = (patch) => {
    Object.assign(view, patch);
    app.go(toURL(stream, "search", view, SEARCH_DEFAULTS), { replace: true });
  };
  const form = h(
    "form",
    {
      className: "search-form",
      attrs: { role: "search" },
      onsubmit: (ev) => {
        ev.preventDefault();
        setView({ q: input.value.trim() });
      },
    },
    h("label", { className: "sr-only", htmlFor: "q" }, "Search posts"),
    input,
    h("button", { type: "submit", className: "btn primary" }, "Search"),
    helper,
  );
  const off = listView(app, main, {
    stream, view, live: false, title: "Search", kind: "search", empty, failed: "The search failed",
    parts: () => [form, filterBar(stream, view, setView, [["", "Any status"], ...STATUSES]).el],
  });
  if (!view.q) input.focus();
  return off;
}
