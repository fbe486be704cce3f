package static_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// insertionsJS records, in the widget's shadow root, when each new card
// joins the feed (window.__inserts: [ms, id]) and, on every frame, whether
// two visible cards cover each other (window.__overlaps).
const insertionsJS = `(() => {
  const root = document.getElementById('w').shadowRoot;
  const feed = root.querySelector('[role=feed]');
  window.__inserts = [];
  window.__overlaps = [];
  window.__frames = 0;
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType === 1 && n.matches('article.card') && !n.dataset.seen) {
        n.dataset.seen = '1';
        window.__inserts.push([performance.now(), n.dataset.id]);
      }
    }
  }).observe(feed, { childList: true });
  for (const n of feed.children) n.dataset.seen = '1';
  const visible = (el) => { const cs = getComputedStyle(el); return cs.visibility !== 'hidden' && cs.display !== 'none' && parseFloat(cs.opacity) > 0.02; };
  const tick = () => {
    const cards = Array.from(feed.children).filter(visible);
    const rects = cards.map((el) => el.getBoundingClientRect());
    for (let i = 0; i < cards.length; i++) for (let j = i + 1; j < cards.length; j++) {
      const a = rects[i], b = rects[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1 && window.__overlaps.length < 20) window.__overlaps.push(cards[i].dataset.id + ' and ' + cards[j].dataset.id + ' overlap at frame ' + window.__frames);
    }
    window.__frames++;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return true;
})()`

// TestWidgetPacing: 50 posts a second arrive for three seconds; the widget
// shows at most one new post per pace interval, cards never cover each
// other, and the queue keeps only the newest posts.
func TestWidgetPacing(t *testing.T) {
	for _, layout := range []string{"masonry", "grid"} {
		t.Run(layout, func(t *testing.T) {
			ctx := bt.Tab(t)
			f := newFakeChorus(t)
			b := newBrandSite(t, f.srv.URL)
			f.set(func(f *fakeChorus) {
				f.snap = snapshot(100, false, variedPosts("old", 12)...)
				f.allowed = []string{b.srv.URL}
				f.auto = false
			})
			w := bt.Watch(t, ctx)
			bt.Emulate(t, ctx, bt.Desktop)
			// A two-second pace: a page on a loaded machine may draw one
			// insertion half a second late, which must not look like two
			// posts in one interval.
			openBrand(t, ctx, b, `layout="`+layout+`" theme="light" limit="12" pace="2s" replay="off"`, "&plain=1")
			c := f.accept(t)
			c.send(t, snapshot(100, false, variedPosts("old", 12)...))
			bt.WaitJS(t, ctx, "the first posts", widgetJS(`w.chorus.posts().length === 12`))
			bt.WaitJS(t, ctx, "the widget at rest", widgetSettledJS)
			bt.Eval[bool](t, ctx, insertionsJS)

			burst := variedPosts("new", 150)
			tick := time.NewTicker(20 * time.Millisecond) // 50 a second
			defer tick.Stop()
			for i := len(burst) - 1; i >= 0; i-- {
				<-tick.C
				c.send(t, add(1000-i, burst[i]))
			}
			bt.WaitJS(t, ctx, "four posts shown from the flood", `window.__inserts.length >= 4`)
			queued := bt.Eval[int](t, ctx, widgetJS(`w.chorus.queued().length`))
			if queued > 12 {
				t.Errorf("%d posts wait in the queue; it keeps at most the widget's 12", queued)
			}
			// One every pace. The observer notes an insertion when the task
			// that made it ends, which a loaded machine can delay, so one
			// gap may look short; but two insertions never share half an
			// interval, and three never share one.
			inserts := bt.Eval[[][]any](t, ctx, `window.__inserts`)
			at := func(i int) float64 { return inserts[i][0].(float64) }
			for i := 1; i < len(inserts); i++ {
				if gap := at(i) - at(i-1); gap < 1000 {
					t.Errorf("%s came %.0f ms after %s; the pace is one post every two seconds", inserts[i][1], gap, inserts[i-1][1])
				}
				if i >= 2 && at(i)-at(i-2) < 2000 {
					t.Errorf("%s, %s and %s came within %.0f ms; the pace is one post every two seconds", inserts[i-2][1], inserts[i-1][1], inserts[i][1], at(i)-at(i-2))
				}
			}
			if overlaps := bt.Eval[[]string](t, ctx, `window.__overlaps`); len(overlaps) > 0 {
				bt.Screenshot(t, ctx, "overlap")
				t.Errorf("cards covered each other:\n%s", strings.Join(overlaps, "\n"))
			}
			// What appears is the newest part of the flood, oldest of it first.
			first := fmt.Sprint(inserts[0][1])
			if !strings.HasPrefix(first, "new") {
				t.Errorf("the first insertion was %s", first)
			}
			w.Check(t)
		})
	}
}

// hostilePosts try everything a post can carry against a page.
func hostilePosts() []map[string]any {
	evil := textPost("evil", `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> javascript:alert(3) <b>bold</b> <style>*{display:none}</style>`)
	evil["url"] = "javascript:window.__pwned=4"
	evil["author"] = map[string]any{"id": "e", "name": `<b onmouseover="window.__pwned=5">Eve</b>`, "handle": `<svg/onload=window.__pwned=6>`,
		"avatar_url": "javascript:window.__pwned=7", "profile_url": "javascript:window.__pwned=8"}
	evil["links"] = []map[string]any{{"url": "javascript:window.__pwned=9", "start": 0, "end": 5}, {"url": "data:text/html,<script>parent.__pwned=10</script>", "start": 6, "end": 10}}
	evil["media"] = []map[string]any{{"url": "javascript:window.__pwned=11"}, {"url": `/demo/media/photo/1.svg" onerror="window.__pwned=12`, "alt": `"><img src=x onerror=window.__pwned=13>`}}
	evil["hashtags"] = []string{`<i>tag</i>`}
	evil["lang"] = `en" onmouseover="window.__pwned=14`
	evil["content_warning"] = `<script>window.__pwned=15</script>`
	evil["sensitive"] = true
	evil["counts"] = map[string]any{"likes": "<b>9</b>"}
	evil["network"] = `<img src=x onerror=window.__pwned=16>`
	evil["featured"] = true
	css := textPost("css", `</style><style>:host{display:none!important}</style> url(javascript:alert(1)) expression(alert(2))`)
	css["author"] = map[string]any{"id": "c", "name": "}; * { color: red } {", "avatar_url": "https://x.example/a.png\");background:url(javascript:alert(3)"}
	return []map[string]any{evil, css, textPost("calm", "A calm post with #tag and @mention https://example.com/ok")}
}

// hostileChecksJS lists what a hostile post managed: a script that ran, an
// element or attribute that came from post text, a javascript: or data: URL.
const hostileChecksJS = `((root) => {
  const bad = [];
  if (window.__pwned !== undefined) bad.push('a post ran a script: ' + window.__pwned);
  for (const el of root.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) bad.push('event handler attribute ' + a.name + ' on ' + el.tagName);
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name) && /^\s*(javascript|data|vbscript):/i.test(a.value)) bad.push(a.name + '=' + a.value);
    }
    if (['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'SVG', 'B', 'I', 'FORM'].includes(el.tagName.toUpperCase()) && el.closest('article')) bad.push(el.tagName + ' inside a card');
  }
  const evil = root.querySelector('article[data-id="evil"]');
  if (evil && !evil.querySelector('.text').textContent.includes('<script>')) bad.push('the hostile text is not shown as text');
  return bad;
})`

// TestWidgetNeverRunsHostileContent: in every layout, a post's markup,
// URLs and fields stay text and never run.
func TestWidgetNeverRunsHostileContent(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	b := newBrandSite(t, f.srv.URL)
	f.set(func(f *fakeChorus) {
		f.snap = snapshot(3, false, hostilePosts()...)
		f.allowed = []string{b.srv.URL}
	})
	w := bt.Watch(t, ctx)
	for _, layout := range widgetLayouts {
		openBrand(t, ctx, b, `layout="`+layout+`" replay="off" pace="60s"`, "&plain=1")
		bt.WaitJS(t, ctx, layout+": posts", widgetJS(`w.chorus.posts().length === 3`))
		if layout == "spotlight" {
			// Bring each post on stage once.
			for i := 0; i < 3; i++ {
				bt.Eval[bool](t, ctx, widgetJS(`(root.querySelector('.next').click(), true)`))
			}
		}
		bt.WaitJS(t, ctx, layout+": at rest", widgetSettledJS)
		if bad := bt.Eval[[]string](t, ctx, hostileChecksJS+`(document.getElementById('w').shadowRoot)`); len(bad) > 0 {
			t.Errorf("%s:\n%s", layout, strings.Join(bad, "\n"))
		}
		if !bt.Eval[bool](t, ctx, widgetJS(`getComputedStyle(w).display !== 'none' && root.querySelector('.widget').getBoundingClientRect().height > 40`)) {
			t.Errorf("%s: a post's text hid the widget", layout)
		}
	}
	w.Check(t)
}

// TestWidgetAccessibility runs axe-core (WCAG 2.2 A and AA) on every layout
// in both themes, shadow root included, and checks the feed pattern and
// that every control is reachable with the keyboard.
func TestWidgetAccessibility(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	b := newBrandSite(t, f.srv.URL)
	f.set(func(f *fakeChorus) {
		f.snap = snapshot(3, false, widgetPosts(t)[:10]...)
		f.allowed = []string{b.srv.URL}
	})
	w := bt.Watch(t, ctx)
	bt.Emulate(t, ctx, bt.Desktop)
	for _, theme := range []string{"light", "dark"} {
		for _, layout := range widgetLayouts {
			name := theme + "-" + layout
			openBrand(t, ctx, b, fmt.Sprintf(`layout="%s" theme="%s" replay="off" pace="60s"`, layout, theme), "&plain=1")
			if theme == "dark" {
				bt.Eval[bool](t, ctx, `(() => { document.body.classList.add('dark'); return true; })()`)
			}
			bt.WaitJS(t, ctx, name+": posts", widgetJS(`w.chorus.posts().length === 10`))
			bt.WaitJS(t, ctx, name+": at rest", widgetSettledJS)
			if v := bt.Axe(t, ctx, "chorus-wall"); len(v) > 0 {
				t.Errorf("%s: axe found:\n%s", name, strings.Join(v, "\n"))
			}
			// Tab reaches the widget's controls and cards.
			reach := bt.Eval[int](t, ctx, widgetJS(`root.querySelectorAll('button:not([hidden]):not([disabled]), article[tabindex="0"], a[href]').length`))
			if reach == 0 {
				t.Errorf("%s: nothing in the widget takes the keyboard focus", name)
			}
		}
	}
	w.Check(t)
}

// clsJS sums the page's layout shifts (the Cumulative Layout Shift the
// browser reports) from the start of the page.
const clsJS = `(() => {
  window.__cls = 0;
  window.__shifts = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.hadRecentInput) continue;
      window.__cls += e.value;
      window.__shifts.push(e.value.toFixed(4) + ' ' + (e.sources || []).map((s) => (s.node ? (s.node.id || s.node.className || s.node.nodeName) : '?') + ' ' + JSON.stringify([s.previousRect, s.currentRect])).join(', '));
    }
  }).observe({ type: 'layout-shift', buffered: true });
  return true;
})()`

// TestWidgetDoesNotShiftThePage: with its room reserved (the layout's
// height, held before the script arrives by one CSS rule the README
// gives), posts arriving, images loading, paced insertions and replays
// never move the page around the widget: a Cumulative Layout Shift of 0.
func TestWidgetDoesNotShiftThePage(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	b := newBrandSite(t, f.srv.URL)
	f.set(func(f *fakeChorus) {
		f.snap = snapshot(3, false, demoPosts(t, 10)...)
		f.allowed = []string{b.srv.URL}
		f.auto = false
	})
	w := bt.Watch(t, ctx)
	bt.Emulate(t, ctx, bt.Desktop)
	for _, layout := range widgetLayouts {
		f.drain()
		openBrand(t, ctx, b, `layout="`+layout+`" pace="1s"`, "&plain=1")
		bt.Eval[bool](t, ctx, clsJS)
		c := f.accept(t)
		c.send(t, snapshot(3, false, demoPosts(t, 10)...))
		bt.WaitJS(t, ctx, layout+": posts", widgetJS(`w.chorus.posts().length === 10`))
		more := demoPosts(t, 14)[:4]
		for i, p := range more {
			p["id"] = fmt.Sprintf("late%d", i)
			c.send(t, add(10+i, p))
		}
		bt.WaitJS(t, ctx, layout+": the late posts", widgetJS(`w.chorus.posts().filter((id) => id.startsWith('late')).length === 4`))
		bt.WaitJS(t, ctx, layout+": at rest", widgetSettledJS)
		if cls := bt.Eval[float64](t, ctx, `window.__cls`); cls > 0 {
			t.Errorf("%s: the page shifted (CLS %.4f): %v", layout, cls, bt.Eval[[]string](t, ctx, `window.__shifts`))
		}
		c.close(1000, "next layout")
	}
	w.Check(t)
}

// TestWidgetProfileAndLoadMore: the stream's profile sets the layout, the
// look and the fields; the visitor's browser language (navigator.languages,
// never sent anywhere) puts posts in that language first; "load more" shows
// the older posts the widget holds, then asks Chorus for older ones with
// ?before=, until there are no more.
func TestWidgetProfileAndLoadMore(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	b := newBrandSite(t, f.srv.URL)
	posts := variedPosts("p", 30)
	for i, p := range posts {
		p["lang"] = "en"
		if i == 20 || i == 25 {
			p["lang"] = "pt-BR"
		}
	}
	older := variedPosts("q", 25) // older than every post of the snapshot
	f.set(func(f *fakeChorus) {
		f.snap = snapshot(4, false, posts...)
		f.older = older
		f.allowed = []string{b.srv.URL}
		f.profile = map[string]any{
			"layout": "list", "theme": "dark", "colors": map[string]any{"accent": "#f97316"}, "header": "Summit live",
			"show_mark": false, "posts": 10, "prefer_visitor_language": true,
			"fields": map[string]any{"avatar": false, "handle": false, "network": true, "time": true, "media": true, "counts": false},
		}
	})
	w := bt.Watch(t, ctx)
	bt.Emulate(t, ctx, bt.Desktop)
	// A visitor whose browser prefers Portuguese.
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: "Mozilla/5.0 Chorus test", AcceptLanguage: "pt-BR,pt;q=0.9"}); err != nil {
		t.Fatal(err)
	}
	openBrand(t, ctx, b, `profile="lobby"`, "&plain=1")
	bt.WaitJS(t, ctx, "posts", widgetJS(`w.chorus.posts().length === 10`))
	bt.WaitJS(t, ctx, "at rest", widgetSettledJS)
	checks := map[string]string{
		"the profile's layout":    widgetJS(`w.chorus.layout() === 'list'`),
		"the profile's theme":     widgetJS(`w.getAttribute('theme') === 'dark'`),
		"the profile's accent":    widgetJS(`getComputedStyle(root.querySelector('.widget')).getPropertyValue('--chorus-accent').trim() === '#f97316'`),
		"the header, no mark":     widgetJS(`root.querySelector('.headline').textContent === 'Summit live' && root.querySelector('.mark').hidden`),
		"no avatars, no handles":  widgetJS(`!root.querySelector('.avatar, .handle')`),
		"Portuguese posts first":  widgetJS(`w.chorus.posts()[0] === 'p10' && w.chorus.posts()[1] === 'p5'`),
		"the page's own language": `navigator.languages[0] === 'pt-BR'`,
	}
	for what, cond := range checks {
		if !bt.Eval[bool](t, ctx, cond) {
			t.Errorf("%s: false: %s (posts %v)", what, cond, bt.Eval[[]string](t, ctx, widgetJS(`w.chorus.posts()`)))
		}
	}
	more := widgetJS(`(root.querySelector('.more').click(), true)`)
	// First the twenty posts it holds beyond the ten shown...
	bt.Eval[bool](t, ctx, more)
	bt.WaitJS(t, ctx, "the held posts", widgetJS(`w.chorus.posts().length === 30`))
	if n := f.hits("/api/v1/streams/wall/posts"); n != 0 {
		t.Errorf("the widget asked Chorus for %d pages while it held posts to show", n)
	}
	// ... then older ones from Chorus, a page of 20, then the last 5.
	bt.Eval[bool](t, ctx, more)
	bt.WaitJS(t, ctx, "a page of older posts", widgetJS(`w.chorus.posts().length === 50 && w.chorus.posts().includes('q25')`))
	bt.Eval[bool](t, ctx, more)
	bt.WaitJS(t, ctx, "the last older posts", widgetJS(`w.chorus.posts().length === 55 && w.chorus.posts().includes('q1')`))
	bt.WaitJS(t, ctx, "no more to load", widgetJS(`root.querySelector('.more-row').hidden`))
	bt.Screenshot(t, ctx, "profile-list")
	w.Check(t)
}

// motionJS records, on every frame, whatever moves in the widget: running
// animations and transitions in its shadow root (window.__motion), the
// ticker's crawl (its track's transform) and a carousel scrolling over
// several frames rather than stepping in one.
const motionJS = `(() => {
  const root = document.getElementById('w').shadowRoot;
  window.__motion = [];
  window.__steps = 0; // the ticker's first card changed, the carousel scrolled, the spotlight's post changed
  let lastScroll = null, scrolling = 0, lastFirst = null;
  const note = (what) => { if (window.__motion.length < 20) window.__motion.push(what); };
  const tick = () => {
    for (const a of root.getAnimations()) {
      const d = a.effect && a.effect.getComputedTiming().duration;
      if (a.playState === 'running' && d > 0) note((a.constructor.name || 'animation') + ' of ' + d + ' ms on ' + (a.effect.target ? a.effect.target.className : '?'));
    }
    const ticker = root.querySelector('.ticker-track');
    if (ticker && ticker.style.transform) note('the ticker crawls: ' + ticker.style.transform);
    const first = root.querySelector('.ticker-track > article, .stage > article');
    if (first && lastFirst && first !== lastFirst) window.__steps++;
    if (first) lastFirst = first;
    const track = root.querySelector('.layout-carousel .track');
    if (track) {
      if (lastScroll !== null && track.scrollLeft !== lastScroll) {
        scrolling++;
        window.__steps++;
        if (scrolling > 1) note('the carousel glides: scrollLeft ' + lastScroll + ' then ' + track.scrollLeft);
      } else scrolling = 0;
      lastScroll = track.scrollLeft;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return true;
})()`

// TestWidgetReducedMotion: with prefers-reduced-motion, no layout glides,
// crawls or fades while new posts come in and the carousel and ticker go
// round: they step instead.
func TestWidgetReducedMotion(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	b := newBrandSite(t, f.srv.URL)
	f.set(func(f *fakeChorus) {
		f.allowed = []string{b.srv.URL}
		f.auto = false
	})
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
	}); err != nil {
		t.Fatal(err)
	}
	bt.Emulate(t, ctx, bt.Desktop)
	w := bt.Watch(t, ctx)
	for _, layout := range widgetLayouts {
		f.drain()
		openBrand(t, ctx, b, `layout="`+layout+`" theme="light" limit="12" pace="1s" replay="on"`, "&plain=1")
		if !bt.Eval[bool](t, ctx, `matchMedia('(prefers-reduced-motion: reduce)').matches`) {
			t.Fatal("the browser does not report reduced motion")
		}
		c := f.accept(t)
		c.send(t, snapshot(10, false, variedPosts("old", 10)...))
		bt.WaitJS(t, ctx, layout+": the first posts", widgetJS(`w.chorus.posts().length === 10`))
		bt.WaitJS(t, ctx, layout+": at rest", widgetSettledJS)
		bt.Eval[bool](t, ctx, motionJS)
		c.send(t, add(11, textPost("new1", "a first new post while motion is reduced #Summit26")))
		c.send(t, add(12, textPost("new2", "a second new post while motion is reduced #Summit26")))
		bt.WaitJS(t, ctx, layout+": the new posts shown", widgetJS(`w.chorus.posts().length === 12 && w.chorus.queued().length === 0`))
		if layout == "carousel" || layout == "ticker" || layout == "spotlight" {
			bt.WaitJS(t, ctx, layout+": a step round its posts", `window.__steps > 0`)
		}
		bt.WaitJS(t, ctx, layout+": at rest again", widgetSettledJS)
		if motion := bt.Eval[[]string](t, ctx, `window.__motion`); len(motion) > 0 {
			bt.Screenshot(t, ctx, "reduced-motion-"+layout)
			t.Errorf("%s moves with reduced motion:\n%s", layout, strings.Join(motion, "\n"))
		}
	}
	w.Check(t)
}

// TestWidgetCarouselHoldsForItsReader: while the pointer is over the
// carousel, or the keyboard focus is in it, it neither advances nor lets a
// new post in; when the reader leaves, the waiting post comes in.
func TestWidgetCarouselHoldsForItsReader(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	b := newBrandSite(t, f.srv.URL)
	f.set(func(f *fakeChorus) {
		f.allowed = []string{b.srv.URL}
		f.auto = false
	})
	bt.Emulate(t, ctx, bt.Desktop)
	w := bt.Watch(t, ctx)
	openBrand(t, ctx, b, `layout="carousel" theme="light" limit="12" pace="1s" replay="on"`, "&plain=1")
	c := f.accept(t)
	c.send(t, snapshot(10, false, variedPosts("old", 10)...))
	bt.WaitJS(t, ctx, "the first posts", widgetJS(`w.chorus.posts().length === 10`))
	bt.WaitJS(t, ctx, "at rest", widgetSettledJS)

	// waitPageTime waits until ms of the page's time have passed: a
	// carousel step (at least 5 s) and several paces fit in 6 s.
	waitPageTime := func(what string, ms int) {
		t.Helper()
		bt.Eval[bool](t, ctx, fmt.Sprintf(`(window.__until = performance.now() + %d, true)`, ms))
		bt.WaitJS(t, ctx, what, `performance.now() > window.__until`)
	}
	scrollJS := widgetJS(`root.querySelector('.layout-carousel .track').scrollLeft`)

	// The pointer over the cards.
	box := bt.Eval[[]float64](t, ctx, widgetJS(`(() => { const r = root.querySelector('.layout-carousel .track').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`))
	bt.Do(t, ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, box[0], box[1]))
	start := bt.Eval[float64](t, ctx, scrollJS)
	c.send(t, add(11, textPost("new1", "a post that waits while the pointer is over the carousel #Summit26")))
	bt.WaitJS(t, ctx, "the new post queued", widgetJS(`w.chorus.queued().includes('new1')`))
	waitPageTime("six seconds under the pointer", 6000)
	if bt.Eval[bool](t, ctx, widgetJS(`w.chorus.posts().includes('new1')`)) {
		t.Error("a new post came in under the pointer")
	}
	if now := bt.Eval[float64](t, ctx, scrollJS); now != start {
		t.Errorf("the carousel moved under the pointer: scrollLeft %v, then %v", start, now)
	}
	bt.Do(t, ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 5, 5))
	bt.WaitJS(t, ctx, "the post after the pointer left", widgetJS(`w.chorus.posts().includes('new1')`))
	bt.WaitJS(t, ctx, "at rest", widgetSettledJS)

	// The keyboard focus in the carousel, on its "previous" button (a
	// background tab gets focus events only with focus emulation).
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if !bt.Eval[bool](t, ctx, widgetJS(`(root.querySelector('.layout-carousel .controls button').focus(), w.matches(':focus-within'))`)) {
		t.Fatal("the carousel's buttons do not take the focus")
	}
	start = bt.Eval[float64](t, ctx, scrollJS)
	c.send(t, add(12, textPost("new2", "a post that waits while a card has the focus #Summit26")))
	bt.WaitJS(t, ctx, "the second post queued", widgetJS(`w.chorus.queued().includes('new2')`))
	waitPageTime("six seconds with the focus", 6000)
	if bt.Eval[bool](t, ctx, widgetJS(`w.chorus.posts().includes('new2')`)) {
		t.Error("a new post came in while the carousel had the focus")
	}
	if now := bt.Eval[float64](t, ctx, scrollJS); now != start {
		t.Errorf("the carousel moved while it had the focus: scrollLeft %v, then %v", start, now)
	}
	bt.Eval[bool](t, ctx, widgetJS(`(root.activeElement && root.activeElement.blur(), true)`))
	bt.WaitJS(t, ctx, "the post after the focus left", widgetJS(`w.chorus.posts().includes('new2')`))
	w.Check(t)
}
