// Chorus cards: one post becomes one <article class="card">, the same on the
// kiosk wall, in widgets and in the console.
//
// What it promises:
//   - post content is untrusted: it reaches the DOM only through
//     createElement, textContent, text nodes and attribute properties, never
//     as HTML; only URLs that pass safeURL (http(s), or a path on the Chorus
//     site) are used, for images and, when the caller asks, links;
//   - the kiosk makes no links at all (links: "none", the default), so a tap
//     on a touch screen can never navigate it away; a page widget may ask for
//     links that open in a new tab with rel="noopener noreferrer";
//   - it builds nodes in the document the caller gives and queries only the
//     root the caller gives, so it works inside a Shadow DOM root and on a
//     page served from another origin (site paths resolve against `base`).
//
// The DOM it builds is a contract for styles (cards.css) and browser tests;
// static/README.md draws it.

import { isLang, safeURL, tokenize, MAX_TEXT } from "./text.js";

/** Which parts of a card show; callers override any of them. */
export const FIELDS = Object.freeze({
  avatar: true,
  name: true,
  handle: true,
  verified: true,
  network: true, // the network badge ("Mastodon", "Bluesky", ...)
  flags: true, // "Pinned", "Reply", "Repost", "Quote"
  warning: true, // the content warning of a sensitive post
  text: true,
  media: true,
  time: true,
  counts: false, // replies, reposts and likes at fetch time
});

const COUNTS = [
  ["replies", "\u21A9\uFE0E", "replies"],
  ["reposts", "\u21C4", "reposts"],
  ["likes", "\u2665\uFE0E", "likes"],
];

const NETWORKS = {
  x: "X",
  twitter: "X",
  mastodon: "Mastodon",
  bluesky: "Bluesky",
  instagram: "Instagram",
  youtube: "YouTube",
  reddit: "Reddit",
  facebook: "Facebook",
  threads: "Threads",
  tiktok: "TikTok",
  linkedin: "LinkedIn",
  rss: "RSS",
  webhook: "Webhook",
  demo: "Demo",
};

const KINDS = {
  reply: "\u21A9\uFE0E Reply",
  repost: "\u21C4 Repost",
  quote: "\u275D Quote",
};

const MAX_MEDIA = 4;

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const str = (v) => (typeof v === "string" ? v : "");

/**
 * networkLabel names a network for people: "mastodon" gives "Mastodon", an
 * unknown "foo" gives "Foo", nothing gives "Post".
 * @param {string} network
 */
export function networkLabel(network) {
  const net = str(network).toLowerCase();
  if (hasOwn(NETWORKS, net)) return NETWORKS[net];
  if (!net) return "Post";
  return net.charAt(0).toUpperCase() + net.slice(1);
}

// Formatters in the browser's locale; an old browser without them shows
// clock times instead of losing the card.
function formatters(locale) {
  try {
    return {
      rtf: new Intl.RelativeTimeFormat(locale, { numeric: "auto" }),
      dtf: new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }),
      nf: new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 }),
    };
  } catch (err) {
    console.warn("chorus cards: no Intl.RelativeTimeFormat; showing clock times", err);
    return { rtf: null, dtf: null, nf: null };
  }
}

const defaultFormatters = formatters(undefined);

/**
 * relativeTime says how long ago ms (epoch milliseconds) was at now: "now",
 * "5 minutes ago", "yesterday", in the browser's language. A time in the
 * future (a clock ahead of ours) reads "now".
 * @param {number} ms
 * @param {number} [now]
 */
export function relativeTime(ms, now = Date.now(), rtf = defaultFormatters.rtf) {
  if (!rtf) return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const s = Math.min(0, Math.round((ms - now) / 1000));
  const a = -s;
  if (a < 45) return rtf.format(0, "second");
  if (a < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (a < 86400) return rtf.format(Math.round(s / 3600), "hour");
  if (a < 7 * 86400) return rtf.format(Math.round(s / 86400), "day");
  if (a < 30 * 86400) return rtf.format(Math.round(s / (7 * 86400)), "week");
  if (a < 365 * 86400) return rtf.format(Math.round(s / (30 * 86400)), "month");
  return rtf.format(Math.round(s / (365 * 86400)), "year");
}

function hue(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h % 360;
}

function initials(name, handle) {
  const src = (name || handle || "").replace(/^[@#]+/, "").trim();
  const words = src.split(/\s+/u).filter(Boolean);
  const first = (w) => Array.from(w.replace(/^[^\p{L}\p{N}]+/u, ""))[0] || "";
  let s = first(words[0] || "");
  if (words.length > 1) s += first(words[words.length - 1]);
  return s.toLocaleUpperCase() || "?";
}

function handleText(handle) {
  if (!handle) return "";
  return handle.startsWith("@") || handle.includes("/") ? handle : `@${handle}`;
}

/**
 * @typedef {object} RendererOptions
 * @property {Document} [document]  where nodes are made; default: the page's
 * @property {string|URL} [base]  the Chorus site that site paths in posts
 *   (/demo/media/...) belong to; default: the document's base URI
 * @property {Partial<typeof FIELDS>} [fields]  parts to show or hide
 * @property {"none"|"new-tab"} [links]  "none" (kiosk: nothing navigates) or
 *   "new-tab" (links in the text and the time, as a permalink, open in a new
 *   tab with rel="noopener noreferrer")
 * @property {number} [maxText]  code points of text shown (default 1500)
 * @property {number} [maxMedia]  images shown per post (1 to 4)
 * @property {"any"|"site"} [images]  "site" loads images only from base's
 *   origin (a widget on a brand's page: every picture through Chorus's media
 *   proxy, never from another host); "any" (the default) any safe URL
 * @property {string} [locale]  for times; default: the browser's
 * @property {(card: HTMLElement) => void} [onResize]  called when a card
 *   changed shape after it was built (an image failed and was dropped)
 */

/**
 * createRenderer returns a card renderer with fixed options:
 *   render(post) -> HTMLElement (article.card), never throwing for odd input
 *     (a post must be an object with a string id; the caller checks that);
 *   refreshTimes(root, now?) rewrites the relative times under root
 *     (a document, element or ShadowRoot).
 *
 * @param {RendererOptions} [options]
 */
export function createRenderer(options = {}) {
  const doc = options.document || globalThis.document;
  const base = options.base ?? doc.baseURI;
  const fields = { ...FIELDS, ...(options.fields || {}) };
  const links = options.links === "new-tab" ? "new-tab" : "none";
  const maxText = Number.isInteger(options.maxText) && options.maxText > 0 ? options.maxText : MAX_TEXT;
  const maxMedia = Math.max(1, Math.min(MAX_MEDIA, Number(options.maxMedia) || MAX_MEDIA));
  const { rtf, dtf, nf } = options.locale ? formatters(options.locale) : defaultFormatters;
  const onResize = typeof options.onResize === "function" ? options.onResize : () => {};
  const siteOnly = options.images === "site";
  const siteOrigin = siteOnly ? new URL(String(base), doc.baseURI).origin : "";

  // imageURL is a safe URL for an image, or null; with images: "site", only
  // one on the Chorus site.
  function imageURL(value) {
    const u = safeURL(value, base);
    if (!u || !siteOnly) return u;
    try {
      return new URL(u).origin === siteOrigin ? u : null;
    } catch {
      return null;
    }
  }

  function make(tag, className, text) {
    const el = doc.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // anchor makes a link that leaves the page for a new tab and tells the
  // other site nothing about it.
  function anchor(className, href, text) {
    const a = make("a", className, text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.referrerPolicy = "no-referrer";
    return a;
  }

  function image(src, alt) {
    const img = doc.createElement("img");
    img.alt = alt;
    img.loading = "lazy";
    img.decoding = "async";
    img.referrerPolicy = "no-referrer";
    img.src = src;
    return img;
  }

  function buildAvatar(author, fallbackKey) {
    const box = make("div", "avatar");
    box.style.backgroundColor = `hsl(${hue(str(author.id) || str(author.handle) || fallbackKey)} 45% 32%)`; // white initials at 4.5:1 or more
    const ini = make("span", "initials", initials(str(author.name), str(author.handle)));
    ini.setAttribute("aria-hidden", "true");
    box.append(ini);
    const src = imageURL(author.avatar_url);
    if (src) {
      const img = image(src, "");
      img.addEventListener("error", () => img.remove(), { once: true });
      box.append(img);
    }
    return box;
  }

  // word is a highlighted token, isolated so that an LTR hashtag keeps its
  // '#' in front inside RTL text, and an RTL one inside LTR text.
  function word(kind, tok) {
    const el = links === "new-tab" && kind === "link" && tok.href ? anchor("link", tok.href, tok.text) : make("span", kind, tok.text);
    el.dir = "auto";
    return el;
  }

  function appendText(parent, text, postLinks) {
    for (const tok of tokenize(text, postLinks, { maxChars: maxText, base })) {
      parent.append(tok.kind === "text" ? doc.createTextNode(tok.text) : word(tok.kind, tok));
    }
  }

  function setLang(el, lang) {
    if (isLang(lang)) el.setAttribute("lang", lang);
  }

  function buildMedia(post, card) {
    const list = Array.isArray(post.media) ? post.media.filter((m) => m && typeof m === "object") : [];
    const multi = list.length > 1;
    const items = [];
    for (const m of list) {
      if (items.length === maxMedia) break;
      const kind = str(m.kind) || "image";
      const src =
        kind === "video"
          ? imageURL(m.preview_url)
          : multi
            ? imageURL(m.preview_url) || imageURL(m.url)
            : imageURL(m.url) || imageURL(m.preview_url);
      if (src) items.push({ m, kind, src });
    }
    if (items.length === 0) return null;

    const box = make("div", "media");
    box.dataset.count = String(items.length);
    if (items.length === 1) {
      const w = Number(items[0].m.width);
      const h = Number(items[0].m.height);
      if (w > 0 && h > 0) box.style.aspectRatio = String(Math.min(2, Math.max(0.8, w / h)));
    }
    if (post.sensitive === true || str(post.content_warning)) box.classList.add("blurred");
    for (const { m, kind, src } of items) {
      const cell = make("div", kind === "video" ? "media-item video" : "media-item");
      const img = image(src, str(m.alt));
      img.addEventListener(
        "error",
        () => {
          cell.remove();
          const left = box.children.length;
          if (left === 0) {
            box.remove();
            card.classList.remove("has-media");
          } else {
            box.dataset.count = String(left);
          }
          onResize(card);
        },
        { once: true },
      );
      cell.append(img);
      box.append(cell);
    }
    return box;
  }

  function buildTime(post) {
    const ms = Date.parse(str(post.created_at));
    if (!Number.isFinite(ms)) return null;
    const t = make("time", "time", relativeTime(ms, Date.now(), rtf));
    t.dateTime = new Date(ms).toISOString();
    t.title = dtf ? dtf.format(ms) : new Date(ms).toLocaleString();
    const permalink = links === "new-tab" ? safeURL(post.url, base) : null;
    if (!permalink) return t;
    const a = anchor("permalink", permalink);
    a.append(t);
    return a;
  }

  function buildCounts(post) {
    const c = post.counts && typeof post.counts === "object" ? post.counts : {};
    const row = make("span", "counts");
    for (const [kind, icon, label] of COUNTS) {
      const n = Number(c[kind]);
      if (!Number.isSafeInteger(n) || n <= 0) continue;
      const el = make("span", "count", `${icon} ${nf ? nf.format(n) : String(n)}`);
      el.dataset.kind = kind;
      el.setAttribute("aria-label", `${n} ${label}`);
      row.append(el);
    }
    return row.childElementCount ? row : null;
  }

  function render(p) {
    const author = p.author && typeof p.author === "object" ? p.author : {};
    const network = str(p.network).toLowerCase();
    const kind = str(p.kind) || "original";
    const lang = str(p.lang);

    const card = make("article", "card");
    card.dataset.id = p.id;
    card.dataset.network = network;
    card.dataset.kind = kind;
    if (p.pinned === true) card.classList.add("pinned");
    if (p.featured === true) card.classList.add("featured");
    if (p.sensitive === true) card.classList.add("sensitive");

    const head = make("div", "card-head");
    if (fields.avatar) head.append(buildAvatar(author, p.id));
    const who = make("div", "who");
    if (fields.name) {
      const nameRow = make("div", "name-row");
      const name = make("span", "name", str(author.name) || str(author.handle) || networkLabel(network));
      name.dir = "auto";
      nameRow.append(name);
      if (fields.verified && author.verified === true) {
        const v = make("span", "verified", "\u2713");
        v.setAttribute("role", "img");
        v.setAttribute("aria-label", "Verified");
        v.title = "Verified";
        nameRow.append(v);
      }
      who.append(nameRow);
    }
    const handle = fields.handle ? handleText(str(author.handle)) : "";
    if (handle) {
      const h = make("div", "handle", handle);
      h.dir = "auto";
      who.append(h);
    }
    if (who.childElementCount) head.append(who);
    if (fields.network) {
      const badge = make("span", "network", networkLabel(network));
      badge.dataset.network = network;
      head.append(badge);
    }
    if (head.childElementCount) card.append(head);

    const flags = [];
    if (fields.flags && p.pinned === true) flags.push(make("span", "flag pin", "Pinned"));
    if (fields.flags && hasOwn(KINDS, kind)) flags.push(make("span", "flag kind", KINDS[kind]));
    if (flags.length) {
      const row = make("p", "flags");
      row.append(...flags);
      card.append(row);
    }

    const cwText = str(p.content_warning);
    if (fields.warning && (p.sensitive === true || cwText)) {
      const cw = make("p", "cw", `\u26A0\uFE0E ${cwText || "Sensitive content"}`);
      cw.dir = "auto";
      setLang(cw, lang);
      card.append(cw);
    }

    const text = str(p.text);
    if (fields.text && text.trim()) {
      const t = make("p", "text");
      t.dir = "auto";
      setLang(t, lang);
      appendText(t, text, p.links);
      card.append(t);
    }

    const media = fields.media ? buildMedia(p, card) : null;
    if (media) {
      card.classList.add("has-media");
      card.append(media);
    }

    const time = fields.time ? buildTime(p) : null;
    const counts = fields.counts ? buildCounts(p) : null;
    if (time || counts) {
      const foot = make("div", "card-foot");
      if (time) foot.append(time);
      if (counts) foot.append(counts);
      card.append(foot);
    }
    return card;
  }

  function refreshTimes(root, now = Date.now()) {
    for (const t of root.querySelectorAll("time.time")) {
      const ms = Date.parse(t.dateTime);
      if (!Number.isFinite(ms)) continue;
      const text = relativeTime(ms, now, rtf);
      if (t.textContent !== text) t.textContent = text;
    }
  }

  return Object.freeze({ render, refreshTimes });
}
