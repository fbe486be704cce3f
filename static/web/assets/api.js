// Chorus API client for the console: JSON over fetch with the signed-in
// browser's session cookie, and the CSRF token on every change.
//
// What it promises the pages:
//   - every call is same-origin with the session cookie (HttpOnly; the page
//     never sees it) and, for anything but GET, the X-CSRF-Token header from
//     GET /api/v1/session, so no other site can act as the moderator;
//   - an answer the server refused becomes an ApiError with its status and
//     the server's message ({"error": "..."}), and, for a 400 naming a
//     settings key ("filters.min_followers: expected a whole number"), the
//     problems by key, so a form shows each next to its field;
//   - a 401 (the session ended, on this or another tab, or by an owner)
//     sends the browser to the sign-in page, back here afterwards;
//   - no token ever goes in a URL.

const CSRF_HEADER = "X-CSRF-Token";

/** ApiError is a refused call: status, message and, for 400s, problems by key. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problems = status === 400 ? problemsByKey(message) : [];
  }
}

// A settings key as the server names it: filters.spam.max_links,
// rules[2].when.expr, rule.when.expr.
const KEY = String.raw`[a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*`;
const PROBLEM = new RegExp(String.raw`(?:^|; |\n)(?:bad input: )?(${KEY})(?: \(line \d+\))?: `, "g");

/**
 * problemsByKey splits a 400's message into [{ key, message }]: the server
 * lists every problem at once, each starting with the key it is about.
 * A message naming no key gives [].
 * @param {string} message
 */
export function problemsByKey(message) {
  const text = String(message || "");
  const starts = [];
  for (const m of text.matchAll(PROBLEM)) starts.push({ key: m[1], at: m.index, body: m.index + m[0].length });
  return starts.map((s, i) => ({
    key: s.key,
    message: text.slice(s.body, i + 1 < starts.length ? starts[i + 1].at : text.length).trim(),
  }));
}

let session = null; // the signed-in session, from GET /api/v1/session
let sessionPending = null;

/** signInURL is the sign-in page, coming back to this page. */
export function signInURL() {
  const here = location.pathname + location.search + location.hash;
  return `/login?next=${encodeURIComponent(here)}`;
}

function signedOut() {
  session = null;
  location.assign(signInURL());
}

/**
 * whoami returns the session ({user, actor, role, streams, all_streams,
 * csrf_token, ...}); without one it sends the browser to sign in.
 * @param {boolean} [fresh] ask the server again
 */
export async function whoami(fresh = false) {
  if (session && !fresh) return session;
  if (!sessionPending) {
    sessionPending = (async () => {
      try {
        const res = await fetch("/api/v1/session", { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
        if (res.status === 401) {
          signedOut();
          throw new ApiError(401, "signed out");
        }
        if (!res.ok) throw new ApiError(res.status, await errorText(res));
        session = await res.json();
        return session;
      } finally {
        sessionPending = null;
      }
    })();
  }
  return sessionPending;
}

async function errorText(res) {
  try {
    const body = await res.json();
    if (body && typeof body.error === "string") return body.error;
  } catch {
    // not JSON
  }
  return `${res.status} ${res.statusText}`.trim();
}

/**
 * api calls the Chorus API: api("GET", "/api/v1/streams"), api("POST",
 * path, body). It resolves with the decoded JSON (null for 204) and
 * rejects with an ApiError.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{headers?: Record<string, string>}} [extra]  more request headers (If-Match)
 */
export async function api(method, path, body, extra = {}) {
  const headers = { Accept: "application/json", ...(extra.headers || {}) };
  if (method !== "GET" && method !== "HEAD") {
    const s = await whoami();
    if (s.csrf_token) headers[CSRF_HEADER] = s.csrf_token;
  }
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, "Chorus cannot be reached; check the connection and try again");
  }
  if (res.status === 401 && !path.startsWith("/api/v1/session")) {
    signedOut();
    throw new ApiError(401, "signed out");
  }
  if (!res.ok) throw new ApiError(res.status, await errorText(res));
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  return type.includes("json") ? res.json() : null;
}

/** path joins an API path from parts, escaping each: path("streams", id, "queue"). */
export function path(...parts) {
  return "/api/v1/" + parts.map((p) => encodeURIComponent(String(p))).join("/");
}

/** query adds the non-empty values of params to a path. */
export function query(p, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `${p}?${s}` : p;
}

/** roleAtLeast compares roles: viewer < moderator < manager < owner. */
export function roleAtLeast(role, need) {
  const order = ["viewer", "moderator", "manager", "owner"];
  return order.indexOf(role) >= order.indexOf(need) && order.indexOf(need) >= 0;
}

/** may says whether the session may act as `need` on stream (or on none). */
export function may(s, need, stream) {
  if (!s || !roleAtLeast(s.role, need)) return false;
  return !stream || s.all_streams || (Array.isArray(s.streams) && s.streams.includes(stream));
}
