// Chorus console stream settings (managers and owners): moderation mode,
// delay, display limit, allowed origins, sources, blocked words and every
// filter, then the rules (rules.js), and for owners deleting the stream.
// Creating a stream is here too. Each save is a merge patch of what the
// form edits; the server's refusals show next to their fields.

import { api, path, ApiError } from "./api.js";
import { h, clear } from "./dom.js";
import { checks, field, input, options, lines, listOf, intOf, clearErrors, showErrors } from "./forms.js";
import { RuleEditor } from "./rules.js";

const KINDS = ["reply", "repost", "quote"];

function section(title, id, ...children) {
  return h("fieldset", { className: "panel" }, h("legend", { id }, title), ...children);
}

function comma(list) {
  return input("text", (Array.isArray(list) ? list : []).join(", "), { spellcheck: false });
}

/** SettingsForm edits the settings of one stream (rules apart). */
class SettingsForm {
  constructor(app, s, sourceIDs) {
    this.app = app;
    this.id = s.id;
    const f = s.filters || {};
    const spam = f.spam || {};
    const prof = f.profanity || {};
    this.c = {
      title: input("text", s.title, { maxLength: 200 }),
      moderation: options(
        [
          ["auto", "Auto: approved unless a filter or rule says otherwise"],
          ["manual", "Manual: every post waits for a moderator"],
        ],
        s.moderation || "auto",
      ),
      delay: input("text", s.delay && s.delay !== "0s" ? s.delay : "", { placeholder: "0s", spellcheck: false, inputMode: "text" }),
      display_limit: input("number", s.display_limit || "", { min: 1, step: 1 }),
      allowed_origins: lines(s.allowed_origins, { placeholder: "https://www.brand.example" }),
      blocked_words: lines(s.blocked_words),
      blocked_hashtags: lines(f.blocked_hashtags),
      blocked_authors: lines(f.blocked_authors),
      trusted_authors: lines(f.trusted_authors),
      sensitive: options(
        [
          ["", "Hold for a moderator (default)"],
          ["allow", "Allow"],
          ["reject", "Reject"],
        ],
        f.sensitive || "",
      ),
      profanity_on: input("checkbox", !prof.disabled),
      profanity_action: options(
        [
          ["", "Reject (default)"],
          ["hold", "Hold for a moderator"],
        ],
        prof.action || "",
      ),
      profanity_languages: comma(prof.languages),
      profanity_allow: lines(prof.allow),
      spam_on: input("checkbox", !spam.disabled),
      spam_action: options(
        [
          ["", "Hold for a moderator (default)"],
          ["reject", "Reject"],
        ],
        spam.action || "",
      ),
      spam_hashtags: input("number", spam.max_hashtags || "", { step: 1, placeholder: "10" }),
      spam_mentions: input("number", spam.max_mentions || "", { step: 1, placeholder: "8" }),
      spam_links: input("number", spam.max_links || "", { step: 1, placeholder: "4" }),
      media_only: input("checkbox", f.media_only),
      min_text_length: input("number", f.min_text_length || "", { min: 0, step: 1 }),
      min_followers: input("number", f.min_followers || "", { min: 0, step: 1 }),
      languages: comma(f.languages),
      allow_list_only: input("checkbox", f.allow_list_only),
      allowed_words: lines(f.allowed_words),
    };
    this.kinds = checks("filters.exclude_kinds", "Leave out", KINDS.map((k) => [k, `${k}s`, Array.isArray(f.exclude_kinds) && f.exclude_kinds.includes(k)]));
    const known = [...new Set([...(sourceIDs || []), ...(s.sources || [])])];
    this.sources = checks("sources", "Sources feeding the stream", known.map((id) => [id, id, (s.sources || []).includes(id)]), "No sources are configured.");
    this.status = h("p", { className: "form-status", attrs: { role: "status" } });
    this.topError = h("p", { className: "error", attrs: { role: "alert" }, hidden: true });
    this.el = this.build();
  }

  build() {
    const c = this.c;
    return h(
      "form",
      {
        className: "settings-form",
        noValidate: true,
        onsubmit: (ev) => {
          ev.preventDefault();
          this.save();
        },
      },
      this.topError,
      section(
        "Stream",
        "set-stream",
        h(
          "div",
          { className: "grid-2" },
          field("title", "Title", c.title, "Shown on walls and in the console"),
          field("moderation", "Moderation", c.moderation),
          field("delay", "Delay before posts reach screens", c.delay, "With a unit: 30s, 2m. A moderator can pull a post during it."),
          field("display_limit", "Posts a screen keeps", c.display_limit, "Default 60"),
          field("allowed_origins", "Sites that may embed the stream", c.allowed_origins, "One origin per line, or * for any"),
          this.sources.el,
        ),
      ),
      section(
        "Filters",
        "set-filters",
        h("p", { className: "hint" }, "They run before the rules, in this order; the first that catches a post decides. Lists take one entry per line."),
        h(
          "div",
          { className: "grid-2" },
          field("blocked_words", "Blocked words and phrases (rejected)", c.blocked_words, "Whole words, any case, seeing through l33t and s p a c i n g"),
          field("filters.blocked_hashtags", "Blocked hashtags (rejected)", c.blocked_hashtags),
          field("filters.blocked_authors", "Banned authors (rejected)", c.blocked_authors, "handle, network:handle or network:#id"),
          field("filters.trusted_authors", "Trusted authors (straight on screen)", c.trusted_authors),
          field("filters.sensitive", "Sensitive or content-warned posts", c.sensitive),
          field("filters.languages", "Languages allowed", c.languages, "Codes, comma separated; empty allows all"),
          field("filters.min_followers", "Authors need at least this many followers", c.min_followers),
          field("filters.min_text_length", "Text at least this many characters", c.min_text_length),
          field("filters.media_only", "Only posts with pictures or video", c.media_only),
          this.kinds.el,
        ),
        h("h3", {}, "Profanity"),
        h(
          "div",
          { className: "grid-2" },
          field("filters.profanity.disabled", "Check for profanity in 26 languages", c.profanity_on),
          field("filters.profanity.action", "Then", c.profanity_action),
          field("filters.profanity.languages", "Only these languages' lists", c.profanity_languages, "Empty: every list"),
          field("filters.profanity.allow", "Never count as profanity", c.profanity_allow, "A brand or a place that looks rude"),
        ),
        h("h3", {}, "Spam"),
        h(
          "div",
          { className: "grid-2" },
          field("filters.spam.disabled", "Check for spam", c.spam_on),
          field("filters.spam.action", "Then", c.spam_action),
          field("filters.spam.max_hashtags", "At most hashtags", c.spam_hashtags, "Empty: 10; -1 turns the check off"),
          field("filters.spam.max_mentions", "At most mentions", c.spam_mentions, "Empty: 8"),
          field("filters.spam.max_links", "At most links", c.spam_links, "Empty: 4"),
        ),
        h("h3", {}, "Allow list"),
        h(
          "div",
          { className: "grid-2" },
          field("filters.allow_list_only", "Reject every post without an allowed word (a troll-safe wall)", c.allow_list_only),
          field("filters.allowed_words", "Allowed words, phrases and hashtags", c.allowed_words),
        ),
      ),
      h("div", { className: "form-actions sticky" }, h("button", { type: "submit", className: "btn primary", id: "save-settings" }, "Save settings"), this.status),
    );
  }

  patch() {
    const c = this.c;
    const n = (el) => intOf(el);
    return {
      title: c.title.value.trim(),
      moderation: c.moderation.value,
      delay: c.delay.value.trim() || "0s",
      display_limit: n(c.display_limit) || null,
      allowed_origins: listOf(c.allowed_origins),
      sources: this.sources.value(),
      blocked_words: listOf(c.blocked_words),
      filters: {
        blocked_hashtags: listOf(c.blocked_hashtags),
        blocked_authors: listOf(c.blocked_authors),
        trusted_authors: listOf(c.trusted_authors),
        sensitive: c.sensitive.value || null,
        languages: listOf(c.languages),
        min_followers: n(c.min_followers),
        min_text_length: n(c.min_text_length),
        media_only: c.media_only.checked,
        exclude_kinds: this.kinds.value(),
        allow_list_only: c.allow_list_only.checked,
        allowed_words: listOf(c.allowed_words),
        profanity: {
          disabled: !c.profanity_on.checked,
          action: c.profanity_action.value || null,
          languages: listOf(c.profanity_languages),
          allow: listOf(c.profanity_allow),
        },
        spam: {
          disabled: !c.spam_on.checked,
          action: c.spam_action.value || null,
          max_hashtags: n(c.spam_hashtags),
          max_mentions: n(c.spam_mentions),
          max_links: n(c.spam_links),
        },
      },
    };
  }

  async save() {
    clearErrors(this.el);
    this.topError.hidden = true;
    this.status.textContent = "Saving\u2026";
    try {
      await api("PATCH", path("streams", this.id, "settings"), this.patch());
      this.status.textContent = "Saved. Every node applies it within a second.";
      this.app.refreshStreams().catch(() => {});
    } catch (err) {
      this.status.textContent = "";
      const left = err instanceof ApiError && err.problems.length ? showErrors(this.el, err.problems) : [{ key: "", message: err.message }];
      if (left.length) {
        this.topError.hidden = false;
        this.topError.textContent = left.map((p) => (p.key ? `${p.key}: ${p.message}` : p.message)).join(" ");
      }
    }
  }
}

async function sourceIDs() {
  try {
    const data = await api("GET", "/api/v1/sources");
    return (data.sources || []).map((s) => s.id);
  } catch {
    return [];
  }
}

/** mountSettings draws a stream's settings and rules. */
export function mountSettings(app, main, { stream }) {
  const box = h("section", { className: "view view-settings", aria: { labelledby: "st-title" } });
  main.append(box);
  box.append(h("div", { className: "view-head" }, h("h1", { id: "st-title" }, "Settings", h("span", { className: "sub" }, ` \u00B7 ${app.streamTitle(stream)}`))));
  if (!app.may("manager", stream)) {
    box.append(h("p", { className: "hint" }, "Changing a stream's settings needs the manager role."));
    return null;
  }
  const loading = h("p", { className: "hint" }, "Loading\u2026");
  box.append(loading);
  (async () => {
    let s;
    let ids;
    try {
      [s, ids] = await Promise.all([api("GET", path("streams", stream, "settings")), sourceIDs()]);
    } catch (err) {
      loading.textContent = `The settings could not be loaded: ${err.message}`;
      return;
    }
    loading.remove();
    const form = new SettingsForm(app, s, ids);
    const rules = new RuleEditor(app, stream, s.rules || []);
    box.append(form.el, rules.el);
    if (app.may("owner", "")) box.append(dangerZone(app, stream));
  })();
  return null;
}

function dangerZone(app, stream) {
  const confirmIn = input("text", "", { id: "delete-confirm", spellcheck: false });
  const status = h("p", { className: "form-status", attrs: { role: "status" } });
  return h(
    "section",
    { className: "panel danger-zone", aria: { labelledby: "dz-title" } },
    h("h2", { id: "dz-title" }, "Delete this stream"),
    h("p", {}, "Its screens go dark and its settings and rules are gone; what it gathered stays in the events stream until retention ends. Type the stream's id to confirm."),
    h(
      "form",
      {
        className: "inline-form",
        onsubmit: async (ev) => {
          ev.preventDefault();
          if (confirmIn.value.trim() !== stream) {
            status.textContent = `Type ${stream} to confirm.`;
            confirmIn.focus();
            return;
          }
          try {
            await api("DELETE", path("streams", stream));
            await app.refreshStreams();
            app.toast(`Deleted the stream ${stream}.`);
            app.go("/console");
          } catch (err) {
            status.textContent = err.message;
          }
        },
      },
      field("", `Stream id (${stream})`, confirmIn),
      h("button", { type: "submit", className: "btn danger" }, "Delete stream"),
      status,
    ),
  );
}

/** mountNewStream draws the form that creates a stream (owners). */
export function mountNewStream(app, main) {
  const box = h("section", { className: "view view-new", aria: { labelledby: "n-title" } }, h("div", { className: "view-head" }, h("h1", { id: "n-title" }, "New stream")));
  main.append(box);
  if (!app.may("owner", "")) {
    box.append(h("p", { className: "hint" }, "Creating a stream needs the owner role."));
    return null;
  }
  const id = input("text", "", { required: true, pattern: "[a-z0-9_-]{1,64}", spellcheck: false, autocapitalize: "off" });
  const title = input("text", "", { maxLength: 200 });
  const mode = options(
    [
      ["manual", "Manual: every post waits for a moderator"],
      ["auto", "Auto: approved unless a filter or rule says otherwise"],
    ],
    "manual",
  );
  const sourcesBox = h("div", { className: "sources-box" });
  let sources = checks("sources", "Sources", [], "Loading\u2026");
  sourcesBox.append(sources.el);
  const status = h("p", { className: "form-status", attrs: { role: "status" } });
  const topError = h("p", { className: "error", attrs: { role: "alert" }, hidden: true });
  sourceIDs().then((ids) => {
    sources = checks("sources", "Sources", ids.map((id) => [id, id, false]), "No sources are configured; add them to the config file.");
    clear(sourcesBox).append(sources.el);
  });
  const form = h(
    "form",
    {
      className: "settings-form",
      noValidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        topError.hidden = true;
        const v = id.value.trim();
        if (!/^[a-z0-9_-]{1,64}$/.test(v)) {
          showErrors(form, [{ key: "id", message: "1-64 of a-z, 0-9, - and _" }]);
          return;
        }
        if (app.streams.some((s) => s.id === v)) {
          showErrors(form, [{ key: "id", message: "a stream with this id exists already" }]);
          return;
        }
        status.textContent = "Creating\u2026";
        try {
          await api("PUT", path("streams", v, "settings"), {
            title: title.value.trim(),
            moderation: mode.value,
            sources: sources.value(),
          });
          await app.refreshStreams();
          app.go(`/console/streams/${encodeURIComponent(v)}/settings`);
        } catch (err) {
          status.textContent = "";
          const left = err instanceof ApiError && err.problems.length ? showErrors(form, err.problems) : [{ message: err.message }];
          if (left.length) {
            topError.hidden = false;
            topError.textContent = left.map((p) => (p.key ? `${p.key}: ${p.message}` : p.message)).join(" ");
          }
        }
      },
    },
    topError,
    h(
      "fieldset",
      { className: "panel" },
      h("legend", {}, "Stream"),
      h(
        "div",
        { className: "grid-2" },
        field("id", "Id", id, "Lowercase letters, digits, - and _: it is in the wall's address"),
        field("title", "Title", title),
        field("moderation", "Moderation", mode),
        sourcesBox,
      ),
    ),
    h("div", { className: "form-actions" }, h("button", { type: "submit", className: "btn primary" }, "Create stream"), status),
  );
  box.append(form);
  id.focus();
  return null;
}
