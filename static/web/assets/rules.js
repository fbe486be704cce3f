// Chorus console rule editor: a stream's ordered rules as forms, each with
// a dry run on the stream's last N posts before anything is saved. Errors
// the server names by key (rules[2].when.expr, or rule.when.expr from a dry
// run) show next to the field they are about.

import { api, path, ApiError } from "./api.js";
import { h, clear, num, table } from "./dom.js";
import { checks, field, input, options, listOf, clearErrors, showErrors } from "./forms.js";

const ACTIONS = [
  ["hold", "Hold for a moderator"],
  ["approve", "Approve"],
  ["reject", "Reject"],
  ["pin", "Approve and pin"],
  ["feature", "Approve and feature"],
  ["tag", "Tag, then the mode decides"],
];
const KINDS = ["original", "reply", "repost", "quote"];
const TRISTATE = [
  ["", "Either"],
  ["true", "Yes"],
  ["false", "No"],
];

function commaList(list) {
  return input("text", (Array.isArray(list) ? list : []).join(", "), { spellcheck: false });
}

function optNumber(el) {
  const v = el.value.trim();
  return v === "" ? undefined : Number(v);
}

/**
 * RuleForm edits one rule. Its fields carry keys relative to the rule
 * ("when.expr"); the editor prefixes them.
 */
class RuleForm {
  constructor(editor, rule) {
    this.editor = editor;
    const w = rule.when || {};
    this.name = input("text", rule.name, { required: true, maxLength: 100 });
    this.action = options(ACTIONS, rule.action || "hold");
    this.tags = commaList(rule.tags);
    this.disabled = input("checkbox", rule.disabled);
    this.networks = commaList(w.networks);
    this.hashtags = commaList(w.hashtags);
    this.keywords = commaList(w.keywords);
    this.authors = commaList(w.authors);
    this.languages = commaList(w.languages);
    this.kinds = checks("when.kinds", "Kinds", KINDS.map((k) => [k, k, Array.isArray(w.kinds) && w.kinds.includes(k)]));
    this.hasMedia = options(TRISTATE, w.has_media === undefined || w.has_media === null ? "" : String(w.has_media));
    this.hasLinks = options(TRISTATE, w.has_links === undefined || w.has_links === null ? "" : String(w.has_links));
    this.minFollowers = input("number", w.min_followers || "", { min: 0, step: 1, inputMode: "numeric" });
    this.minSentiment = input("number", w.min_sentiment ?? "", { min: -1, max: 1, step: 0.05 });
    this.maxSentiment = input("number", w.max_sentiment ?? "", { min: -1, max: 1, step: 0.05 });
    this.expr = h("textarea", { rows: 2, spellcheck: false, className: "mono", placeholder: "Author.Followers > 1000 and len(Hashtags) == 0" });
    this.expr.value = w.expr || "";
    this.result = h("div", { className: "dry-result", attrs: { role: "status" }, aria: { live: "polite" } });
    this.legend = h("legend");
    this.el = this.build();
    this.action.addEventListener("change", () => this.showTags());
    this.name.addEventListener("input", () => this.setLegend());
    this.setLegend();
    this.showTags();
  }

  setLegend() {
    this.legend.textContent = `Rule ${this.index() + 1}: ${this.name.value || "(no name)"}`;
  }

  index() {
    return this.editor.forms.indexOf(this);
  }

  showTags() {
    this.tagsField.hidden = this.action.value !== "tag";
  }

  build() {
    this.tagsField = field("tags", "Tags to add", this.tags, "Comma separated");
    const move = (d) => () => this.editor.move(this, d);
    return h(
      "fieldset",
      { className: "rule" },
      this.legend,
      h(
        "div",
        { className: "grid-3" },
        field("name", "Name", this.name),
        field("action", "Then", this.action),
        this.tagsField,
        field("disabled", "Turned off", this.disabled),
      ),
      h("h4", { className: "when" }, "When every condition set here holds (a list matches when any entry does)"),
      h(
        "div",
        { className: "grid-3" },
        field("when.networks", "Networks", this.networks, "x, mastodon, bluesky, ..."),
        field("when.hashtags", "Hashtags", this.hashtags),
        field("when.keywords", "Words or phrases", this.keywords),
        field("when.authors", "Authors", this.authors, "handle or network:handle"),
        field("when.languages", "Languages", this.languages, "en, es, ar, ..."),
        this.kinds.el,
        field("when.has_media", "Has pictures or video", this.hasMedia),
        field("when.has_links", "Has links", this.hasLinks),
        field("when.min_followers", "At least followers", this.minFollowers),
        field("when.min_sentiment", "Sentiment at least", this.minSentiment, "-1 to 1"),
        field("when.max_sentiment", "Sentiment at most", this.maxSentiment, "-1 to 1"),
      ),
      field("when.expr", "Expression (expr-lang)", this.expr, "Over Text, Network, Kind, Lang, Sentiment, Hashtags, Mentions, Links, MediaCount, HasMedia, Length, Author.Handle, Author.Name, Author.Followers, Author.Verified"),
      h(
        "div",
        { className: "rule-actions" },
        h("button", { type: "button", className: "btn primary dry-run", onclick: () => this.dryRun() }, "Dry run"),
        h("button", { type: "button", className: "btn quiet", onclick: move(-1) }, "Move up"),
        h("button", { type: "button", className: "btn quiet", onclick: move(1) }, "Move down"),
        h("button", { type: "button", className: "btn danger-quiet", onclick: () => this.editor.remove(this) }, "Delete rule"),
      ),
      this.result,
    );
  }

  /** value is the rule as the API takes it. */
  value() {
    const when = {};
    const lists = { networks: this.networks, hashtags: this.hashtags, keywords: this.keywords, authors: this.authors, languages: this.languages };
    for (const [k, el] of Object.entries(lists)) {
      const v = listOf(el);
      if (v.length) when[k] = v;
    }
    const kinds = this.kinds.value();
    if (kinds.length) when.kinds = kinds;
    if (this.hasMedia.value) when.has_media = this.hasMedia.value === "true";
    if (this.hasLinks.value) when.has_links = this.hasLinks.value === "true";
    const mf = optNumber(this.minFollowers);
    if (mf) when.min_followers = mf;
    const mins = optNumber(this.minSentiment);
    if (mins !== undefined) when.min_sentiment = mins;
    const maxs = optNumber(this.maxSentiment);
    if (maxs !== undefined) when.max_sentiment = maxs;
    if (this.expr.value.trim()) when.expr = this.expr.value.trim();
    const r = { name: this.name.value.trim(), when, action: this.action.value };
    if (this.action.value === "tag") r.tags = listOf(this.tags);
    if (this.disabled.checked) r.disabled = true;
    return r;
  }

  async dryRun() {
    clearErrors(this.el);
    clear(this.result).append(h("p", { className: "hint" }, "Running\u2026"));
    const last = this.editor.last();
    let rep;
    try {
      rep = await api("POST", path("streams", this.editor.stream, "rules", "dry-run"), { rule: this.value(), last });
    } catch (err) {
      clear(this.result);
      if (err instanceof ApiError && err.problems.length) {
        const left = showErrors(this.el, err.problems, (k) => k.replace(/^rule\./, ""));
        if (left.length) this.result.append(h("p", { className: "error" }, left.map((p) => `${p.key}: ${p.message}`).join(" ")));
      } else {
        this.result.append(h("p", { className: "error" }, err.message));
      }
      return;
    }
    clear(this.result);
    this.result.append(
      h(
        "p",
        { className: "dry-summary" },
        h("strong", {}, `Matched ${num(rep.matched)} of the last ${num(rep.checked)} posts`),
        `; it would change ${num(rep.changed)} of them (${rep.action}).`,
      ),
    );
    if (rep.posts && rep.posts.length) {
      const body = h("tbody");
      for (const p of rep.posts.slice(0, 50)) {
        body.append(
          h(
            "tr",
            {},
            h("td", { className: "mono" }, p.post_id),
            h("td", {}, p.status),
            h("td", {}, p.would),
            h("td", { dir: "auto", className: "excerpt" }, p.text),
          ),
        );
      }
      this.result.append(table("table dry", ["Post", "Now", "Would", "Text"], body));
    }
  }
}

/** RuleEditor edits a stream's rules; save() replaces them whole. */
export class RuleEditor {
  constructor(app, stream, rules) {
    this.app = app;
    this.stream = stream;
    this.forms = [];
    this.list = h("div", { className: "rules" });
    this.lastIn = input("number", 200, { min: 1, max: 1000, step: 1, id: "dry-last" });
    this.status = h("p", { className: "form-status", attrs: { role: "status" } });
    this.topError = h("p", { className: "error", attrs: { role: "alert" }, hidden: true });
    for (const r of rules) this.add(r, false);
    this.el = h(
      "section",
      { className: "panel", aria: { labelledby: "rules-title" } },
      h("h2", { id: "rules-title" }, "Rules"),
      h("p", { className: "hint" }, "In order; the first rule that matches decides. Filters run before rules. Try a rule with a dry run before you save: it changes nothing."),
      h("div", { className: "field inline" }, h("label", { htmlFor: "dry-last" }, "Dry runs check the last"), this.lastIn, h("span", {}, "posts")),
      this.topError,
      this.list,
      h(
        "div",
        { className: "form-actions" },
        h("button", { type: "button", className: "btn", id: "add-rule", onclick: () => this.add({ name: "", action: "hold", when: {} }, true) }, "Add a rule"),
        h("button", { type: "button", className: "btn primary", id: "save-rules", onclick: () => this.save() }, "Save rules"),
        this.status,
      ),
    );
  }

  last() {
    return Math.max(1, Math.min(1000, Number(this.lastIn.value) || 200));
  }

  add(rule, focus) {
    const f = new RuleForm(this, rule);
    this.forms.push(f);
    this.list.append(f.el);
    this.relabel();
    if (focus) f.name.focus();
  }

  remove(f) {
    this.forms = this.forms.filter((x) => x !== f);
    f.el.remove();
    this.relabel();
  }

  move(f, d) {
    const i = this.forms.indexOf(f);
    const j = i + d;
    if (j < 0 || j >= this.forms.length) return;
    [this.forms[i], this.forms[j]] = [this.forms[j], this.forms[i]];
    if (d < 0) this.forms[i].el.before(f.el);
    else this.forms[i].el.after(f.el);
    this.relabel();
  }

  relabel() {
    for (const f of this.forms) f.setLegend();
  }

  async save() {
    for (const f of this.forms) clearErrors(f.el);
    this.topError.hidden = true;
    this.status.textContent = "Saving\u2026";
    try {
      const out = await api("PUT", path("streams", this.stream, "rules"), { rules: this.forms.map((f) => f.value()) });
      this.status.textContent = `Saved ${num(out.rules.length)} rules. They apply to new posts on every node within a second.`;
    } catch (err) {
      this.status.textContent = "";
      let left = err instanceof ApiError ? err.problems : [];
      left = left.filter((p) => {
        const m = /^rules\[(\d+)\]\.?(.*)$/.exec(p.key);
        const f = m && this.forms[Number(m[1])];
        if (!f) return true;
        return showErrors(f.el, [{ key: m[2] || "name", message: p.message }]).length > 0;
      });
      if (left.length || !(err instanceof ApiError) || !err.problems.length) {
        this.topError.hidden = false;
        this.topError.textContent = left.length ? left.map((p) => `${p.key}: ${p.message}`).join(" ") : err.message;
      }
    }
  }
}
