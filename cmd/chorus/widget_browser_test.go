package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// brandOrigin is a brand's site for the widget tests: a page that embeds
// Chorus with the snippet and with iframes. Its address is known before
// Chorus starts, so Chorus's config can allow it.
type brandOrigin struct {
	srv    *httptest.Server
	mu     sync.Mutex
	chorus string
}

func newBrandOrigin(t *testing.T) *brandOrigin {
	t.Helper()
	b := &brandOrigin{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		chorus := b.chorus
		b.mu.Unlock()
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		ws := "ws" + strings.TrimPrefix(chorus, "http")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+chorus+"; style-src 'self'; img-src 'self' "+chorus+
			"; connect-src 'self' "+chorus+" "+ws+"; frame-src "+chorus+"; object-src 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Brand</title>
<script src="%[1]s/embed.js" async></script></head><body>
<h1>Brand</h1>
<chorus-wall id="open" stream="wall" layout="list" theme="light"></chorus-wall>
<chorus-wall id="closed" stream="mod" layout="list" theme="light"></chorus-wall>
<iframe id="frame-open" title="Posts" src="%[1]s/embed/wall?layout=grid&theme=light" width="900" height="500"></iframe>
<iframe id="frame-closed" title="More posts" src="%[1]s/embed/mod?layout=grid" width="900" height="500"></iframe>
</body></html>`, chorus)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// frameEval evaluates expr in the iframe whose URL starts with prefix, in
// an isolated world (the frame is another origin's), and returns its value.
func frameEval[T any](t *testing.T, ctx context.Context, prefix, expr string) (T, bool) {
	t.Helper()
	var zero T
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, child := range tree.FrameTree.ChildFrames {
		if !strings.HasPrefix(child.Frame.URL, prefix) {
			continue
		}
		yes := true
		world, err := chromedp.Call(ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: child.Frame.ID, WorldName: "test"})
		if err != nil {
			return zero, false
		}
		res, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, ContextID: world.ExecutionContextID, ReturnByValue: &yes})
		if err != nil || res.ExceptionDetails != nil || res.Result == nil {
			return zero, false
		}
		var v T
		if err := json.Unmarshal(res.Result.Value, &v); err != nil {
			return zero, false
		}
		return v, true
	}
	return zero, false
}

// frameURLs lists the page's child frames' URLs.
func frameURLs(t *testing.T, ctx context.Context) []string {
	t.Helper()
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range tree.FrameTree.ChildFrames {
		out = append(out, c.Frame.URL+c.Frame.URLFragment)
	}
	return out
}

// TestWidgetOnAnAllowedAndADisallowedSite: the real server, a brand's page
// on another origin. The stream that allows the site shows its posts in
// the widget's shadow root and in its iframe; the stream that does not
// gives that site nothing: no posts, no frame.
func TestWidgetOnAnAllowedAndADisallowedSite(t *testing.T) {
	ctx := bt.Tab(t)
	b := newBrandOrigin(t)
	addr := freeAddr(t)
	cfg := fmt.Sprintf("server: {addr: %q, public_url: \"http://%s\"}\n", addr, addr) +
		strings.Replace(testConfig[len("\nserver: {addr: \"127.0.0.1:0\"}\n"):], "    title: Test wall\n", "    title: Test wall\n    allowed_origins: ["+b.srv.URL+"]\n", 1)
	app := startApp(t, t.TempDir(), cfg)
	b.mu.Lock()
	b.chorus = app.cfg.Server.PublicURL
	b.mu.Unlock()
	if code, body := app.push(t, `[{"id":"w1","text":"hello from the summit #Summit26","author":{"handle":"ana","name":"Ana"}},
	  {"id":"w2","text":"second post","author":{"handle":"bo","name":"Bo"}}]`); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	waitFor(t, "posts on screen", func() bool { return len(snapshotIDs(t, app, "wall")) == 2 })

	w := bt.Watch(t, ctx)
	bt.Navigate(t, ctx, b.srv.URL+"/")
	open := `document.getElementById('open')`
	bt.WaitJS(t, ctx, "posts in the allowed widget", open+`.shadowRoot && `+open+`.chorus.posts().length === 2 && `+open+`.shadowRoot.querySelectorAll('article.card').length === 2`)
	bt.WaitJS(t, ctx, "the disallowed widget tried", `performance.getEntriesByType('resource').some((e) => e.name.includes('/api/v1/streams/mod'))`)
	closed := `document.getElementById('closed')`
	if n := bt.Eval[int](t, ctx, closed+`.chorus.posts().length + `+closed+`.shadowRoot.querySelectorAll('article').length`); n != 0 {
		t.Errorf("a site the stream does not allow got %d posts", n)
	}
	if bt.Eval[bool](t, ctx, `window.__pwned !== undefined || document.cookie !== ''`) {
		t.Error("the widget ran something or set a cookie")
	}

	// The iframe form: framed for the allowed site, refused for the other.
	// (The frame's widget waits until the frame is in view.)
	embed := app.cfg.Server.PublicURL + "/embed/wall"
	bt.Eval[bool](t, ctx, `(document.getElementById('frame-open').scrollIntoView(), true)`)
	waitFor(t, "the allowed iframe's widget", func() bool {
		n, ok := frameEval[int](t, ctx, embed, `(() => { const w = document.querySelector('chorus-wall'); return w && w.shadowRoot ? w.shadowRoot.querySelectorAll('article.card').length : 0; })()`)
		return ok && n == 2
	})
	for _, u := range frameURLs(t, ctx) {
		if strings.Contains(u, "/embed/mod") {
			if n, ok := frameEval[int](t, ctx, u, `document.querySelectorAll('chorus-wall').length`); ok && n > 0 {
				t.Errorf("the disallowed stream's embed page loaded in the brand's frame: %s", u)
			}
		}
	}
	bt.Screenshot(t, ctx, "brand-site-frames")
	w.Check(t)

	// embed.js itself: a script any site may load.
	resp, err := http.Get(app.cfg.Server.PublicURL + "/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") || resp.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Errorf("embed.js served as %q, CORP %q", ct, resp.Header.Get("Cross-Origin-Resource-Policy"))
	}
}
