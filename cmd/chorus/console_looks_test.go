package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// The screens the console is judged on: a phone and a tablet (portrait,
// touch), a desktop and a 4K screen.
var (
	tablet      = bt.Viewport{Name: "tablet", Width: 820, Height: 1180, Scale: 2, Mobile: true}
	consoleSeen = []bt.Viewport{bt.Phone, tablet, bt.Desktop, bt.UHD}
)

// consoleLooksJS lists what a designer would not ship: a page wider than
// the screen, text spilling out of its box, and text with too little
// contrast against what is behind it (WCAG AA: 4.5:1, 3:1 for large text).
// W is the screen's width in CSS pixels: a phone zooms out a page wider
// than itself, so innerWidth would grow with the page.
const consoleLooksJS = `((W) => {
  const bad = [];
  const se = document.scrollingElement;
  if (se.scrollWidth > W + 1) bad.push('the page is ' + se.scrollWidth + 'px wide on a ' + W + 'px screen');
  // What sticks out of the screen: the outermost such element of each
  // branch (its parent fits), outside what scrolls sideways on purpose.
  const out = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && (r.left < -1 || r.right > W + 1); };
  for (const el of document.body.querySelectorAll('*')) {
    if (bad.length > 12 || !out(el) || (el.parentElement !== document.body && out(el.parentElement))) continue;
    if (el.closest('.table-wrap, .tabs, .sr-only, [hidden], dialog:not([open])')) continue;
    let clipped = false; // inside a box that clips or scrolls it
    for (let a = el.parentElement; a && a !== document.body && !clipped; a = a.parentElement) clipped = getComputedStyle(a).overflowX !== 'visible';
    if (clipped) continue;
    const r = el.getBoundingClientRect();
    bad.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().split(/\s+/).join('.') : '') + ' sticks out of the screen: ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) return c;
    }
    return rgb(getComputedStyle(document.body).backgroundColor);
  };
  let checked = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode() && checked < 600) {
    const el = walker.currentNode.parentElement;
    if (!el || seen.has(el) || !walker.currentNode.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('.sr-only, [hidden], dialog:not([open]), .media, .avatar, .network, .verified, option, select')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || r.bottom < 0 || r.top > innerHeight) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || Number(cs.opacity) < 0.99) continue;
    checked++;
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    const c = ratio(rgb(cs.color), behind(el));
    if (c < (large ? 3 : 4.5)) bad.push('"' + el.textContent.trim().slice(0, 30) + '" (' + el.className + '): contrast ' + c.toFixed(2));
    if (el.scrollWidth > el.clientWidth + 2 && cs.overflow !== 'hidden' && cs.overflowX !== 'auto' && cs.display !== 'inline' && !el.closest('.table-wrap, .tabs')) bad.push('"' + el.textContent.trim().slice(0, 30) + '" spills sideways');
  }
  return bad.slice(0, 20);
})`

func checkConsoleLooks(t *testing.T, ctx context.Context, name string, v bt.Viewport) {
	t.Helper()
	if bad := bt.Eval[[]string](t, ctx, fmt.Sprintf("%s(%d)", consoleLooksJS, v.Width)); len(bad) > 0 {
		t.Errorf("%s:\n%s", name, strings.Join(bad, "\n"))
	}
}

// testLooks renders the console's pages on a phone, a tablet, a desktop
// and a 4K screen, light and dark, with many posts and none, long and right-to-left
// text, checks them, and keeps a screenshot of each.
func testLooks(t *testing.T, app *testApp) {
	if testing.Short() {
		t.Skip("screenshots take a while")
	}
	long := strings.Repeat("Every speaker today talked about how small teams can ship reliable software by keeping things simple, measuring what matters and listening to the people who use it. ", 5)
	extra := []map[string]any{
		{"id": "long", "text": long + "#Summit26", "lang": "en", "author": map[string]any{"id": "ln", "name": "Maximiliana Alexandrina Konstantinopoulou-Vanderbilt", "handle": "maximiliana_alexandrina_konstantinopoulou_official", "followers": 48210, "verified": true}},
		{"id": "rtl", "text": "مرحبا بالجميع في المؤتمر! الجلسة الافتتاحية كانت رائعة جدا، وتحدث المتحدثون عن بناء برمجيات موثوقة بفرق صغيرة #ChorusLive", "lang": "ar", "author": map[string]any{"id": "lh", "name": "ليلى حداد", "handle": "leila_haddad", "followers": 912}},
		{"id": "he", "text": "בוקר טוב מהכנס! ההרצאה הראשונה הייתה מעולה https://example.com/talk #Summit26", "lang": "he", "author": map[string]any{"id": "nl", "name": "נועה לוי", "handle": "noa_levi"}},
		{"id": "cw", "text": "The surprise guest on stage right now!", "sensitive": true, "content_warning": "Spoilers: the surprise guest", "lang": "en", "author": map[string]any{"id": "sp", "name": "Sam Park", "handle": "sampark"},
			"media": []map[string]any{{"kind": "image", "url": "/demo/media/photo/3.svg", "width": 1200, "height": 800, "alt": "A crowd"}}},
	}
	body, _ := json.Marshal(extra)
	if code, resp := app.push(t, string(body)); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, resp)
	}
	waitFor(t, "the demo's posts held", func() bool { return app.heldCount(t, "main") >= 30 })
	// Some on screen, one pinned and one featured, one moderator action in the audit.
	q := app.queue(t, "/api/v1/streams/main/queue?limit=12&order=oldest")
	for i, h := range q.Posts {
		if code, resp := app.admin(t, http.MethodPost, "/api/v1/streams/main/posts/"+h.Post.ID+"/approve"); code != http.StatusOK {
			t.Fatalf("approve: %d %s", code, resp)
		}
		switch i {
		case 0:
			app.admin(t, http.MethodPost, "/api/v1/streams/main/posts/"+h.Post.ID+"/pin")
		case 1:
			app.admin(t, http.MethodPost, "/api/v1/streams/main/posts/"+h.Post.ID+"/feature")
		}
	}

	ctx := bt.Tab(t)
	w := bt.Watch(t, ctx)
	signIn(t, ctx, app, "olivia", "/console")
	all, notUHD := consoleSeen, []bt.Viewport{bt.Phone, tablet, bt.Desktop}
	pages := []struct {
		name, path, ready string
		seen              []bt.Viewport
	}{
		{"overview", "/console", `document.querySelectorAll('.stream-card .fig-value').length >= 6 && !!window.chorusConsole.figures('main')`, all},
		{"queue", "/console/streams/main/queue", `!!window.chorusQueue && !window.chorusQueue.loading() && window.chorusQueue.ids().length > 10 && document.querySelectorAll('.q-item img').length > 0`, all},
		{"queue-empty", "/console/streams/quiet/queue", `!!window.chorusQueue && !window.chorusQueue.loading() && !document.querySelector('.q-empty').hidden`, notUHD},
		{"screen", "/console/streams/main/screen", `!!window.chorusScreen && window.chorusScreen.ids().length >= 10`, notUHD},
		{"search", "/console/streams/main/search?q=summit26", `!!window.chorusQueue && !window.chorusQueue.loading() && window.chorusQueue.ids().length > 0`, []bt.Viewport{bt.Desktop}},
		{"settings", "/console/streams/main/settings", `!!document.getElementById('save-rules') && document.querySelectorAll('.rule').length === 1`, notUHD},
	}
	for _, theme := range []string{"light", "dark"} {
		bt.Eval[bool](t, ctx, fmt.Sprintf(`(localStorage.setItem('chorus.console.theme', %q), true)`, theme))
		for _, v := range consoleSeen {
			bt.Emulate(t, ctx, v)
			for _, p := range pages {
				if !slices.Contains(p.seen, v) {
					continue
				}
				bt.Navigate(t, ctx, app.base+p.path)
				bt.WaitJS(t, ctx, p.name, `window.chorusConsole.ready() && (`+p.ready+`)`)
				if p.name == "settings" {
					bt.Eval[bool](t, ctx, `(document.querySelector('.rule .dry-run').click(), true)`)
					bt.WaitJS(t, ctx, "the dry run", `!!document.querySelector('.rule .dry-summary')`)
					bt.Eval[bool](t, ctx, `(document.getElementById('rules-title').scrollIntoView(), true)`)
				}
				bt.WaitJS(t, ctx, "pictures in view loaded", `Array.from(document.images).filter((img) => {
				  const r = img.getBoundingClientRect();
				  return r.bottom > 0 && r.top < innerHeight && img.loading !== 'lazy';
				}).every((img) => img.complete)`)
				name := fmt.Sprintf("%s-%s-%s", p.name, v.Name, theme)
				checkConsoleLooks(t, ctx, name, v)
				bt.Screenshot(t, ctx, name)
			}
		}
	}
	// The sign-in page, signed out.
	out := bt.Tab(t)
	for _, theme := range []string{"light", "dark"} {
		for _, v := range consoleSeen {
			bt.Emulate(t, out, v)
			bt.Navigate(t, out, app.base+"/login")
			bt.Eval[bool](t, out, fmt.Sprintf(`(document.documentElement.dataset.theme = %q, true)`, theme))
			bt.WaitJS(t, out, "the sign-in form", `!document.getElementById('signin').hidden`)
			name := fmt.Sprintf("login-%s-%s", v.Name, theme)
			checkConsoleLooks(t, out, name, v)
			bt.Screenshot(t, out, name)
		}
	}
	w.Check(t)
}
