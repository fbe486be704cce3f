package static_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// settledJS is true once the wall has drawn what it holds and no card is
// moving or fading.
const settledJS = `(() => {
  const w = window.chorusWall;
  if (!w || (w.settled && !w.settled())) return false;
  return document.getAnimations().every((a) => !(a.effect && a.effect.target && a.effect.target.closest && a.effect.target.closest('.card')));
})()`

// overlapMonitorJS watches the wall two ways and records the first
// violations in window.__overlaps:
//   - on every frame, no two visible cards cover each other;
//   - whenever a card starts to fade in (loses .entering), no visible card
//     that is still gliding covers its place. This check does not depend on
//     how many frames the machine manages to draw: a busy test machine may
//     draw one a second, and frames alone would then sample too little.
//
// window.__frames and window.__entered count what it saw.
const overlapMonitorJS = `(() => {
  window.__overlaps = [];
  window.__frames = 0;
  window.__entered = 0;
  const visible = (el) => {
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none' && parseFloat(cs.opacity) > 0.02;
  };
  const covered = (a, b) => {
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > 1 && h > 1 ? Math.round(w) + 'x' + Math.round(h) + 'px' : '';
  };
  const report = (what) => { if (window.__overlaps.length < 20) window.__overlaps.push(what); };
  const tick = () => {
    const cards = Array.from(document.querySelectorAll('#posts > .card')).filter(visible);
    const rects = cards.map((el) => el.getBoundingClientRect());
    for (let i = 0; i < cards.length; i++) {
      for (let j = i + 1; j < cards.length; j++) {
        const by = covered(rects[i], rects[j]);
        if (by) report(cards[i].dataset.id + ' and ' + cards[j].dataset.id + ' overlap by ' + by + ' at frame ' + window.__frames);
      }
    }
    window.__frames++;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  const gliding = (el) => el.getAnimations().some((a) => a.transitionProperty === 'transform' && a.playState === 'running');
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target;
      const was = (r.oldValue || '').split(/\s+/).includes('entering');
      if (!was || el.classList.contains('entering') || el.classList.contains('offscreen') || !el.isConnected) continue;
      window.__entered++;
      const place = el.getBoundingClientRect();
      for (const other of document.querySelectorAll('#posts > .card')) {
        if (other === el || !visible(other) || !gliding(other)) continue;
        const by = covered(place, other.getBoundingClientRect());
        if (by) report(el.dataset.id + ' fades in while ' + other.dataset.id + ' still glides over its place (' + by + ')');
      }
    }
  }).observe(document.getElementById('posts'), { subtree: true, attributes: true, attributeFilter: ['class'], attributeOldValue: true });
  return true;
})()`

// refilledGapsJS lists every visible card shown in the room of a newer
// card that was hidden because it did not fit: an older post filling a
// gap. Hidden cards keep the place they would take.
const refilledGapsJS = `(() => {
  const cards = Array.from(document.querySelectorAll('#posts > .card')).map((el, i) => {
    const r = el.getBoundingClientRect();
    const hidden = el.classList.contains('offscreen') || getComputedStyle(el).visibility === 'hidden';
    return { id: el.dataset.id, i, left: r.left, right: r.right, top: r.top, hidden };
  });
  const bad = [];
  for (const h of cards) {
    if (!h.hidden) continue;
    for (const v of cards) {
      if (v.hidden || v.i < h.i) continue;
      const across = Math.min(h.right, v.right) - Math.max(h.left, v.left);
      if (across > 1 && v.top >= h.top - 1) bad.push(v.id + ' (#' + v.i + ') fills the room of hidden ' + h.id + ' (#' + h.i + ')');
    }
  }
  return bad;
})()`

func openWall(t *testing.T, ctx context.Context, f *fakeChorus, query string) {
	t.Helper()
	bt.Navigate(t, ctx, f.srv.URL+"/wall/wall"+query)
	bt.WaitJS(t, ctx, "the wall to start", `!!window.chorusWall`)
}

// scriptedWall opens the wall on a fake server whose websockets the test
// drives itself (no automatic snapshot).
func scriptedWall(t *testing.T) (context.Context, *fakeChorus, *bt.Watcher) {
	t.Helper()
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	f.set(func(f *fakeChorus) { f.auto = false })
	w := bt.Watch(t, ctx)
	openWall(t, ctx, f, "")
	return ctx, f, w
}

// variedPosts are n posts, newest first, whose texts run from one line to
// the nine a card shows, so cards differ in height.
func variedPosts(prefix string, n int) []map[string]any {
	words := strings.Fields("the keynote just announced a new stage for the community wall and everyone in the hall is cheering loudly")
	out := make([]map[string]any, 0, n)
	for i := n; i >= 1; i-- {
		var b strings.Builder
		for w := 0; w < 3+(i*37)%60; w++ {
			b.WriteString(words[(i+w)%len(words)] + " ")
		}
		out = append(out, textPost(prefix+itoa(i), b.String()+"#Summit26"))
	}
	return out
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// TestWallBurstNeverOverlapsCards sends a burst of posts and checks every
// frame: cards make room before a new one fades in, so no two visible cards
// ever cover each other, and the wall comes to rest.
func TestWallBurstNeverOverlapsCards(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	f.set(func(f *fakeChorus) { f.snap = snapshot(100, false, variedPosts("old", 16)...) })
	w := bt.Watch(t, ctx)
	openWall(t, ctx, f, "")
	c := f.accept(t)
	bt.WaitJS(t, ctx, "first posts", `window.chorusWall.posts().length === 16`)
	bt.WaitJS(t, ctx, "the wall at rest", settledJS)
	bt.Eval[bool](t, ctx, overlapMonitorJS)

	burst := variedPosts("new", 40)
	tick := time.NewTicker(60 * time.Millisecond)
	defer tick.Stop()
	for i := len(burst) - 1; i >= 0; i-- { // oldest first, as they happen
		<-tick.C
		c.send(t, add(200-i, burst[i]))
	}
	bt.WaitJS(t, ctx, "the newest post", `window.chorusWall.posts()[0] === 'new40'`)
	bt.WaitJS(t, ctx, "the wall at rest after the burst", settledJS)
	frames, entered := bt.Eval[int](t, ctx, `window.__frames`), bt.Eval[int](t, ctx, `window.__entered`)
	t.Logf("%d frames watched, %d cards faded in", frames, entered)
	// New posts enter at the tops of the columns, and every one shown fades
	// in: even a machine so busy that the whole burst lands in one layout
	// fades in a screenful. The count, not the frame rate, proves the
	// monitor watched.
	if frames == 0 || entered < 5 {
		t.Fatalf("the monitor saw %d frames and %d cards fade in during a burst of %d", frames, entered, len(burst))
	}
	if overlaps := bt.Eval[[]string](t, ctx, `window.__overlaps`); len(overlaps) > 0 {
		bt.Screenshot(t, ctx, "overlap")
		t.Errorf("cards covered each other during the burst (%d frames watched):\n%s", frames, strings.Join(overlaps, "\n"))
	}
	w.Check(t)
}

// TestWallNeverRefillsAGapWithAnOlderPost: a card that does not fit ends
// its column; an older, shorter card never takes its room, neither after
// the first layout nor after removals.
func TestWallNeverRefillsAGapWithAnOlderPost(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	posts := variedPosts("p", 40)
	f.set(func(f *fakeChorus) { f.snap = snapshot(50, false, posts...) })
	w := bt.Watch(t, ctx)
	openWall(t, ctx, f, "?columns=3")
	c := f.accept(t)
	bt.WaitJS(t, ctx, "posts", `window.chorusWall.posts().length === 40`)
	bt.WaitJS(t, ctx, "the wall at rest", settledJS)
	if bad := bt.Eval[[]string](t, ctx, refilledGapsJS); len(bad) > 0 {
		bt.Screenshot(t, ctx, "refilled")
		t.Fatalf("older posts fill the room of hidden newer ones:\n%s", strings.Join(bad, "\n"))
	}
	hidden := bt.Eval[int](t, ctx, `document.querySelectorAll('#posts > .card.offscreen').length`)
	if hidden == 0 {
		t.Fatal("every card fits: the test needs more posts to mean anything")
	}

	// Moderators take down three visible posts: the columns close up.
	for i, id := range []string{"p40", "p38", "p35"} {
		c.send(t, remove(51+i, id))
	}
	bt.WaitJS(t, ctx, "removals", `window.chorusWall.posts().length === 37`)
	bt.WaitJS(t, ctx, "the wall at rest after removals", settledJS)
	if bad := bt.Eval[[]string](t, ctx, refilledGapsJS); len(bad) > 0 {
		t.Fatalf("after removals, older posts fill the room of hidden newer ones:\n%s", strings.Join(bad, "\n"))
	}
	w.Check(t)
}

// TestWallScrollsOnAPhone: on a phone the wall is one column the visitor
// can scroll through, not a fixed screen showing two cards.
func TestWallScrollsOnAPhone(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	f.set(func(f *fakeChorus) { f.snap = snapshot(10, false, demoPosts(t, 20)...) })
	w := bt.Watch(t, ctx)
	bt.Emulate(t, ctx, bt.Phone)
	openWall(t, ctx, f, "")
	bt.WaitJS(t, ctx, "posts", `window.chorusWall.posts().length === 20`)
	bt.WaitJS(t, ctx, "the wall at rest", settledJS)
	if n := bt.Eval[int](t, ctx, `document.querySelectorAll('#posts > .card.offscreen').length`); n > 0 {
		t.Errorf("%d cards are hidden on a phone; every post should be reachable by scrolling", n)
	}
	if _, err := chromedp.Call(ctx, input.SynthesizeScrollGesture, input.SynthesizeScrollGestureParams{
		// A wheel: headless Chromium synthesizes no touch scrolling.
		X: 195, Y: 600, YDistance: -700, Speed: 1600, GestureSourceType: input.GestureSourceTypeMouse,
	}); err != nil {
		t.Fatal(err)
	}
	bt.WaitJS(t, ctx, "a swipe to scroll the page", `window.scrollY > 300`)
	bt.Eval[bool](t, ctx, `(window.scrollTo(0, document.scrollingElement.scrollHeight), true)`)
	bt.WaitJS(t, ctx, "the last post in view", `(() => {
	  const last = document.querySelector('#posts > .card:last-child').getBoundingClientRect();
	  return last.bottom <= innerHeight + 1 && last.top >= 0;
	})()`)
	if !bt.Eval[bool](t, ctx, `document.scrollingElement.scrollWidth <= innerWidth`) {
		t.Error("the phone page scrolls sideways")
	}
	w.Check(t)
}

// TestWallIgnoresAnOlderSnapshot: after a restart, a server that offers a
// state older than the one on screen is refused; the wall keeps what it
// shows, reconnects, and takes the next current state.
func TestWallIgnoresAnOlderSnapshot(t *testing.T) {
	ctx, f, w := scriptedWall(t)
	a, b := textPost("a", "first"), textPost("b", "second")

	c1 := f.acceptSince(t, "")
	c1.send(t, snapshot(10, false, b, a))
	bt.WaitJS(t, ctx, "the snapshot", `window.chorusWall.posts().join() === 'b,a' && window.chorusWall.seq() === 10`)

	c1.close(1001, "restarting")
	c2 := f.acceptSince(t, "10")
	c2.send(t, snapshot(5, false, textPost("c", "from an older world")))
	c2.closedByWall(t)
	if got := bt.Eval[string](t, ctx, `window.chorusWall.posts().join() + ' seq ' + window.chorusWall.seq()`); got != "b,a seq 10" {
		t.Fatalf("after an older snapshot the wall shows %s, want b,a seq 10", got)
	}

	c3 := f.acceptSince(t, "10")
	c3.send(t, add(11, textPost("d", "new")))
	c3.send(t, add(9, textPost("e", "a message older than the screen")))
	c3.send(t, add(12, textPost("f", "newer")))
	bt.WaitJS(t, ctx, "newer adds", `window.chorusWall.posts().join() === 'f,d,b,a' && window.chorusWall.seq() === 12`)
	c3.send(t, snapshot(13, false, textPost("g", "current"), a))
	bt.WaitJS(t, ctx, "a current snapshot", `window.chorusWall.posts().join() === 'g,a' && window.chorusWall.seq() === 13`)
	if state := bt.Eval[string](t, ctx, `window.chorusWall.state()`); state != "live" {
		t.Errorf("state %q", state)
	}
	w.Check(t)
}

// TestWallKeepsItsPostsWhileTheServerLoads: while a restarted server loads
// its state it refuses websockets (503), answers the snapshot API with 503
// and Retry-After, holds sockets without a word and closes them with 1013.
// The wall keeps what it shows through all of it, and resumes.
func TestWallKeepsItsPostsWhileTheServerLoads(t *testing.T) {
	ctx, f, w := scriptedWall(t)
	a, b := textPost("a", "first"), textPost("b", "second")
	c1 := f.accept(t)
	c1.send(t, snapshot(20, false, b, a))
	bt.WaitJS(t, ctx, "the snapshot", `window.chorusWall.posts().join() === 'b,a'`)

	f.set(func(f *fakeChorus) {
		f.wsStatus, f.snapStatus, f.retryAfter = 503, 503, "1"
		f.snap = snapshot(0, false)
	})
	c1.close(1013, "try again later")
	bt.WaitJS(t, ctx, "reconnecting", `window.chorusWall.state() === 'reconnecting'`)
	waitHTTP := time.After(bt.Timeout)
	for {
		f.mu.Lock()
		hits := f.httpHits
		f.mu.Unlock()
		if hits > 0 {
			break
		}
		select {
		case <-waitHTTP:
			t.Fatal("the wall never asked for the HTTP snapshot while its websocket was refused")
		case <-time.After(50 * time.Millisecond):
		}
	}
	keeps := `window.chorusWall.posts().join() === 'b,a' && document.getElementById('empty').hidden &&
	  document.querySelectorAll('#posts > .card:not(.offscreen)').length === 2 && !/error|503/i.test(document.body.innerText)`
	if !bt.Eval[bool](t, ctx, keeps) {
		t.Fatalf("while the server loads the wall shows %q", bt.Eval[string](t, ctx, `document.body.innerText`))
	}

	f.set(func(f *fakeChorus) { f.wsStatus = 0 })
	c2 := f.acceptSince(t, "20") // held: the server says nothing
	if !bt.Eval[bool](t, ctx, keeps) {
		t.Fatal("a held websocket emptied the wall")
	}
	c2.close(1013, "try again later")
	c3 := f.acceptSince(t, "20")
	c3.send(t, add(21, textPost("c", "back")))
	bt.WaitJS(t, ctx, "resumed", `window.chorusWall.posts().join() === 'c,b,a' && window.chorusWall.state() === 'live'`)
	w.Check(t)
}

// TestWallTakesBatchedFrames: a frame may carry several messages as a JSON
// array; the wall applies them in order. Bad messages inside are skipped.
func TestWallTakesBatchedFrames(t *testing.T) {
	ctx, f, w := scriptedWall(t)
	c := f.accept(t)
	c.send(t, snapshot(30, false, textPost("a", "first")))
	bt.WaitJS(t, ctx, "the snapshot", `window.chorusWall.posts().join() === 'a'`)
	c.send(t, []any{
		add(31, textPost("b", "second")),
		"not a message",
		map[string]any{"type": "add", "seq": 32, "post": "not a post"},
		add(33, textPost("c", "third")),
		remove(34, "a"),
		map[string]any{"type": "from-the-future", "seq": 35},
	})
	bt.WaitJS(t, ctx, "the batch", `window.chorusWall.posts().join() === 'c,b' && window.chorusWall.seq() === 35`)
	c.sendRaw(t, `[not json`)
	c.send(t, add(36, textPost("d", "after a bad frame")))
	bt.WaitJS(t, ctx, "a post after a bad frame", `window.chorusWall.posts().join() === 'd,c,b'`)
	w.Check(t)
}

// TestWallFollowsPins: what is pinned, and in which order, comes from the
// protocol's pins lists, not from a post's own flag.
func TestWallFollowsPins(t *testing.T) {
	ctx, f, w := scriptedWall(t)
	at := func(p map[string]any, minutes int) map[string]any {
		p["created_at"] = baseTime.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339)
		return p
	}
	a, b, c := at(textPost("a", "a"), 1), at(textPost("b", "b"), 2), at(textPost("c", "c"), 3)
	p := at(textPost("p", "pinned long ago"), 0)
	p["pinned"] = true
	conn := f.acceptSince(t, "")
	snap := snapshot(40, false, p, c, b, a)
	snap["pins"] = []string{"p"}
	conn.send(t, snap)
	bt.WaitJS(t, ctx, "pinned first", `window.chorusWall.posts().join() === 'p,c,b,a'`)

	conn.send(t, map[string]any{"type": "pins", "seq": 41, "pins": []string{"a", "p"}})
	bt.WaitJS(t, ctx, "the new pin order", `window.chorusWall.posts().join() === 'a,p,c,b' &&
	  document.querySelector('[data-id="a"]').classList.contains('pinned') &&
	  /Pinned/.test(document.querySelector('[data-id="a"] .flags').textContent)`)
	conn.send(t, add(42, at(textPost("d", "d"), 4)))
	bt.WaitJS(t, ctx, "a new post after the pins", `window.chorusWall.posts().join() === 'a,p,d,c,b'`)

	unpinned := at(textPost("p", "pinned long ago"), 0)
	conn.send(t, map[string]any{"type": "update", "seq": 43, "post": unpinned, "pins": []string{"a"}})
	bt.WaitJS(t, ctx, "unpinned, back in its place by age", `window.chorusWall.posts().join() === 'a,d,c,b,p' &&
	  !document.querySelector('[data-id="p"]').classList.contains('pinned')`)
	conn.send(t, map[string]any{"type": "update", "seq": 44, "post": at(textPost("gone", "not shown"), 5)})
	conn.send(t, map[string]any{"type": "remove", "seq": 45, "id": "a", "pins": []string{}})
	bt.WaitJS(t, ctx, "a pinned post removed", `window.chorusWall.posts().join() === 'd,c,b,p' && window.chorusWall.seq() === 45`)
	w.Check(t)
}

// TestWallTakesAnOlderStateTheServerKeepsOffering: a server whose data was
// deleted can only offer an older state, and the protocol says to take it.
// The wall refuses it at first (it could be a node that lags), and takes it
// once it has been offered for a minute, on three connections.
func TestWallTakesAnOlderStateTheServerKeepsOffering(t *testing.T) {
	ctx, f, w := scriptedWall(t)
	c := f.acceptSince(t, "")
	c.send(t, snapshot(100, false, textPost("b", "before"), textPost("a", "before")))
	bt.WaitJS(t, ctx, "the snapshot", `window.chorusWall.seq() === 100`)
	c.close(1001, "restarting")

	c = f.acceptSince(t, "100")
	c.send(t, snapshot(3, false, textPost("z", "after the reset")))
	c.closedByWall(t)
	// A minute passes, as far as the page knows.
	bt.Eval[bool](t, ctx, `(() => { const now = Date.now; Date.now = () => now() + 61000; return true; })()`)
	c = f.acceptSince(t, "100")
	c.send(t, snapshot(4, false, textPost("z", "after the reset")))
	c.closedByWall(t)
	if got := bt.Eval[string](t, ctx, `window.chorusWall.posts().join()`); got != "b,a" {
		t.Fatalf("after two offers the wall shows %s, want b,a", got)
	}
	c = f.acceptSince(t, "100")
	c.send(t, snapshot(5, false, textPost("y", "new"), textPost("z", "after the reset")))
	bt.WaitJS(t, ctx, "the server's new state", `window.chorusWall.posts().join() === 'y,z' && window.chorusWall.seq() === 5`)
	c.send(t, add(6, textPost("x", "newer")))
	bt.WaitJS(t, ctx, "live again", `window.chorusWall.posts().join() === 'x,y,z' && window.chorusWall.state() === 'live'`)
	w.Check(t)
}
