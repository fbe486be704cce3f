package main

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/chorus-wall/chorus/static"
	bt "github.com/chorus-wall/chorus/static/browsertest"
)

const hostile = `<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=2;alert(2)</script> javascript:alert(3) & <b>bold</b>`

func TestWallRendersHostilePostsAsText(t *testing.T) {
	ctx := bt.New(t)
	app := startApp(t, t.TempDir(), testConfig)
	evil := map[string]any{
		"id": "evil", "text": hostile, "url": "javascript:alert(4)",
		"author": map[string]any{
			"name": `<b onmouseover=alert(5)>Eve</b>`, "handle": `<svg/onload=alert(6)>`,
			"avatar_url": "javascript:alert(7)", "profile_url": "javascript:alert(8)",
		},
		"links":    []map[string]any{{"url": "javascript:alert(9)"}, {"url": "https://ok.example/<script>"}},
		"media":    []map[string]any{{"url": "javascript:alert(10)"}, {"url": "/demo/media/photo/1.svg\" onerror=\"alert(11)", "alt": `"><img src=x onerror=alert(12)>`}},
		"hashtags": []string{`<i>tag</i>`},
	}
	body, _ := json.Marshal([]any{evil, map[string]any{"id": "rtl", "text": "مرحبا بالجميع #ChorusLive", "lang": "ar"}})
	if code, resp := app.push(t, string(body)); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, resp)
	}

	w := bt.Watch(t, ctx)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(app.base+"/wall/wall")); err != nil {
		t.Fatal(err)
	}
	bt.WaitJS(t, ctx, "hostile card", `!!document.querySelector('article.card[data-id="webhook:evil"] .text')`)

	card := `document.querySelector('article.card[data-id="webhook:evil"]')`
	if got := bt.Eval[string](t, ctx, card+`.querySelector('.text').textContent`); got != hostile {
		t.Errorf("text shown as %q, want the literal %q", got, hostile)
	}
	if got := bt.Eval[string](t, ctx, card+`.querySelector('.name').textContent`); got != `<b onmouseover=alert(5)>Eve</b>` {
		t.Errorf("name shown as %q", got)
	}
	if got := bt.Eval[string](t, ctx, card+`.querySelector('.handle').textContent`); !strings.Contains(got, `<svg/onload=alert(6)>`) {
		t.Errorf("handle shown as %q", got)
	}
	checks := map[string]string{
		"no element came from post text": card + `.querySelectorAll('.text *:not(span), .name *, .handle *, b, i, svg, script').length === 0`,
		"no script ran":                  `window.__pwned === undefined`,
		"no javascript: URL anywhere": `Array.from(document.querySelectorAll('[href], [src], [action], [formaction]')).every(el =>
			!/^\s*javascript:/i.test(el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action') || el.getAttribute('formaction') || ''))`,
		"no event handler attributes": `Array.from(document.querySelectorAll('*')).every(el => Array.from(el.attributes).every(a => !a.name.startsWith('on')))`,
		"no image from src=x":         `Array.from(document.images).every(img => !/\/x$/.test(img.src))`,
		"right-to-left text is auto":  `document.querySelector('article.card[data-id="webhook:rtl"] .text').getAttribute('dir') === 'auto'`,
	}
	for what, cond := range checks {
		if !bt.Eval[bool](t, ctx, cond) {
			t.Errorf("%s: false: %s", what, cond)
		}
	}

	// Live: a new post arrives without reloading, a removed one leaves.
	if code, _ := app.push(t, `{"id":"live","text":"arrives live"}`); code != http.StatusAccepted {
		t.Fatal("push live")
	}
	bt.WaitJS(t, ctx, "live post", `window.chorusWall.posts()[0] === 'webhook:live'`)
	if code, body := app.admin(t, http.MethodPost, "/api/v1/streams/wall/posts/webhook:evil/remove"); code != http.StatusOK {
		t.Fatalf("remove: %d %s", code, body)
	}
	bt.WaitJS(t, ctx, "removed post gone", `!document.querySelector('article.card[data-id="webhook:evil"]')`)
	if got := bt.Eval[string](t, ctx, `window.chorusWall.state()`); got != "live" {
		t.Errorf("state %q", got)
	}

	// Panic button: every post leaves the screen for the slate, then returns.
	if code, _ := app.admin(t, http.MethodPost, "/api/v1/streams/wall/pause"); code != http.StatusOK {
		t.Fatal("pause")
	}
	bt.WaitJS(t, ctx, "paused", `window.chorusWall.state() === 'paused' && !document.getElementById('slate').hidden &&
		document.getElementById('posts').getBoundingClientRect().height === 0`)
	if code, _ := app.admin(t, http.MethodPost, "/api/v1/streams/wall/resume"); code != http.StatusOK {
		t.Fatal("resume")
	}
	bt.WaitJS(t, ctx, "resumed", `window.chorusWall.state() === 'live' && document.getElementById('slate').hidden`)
	w.Check(t)
}

func TestWallSurvivesRestart(t *testing.T) {
	ctx := bt.New(t)
	dir := t.TempDir()
	app := startApp(t, dir, testConfig)
	if code, _ := app.push(t, `[{"id":"1","text":"one"},{"id":"2","text":"two"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	w := bt.Watch(t, ctx)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(app.base+"/wall/wall")); err != nil {
		t.Fatal(err)
	}
	bt.WaitJS(t, ctx, "two posts", `window.chorusWall.posts().join() === 'webhook:2,webhook:1'`)

	// The server goes away: the wall keeps its posts and says nothing to the
	// audience. A new server on the same address and data comes back, and
	// the wall resumes by itself, with what it missed.
	addr := app.Addr()
	app.stop(t)
	bt.WaitJS(t, ctx, "reconnecting", `window.chorusWall.state() === 'reconnecting'`)
	if got := bt.Eval[string](t, ctx, `window.chorusWall.posts().join()`); got != "webhook:2,webhook:1" {
		t.Fatalf("posts while disconnected: %q", got)
	}
	if got := bt.Eval[string](t, ctx, `document.body.innerText`); strings.Contains(strings.ToLower(got), "error") {
		t.Errorf("the audience sees an error: %q", got)
	}
	again := startApp(t, dir, strings.Replace(testConfig, `127.0.0.1:0`, addr, 1))
	if code, _ := again.push(t, `{"id":"3","text":"three"}`); code != http.StatusAccepted {
		t.Fatal("push after restart")
	}
	bt.WaitJS(t, ctx, "resumed", `window.chorusWall.state() === 'live' && window.chorusWall.posts().join() === 'webhook:3,webhook:2,webhook:1'`)
	w.Check(t)
}

func TestHomeListsStreams(t *testing.T) {
	ctx := bt.New(t)
	app := startApp(t, t.TempDir(), testConfig)
	w := bt.Watch(t, ctx)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(app.base+"/")); err != nil {
		t.Fatal(err)
	}
	bt.WaitJS(t, ctx, "stream list", `document.querySelectorAll('li.stream').length === 2`)
	if !bt.Eval[bool](t, ctx, `!!document.querySelector('li.stream[data-id="wall"] a[href="/wall/wall"]')`) {
		t.Error("no link to the wall")
	}
	// Every link of the public home page opens for a visitor without a
	// credential: no dead end such as a 401 in JSON.
	for _, href := range bt.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll('a[href]'), (a) => a.href)`) {
		if !strings.HasPrefix(href, app.base+"/") {
			continue
		}
		if code, _ := do(t, mustReq(http.MethodGet, href)); code != http.StatusOK {
			t.Errorf("the home page links to %s, which answers %d", href, code)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(app.base+"/wall/nope")); err != nil {
		t.Fatal(err)
	}
	bt.WaitJS(t, ctx, "unavailable page", `window.chorusWall.state() === 'unavailable'`)
	w.Check(t)
}

// TestAssetsHaveTheirTypes: every embedded file is served with its own
// type (ES modules load only as JavaScript) and nosniff.
func TestAssetsHaveTheirTypes(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	assets, err := fs.Sub(static.FS(), "assets")
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		resp, err := http.Get(app.base + "/assets/" + name)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
		if got, want := resp.Header.Get("Content-Type"), static.ContentType(name); got != want {
			t.Errorf("%s served as %q, want %q", name, got, want)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s without nosniff", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
