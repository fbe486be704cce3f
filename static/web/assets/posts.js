// Chorus posts: the list of posts a screen shows, kept from display-protocol
// messages. No DOM and no network: protocol.js feeds it, a page draws it.
//
// What it promises:
//   - display order is the pinned posts first, in pin order, then the rest
//     newest first, cut to the display limit. What is pinned, and in which
//     order, comes from the protocol's `pins` lists (a snapshot's, and any
//     message's that carries one); a post's own `pinned` flag counts only
//     until the server has sent a `pins` list (older servers send none);
//   - the posts it hands out carry `pinned` as the pins say, so a card drawn
//     from one shows the right badge;
//   - it never holds more than `max` posts, whatever the server sends;
//   - a malformed post (not an object, no string id) or pins list (not an
//     array of strings) is skipped, never thrown on.

/** Cards a screen keeps, whatever the stream's display limit says. */
export const MAX_POSTS = 200;

/** The display limit until the stream says otherwise. */
export const DEFAULT_LIMIT = 60;

/**
 * isPost reports whether p can be shown: an object with a non-empty string
 * id of at most 512 characters.
 * @param {unknown} p
 */
export function isPost(p) {
  return !!p && typeof p === "object" && typeof p.id === "string" && p.id !== "" && p.id.length <= 512;
}

/**
 * isPins reports whether v is a pins list: an array of post ids.
 * @param {unknown} v
 */
export function isPins(v) {
  return Array.isArray(v) && v.length <= 10_000 && v.every((id) => typeof id === "string");
}

/**
 * PostList holds a stream's posts in display order.
 *
 *   const list = new PostList({ limit: 60 });
 *   list.reset(snapshot.posts, snapshot.pins); list.add(post, pins); list.update(post, pins);
 *   list.remove(id, pins); list.setPins(pins);
 *   list.ids()      // display order, cut to the limit
 *   list.get(id)    // { post, key } where key changes whenever the post (or its pin) does
 *
 * `pins` is optional everywhere: undefined leaves the pin order as it was.
 * Each change method returns true when what the list shows changed.
 */
export class PostList {
  /** @param {{limit?: number, max?: number}} [options] */
  constructor(options = {}) {
    this.max = Number.isInteger(options.max) && options.max > 0 ? options.max : MAX_POSTS;
    this._limit = this.max;
    this._order = []; // ids, newest first, as the server sent them
    this._posts = new Map(); // id -> { post, key }
    this._pins = null; // pinned ids in order, once the server sent a list
    if (options.limit !== undefined) this.limit = options.limit;
  }

  /** The display limit, 1 to max. Setting it drops posts beyond it. */
  get limit() {
    return this._limit;
  }

  set limit(n) {
    const v = Number(n);
    this._limit = Number.isInteger(v) && v > 0 ? Math.min(v, this.max) : DEFAULT_LIMIT;
    this._trim();
  }

  get size() {
    return this._order.length;
  }

  has(id) {
    return this._posts.has(id);
  }

  /** @returns {{post: object, key: string}|undefined} */
  get(id) {
    return this._posts.get(id);
  }

  /** ids returns what a screen shows, in display order. */
  ids() {
    let pinned;
    if (this._pins) {
      pinned = this._pins.filter((id) => this._posts.has(id));
    } else {
      pinned = this._order.filter((id) => this._posts.get(id).post.pinned === true);
    }
    const first = new Set(pinned);
    const rest = this._order.filter((id) => !first.has(id));
    return pinned.concat(rest).slice(0, this._limit);
  }

  /** isPinned reports whether the post with id is pinned. */
  isPinned(id) {
    return this._pins ? this._pins.includes(id) : this._posts.get(id)?.post.pinned === true;
  }

  /**
   * setPins takes a new pin order (the complete list, first shown first);
   * anything but an array of ids leaves the order as it was.
   */
  setPins(pins) {
    if (!isPins(pins)) return false;
    const before = this.ids().join("\n");
    this._pins = [...new Set(pins)];
    let changed = false;
    for (const id of this._order) changed = this._mark(id) || changed;
    this._trim();
    return changed || this.ids().join("\n") !== before;
  }

  /** reset replaces every post with a snapshot's (in the server's order) and its pins. */
  reset(posts, pins) {
    this._posts.clear();
    this._order = [];
    // A snapshot is the whole state: no pins list at all means a server that
    // sends none (the posts' flags say), null means none are pinned.
    if (isPins(pins)) this._pins = [...new Set(pins)];
    else this._pins = pins === null ? [] : null;
    const pinned = [];
    for (const p of Array.isArray(posts) ? posts : []) {
      if (!isPost(p) || this._posts.has(p.id)) continue;
      this._posts.set(p.id, this._entry(p));
      if (this._pins && this._pins.includes(p.id)) pinned.push(p.id);
      else this._order.push(p.id);
    }
    // The server sends pinned posts first; among the others (where one
    // goes when it is unpinned) they take their place by creation time.
    for (const id of pinned) this._order.splice(this._byTime(id), 0, id);
    this._trim();
    return true;
  }

  // _byTime is where id belongs in the newest-first order by created_at.
  _byTime(id) {
    const t = Date.parse(this._posts.get(id).post.created_at);
    if (!Number.isFinite(t)) return this._order.length;
    const at = this._order.findIndex((x) => !(Date.parse(this._posts.get(x).post.created_at) >= t));
    return at < 0 ? this._order.length : at;
  }

  /** add puts a new post first among the others (or where pins say), or replaces it in place if it is held. */
  add(p, pins) {
    const repinned = this.setPins(pins);
    if (!isPost(p)) return repinned;
    if (this._posts.has(p.id)) return this._replace(p) || repinned;
    this._posts.set(p.id, this._entry(p));
    this._order.unshift(p.id);
    this._trim();
    return this._posts.has(p.id) || repinned;
  }

  /**
   * append puts older posts (a page loaded with "load more", newest first)
   * after the ones held, raising the limit to make room for them (up to
   * max). Posts already held are skipped. It returns how many it added.
   */
  append(posts) {
    let added = 0;
    for (const p of Array.isArray(posts) ? posts : []) {
      if (!isPost(p) || this._posts.has(p.id) || this._order.length >= this.max) continue;
      this._posts.set(p.id, this._entry(p));
      this._order.push(p.id);
      added++;
    }
    if (added) this._limit = Math.min(this.max, Math.max(this._limit, this._order.length));
    return added;
  }

  /** update replaces a held post where it is; a post not held is ignored. */
  update(p, pins) {
    const repinned = this.setPins(pins);
    if (!isPost(p) || !this._posts.has(p.id)) return repinned;
    return this._replace(p) || repinned;
  }

  remove(id, pins) {
    const repinned = this.setPins(pins);
    if (typeof id !== "string" || !this._posts.has(id)) return repinned;
    this._posts.delete(id);
    this._order = this._order.filter((x) => x !== id);
    return true;
  }

  _replace(p) {
    const next = this._entry(p);
    if (this._posts.get(p.id).key === next.key) return false;
    this._posts.set(p.id, next);
    return true;
  }

  // _entry is what the list keeps of p: its pinned flag says what the pins
  // say, once there are pins.
  _entry(p) {
    if (!this._pins || (p.pinned === true) === this._pins.includes(p.id)) return entry(p);
    return entry({ ...p, pinned: !(p.pinned === true) });
  }

  // _mark brings a held post's pinned flag in line with new pins; it
  // returns whether that changed the post.
  _mark(id) {
    const e = this._posts.get(id);
    const next = this._entry(e.post);
    if (next.key === e.key) return false;
    this._posts.set(id, next);
    return true;
  }

  // _trim drops the posts beyond the display limit.
  _trim() {
    if (this._order.length <= this._limit) return;
    const keep = new Set(this.ids());
    this._order = this._order.filter((id) => keep.has(id));
    for (const id of this._posts.keys()) {
      if (!keep.has(id)) this._posts.delete(id);
    }
  }
}

function entry(p) {
  return { post: p, key: JSON.stringify(p) };
}
