// Chorus posts: the list of posts a screen shows, kept from display-protocol
// messages. No DOM and no network: protocol.js feeds it, a page draws it.
//
// What it promises:
//   - display order is pinned posts first (in the order the server gave
//     them), then the rest newest first, cut to the display limit;
//   - it never holds more than `max` posts, whatever the server sends;
//   - a malformed post (not an object, no string id) is skipped, never
//     thrown on.

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
 * PostList holds a stream's posts in display order.
 *
 *   const list = new PostList({ limit: 60 });
 *   list.reset(snapshot.posts); list.add(post); list.update(post); list.remove(id);
 *   list.ids()      // display order, cut to the limit
 *   list.get(id)    // { post, key } where key changes whenever the post does
 *
 * Each change method returns true when what the list shows changed.
 */
export class PostList {
  /** @param {{limit?: number, max?: number}} [options] */
  constructor(options = {}) {
    this.max = Number.isInteger(options.max) && options.max > 0 ? options.max : MAX_POSTS;
    this._limit = this.max;
    this._order = []; // ids, newest first, as the server sent them
    this._posts = new Map(); // id -> { post, key }
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
    const pinned = [];
    const rest = [];
    for (const id of this._order) {
      (this._posts.get(id).post.pinned === true ? pinned : rest).push(id);
    }
    return pinned.concat(rest).slice(0, this._limit);
  }

  /** reset replaces every post with a snapshot's, given newest first. */
  reset(posts) {
    this._posts.clear();
    this._order = [];
    for (const p of Array.isArray(posts) ? posts : []) {
      if (!isPost(p) || this._posts.has(p.id)) continue;
      this._posts.set(p.id, entry(p));
      this._order.push(p.id);
    }
    this._trim();
    return true;
  }

  /** add puts a new post first, or replaces it in place if it is held. */
  add(p) {
    if (!isPost(p)) return false;
    if (this._posts.has(p.id)) return this._replace(p);
    this._posts.set(p.id, entry(p));
    this._order.unshift(p.id);
    this._trim();
    return this._posts.has(p.id);
  }

  /**
   * update replaces a held post in place (pin, feature, edit). A post the
   * list no longer holds comes back only when it is now pinned.
   */
  update(p) {
    if (!isPost(p)) return false;
    if (this._posts.has(p.id)) return this._replace(p);
    return p.pinned === true ? this.add(p) : false;
  }

  remove(id) {
    if (typeof id !== "string" || !this._posts.has(id)) return false;
    this._posts.delete(id);
    this._order = this._order.filter((x) => x !== id);
    return true;
  }

  _replace(p) {
    const next = entry(p);
    if (this._posts.get(p.id).key === next.key) return false;
    this._posts.set(p.id, next);
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
