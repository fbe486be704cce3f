// Chorus pacing: new posts wait in a queue and reach the screen one at a
// time, at a calm cadence; when the stream is quiet, a post already shown
// comes round again. Widgets and the wall use it between protocol.js and the
// layout. No DOM: the page says what "release" and "replay" mean.
//
// What it promises the audience:
//   - at most one change per pace interval: a new post (the oldest waiting
//     first) or, when nothing waits, a replay; never a burst, whatever
//     arrives (50 posts a second leave the queue one per interval);
//   - the queue keeps the newest `max` posts: under a flood the oldest
//     waiting ones give way, so what appears is never far behind;
//   - nothing is released while a hold is on (the pointer or the keyboard
//     focus is in the widget, it is out of view, the stream is paused), so
//     content never moves under someone reading it;
//   - replay (when on) starts after the stream has been quiet for `quiet`
//     (two paces, at least 10 s) and then brings back one post per `quiet`,
//     so a screen never freezes and never churns.
//
// Use:
//   const pacer = new Pacer({ pace: 4000, replay: true, max: 20,
//     release: (post) => ..., replay: () => true /* replayed one */ });
//   pacer.push(post); pacer.drop(id); pacer.update(post);
//   pacer.hold("hover", true); pacer.start(); pacer.stop();

const MIN_PACE_MS = 250;
const MIN_QUIET_MS = 10_000;

export class Pacer {
  /**
   * @param {object} options
   * @param {number} [options.pace]  milliseconds between changes (default 4000)
   * @param {boolean} [options.replay]  bring shown posts back when quiet (default true)
   * @param {number} [options.max]  posts the queue keeps (default 60)
   * @param {(post: object) => void} options.onRelease  shows a queued post
   * @param {() => boolean} [options.onReplay]  brings a shown post back; true if it did
   */
  constructor(options) {
    this._pace = Math.max(MIN_PACE_MS, Number(options.pace) || 4000);
    this._replay = options.replay !== false;
    this._max = Math.max(1, Number(options.max) || 60);
    this._onRelease = options.onRelease;
    this._onReplay = options.onReplay || (() => false);
    this._queue = []; // oldest first
    this._holds = new Set();
    this._timer = 0;
    this._running = false;
    this._lastChange = -Infinity; // when the last post was released or replayed
    this._lastNew = performance.now(); // when the last new post arrived or left the queue
    this.dropped = 0; // posts that gave way under a flood
  }

  /** Milliseconds between changes. */
  get pace() {
    return this._pace;
  }

  set pace(ms) {
    this._pace = Math.max(MIN_PACE_MS, Number(ms) || this._pace);
    this._schedule();
  }

  get replay() {
    return this._replay;
  }

  set replay(on) {
    this._replay = !!on;
    this._schedule();
  }

  /** How long the stream must be quiet before a replay, and between replays. */
  get quiet() {
    return Math.max(MIN_QUIET_MS, 2 * this._pace);
  }

  /** Posts waiting. */
  get size() {
    return this._queue.length;
  }

  /** ids of the posts waiting, oldest first. */
  ids() {
    return this._queue.map((p) => p.id);
  }

  get max() {
    return this._max;
  }

  set max(n) {
    this._max = Math.max(1, Number(n) || this._max);
    this._trim();
  }

  /** push queues a new post; a post already waiting is replaced in place. */
  push(post) {
    const i = this._queue.findIndex((p) => p.id === post.id);
    if (i >= 0) {
      this._queue[i] = post;
      return;
    }
    this._queue.push(post);
    this._lastNew = performance.now();
    this._trim();
    this._schedule();
  }

  /** update replaces a waiting post's copy; a post not waiting is ignored. */
  update(post) {
    const i = this._queue.findIndex((p) => p.id === post.id);
    if (i >= 0) this._queue[i] = post;
  }

  /** drop takes a post out of the queue (removed before it showed). */
  drop(id) {
    this._queue = this._queue.filter((p) => p.id !== id);
  }

  /** clear empties the queue. */
  clear() {
    this._queue = [];
  }

  /**
   * hold stops (on) or allows (off) releases for a reason; releases go on
   * when no reason holds.
   */
  hold(reason, on) {
    if (on) this._holds.add(reason);
    else this._holds.delete(reason);
    this._schedule();
  }

  get held() {
    return this._holds.size > 0;
  }

  start() {
    this._running = true;
    this._schedule();
  }

  stop() {
    this._running = false;
    clearTimeout(this._timer);
    this._timer = 0;
  }

  _trim() {
    while (this._queue.length > this._max) {
      this._queue.shift();
      this.dropped++;
    }
  }

  // _schedule sets the timer for the next possible change.
  _schedule() {
    clearTimeout(this._timer);
    this._timer = 0;
    if (!this._running || this.held) return;
    const now = performance.now();
    let at;
    if (this._queue.length) {
      at = this._lastChange + this._pace;
    } else if (this._replay) {
      at = Math.max(this._lastChange, this._lastNew) + this.quiet;
    } else {
      return;
    }
    this._timer = setTimeout(() => this._tick(), Math.max(0, at - now));
  }

  _tick() {
    this._timer = 0;
    if (!this._running || this.held) return;
    const now = performance.now();
    if (this._queue.length) {
      if (now - this._lastChange >= this._pace - 1) {
        const post = this._queue.shift();
        this._lastChange = now;
        this._lastNew = now;
        try {
          this._onRelease(post);
        } catch (err) {
          console.error("chorus: showing a post failed", err);
        }
      }
    } else if (this._replay && now - Math.max(this._lastChange, this._lastNew) >= this.quiet - 1) {
      let replayed = false;
      try {
        replayed = this._onReplay();
      } catch (err) {
        console.error("chorus: replaying a post failed", err);
      }
      // Try again a quiet period later either way.
      this._lastChange = now;
      if (!replayed) this._lastNew = now;
    }
    this._schedule();
  }
}
