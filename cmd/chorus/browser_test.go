package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium for one test. Without Chromium the test
// skips, except under CI, where that is a failure.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(name)
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is required under CI: apt-get install chromium")
		}
		t.Skip("Chromium not found; install it to run browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1920, 1080),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// watchPage records dialogs, exceptions and CSP violations, which no page of
// ours may ever cause.
type watchPage struct {
	mu       sync.Mutex
	problems []string
}

func (w *watchPage) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.problems = append(w.problems, s)
}

func (w *watchPage) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.problems) > 0 {
		t.Fatalf("the page misbehaved:\n%s", strings.Join(w.problems, "\n"))
	}
}

func watch(t *testing.T, ctx context.Context) *watchPage {
	t.Helper()
	w := &watchPage{}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			w.add("dialog opened: " + e.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		case *runtime.EventExceptionThrown:
			w.add("exception: " + e.ExceptionDetails.Text + " " + describeException(e))
		case *runtime.EventConsoleAPICalled:
			for _, a := range e.Args {
				if strings.Contains(string(a.Value), "CSP violation") {
					w.add("CSP violation: " + string(a.Value))
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener('securitypolicyviolation', e => console.error('CSP violation ' + e.violatedDirective + ' ' + e.sample))`,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func describeException(e *runtime.EventExceptionThrown) string {
	if e.ExceptionDetails.Exception != nil {
		return e.ExceptionDetails.Exception.Description
	}
	return ""
}

// eval runs a JavaScript expression and decodes its JSON value into T.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitJS retries a JavaScript condition until it is true.
func waitJS(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	waitFor(t, what, func() bool {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		return err == nil && ok
	})
}

const hostile = `<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=2;alert(2)</script> javascript:alert(3) & <b>bold</b>`

func TestWallRendersHostilePostsAsText(t *testing.T) {
	ctx := browser(t)
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

	w := watch(t, ctx)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(app.base+"/wall/wall")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "hostile card", `!!document.querySelector('article.card[data-id="webhook:evil"] .text')`)

	card := `document.querySelector('article.card[data-id="webhook:evil"]')`
	if got := eval[string](t, ctx, card+`.querySelector('.text').textContent`); got != hostile {
		t.Errorf("text shown as %q, want the literal %q", got, hostile)
	}
	if got := eval[string](t, ctx, card+`.querySelector('.name').textContent`); got != `<b onmouseover=alert(5)>Eve</b>` {
		t.Errorf("name shown as %q", got)
	}
	if got := eval[string](t, ctx, card+`.querySelector('.handle').textContent`); !strings.Contains(got, `<svg/onload=alert(6)>`) {
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
		if !eval[bool](t, ctx, cond) {
			t.Errorf("%s: false: %s", what, cond)
		}
	}

	// Live: a new post arrives without reloading, a removed one leaves.
	if code, _ := app.push(t, `{"id":"live","text":"arrives live"}`); code != http.StatusAccepted {
		t.Fatal("push live")
	}
	waitJS(t, ctx, "live post", `window.chorusWall.posts()[0] === 'webhook:live'`)
	if code, body := app.admin(t, http.MethodPost, "/api/v1/streams/wall/posts/webhook:evil/remove"); code != http.StatusOK {
		t.Fatalf("remove: %d %s", code, body)
	}
	waitJS(t, ctx, "removed post gone", `!document.querySelector('article.card[data-id="webhook:evil"]')`)
	if got := eval[string](t, ctx, `window.chorusWall.state()`); got != "live" {
		t.Errorf("state %q", got)
	}

	// Panic button: every post leaves the screen for the slate, then returns.
	if code, _ := app.admin(t, http.MethodPost, "/api/v1/streams/wall/pause"); code != http.StatusOK {
		t.Fatal("pause")
	}
	waitJS(t, ctx, "paused", `window.chorusWall.state() === 'paused' && !document.getElementById('slate').hidden &&
		document.getElementById('posts').getBoundingClientRect().height === 0`)
	if code, _ := app.admin(t, http.MethodPost, "/api/v1/streams/wall/resume"); code != http.StatusOK {
		t.Fatal("resume")
	}
	waitJS(t, ctx, "resumed", `window.chorusWall.state() === 'live' && document.getElementById('slate').hidden`)
	w.check(t)
}

func TestWallSurvivesRestart(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	app := startApp(t, dir, testConfig)
	if code, _ := app.push(t, `[{"id":"1","text":"one"},{"id":"2","text":"two"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	w := watch(t, ctx)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(app.base+"/wall/wall")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "two posts", `window.chorusWall.posts().join() === 'webhook:2,webhook:1'`)

	// The server goes away: the wall keeps its posts and says nothing to the
	// audience. A new server on the same address and data comes back, and
	// the wall resumes by itself, with what it missed.
	addr := app.Addr()
	app.stop(t)
	waitJS(t, ctx, "reconnecting", `window.chorusWall.state() === 'reconnecting'`)
	if got := eval[string](t, ctx, `window.chorusWall.posts().join()`); got != "webhook:2,webhook:1" {
		t.Fatalf("posts while disconnected: %q", got)
	}
	if got := eval[string](t, ctx, `document.body.innerText`); strings.Contains(strings.ToLower(got), "error") {
		t.Errorf("the audience sees an error: %q", got)
	}
	again := startApp(t, dir, strings.Replace(testConfig, `127.0.0.1:0`, addr, 1))
	if code, _ := again.push(t, `{"id":"3","text":"three"}`); code != http.StatusAccepted {
		t.Fatal("push after restart")
	}
	waitJS(t, ctx, "resumed", `window.chorusWall.state() === 'live' && window.chorusWall.posts().join() === 'webhook:3,webhook:2,webhook:1'`)
	w.check(t)
}

func TestHomeListsStreams(t *testing.T) {
	ctx := browser(t)
	app := startApp(t, t.TempDir(), testConfig)
	w := watch(t, ctx)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(app.base+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "stream list", `document.querySelectorAll('li.stream').length === 2`)
	if !eval[bool](t, ctx, `!!document.querySelector('li.stream[data-id="wall"] a[href="/wall/wall"]')`) {
		t.Error("no link to the wall")
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(app.base+"/wall/nope")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "unavailable page", `window.chorusWall.state() === 'unavailable'`)
	w.check(t)
}
