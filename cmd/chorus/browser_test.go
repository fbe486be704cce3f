package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
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

// TestHomeListsStreams: the home page lists the public streams (never an
// unlisted or private one) and leads each kind of user to their surface:
// the wall, the widget, the overlay and the feeds per stream, the console in
// the header, and snippets that name the first stream on the page's own
// origin. Every link opens for a visitor without a credential, and the
// copy buttons put the snippet on the clipboard.
func TestHomeListsStreams(t *testing.T) {
	ctx := bt.New(t)
	app := startApp(t, t.TempDir(), testConfig+`  - {id: hidden, sources: [hook], unlisted: true}
  - {id: secret, sources: [hook], viewer_token: required}
`)
	w := bt.Watch(t, ctx)
	bt.Navigate(t, ctx, app.base+"/")
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: app.base,
		}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	bt.WaitJS(t, ctx, "stream list", `document.querySelectorAll('li.stream').length === 2`)
	if got := bt.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll('li.stream'), (li) => li.dataset.id)`); strings.Join(got, ",") != "wall,mod" {
		t.Errorf("streams listed: %q, want wall and mod (never the unlisted or private ones)", got)
	}
	for _, want := range []string{
		`header nav a[href="/console"]`,
		`li.stream[data-id="wall"] a[href="/wall/wall"]`,
		`li.stream[data-id="wall"] a[href="/embed/wall"]`,
		`li.stream[data-id="wall"] a[href="/overlay/wall"]`,
		`li.stream[data-id="wall"] a[href="/api/v1/streams/wall/posts"]`,
		`li.stream[data-id="wall"] a[href="/api/v1/streams/wall/cards.html"]`,
		`li.stream[data-id="wall"] a[href="/feeds/wall.atom"]`,
		`li.stream[data-id="wall"] a[href="/feeds/wall.rss"]`,
		`li.stream[data-id="wall"] a[href="/feeds/wall.json"]`,
		`#tip-brand a[href="/embed/wall?layout=ticker"]`,
		`#tip-moderators a[href="/login"]`,
	} {
		if !bt.Eval[bool](t, ctx, `!!document.querySelector(`+jsonString(want)+`)`) {
			t.Errorf("no link %s", want)
		}
	}
	if bt.Eval[bool](t, ctx, `document.body.innerText.includes('hidden') || document.body.innerText.includes('secret')`) {
		t.Error("the page names an unlisted or private stream")
	}

	// The feeds stay folded until asked for.
	if bt.Eval[bool](t, ctx, `document.querySelector('li.stream[data-id="wall"] .stream-more').checkVisibility()`) {
		t.Error("the feeds show before their button is pressed")
	}
	bt.Do(t, ctx, chromedp.Click(chromedp.CSS(`li.stream[data-id="wall"] button.more`)))
	bt.WaitJS(t, ctx, "feeds open", `document.querySelector('li.stream[data-id="wall"] .stream-more').checkVisibility() &&
		document.querySelector('li.stream[data-id="wall"] button.more').getAttribute('aria-expanded') === 'true'`)

	// The snippets name the first stream on the page's own origin.
	snippets := map[string]string{
		"embed-example":   "<script src=\"" + app.base + "/embed.js\" async></script>\n<chorus-wall stream=\"wall\" layout=\"masonry\"></chorus-wall>",
		"overlay-example": app.base + "/overlay/wall",
		"kiosk-example":   "chromium --kiosk --noerrdialogs " + app.base + "/wall/wall",
	}
	for id, want := range snippets {
		if got := bt.Eval[string](t, ctx, `document.getElementById(`+jsonString(id)+`).textContent`); got != want {
			t.Errorf("%s shows %q, want %q", id, got, want)
		}
	}
	// Copy puts it on the clipboard and says so on the button (which
	// returns to "Copy" after a while, so the test records what it said).
	bt.Eval[bool](t, ctx, `(() => {
		window.__said = [];
		for (const b of document.querySelectorAll('button.copy')) {
			new MutationObserver(() => window.__said.push(b.closest('.tip').id + ': ' + b.textContent)).observe(b, { childList: true, characterData: true, subtree: true });
		}
		return true;
	})()`)
	bt.Do(t, ctx, chromedp.Click(chromedp.CSS(`#tip-brand button.copy`)))
	bt.WaitJS(t, ctx, "copied", `window.__said.includes('tip-brand: Copied')`)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got != snippets["embed-example"] {
		t.Errorf("clipboard holds %q, want the embed snippet", got)
	}

	// Where the browser refuses the clipboard, the snippet is selected for
	// Ctrl+C, and the button says so.
	if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-write"}, Setting: browser.PermissionSettingDenied, Origin: app.base,
	}); err != nil {
		t.Fatal(err)
	}
	bt.Do(t, ctx, chromedp.Click(chromedp.CSS(`#tip-broadcast button.copy`)))
	bt.WaitJS(t, ctx, "selected for Ctrl+C", `window.__said.includes('tip-broadcast: Press Ctrl+C') &&
		getSelection().toString() === `+jsonString(snippets["overlay-example"]))

	// Every link of the public home page opens for a visitor without a
	// credential: no dead end such as a 401 in JSON.
	hrefs := bt.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll('a[href]'), (a) => a.href)`)
	for _, href := range hrefs {
		if !strings.HasPrefix(href, app.base+"/") {
			continue
		}
		if code, _ := do(t, mustReq(http.MethodGet, href)); code != http.StatusOK {
			t.Errorf("the home page links to %s, which answers %d", href, code)
		}
	}
	// The console sends a visitor who is not signed in to the sign-in page.
	bt.Do(t, ctx, chromedp.Click(chromedp.CSS(`header nav a[href="/console"]`)))
	bt.WaitJS(t, ctx, "sign-in page", `location.pathname === '/login'`)
	w.Check(t)

	if _, err := chromedp.Run(ctx, chromedp.Navigate(app.base+"/wall/nope")); err != nil {
		t.Fatal(err)
	}
	bt.WaitJS(t, ctx, "unavailable page", `window.chorusWall.state() === 'unavailable'`)
}

// homeStreams is the streams part of a config with n listed streams, long
// titles and a right-to-left one among them.
func homeStreams(n int) string {
	if n == 0 {
		return "streams: []\n"
	}
	streams := [][2]string{
		{"demo", "Chorus Live (demo)"},
		{"summit-day-two-keynotes-main-hall-and-overflow-rooms", "The International Conference on Very Long Stream Titles That Never Seem To End, Day Two Keynotes"},
		{"riyadh-festival", "مهرجان الرياض للموسيقى والفنون المعاصرة ٢٠٢٦"},
		{"lobby", "Lobby screens"},
		{"activation", "Supercalifragilisticexpialidocious-brand-activation-stream-without-spaces"},
		{"press", "Press room"},
	}
	var b strings.Builder
	b.WriteString("streams:\n")
	for i := range n {
		mode := "auto"
		if i%3 == 1 {
			mode = "manual"
		}
		id, title := streams[i%len(streams)][0], streams[i%len(streams)][1]
		if i >= len(streams) {
			id, title = fmt.Sprintf("%s-%d", id, i/len(streams)+1), fmt.Sprintf("%s %d", title, i/len(streams)+1)
		}
		fmt.Fprintf(&b, "  - {id: %s, title: %s, sources: [hook], moderation: %s}\n", jsonString(id), jsonString(title), mode)
	}
	return b.String()
}

// TestHomeLooks keeps screenshots of the home page with no streams, one and
// twelve (long titles, a right-to-left one), on a phone, a desktop and a 4K
// screen, light and dark, and checks that nothing runs off the side.
func TestHomeLooks(t *testing.T) {
	ctx := bt.New(t)
	base := testConfig[:strings.Index(testConfig, "streams:")]
	for _, n := range []int{0, 1, 12} {
		app := startApp(t, t.TempDir(), base+homeStreams(n))
		w := bt.Watch(t, ctx)
		for _, v := range []bt.Viewport{bt.Phone, bt.Desktop, bt.UHD} {
			for _, scheme := range []string{"light", "dark"} {
				if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
				}); err != nil {
					t.Fatal(err)
				}
				bt.Emulate(t, ctx, v)
				bt.Navigate(t, ctx, app.base+"/")
				if n == 0 {
					bt.WaitJS(t, ctx, "no streams", `document.getElementById('streams-status').textContent.startsWith('No streams yet')`)
				} else {
					bt.WaitJS(t, ctx, "streams", `document.querySelectorAll('li.stream').length === `+strconv.Itoa(n)+` && document.getElementById('streams-status').hidden`)
					// The first stream's feeds open, to be looked at too.
					bt.Do(t, ctx, chromedp.Click(chromedp.CSS(`li.stream button.more`)))
					bt.WaitJS(t, ctx, "feeds open", `document.querySelector('li.stream .stream-more').checkVisibility() && document.getAnimations().length === 0`)
				}
				if wide := bt.Eval[int](t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); wide > 0 {
					t.Errorf("%d streams, %s, %s: the page is %d px wider than the screen", n, v.Name, scheme, wide)
				}
				if out := bt.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll('li.stream, .tip, .stream-links a, .stream-links button'))
					.filter((el) => { const r = el.getBoundingClientRect(); return r.left < 0 || r.right > document.documentElement.clientWidth })
					.map((el) => el.className + ' ' + (el.textContent || '').slice(0, 30))`); len(out) > 0 {
					t.Errorf("%d streams, %s, %s: out of the screen: %q", n, v.Name, scheme, out)
				}
				if out := bt.Eval[[]string](t, ctx, `Array.from(document.querySelectorAll('.site-header, .intro, li.stream, .tip')).flatMap((box) => {
					const b = box.getBoundingClientRect();
					return Array.from(box.querySelectorAll('*'))
						.filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && (r.left < b.left - 1 || r.right > b.right + 1) })
						.map((el) => box.className + ' > ' + el.tagName + ' ' + (el.textContent || '').slice(0, 40))
				})`); len(out) > 0 {
					t.Errorf("%d streams, %s, %s: text runs out of its box: %q", n, v.Name, scheme, out)
				}
				if v.Name == "desktop" {
					for _, a := range bt.Axe(t, ctx, "") {
						t.Errorf("%d streams, %s, %s: axe: %s", n, v.Name, scheme, a)
					}
				}
				shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				name := filepath.Join(bt.ArtifactDir(t), fmt.Sprintf("home-%02d-streams-%s-%s.png", n, v.Name, scheme))
				if err := os.WriteFile(name, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot: %s", name)
			}
		}
		w.Check(t)
	}
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
