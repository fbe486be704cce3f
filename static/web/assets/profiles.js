// Chorus console display profiles: a stream's named looks (profile.js in
// the browser, the profile package on the server). Everyone with the
// stream sees them; managers edit one in a form with a live preview beside
// it: the real widget (<chorus-wall> from /embed.js) showing the stream
// with the unsaved draft applied (its `draft` property), restarted as the
// fields change. Saving replaces only the revision that was read
// (If-Match), so two editors never overwrite each other unseen; the
// server's refusals show next to the fields they name.

import { api, path, ApiError } from "./api.js";
import { h, clear } from "./dom.js";
import { field, input, options, intOf, clearErrors, showErrors } from "./forms.js";
import { LAYOUTS, COLOR_TOKENS, DEFAULTS } from "./profile.js";

const NAME_RE = /^[a-z0-9_-]{1,64}$/;
const FONTS = ["system", "sans", "serif", "rounded", "humanist", "mono"];
const FIELD_LABELS = { avatar: "Avatar", handle: "Handle", network: "Network", time: "Time", media: "Pictures and video", counts: "Likes and reposts" };
const PREVIEW_DELAY_MS = 300;

let widgetScript = null;

/** loadWidget adds /embed.js to the console once (it defines <chorus-wall>). */
function loadWidget() {
  if (!widgetScript) {
    widgetScript = h("script", { src: "/embed.js", async: true });
    document.head.append(widgetScript);
  }
}

/** ProfileForm edits one profile, with its live preview. */
class ProfileForm {
  constructor(app, stream, doc, { editable, onSaved, onDeleted }) {
    this.app = app;
    this.stream = stream;
    this.name = doc.name;
    this.revision = doc.stored ? doc.revision : 0;
    this.editable = editable;
    this.onSaved = onSaved;
    this.onDeleted = onDeleted;
    const p = { ...DEFAULTS, ...(doc.profile || {}) };
    const colors = p.colors || {};
    const fields = { ...DEFAULTS.fields, ...(p.fields || {}) };
    this.c = {
      layout: options(LAYOUTS.map((l) => [l, l[0].toUpperCase() + l.slice(1)]), p.layout),
      theme: options(
        [
          ["auto", "Auto (the viewer's setting)"],
          ["light", "Light"],
          ["dark", "Dark"],
        ],
        p.theme,
      ),
      font: options(FONTS.map((f) => [f, f[0].toUpperCase() + f.slice(1)]), p.font),
      header: input("text", p.header, { maxLength: 120, dir: "auto" }),
      logo: input("url", p.logo, { placeholder: "https://brand.example/logo.png", spellcheck: false }),
      show_mark: input("checkbox", p.show_mark),
      posts: input("number", p.posts, { min: 1, max: 500, step: 1 }),
      max_age: input("text", p.max_age && p.max_age !== "0s" ? p.max_age : "", { placeholder: "0 (any age)", spellcheck: false }),
      pace: input("text", p.pace, { placeholder: "4s", spellcheck: false }),
      replay: input("checkbox", p.replay),
      language: input("text", p.language, { placeholder: "en, pt-BR", spellcheck: false, autocapitalize: "off" }),
      prefer_visitor_language: input("checkbox", p.prefer_visitor_language),
    };
    this.colors = {};
    for (const key of Object.keys(COLOR_TOKENS)) {
      this.colors[key] = input("text", colors[key] || "", { placeholder: "the theme's", spellcheck: false, autocapitalize: "off" });
    }
    this.fields = {};
    for (const key of Object.keys(DEFAULTS.fields)) this.fields[key] = input("checkbox", fields[key]);
    this.status = h("p", { className: "form-status", attrs: { role: "status" } });
    this.topError = h("p", { className: "error", attrs: { role: "alert" }, hidden: true });
    this.preview = h("chorus-wall", { attrs: { stream, height: "34rem", "load-more": "off" } });
    this.el = this.build();
    this.preview.draft = this.draft();
    let timer = 0;
    this.el.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => (this.preview.draft = this.draft()), PREVIEW_DELAY_MS);
    });
  }

  build() {
    const c = this.c;
    const colorFields = Object.keys(COLOR_TOKENS).map((key) => field(`colors.${key}`, key[0].toUpperCase() + key.slice(1), this.colors[key]));
    const fieldChecks = h(
      "div",
      { className: "field", dataset: { key: "fields" } },
      h(
        "fieldset",
        { className: "inline-checks" },
        h("legend", {}, "Card shows"),
        Object.keys(DEFAULTS.fields).map((key) => h("label", { dataset: { key: `fields.${key}` } }, this.fields[key], " ", FIELD_LABELS[key] || key)),
      ),
      h("p", { className: "field-error", hidden: true }),
    );
    const actions = this.editable
      ? h(
          "div",
          { className: "form-actions sticky" },
          h("button", { type: "submit", className: "btn primary", id: "save-profile" }, "Save profile"),
          h("button", { type: "button", className: "btn danger-quiet", id: "delete-profile", hidden: !this.revision, onclick: () => this.remove() }, this.name === "default" ? "Reset to the built-in look" : "Delete profile"),
          this.status,
        )
      : h("p", { className: "hint" }, "Changing a profile needs the manager role.");
    this.deleteBtn = actions.querySelector ? actions.querySelector("#delete-profile") : null;
    const form = h(
      "form",
      {
        className: "settings-form profile-form",
        noValidate: true,
        onsubmit: (ev) => {
          ev.preventDefault();
          if (this.editable) this.save();
        },
      },
      this.topError,
      h(
        "fieldset",
        { className: "panel", disabled: !this.editable },
        h("legend", { id: "pf-look" }, "Look"),
        h(
          "div",
          { className: "grid-2" },
          field("layout", "Layout", c.layout),
          field("theme", "Theme", c.theme),
          field("font", "Font", c.font, "Fonts already on visitors' devices; the preview shows it once saved"),
          field("header", "Header text", c.header, "One line above the posts; empty shows none"),
          field("logo", "Logo", c.logo, "An https address; shown through Chorus's media proxy once saved"),
          field("show_mark", "Show the small Chorus mark", c.show_mark),
        ),
        h("h3", {}, "Colours"),
        h("p", { className: "hint" }, "Any CSS colour (#0b1020, rgb(), hsl() or a name); empty keeps the theme's."),
        h("div", { className: "grid-3" }, ...colorFields),
        fieldChecks,
      ),
      h(
        "fieldset",
        { className: "panel", disabled: !this.editable },
        h("legend", {}, "Posts"),
        h(
          "div",
          { className: "grid-2" },
          field("posts", "Posts shown at once", c.posts, "1 to 500"),
          field("max_age", "Hide posts older than", c.max_age, "With a unit: 6h, 30m; empty shows every age"),
          field("pace", "One new post every", c.pace, "1s to 10m"),
          field("replay", "When the stream is quiet, show approved posts again", c.replay),
          field("language", "Preferred language", c.language, "Its posts first when the stream has them"),
          field("prefer_visitor_language", "Posts in the visitor's language first", c.prefer_visitor_language),
        ),
      ),
      actions,
    );
    return h(
      "div",
      { className: "profile-editor" },
      form,
      h(
        "aside",
        { className: "profile-preview", aria: { label: "Preview" } },
        h("h2", {}, "Preview", h("span", { className: "sub" }, this.editable ? " \u00B7 unsaved changes show here" : "")),
        this.preview,
      ),
    );
  }

  /** draft is the profile the form shows, as PUT takes it. */
  draft() {
    const c = this.c;
    const colors = {};
    for (const [key, el] of Object.entries(this.colors)) colors[key] = el.value.trim();
    const fields = {};
    for (const [key, el] of Object.entries(this.fields)) fields[key] = el.checked;
    const posts = c.posts.value.trim() === "" ? DEFAULTS.posts : intOf(c.posts);
    return {
      layout: c.layout.value,
      theme: c.theme.value,
      colors,
      font: c.font.value,
      logo: c.logo.value.trim(),
      header: c.header.value.trim(),
      show_mark: c.show_mark.checked,
      fields,
      posts,
      max_age: c.max_age.value.trim() || "0s",
      pace: c.pace.value.trim() || DEFAULTS.pace,
      replay: c.replay.checked,
      language: c.language.value.trim(),
      prefer_visitor_language: c.prefer_visitor_language.checked,
    };
  }

  async save() {
    clearErrors(this.el);
    this.topError.hidden = true;
    this.status.textContent = "Saving\u2026";
    const headers = this.revision ? { "If-Match": `"${this.revision}"` } : {};
    try {
      const doc = await api("PUT", path("streams", this.stream, "profiles", this.name), this.draft(), { headers });
      this.revision = doc && doc.revision ? doc.revision : this.revision;
      if (this.deleteBtn) this.deleteBtn.hidden = false;
      this.status.textContent = `Saved (revision ${this.revision}). Screens using it change at their next start.`;
      this.onSaved(this.name);
    } catch (err) {
      this.status.textContent = "";
      let left = [{ key: "", message: err.message }];
      if (err instanceof ApiError && err.problems.length) left = showErrors(this.el, err.problems);
      else if (err instanceof ApiError && err.status === 412) left = [{ key: "", message: `${err.message} (someone else saved it: reload the profile to see their change).` }];
      if (left.length) {
        this.topError.hidden = false;
        this.topError.textContent = left.map((p) => (p.key ? `${p.key}: ${p.message}` : p.message)).join(" ");
      }
    }
  }

  async remove() {
    const reset = this.name === "default";
    const answer = await this.app.confirm({
      title: reset ? "Reset the default profile?" : `Delete the profile ${this.name}?`,
      text: reset ? "Screens that name no profile go back to the built-in look." : "Screens that name it fall back to the built-in look.",
      ok: reset ? "Reset" : "Delete",
    });
    if (!answer.ok) return;
    try {
      await api("DELETE", path("streams", this.stream, "profiles", this.name));
      this.app.toast(reset ? "The default profile is the built-in look again." : `Deleted the profile ${this.name}.`);
      this.onDeleted(this.name);
    } catch (err) {
      this.topError.hidden = false;
      this.topError.textContent = err.message;
    }
  }
}

/** mountProfiles draws a stream's display profiles: the list, the editor and its preview. */
export function mountProfiles(app, main, { stream }) {
  const box = h("section", { className: "view view-profiles", aria: { labelledby: "pr-title" } });
  main.append(box);
  box.append(h("div", { className: "view-head" }, h("h1", { id: "pr-title" }, "Display profiles", h("span", { className: "sub" }, ` \u00B7 ${app.streamTitle(stream)}`))));
  box.append(h("p", { className: "hint" }, "A profile is a named look of the stream's widgets, walls and embeds; pages pick one with profile=NAME, or get the default."));
  const editable = app.may("manager", stream);
  const list = h("nav", { className: "profile-list", aria: { label: "Profiles" } });
  const editor = h("div", { className: "profile-slot" });
  box.append(list, editor);
  loadWidget();
  let current = "default";

  const open = async (name) => {
    current = name;
    for (const b of list.querySelectorAll("button[data-name]")) b.setAttribute("aria-pressed", String(b.dataset.name === name));
    clear(editor).append(h("p", { className: "hint" }, "Loading\u2026"));
    try {
      const doc = await api("GET", path("streams", stream, "profiles", name));
      if (current !== name) return;
      const form = new ProfileForm(app, stream, { ...doc, name }, { editable, onSaved: () => refresh(name, false), onDeleted: () => refresh("default") });
      clear(editor).append(form.el);
    } catch (err) {
      clear(editor).append(h("p", { className: "error" }, `The profile ${name} could not be loaded: ${err.message}`));
    }
  };

  // refresh lists the profiles again and opens show (or only marks it).
  const refresh = async (show, reopen = true) => {
    let names = ["default"];
    try {
      const data = await api("GET", path("streams", stream, "profiles"));
      if (data && Array.isArray(data.profiles)) names = [...new Set(["default", ...data.profiles.filter((n) => typeof n === "string")])];
    } catch (err) {
      app.error(err, "load the profiles");
    }
    const newName = input("text", "", { id: "new-profile-name", placeholder: "lobby", spellcheck: false, autocapitalize: "off", pattern: "[a-z0-9_-]{1,64}" });
    const newErr = h("p", { className: "field-error", hidden: true });
    clear(list).append(
      h(
        "ul",
        { className: "chips" },
        names.map((n) => h("li", {}, h("button", { type: "button", className: "btn chip", dataset: { name: n }, attrs: { "aria-pressed": "false" }, onclick: () => open(n) }, n))),
      ),
      editable
        ? h(
            "form",
            {
              className: "inline-form new-profile",
              onsubmit: (ev) => {
                ev.preventDefault();
                const v = newName.value.trim();
                newErr.hidden = NAME_RE.test(v);
                newErr.textContent = newErr.hidden ? "" : "1-64 of a-z, 0-9, - and _";
                if (newErr.hidden) open(v);
              },
            },
            h("label", { htmlFor: "new-profile-name" }, "New profile"),
            newName,
            h("button", { type: "submit", className: "btn" }, "Edit"),
            newErr,
          )
        : null,
    );
    if (reopen) await open(show);
    else for (const b of list.querySelectorAll("button[data-name]")) b.setAttribute("aria-pressed", String(b.dataset.name === show));
  };
  refresh("default");
  return null;
}
