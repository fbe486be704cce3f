package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// freeAddr is a loopback address with a port nobody listens on, so a test
// can give Chorus a public_url that matches where it listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The email cards open in a real browser without a CSP violation or a
// script running, in light and dark, on a phone and a desktop; the
// screenshots are kept for a designer's eye.
func TestCardsInBrowser(t *testing.T) {
	ctx := bt.New(t)
	addr := freeAddr(t)
	app := startApp(t, t.TempDir(), fmt.Sprintf("server: {addr: %q, public_url: \"http://%s\"}\n", addr, addr)+testConfig[len("\nserver: {addr: \"127.0.0.1:0\"}\n"):])
	w := bt.Watch(t, ctx)
	code, body := app.push(t, `[
	 {"id":"c1","text":`+jsonString(hostile)+`,"author":{"handle":"eve","name":"Eve <script>alert(9)</script>","avatar_url":"/assets/favicon.svg"}},
	 {"id":"c2","text":"مرحبا بالجميع في القمة! نحن هنا لنتحدث عن المستقبل.","url":"https://brand.example/p/2","author":{"handle":"layla","name":"ليلى","avatar_url":"/assets/favicon.svg"},"lang":"ar"},
	 {"id":"c3","text":"A longer post about the keynote: the stage, the lights, the people, and everything that made this morning one to remember. #Summit26","url":"https://brand.example/p/3","author":{"handle":"ana","name":"Ana Lima"},"media":[{"kind":"image","url":"/assets/favicon.svg","alt":"The logo"}]}
	]`)
	if code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	waitFor(t, "posts on screen", func() bool { return len(snapshotIDs(t, app, "wall")) == 3 })
	dir := bt.ArtifactDir(t)
	for _, size := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		for _, scheme := range []string{"light", "dark"} {
			if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			}); err != nil {
				t.Fatal(err)
			}
			for _, act := range []chromedp.Action[chromedp.Void]{
				chromedp.EmulateViewport(size.w, size.h),
				chromedp.Navigate(app.cfg.Server.PublicURL + "/api/v1/streams/wall/cards.html"),
			} {
				if _, err := chromedp.Run(ctx, act); err != nil {
					t.Fatal(err)
				}
			}
			bt.WaitJS(t, ctx, "cards", `document.querySelectorAll('.chorus-card').length === 3 && [...document.images].every(i => i.complete)`)
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, "cards-"+size.name+"-"+scheme+".png")
			if err := os.WriteFile(name, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", name)
			if n := bt.Eval[int](t, ctx, `document.querySelectorAll('.chorus-card').length`); n != 3 {
				t.Fatalf("%d cards", n)
			}
			if bt.Eval[bool](t, ctx, `window.__pwned !== undefined`) {
				t.Fatal("a post's script ran")
			}
			if got := bt.Eval[string](t, ctx, `getComputedStyle(document.querySelector('.chorus-card')).backgroundColor`); (scheme == "dark") != (got == "rgb(27, 31, 36)") {
				t.Fatalf("%s card background %s", scheme, got)
			}
		}
	}
	w.Check(t)
}
