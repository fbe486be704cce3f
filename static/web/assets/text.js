// Chorus text: a post's text as tokens (plain text, hashtags, mentions,
// links), and the URL check every surface uses before it puts a URL from a
// post into the page.
//
// What it promises:
//   - pure functions, no DOM, no globals: callers build nodes from the tokens
//     with text APIs (see cards.js), so post text is never parsed as HTML;
//   - safeURL accepts only absolute http(s) URLs and paths on the Chorus site
//     the caller names, never javascript:, data:, protocol-relative //host or
//     anything else; every URL a page uses from a post passes through it.

const MAX_URL = 4096;

/** Code points of post text rendered by default; longer text ends with "…". */
export const MAX_TEXT = 1500;

// Hashtags (with at least one letter), mentions (user, user@host, or
// handle.domain) and bare http(s) URLs. Browsers without lookbehind get a
// simpler pattern rather than no highlighting at all.
const TAG = String.raw`[#\uFF03](?=[\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_])[\p{L}\p{M}\p{N}_]+`;
const MENTION = String.raw`@[\p{L}\p{N}_](?:[\p{L}\p{M}\p{N}_.\-]*[\p{L}\p{M}\p{N}_])?(?:@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+)?`;
const URL_TOKEN = String.raw`https?://[^\s<>"'\u201C\u201D]*[^\s<>"'\u201C\u201D.,;:!?)\]}]`;
let TOKEN_RE;
try {
  TOKEN_RE = new RegExp(
    String.raw`(?<![\p{L}\p{M}\p{N}_&/])(${TAG})|(?<![\p{L}\p{M}\p{N}_./])(${MENTION})|(${URL_TOKEN})`,
    "giu",
  );
} catch {
  TOKEN_RE = new RegExp(`(${TAG})|(${MENTION})|(${URL_TOKEN})`, "giu");
}

const LANG_RE = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;

/**
 * safeURL returns value as an absolute URL string when it is an http(s) URL,
 * or a path on the Chorus site (resolved against base, whose origin it must
 * keep), and null for anything else (javascript:, data:, //host, \\host,
 * garbage, over 4 KiB).
 *
 * @param {unknown} value a URL from a post
 * @param {string|URL} [base] the Chorus site the page talks to; defaults to
 *   the page's own address
 * @returns {string|null}
 */
export function safeURL(value, base) {
  if (typeof value !== "string") return null;
  const s = value.trim();
  if (s === "" || s.length > MAX_URL) return null;
  const sitePath = s.startsWith("/");
  if (sitePath ? s.startsWith("//") || s.startsWith("/\\") : !/^https?:\/\//i.test(s)) return null;
  let origin;
  let url;
  try {
    const b = new URL(String(base ?? globalThis.location?.href ?? ""));
    origin = b.origin;
    url = new URL(s, b);
  } catch {
    if (sitePath) return null; // no base to resolve a path against
    try {
      url = new URL(s);
    } catch {
      return null;
    }
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (sitePath && url.origin !== origin) return null;
  return url.href;
}

/**
 * isLang reports whether s looks like a BCP 47 language tag ("en", "pt-BR"),
 * safe to put in a lang attribute.
 * @param {unknown} s
 */
export function isLang(s) {
  return typeof s === "string" && LANG_RE.test(s);
}

/**
 * @typedef {object} Token
 * @property {"text"|"tag"|"mention"|"link"} kind
 * @property {string} text  the characters to show, as they are in the post
 * @property {string|null} [href]  for links: the checked URL (safeURL), or null
 */

/**
 * tokenize splits a post's text into tokens: the link spans the post names
 * (entities with code-point start and end and a URL that passes safeURL),
 * then hashtags, mentions and bare URLs found in the rest. Text beyond
 * maxChars code points is cut and ends with "…".
 *
 * @param {unknown} text
 * @param {unknown} [links] the post's links: [{url, start, end}]
 * @param {{maxChars?: number, base?: string|URL}} [options]
 * @returns {Token[]}
 */
export function tokenize(text, links, options = {}) {
  const maxChars = options.maxChars ?? MAX_TEXT;
  const out = [];
  if (typeof text !== "string" || text === "") return out;
  let cps = Array.from(text);
  const cut = cps.length > maxChars;
  if (cut) cps = cps.slice(0, maxChars);

  const ranges = [];
  if (Array.isArray(links)) {
    for (const l of links) {
      if (!l || typeof l !== "object") continue;
      const s = Number(l.start);
      const e = Number(l.end);
      if (!(Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e > s && e <= cps.length)) continue;
      const href = safeURL(l.url, options.base);
      if (href) ranges.push([s, e, href]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [s, e, href] of ranges) {
    if (s < pos) continue; // overlaps the span before
    scan(out, cps.slice(pos, s).join(""), options.base);
    out.push({ kind: "link", text: cps.slice(s, e).join(""), href });
    pos = e;
  }
  scan(out, cps.slice(pos).join("") + (cut ? "\u2026" : ""), options.base);
  return out;
}

function scan(out, s, base) {
  if (!s) return;
  let last = 0;
  for (const m of s.matchAll(TOKEN_RE)) {
    if (m.index > last) out.push({ kind: "text", text: s.slice(last, m.index) });
    if (m[1]) out.push({ kind: "tag", text: m[0] });
    else if (m[2]) out.push({ kind: "mention", text: m[0] });
    else out.push({ kind: "link", text: m[0], href: safeURL(m[0], base) });
    last = m.index + m[0].length;
  }
  if (last < s.length) out.push({ kind: "text", text: s.slice(last) });
}
