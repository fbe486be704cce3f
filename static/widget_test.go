package static_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// hostileCSS is a brand stylesheet at its worst: it restyles everything,
// with !important, hoping to reach the widget.
const hostileCSS = `* { color: rgb(255, 0, 0) !important; font-family: "Comic Sans MS", cursive !important;
  letter-spacing: 5px !important; text-transform: uppercase !important; line-height: 3 !important; }
article, .card, div, p, span, img, button, time, header { display: inline !important; background: lime !important;
  border: 9px dashed blue !important; padding: 30px !important; margin: 20px !important; font-size: 40px !important;
  position: static !important; opacity: 1 !important; visibility: visible !important; }
img { width: 900px !important; height: 900px !important; }
button, .more { display: none !important; }
body { font-size: 40px !important; }
.spacer { display: block !important; height: 3000px !important; padding: 0 !important; margin: 0 !important; }
`

// plainCSS is an ordinary brand page around the widget.
const plainCSS = `body { margin: 0; padding: 24px; font-family: system-ui, sans-serif; background: #f4f4f6; color: #111; }
body.dark { background: #101014; color: #eee; }
h1 { margin: 0 0 16px; font-size: 28px; }
p { margin: 16px 0 0; }
/* The room each layout takes, held before embed.js arrives (the README's rule). */
chorus-wall { display: block; min-height: 40rem; }
chorus-wall[layout="carousel"] { min-height: 27rem; }
chorus-wall[layout="ticker"] { min-height: 4.75rem; }
chorus-wall[layout="spotlight"] { min-height: 30rem; }
`

// brandSite is a brand's own site on another origin than Chorus: a page
// with the widget snippet, a hostile stylesheet, and a CSP that allows
// Chorus and nothing else, so any request elsewhere is a CSP violation the
// watcher reports.
type brandSite struct {
	srv *httptest.Server
}

func newBrandSite(t *testing.T, chorus string) *brandSite {
	t.Helper()
	b := &brandSite{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/brand.css":
			w.Header().Set("Content-Type", "text/css")
			fmt.Fprint(w, hostileCSS)
			return
		case "/plain.css":
			w.Header().Set("Content-Type", "text/css")
			fmt.Fprint(w, plainCSS)
			return
		case "/favicon.ico":
			http.NotFound(w, r)
			return
		}
		ws := "ws" + strings.TrimPrefix(chorus, "http")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+chorus+"; style-src 'self'; img-src 'self' "+chorus+
			"; connect-src 'self' "+chorus+" "+ws+"; object-src 'none'; base-uri 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		q := r.URL.Query()
		attrs := q.Get("attrs")
		spacer := ""
		if q.Get("below") != "" {
			spacer = `<div class="spacer" id="spacer"></div>`
		}
		css := `<link rel="stylesheet" href="/brand.css">`
		if q.Get("plain") != "" {
			css = `<link rel="stylesheet" href="/plain.css">`
		}
		fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Brand</title>%s
<script src="%s/embed.js" async></script></head>
<body><h1>The brand's page</h1>%s
<chorus-wall id="w" stream="wall" %s></chorus-wall>
<section class="media posts chorus-masonry" id="mine">The brand's own card</section>
<p id="after">Below the widget</p>
</body></html>`, css, chorus, spacer, attrs)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// openBrand loads the brand's page with the widget's attributes.
func openBrand(t *testing.T, ctx context.Context, b *brandSite, attrs string, extra string) {
	t.Helper()
	bt.Navigate(t, ctx, b.srv.URL+"/?attrs="+urlEscape(attrs)+extra)
	bt.WaitJS(t, ctx, "the widget to upgrade", `customElements.get('chorus-wall') !== undefined && !!document.getElementById('w').shadowRoot`)
}

func urlEscape(s string) string {
	r := strings.NewReplacer("%", "%25", " ", "%20", "\"", "%22", "&", "%26", "=", "%3D", "#", "%23", "+", "%2B")
	return r.Replace(s)
}

// widgetJS evaluates an expression with w bound to the widget element and
// root to its shadow root.
func widgetJS(expr string) string {
	return `(() => { const w = document.getElementById('w'); const root = w.shadowRoot; return (` + expr + `); })()`
}

const widgetSettledJS = `(() => { const w = document.getElementById('w'); return !!w && !!w.chorus && w.chorus.settled(); })()`

// TestWidgetOnABrandPage: the snippet on a brand's site (another origin,
// allowed): posts render in the shadow root, the page's hostile CSS does
// not reach them, the widget's CSS does not reach the page, nothing loads
// before the widget is in view, and nothing is asked of anyone but Chorus.
func TestWidgetOnABrandPage(t *testing.T) {
	ctx := bt.Tab(t)
	f := newFakeChorus(t)
	b := newBrandSite(t, f.srv.URL)
	posts := demoPosts(t, 12)
	f.set(func(f *fakeChorus) {
		f.snap = snapshot(5, false, posts...)
		f.allowed = []string{b.srv.URL}
	})
	w := bt.Watch(t, ctx)
	bt.Emulate(t, ctx, bt.Desktop)
	openBrand(t, ctx, b, `layout="grid" theme="light" limit="12"`, "&below=1")

	// Out of view: no socket, no API call, no image.
	bt.WaitJS(t, ctx, "the widget idle", widgetJS(`w.chorus.state() === 'idle'`))
	if n := f.hits("/ws/streams/wall") + f.hits("/api/v1/streams/wall") + f.hits("/api/v1/streams/wall/profiles/default"); n != 0 {
		t.Errorf("the widget made %d requests before it was in view", n)
	}
	if n := bt.Eval[int](t, ctx, `performance.getEntriesByType('resource').filter((e) => /\/(media|demo)\//.test(e.name)).length`); n != 0 {
		t.Errorf("%d images loaded before the widget was in view", n)
	}
	bt.Eval[bool](t, ctx, `(() => { document.getElementById('w').scrollIntoView(); return true; })()`)
	bt.WaitJS(t, ctx, "posts in the shadow root", widgetJS(`w.chorus.posts().length === 12 && root.querySelectorAll('article.card').length === 12`))
	bt.WaitJS(t, ctx, "the widget at rest", widgetSettledJS)
	bt.Screenshot(t, ctx, "brand-page")

	checks := map[string]string{
		"no card outside the shadow root": `document.querySelectorAll('article.card').length === 0`,
		"cards keep their own look": widgetJS(`(() => {
		  const card = root.querySelector('article.card');
		  const cs = getComputedStyle(card);
		  const text = getComputedStyle(root.querySelector('article.card .text'));
		  return cs.display === 'flex' && cs.borderTopStyle === 'solid' && cs.backgroundColor === 'rgb(255, 255, 255)' &&
		    text.color === 'rgb(17, 19, 24)' && text.fontSize === '20.8px' && text.letterSpacing === 'normal' &&
		    text.textTransform === 'none' && !/Comic/.test(text.fontFamily);
		})()`),
		"the load-more button shows": widgetJS(`getComputedStyle(root.querySelector('.more')).display !== 'none'`),
		"the widget's CSS stays inside": `(() => {
		  const mine = getComputedStyle(document.getElementById('mine'));
		  return mine.display === 'block' && mine.borderTopLeftRadius === '0px' && mine.aspectRatio === 'auto' && mine.position === 'static';
		})()`,
		"no cookies":  `document.cookie === ''`,
		"no storage":  `localStorage.length === 0 && sessionStorage.length === 0`,
		"only Chorus": `performance.getEntriesByType('resource').every((e) => e.name.startsWith(location.origin) || e.name.startsWith(` + jsQuote(f.srv.URL) + `))`,
		"links open in a new tab without a referrer": widgetJS(`Array.from(root.querySelectorAll('a')).every((a) =>
		  a.target === '_blank' && a.rel === 'noopener noreferrer' && a.referrerPolicy === 'no-referrer')`),
		"cards are a feed's articles": widgetJS(`root.querySelector('[role=feed]').children.length === 12 &&
		  Array.from(root.querySelectorAll('[role=feed] > article')).every((a, i) => a.getAttribute('aria-posinset') === String(i + 1) && a.getAttribute('aria-setsize') === '12')`),
	}
	for what, cond := range checks {
		if !bt.Eval[bool](t, ctx, cond) {
			t.Errorf("%s: false: %s", what, cond)
		}
	}
	w.Check(t)
}

func jsQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }
