// Chorus display profiles in the browser: loads a stream's profile (a named
// look: layout, theme, colours, font, logo, header, card fields, posts,
// maximum age, pace, replay, language preference) and turns it into what
// pages use. The wall, the widget, the embed page and the overlay share it.
//
// What it promises:
//   - a profile never injects CSS: colours and the font reach the page only
//     as custom-property values set through the CSSOM (setProperty), one
//     value each, and only values the browser parses as colours;
//   - the visitor's language preference is computed here, from
//     navigator.languages, and sent nowhere;
//   - a missing or broken profile is never fatal: the built-in look
//     (DEFAULTS) is used, and the problem is logged.

import { isLang } from "./text.js";

/** The layouts a profile (or a widget's layout attribute) may name. */
export const LAYOUTS = Object.freeze(["masonry", "grid", "carousel", "ticker", "spotlight", "list"]);

/** The built-in look: what a profile's missing keys mean. */
export const DEFAULTS = Object.freeze({
  layout: "masonry",
  theme: "auto",
  colors: Object.freeze({}),
  font: "system",
  logo: "",
  header: "",
  show_mark: true,
  fields: Object.freeze({ avatar: true, handle: true, network: true, time: true, media: true, counts: false }),
  posts: 20,
  max_age: "0s",
  pace: "4s",
  replay: true,
  language: "",
  prefer_visitor_language: false,
});

/** Profile colour keys and the theme tokens they set. */
export const COLOR_TOKENS = Object.freeze({
  background: ["--chorus-bg", "--chorus-bg-glow"],
  card: ["--chorus-card-bg"],
  text: ["--chorus-text"],
  muted: ["--chorus-muted"],
  accent: ["--chorus-accent"],
  border: ["--chorus-card-border"],
});

const NAME_RE = /^[a-z0-9_-]{1,64}$/;
const isObject = (v) => !!v && typeof v === "object" && !Array.isArray(v);

/**
 * parseDuration reads a Go-style duration ("4s", "1m30s", "6h0m0s", "500ms",
 * a bare "0") in milliseconds, or null when it is not one.
 * @param {unknown} s
 */
export function parseDuration(s) {
  if (typeof s === "number" && Number.isFinite(s) && s >= 0) return s;
  if (typeof s !== "string") return null;
  const v = s.trim();
  if (v === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/gy;
  let total = 0;
  let at = 0;
  let m;
  while ((m = re.exec(v))) {
    total += Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[m[2]];
    at = re.lastIndex;
  }
  return at === v.length && at > 0 ? total : null;
}

/** isColor reports whether the browser reads value as one CSS colour. */
export function isColor(value) {
  if (typeof value !== "string" || !value || value.length > 64) return false;
  if (/[;{}\\<>]|url\(|var\(/i.test(value)) return false;
  return typeof CSS !== "undefined" && CSS.supports ? CSS.supports("color", value) : /^#[0-9a-f]{3,8}$/i.test(value);
}

/**
 * normalize returns a complete profile from whatever the server sent: each
 * key of DEFAULTS, with odd values replaced by the default.
 * @param {unknown} raw  the "profile" object of a profile document
 */
export function normalize(raw) {
  const p = isObject(raw) ? raw : {};
  const out = { ...DEFAULTS, colors: {}, fields: { ...DEFAULTS.fields } };
  if (LAYOUTS.includes(p.layout)) out.layout = p.layout;
  if (["auto", "light", "dark"].includes(p.theme)) out.theme = p.theme;
  if (isObject(p.colors)) {
    for (const key of Object.keys(COLOR_TOKENS)) if (isColor(p.colors[key])) out.colors[key] = p.colors[key];
  }
  if (typeof p.font === "string") out.font = p.font;
  if (typeof p.header === "string") out.header = p.header.replace(/\s+/g, " ").trim().slice(0, 120);
  if (typeof p.show_mark === "boolean") out.show_mark = p.show_mark;
  if (isObject(p.fields)) {
    for (const key of Object.keys(DEFAULTS.fields)) if (typeof p.fields[key] === "boolean") out.fields[key] = p.fields[key];
  }
  if (Number.isInteger(p.posts) && p.posts > 0) out.posts = Math.min(p.posts, 500);
  if (parseDuration(p.max_age) !== null) out.max_age = p.max_age;
  if (parseDuration(p.pace) !== null) out.pace = p.pace;
  if (typeof p.replay === "boolean") out.replay = p.replay;
  if (isLang(p.language)) out.language = p.language;
  if (typeof p.prefer_visitor_language === "boolean") out.prefer_visitor_language = p.prefer_visitor_language;
  return out;
}

/**
 * loadProfile fetches GET /api/v1/streams/{stream}/profiles/{name} with the
 * client (protocol.js's StreamClient, which adds the viewer token and omits
 * credentials) and returns { profile, fontFamily, logoSrc }, or the built-in
 * look when it cannot (logged, never thrown).
 * @param {{ get(path: string): Promise<Response>, url(path: string): string }} client
 * @param {string} name
 */
export async function loadProfile(client, name) {
  const want = NAME_RE.test(name || "") ? name : "default";
  const fallback = { profile: normalize({}), fontFamily: "", logoSrc: "", name: want, loaded: false };
  try {
    const res = await client.get(`/api/v1/streams/${encodeURIComponent(client.stream)}/profiles/${want}`);
    if (!res.ok) {
      console.warn(`chorus: profile ${want} of stream ${client.stream}: HTTP ${res.status}; using the built-in look`);
      return fallback;
    }
    const doc = await res.json();
    if (!isObject(doc)) throw new Error("not a profile document");
    const computed = isObject(doc.computed) ? doc.computed : {};
    const font = typeof computed.font_family === "string" && !/[;{}<>\\]/.test(computed.font_family) ? computed.font_family : "";
    let logo = "";
    if (typeof computed.logo_src === "string" && computed.logo_src) {
      try {
        const u = new URL(computed.logo_src, client.url("/"));
        if (u.protocol === "https:" || u.protocol === "http:") logo = u.href;
      } catch {
        logo = "";
      }
    }
    return { profile: normalize(doc.profile), fontFamily: font, logoSrc: logo, name: want, loaded: true, stored: doc.stored === true };
  } catch (err) {
    console.warn(`chorus: cannot load profile ${want} of stream ${client.stream}; using the built-in look`, err);
    return fallback;
  }
}

/**
 * lookTokens lists the custom properties a profile sets: [name, value]
 * pairs for its colours and font.
 */
export function lookTokens(profile, fontFamily) {
  const out = [];
  for (const [key, tokens] of Object.entries(COLOR_TOKENS)) {
    const v = profile.colors[key];
    if (v) for (const t of tokens) out.push([t, v]);
  }
  if (fontFamily) {
    out.push(["--chorus-font", `${fontFamily}, "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans CJK JP", "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"`]);
  }
  return out;
}

/**
 * applyTokens sets the profile's custom properties on a CSSStyleDeclaration
 * (an element's style, or a constructed stylesheet rule's), one value each,
 * removing those it set before and no longer sets.
 * @param {CSSStyleDeclaration} style
 * @param {Array<[string, string]>} tokens
 */
export function applyTokens(style, tokens) {
  const names = new Set(tokens.map(([n]) => n));
  for (const tokenList of Object.values(COLOR_TOKENS)) for (const t of tokenList) if (!names.has(t)) style.removeProperty(t);
  if (!names.has("--chorus-font")) style.removeProperty("--chorus-font");
  for (const [name, value] of tokens) style.setProperty(name, value);
}

/**
 * languages returns the languages whose posts go first, most wanted first:
 * the visitor's browser languages (when the profile prefers them), then the
 * profile's language. Computed in the browser, sent nowhere.
 * @param {object} profile
 * @param {readonly string[]} [visitor]  navigator.languages
 */
export function preferredLanguages(profile, visitor = globalThis.navigator?.languages || []) {
  const out = [];
  const addLang = (tag) => {
    if (typeof tag !== "string" || !isLang(tag)) return;
    const base = tag.toLowerCase().split("-")[0];
    if (!out.includes(base)) out.push(base);
  };
  if (profile.prefer_visitor_language) for (const tag of visitor) addLang(tag);
  addLang(profile.language);
  return out;
}

/**
 * byLanguage orders ids so that posts in langs come first (in the order of
 * langs), each group keeping its order; ids in keepFirst (pinned) stay in
 * front, untouched.
 * @param {string[]} ids
 * @param {(id: string) => string} langOf
 * @param {string[]} langs  base language subtags, most wanted first
 * @param {(id: string) => boolean} [keepFirst]
 */
export function byLanguage(ids, langOf, langs, keepFirst = () => false) {
  if (!langs.length) return ids;
  const rank = (id) => {
    const l = String(langOf(id) || "").toLowerCase().split("-")[0];
    const i = langs.indexOf(l);
    return i < 0 ? langs.length : i;
  };
  const first = ids.filter(keepFirst);
  const rest = ids.filter((id) => !keepFirst(id));
  const ranked = rest.map((id, i) => [rank(id), i, id]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return first.concat(ranked.map((r) => r[2]));
}

/**
 * recentEnough returns a test for posts no older than maxAgeMs (0: any age).
 * @param {number} maxAgeMs
 * @param {number} [now]
 */
export function recentEnough(maxAgeMs, now = Date.now()) {
  if (!maxAgeMs) return () => true;
  return (post) => {
    const t = Date.parse(post && post.created_at);
    return !Number.isFinite(t) || now - t <= maxAgeMs;
  };
}
