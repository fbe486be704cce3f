package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// The media proxy is mounted, refuses what it did not sign, and its signing
// key lives in the chorus_config bucket: a URL signed before a restart is
// still honoured after it (and would be by every node of a cluster).
func TestMediaProxyRoute(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, dir, testConfig)
	// A loopback upstream is refused at dial time: nothing is fetched.
	signed := a.media.URL("https://127.0.0.1:9/avatar.png")
	if !strings.HasPrefix(signed, "/media/") {
		t.Fatalf("signed URL %q", signed)
	}
	code, body := do(t, mustReq(http.MethodGet, a.base+signed))
	if code != http.StatusForbidden || !strings.Contains(body, "upstream address refused") {
		t.Fatalf("signed loopback URL: %d %s", code, body)
	}
	tampered := signed[:len(signed)-3] + "AAA"
	code, body = do(t, mustReq(http.MethodGet, a.base+tampered))
	if code != http.StatusForbidden || !strings.Contains(body, "unsigned or tampered") {
		t.Fatalf("tampered URL: %d %s", code, body)
	}
	a.stop(t)

	b := startApp(t, dir, testConfig)
	if again := b.media.URL("https://127.0.0.1:9/avatar.png"); again != signed {
		t.Fatalf("after a restart the same URL signs as %q, before %q", again, signed)
	}
	code, body = b.admin(t, http.MethodGet, "/metrics")
	if code != http.StatusOK || !strings.Contains(body, "chorus_media_cache_bytes") {
		t.Fatalf("metrics: %d", code)
	}
}

// Cards and feeds show what screens show, end to end: a hostile post pushed
// through the webhook is escaped in the cards and every feed, and its
// pictures go through the proxy with absolute URLs.
func TestCardsAndFeeds(t *testing.T) {
	a := startApp(t, t.TempDir(), testConfig)
	code, body := a.push(t, `[{"id":"h1","text":"<script>alert(1)</script> مرحبا","url":"javascript:alert(2)",
		"author":{"handle":"\"><img src=x onerror=alert(3)>","name":"Eve <b>","avatar_url":"http://cdn.example/e.png"},
		"media":[{"kind":"image","url":"https://cdn.example/p.jpg","alt":"\" onload=\"alert(4)"}]},
		{"id":"h2","text":"second post","url":"https://brand.example/p/2","author":{"handle":"ana"}}]`)
	if code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	waitFor(t, "both posts on screen", func() bool { return len(snapshotIDs(t, a, "wall")) == 2 })
	code, cards := do(t, mustReq(http.MethodGet, a.base+"/api/v1/streams/wall/cards.html?limit=5"))
	if code != http.StatusOK {
		t.Fatalf("cards: %d %s", code, cards)
	}
	for _, bad := range []string{"<script", "javascript:", "<img src=x", "<b>", "cdn.example/"} {
		if strings.Contains(cards, bad) {
			t.Errorf("cards contain %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; مرحبا", a.cfg.Server.PublicURL + "/media/", `dir="auto"`} {
		if !strings.Contains(cards, want) {
			t.Errorf("cards lack %q", want)
		}
	}
	for _, f := range []string{"wall.atom", "wall.rss", "wall.json"} {
		code, feed := do(t, mustReq(http.MethodGet, a.base+"/feeds/"+f))
		if code != http.StatusOK || strings.Contains(feed, "<script") || strings.Contains(feed, "javascript:") ||
			!strings.Contains(feed, "second post") {
			t.Errorf("%s: %d\n%s", f, code, feed)
		}
	}
}

const accessConfig = `
server: {addr: "127.0.0.1:0"}
admin_token: ` + testToken + `
log_level: warn
sources:
  - {id: hook, type: webhook, secret: ` + testSecret + `}
streams:
  - {id: wall, sources: [hook], allowed_origins: ["https://www.brand.example"]}
  - {id: hidden, sources: [hook], unlisted: true}
  - {id: private, sources: [hook], viewer_token: required, allowed_origins: ["https://screens.example"]}
`

// Unlisted and private streams stay off the list; a private stream's reads
// and websocket need a viewer token minted by the CLI; CORS answers only a
// stream's allowed origins.
func TestStreamAccess(t *testing.T) {
	a := startApp(t, t.TempDir(), accessConfig)
	_, list := do(t, mustReq(http.MethodGet, a.base+"/api/v1/streams"))
	if !strings.Contains(list, `"wall"`) || strings.Contains(list, "hidden") || strings.Contains(list, "private") {
		t.Fatalf("stream list: %s", list)
	}
	if code, _ := do(t, mustReq(http.MethodGet, a.base+"/api/v1/streams/hidden/posts")); code != http.StatusOK {
		t.Fatalf("an unlisted stream is still readable: %d", code)
	}
	private := []string{"/api/v1/streams/private", "/api/v1/streams/private/posts", "/api/v1/streams/private/cards.html", "/feeds/private.atom"}
	for _, p := range private {
		if code, body := do(t, mustReq(http.MethodGet, a.base+p)); code != http.StatusUnauthorized || !strings.Contains(body, "private") {
			t.Fatalf("%s without a token: %d %s", p, code, body)
		}
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.base, "http")+"/ws/streams/private", nil); err == nil {
		t.Fatal("websocket opened without a token")
	}
	var out strings.Builder
	if code := run(t.Context(), []string{"viewer-token", "private", "--ttl", "2h", "--server", a.base, "--token", testToken}, &out, &out); code != 0 {
		t.Fatalf("viewer-token: %d %s", code, out.String())
	}
	token := strings.SplitN(out.String(), "\n", 2)[0]
	for _, p := range private {
		if code, body := do(t, mustReq(http.MethodGet, a.base+p+"?token="+token)); code != http.StatusOK {
			t.Fatalf("%s with a token: %d %s", p, code, body)
		}
	}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.base, "http")+"/ws/streams/private?token="+token, nil)
	if err != nil {
		t.Fatalf("websocket with a token: %v", err)
	}
	c.Close()
	// A token for one stream opens no other; a bad --ttl is a usage error.
	if code, _ := do(t, mustReq(http.MethodGet, a.base+"/api/v1/streams/private/posts?token=1"+token)); code != http.StatusUnauthorized {
		t.Fatal("a tampered token opened the stream")
	}
	out.Reset()
	if code := run(t.Context(), []string{"viewer-token", "private", "--ttl", "0s", "--server", a.base, "--token", testToken}, &out, &out); code != 2 {
		t.Fatalf("--ttl 0s: exit %d %s", code, out.String())
	}
	code, body := a.adminJSON(t, http.MethodPost, "/api/v1/streams/private/viewer-tokens", `{"ttl":"1h","ttk":"x"}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "ttk") {
		t.Fatalf("unknown key: %d %s", code, body)
	}
	// CORS: the allowed origin gets its header, another site none.
	for origin, want := range map[string]string{"https://www.brand.example": "https://www.brand.example", "https://evil.example": ""} {
		req := mustReq(http.MethodGet, a.base+"/api/v1/streams/wall/posts")
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q", origin, got)
		}
	}
}

// Display profiles: written by an admin, read by anyone the stream lets in,
// with the logo through the media proxy.
func TestDisplayProfiles(t *testing.T) {
	a := startApp(t, t.TempDir(), accessConfig)
	code, body := a.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/profiles/lobby",
		`{"layout":"ticker","theme":"dark","colors":{"accent":"#ff6600"},"logo":"https://brand.example/logo.png","header":"Live from the summit"}`)
	if code != http.StatusOK || !strings.Contains(body, `"logo_src":"/media/`) {
		t.Fatalf("put: %d %s", code, body)
	}
	req := mustReq(http.MethodPut, a.base+"/api/v1/streams/wall/profiles/lobby")
	if code, _ := do(t, req); code != http.StatusUnauthorized {
		t.Fatalf("put without a credential: %d", code)
	}
	req = mustReq(http.MethodGet, a.base+"/api/v1/streams/wall/profiles/lobby")
	req.Header.Set("Origin", "https://www.brand.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "https://www.brand.example" {
		t.Fatalf("public read: %d %v", resp.StatusCode, resp.Header)
	}
	if code, body := do(t, mustReq(http.MethodGet, a.base+"/api/v1/streams/private/profiles/default")); code != http.StatusUnauthorized {
		t.Fatalf("a private stream's profile without a token: %d %s", code, body)
	}
	code, body = a.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/profiles/default", `{"colors":{"text":"red;}body{display:none"}}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "colors.text") {
		t.Fatalf("free CSS: %d %s", code, body)
	}
}

// Screens get every remote image through the media proxy: the websocket
// and the posts API carry signed /media/ paths, never a network's URL;
// same-site paths stay as they are.
func TestScreensGetProxiedImages(t *testing.T) {
	a := startApp(t, t.TempDir(), testConfig)
	wall := a.dial(t, "wall", "")
	next(t, wall)
	code, body := a.push(t, `[{"id":"m1","text":"pictures","author":{"handle":"ana","avatar_url":"http://cdn.example/ana.png"},
		"media":[{"kind":"image","url":"https://cdn.example/p.jpg","preview_url":"https://cdn.example/p-small.jpg"},
		         {"kind":"video","url":"https://cdn.example/v.mp4","preview_url":"https://cdn.example/v.jpg"},
		         {"kind":"image","url":"/assets/favicon.svg"}]}]`)
	if code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	_, raw, err := wall.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	_, posts := do(t, mustReq(http.MethodGet, a.base+"/api/v1/streams/wall/posts"))
	for name, doc := range map[string]string{"websocket": string(raw), "posts API": posts} {
		if strings.Contains(doc, "cdn.example") {
			t.Errorf("%s carries a network's URL: %s", name, doc)
		}
		if n := strings.Count(doc, `"/media/`); n != 5 {
			t.Errorf("%s has %d proxied URLs, want 5 (avatar, 2 images, video and poster): %s", name, n, doc)
		}
		if !strings.Contains(doc, `"url":"/assets/favicon.svg"`) {
			t.Errorf("%s changed a same-site path: %s", name, doc)
		}
	}
	_, cards := do(t, mustReq(http.MethodGet, a.base+"/api/v1/streams/wall/cards.html"))
	if strings.Contains(cards, "cdn.example") || !strings.Contains(cards, a.cfg.Server.PublicURL+"/media/") {
		t.Errorf("cards: %s", cards)
	}
}
