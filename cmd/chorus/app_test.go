package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors/webhook"
	"github.com/chorus-wall/chorus/curation/enrich"
)

const (
	testSecret = "e2e-secret-0123456789"
	testToken  = "e2e-admin-token-0123456789"
)

const testConfig = `
server: {addr: "127.0.0.1:0"}
admin_token: ` + testToken + `
log_level: warn
sources:
  - {id: hook, type: webhook, secret: ` + testSecret + `}
streams:
  - id: wall
    title: Test wall
    sources: [hook]
    blocked_words: [idiot, "buy followers"]
  - id: mod
    sources: [hook]
    moderation: manual
`

// testApp is a running Chorus on a temporary data directory.
type testApp struct {
	*App
	base string
	dir  string
}

// startApp starts Chorus on dir the way `chorus serve --config FILE` does,
// with yaml as the file.
func startApp(t *testing.T, dir, yaml string) *testApp {
	t.Helper()
	app, _ := startFromFile(t, dir, yaml)
	return app
}

// sharedEnricher is the language detector every App of this test binary
// shares: building one costs over a second of CPU under the race detector,
// many seconds on a busy machine, and the tests start dozens of Apps. It is
// safe for concurrent use.
func sharedEnricher(t *testing.T) *enrich.Enricher {
	t.Helper()
	e, err := loadEnricher()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var loadEnricher = sync.OnceValues(func() (*enrich.Enricher, error) { return enrich.New(enrich.Options{}) })

// waitStatus waits until GET url answers code.
func waitStatus(t *testing.T, url string, code int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s to answer %d", url, code), func() bool {
		resp, err := testClient.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == code
	})
}

func (a *testApp) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// testWriter sends logs to t.Log, so a failing test shows them.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// waitFor retries cond until it holds, failing the test after 15 seconds.
// cond must not block: API calls through do are bounded by testClient.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitForWithin(t, what, 15*time.Second, cond)
}

// waitForWithin is waitFor for a condition that may take longer on a busy
// machine, such as a burst of hundreds of events, failing after bound.
func waitForWithin(t *testing.T, what string, bound time.Duration, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(bound)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting %s for %s", bound, what)
		}
	}
}

// push sends a signed webhook call and returns the status and body.
func (a *testApp) push(t *testing.T, body string) (int, string) {
	t.Helper()
	now := time.Now()
	req, _ := http.NewRequest(http.MethodPost, a.base+"/api/v1/ingest/hook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(testSecret), now, []byte(body)))
	return do(t, req)
}

// testClient is how tests call the API: a call that does not answer fails
// the test after a minute instead of stalling it (http.DefaultClient waits
// for ever, and a waitFor condition that waits for ever never times out).
var testClient = &http.Client{Timeout: time.Minute}

// do sends req through testClient and returns the status and body.
func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// admin calls an admin API with the token.
func (a *testApp) admin(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, a.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	return do(t, req)
}

type wsMsg struct {
	Type   string `json:"type"`
	Seq    uint64 `json:"seq"`
	ID     string `json:"id"`
	Action string `json:"action"`
	Post   *struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"post"`
	Posts []struct {
		ID string `json:"id"`
	} `json:"posts"`
}

func (a *testApp) dial(t *testing.T, stream string, since string) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(a.base, "http") + "/ws/streams/" + stream
	if since != "" {
		url += "?since=" + since
	}
	c, _, err := websocket.DefaultDialer.DialContext(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func next(t *testing.T, c *websocket.Conn) wsMsg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	var m wsMsg
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read websocket: %v", err)
	}
	return m
}

func describe(m wsMsg) string {
	switch {
	case m.Post != nil:
		return m.Type + " " + m.Post.ID
	case m.ID != "":
		return m.Type + " " + m.ID
	case m.Action != "":
		return m.Type + " " + m.Action
	}
	return m.Type
}

func expect(t *testing.T, c *websocket.Conn, want ...string) []wsMsg {
	t.Helper()
	var got []wsMsg
	for _, w := range want {
		m := next(t, c)
		if describe(m) != w {
			t.Fatalf("got %q, want %q", describe(m), w)
		}
		got = append(got, m)
	}
	return got
}

func snapshotIDs(t *testing.T, a *testApp, stream string) []string {
	t.Helper()
	code, body := do(t, mustReq(http.MethodGet, a.base+"/api/v1/streams/"+stream+"/posts"))
	if code != http.StatusOK {
		t.Fatalf("posts: %d %s", code, body)
	}
	var snap wsMsg
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range snap.Posts {
		ids = append(ids, p.ID)
	}
	return ids
}

func mustReq(method, url string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		panic(err)
	}
	return req
}

func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	app := startApp(t, dir, testConfig)
	wall := app.dial(t, "wall", "")
	if m := next(t, wall); m.Type != "snapshot" || len(m.Posts) != 0 {
		t.Fatalf("first message %+v", m)
	}

	// Signed posts reach the screen in order; blocked ones never do.
	code, body := app.push(t, `[
		{"id":"1","text":"First! #ChorusLive","author":{"name":"Ana","handle":"ana"}},
		{"id":"2","text":"you are an IDIOT"},
		{"id":"3","text":"hello","author":{"name":"Buy Followers Inc","handle":"growth"}},
		{"id":"4","text":"مرحبا 🎉","author":{"handle":"total_idiot_42"}},
		{"id":"5","text":"Second"}]`)
	if code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	code, _ = app.push(t, `{"id":"6","text":"Third","network":"mastodon"}`)
	if code != http.StatusAccepted {
		t.Fatalf("push: %d", code)
	}
	expect(t, wall, "add webhook:1", "add webhook:5", "add mastodon:6")

	// The same post pushed again is stored once and shown once.
	if code, _ := app.push(t, `{"id":"1","text":"First! #ChorusLive"}`); code != http.StatusAccepted {
		t.Fatalf("replay: %d", code)
	}

	// A removed post leaves the screen.
	// (Polling spends the token's admin rate: a 429 is waited out.)
	waitFor(t, "post indexed", func() bool {
		code, body := app.admin(t, http.MethodGet, "/api/v1/streams/wall/search?q=Second")
		return code == http.StatusOK && strings.Contains(body, "webhook:5")
	})
	waitFor(t, "the remove call within the admin rate", func() bool {
		code, body = app.admin(t, http.MethodPost, "/api/v1/streams/wall/posts/webhook:5/remove")
		return code != http.StatusTooManyRequests
	})
	if code != http.StatusOK {
		t.Fatalf("remove: %d %s", code, body)
	}
	last := expect(t, wall, "remove webhook:5")[0].Seq

	// A client that reconnects with since gets exactly what it missed.
	wall.Close()
	if code, _ := app.push(t, `[{"id":"7","text":"while away"},{"id":"8","text":"also idiot"},{"id":"9","text":"and this"}]`); code != http.StatusAccepted {
		t.Fatal("push while away")
	}
	waitFor(t, "posts while away", func() bool { return len(snapshotIDs(t, app, "wall")) == 4 })
	back := app.dial(t, "wall", strconv.FormatUint(last, 10))
	expect(t, back, "add webhook:7", "add webhook:9")
	if code, _ := app.push(t, `{"id":"10","text":"live again"}`); code != http.StatusAccepted {
		t.Fatal("push after resume")
	}
	expect(t, back, "add webhook:10") // nothing else came in between: no replay of older posts

	// Manual moderation: held posts wait in the queue until approved.
	modWall := app.dial(t, "mod", "")
	next(t, modWall) // snapshot
	waitFor(t, "queue", func() bool { return strings.Contains(mustBody(t, app, "/api/v1/streams/mod/queue"), "webhook:10") })
	if code, body := app.admin(t, http.MethodPost, "/api/v1/streams/mod/posts/webhook:10/approve"); code != http.StatusOK || !strings.Contains(body, `"changed":true`) {
		t.Fatalf("approve: %d %s", code, body)
	}
	expect(t, modWall, "add webhook:10")
	if code, body := app.admin(t, http.MethodPost, "/api/v1/streams/mod/posts/webhook:10/approve"); code != http.StatusOK || !strings.Contains(body, `"changed":false`) {
		t.Fatalf("approve twice: %d %s", code, body)
	}

	// Pause and resume reach every screen, and the paused state is in the
	// snapshot a new screen gets.
	if code, body := app.admin(t, http.MethodPost, "/api/v1/streams/wall/pause"); code != http.StatusOK {
		t.Fatalf("pause: %d %s", code, body)
	}
	expect(t, back, "control pause")
	if !strings.Contains(mustBody(t, app, "/api/v1/streams/wall/posts"), `"paused":true`) {
		t.Fatal("snapshot not paused")
	}

	if code, body := app.admin(t, http.MethodPost, "/api/v1/streams/wall/resume"); code != http.StatusOK {
		t.Fatalf("resume: %d %s", code, body)
	}
	expect(t, back, "control resume")

	want := []string{"webhook:10", "webhook:9", "webhook:7", "mastodon:6", "webhook:1"}
	if got := snapshotIDs(t, app, "wall"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("snapshot %v, want %v", got, want)
	}
	metrics := mustBody(t, app, "/metrics")
	for _, name := range []string{"chorus_posts_ingested_total", "chorus_posts_decided_total", "chorus_index_lag_events",
		"chorus_ws_clients", "chorus_ws_messages_sent_total", "chorus_ws_clients_dropped_total"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("metrics lack %s", name)
		}
	}

	// After a restart on the same data directory the snapshot is the same,
	// and so is the panic state.
	if code, _ := app.admin(t, http.MethodPost, "/api/v1/streams/mod/pause"); code != http.StatusOK {
		t.Fatal("pause mod")
	}
	app.stop(t)
	again := startApp(t, dir, testConfig)
	if got := snapshotIDs(t, again, "wall"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after restart %v, want %v", got, want)
	}
	if !strings.Contains(mustBody(t, again, "/api/v1/streams/mod/posts"), `"paused":true`) {
		t.Fatal("paused state lost in a restart")
	}
	if code, body := again.admin(t, http.MethodGet, "/api/v1/streams/wall/search?q=status:removed"); code != http.StatusOK || !strings.Contains(body, "webhook:5") {
		t.Fatalf("search after restart: %d %s", code, body)
	}
}

func mustBody(t *testing.T, a *testApp, path string) string {
	t.Helper()
	req := mustReq(http.MethodGet, a.base+path)
	req.Header.Set("Authorization", "Bearer "+testToken)
	_, body := do(t, req)
	return body
}

func TestBadInput(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	unsigned := func(body string, ts string, sig string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, app.base+"/api/v1/ingest/hook", strings.NewReader(body))
		if ts != "" {
			req.Header.Set(webhook.TimestampHeader, ts)
		}
		if sig != "" {
			req.Header.Set(webhook.SignatureHeader, sig)
		}
		return do(t, req)
	}
	old := time.Now().Add(-time.Hour)
	body := `{"id":"x","text":"hi"}`
	tests := []struct {
		name    string
		code    int
		call    func() (int, string)
		message string
	}{
		{"unsigned", 401, func() (int, string) { return unsigned(body, "", "") }, "missing"},
		{"stale", 401, func() (int, string) {
			return unsigned(body, strconv.FormatInt(old.Unix(), 10), webhook.Sign([]byte(testSecret), old, []byte(body)))
		}, "timestamp"},
		{"badly signed", 401, func() (int, string) {
			return unsigned(body, strconv.FormatInt(time.Now().Unix(), 10), "sha256=00ff")
		}, "signature"},
		{"malformed", 400, func() (int, string) { return app.push(t, `{"id":`) }, "malformed JSON"},
		{"no id", 400, func() (int, string) { return app.push(t, `[{"id":"ok","text":"fine"},{"text":"no id"}]`) }, "post 1: invalid post: id is required"},
		{"no text", 400, func() (int, string) { return app.push(t, `{"id":"y"}`) }, "text is required"},
		{"unknown source", 404, func() (int, string) { return do(t, mustReq(http.MethodPost, app.base+"/api/v1/ingest/nope")) }, "no webhook source"},
		{"unknown stream posts", 404, func() (int, string) { return do(t, mustReq(http.MethodGet, app.base+"/api/v1/streams/nope/posts")) }, "no stream"},
		{"unknown stream info", 404, func() (int, string) { return do(t, mustReq(http.MethodGet, app.base+"/api/v1/streams/nope")) }, "no stream"},
		{"unknown stream queue", 404, func() (int, string) { return app.admin(t, http.MethodGet, "/api/v1/streams/nope/queue") }, "no stream"},
		{"unknown stream action", 404, func() (int, string) {
			return app.admin(t, http.MethodPost, "/api/v1/streams/nope/posts/webhook:1/approve")
		}, "no stream"},
		{"unknown post", 404, func() (int, string) {
			return app.admin(t, http.MethodPost, "/api/v1/streams/wall/posts/webhook:zz/remove")
		}, "not found"},
		{"unknown action", 404, func() (int, string) {
			return app.admin(t, http.MethodPost, "/api/v1/streams/wall/posts/webhook:1/explode")
		}, "unknown action"},
		{"pause unknown stream", 404, func() (int, string) { return app.admin(t, http.MethodPost, "/api/v1/streams/nope/pause") }, "no stream"},
		{"pause without token", 401, func() (int, string) { return do(t, mustReq(http.MethodPost, app.base+"/api/v1/streams/wall/pause")) }, "admin token"},
		{"queue without token", 401, func() (int, string) { return do(t, mustReq(http.MethodGet, app.base+"/api/v1/streams/wall/queue")) }, "admin token"},
		{"bad search", 400, func() (int, string) { return app.admin(t, http.MethodGet, "/api/v1/streams/wall/search?q=%22open") }, "bad query"},
		{"unknown stream websocket", 404, func() (int, string) { return do(t, mustReq(http.MethodGet, app.base+"/ws/streams/nope")) }, "no stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := tt.call()
			if code != tt.code || !strings.Contains(body, tt.message) {
				t.Fatalf("got %d %s, want %d with %q", code, body, tt.code, tt.message)
			}
			var e struct{ Error string }
			if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Fatalf("not a JSON error: %s", body)
			}
		})
	}
	// None of the rejected calls stored anything.
	if ids := snapshotIDs(t, app, "wall"); len(ids) != 0 {
		t.Fatalf("rejected calls reached the wall: %v", ids)
	}
}

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"unknown key", []string{"serve", "--config", write("a.yaml", "server:\n  adr: ':1'\n")}, exitUsage, "server.adr (line 2): unknown key"},
		{"bad value", []string{"serve", "--config", write("b.yaml", "streams: [{id: s, moderation: maybe}]\n")}, exitUsage, "streams[0].moderation"},
		{"bad source setting", []string{"serve", "--config", write("c.yaml", "sources: [{id: h, type: webhook, secret: 0123456789abcdef, colour: red}]\n")}, exitUsage, "sources[0].colour (line 1): unknown key"},
		{"unknown source type", []string{"serve", "--config", write("d.yaml", "sources: [{id: h, type: myspace}]\n")}, exitUsage, `sources[0].type: unknown source type "myspace"`},
		{"bare number for a duration", []string{"serve", "--config", write("e.yaml", "sources:\n  - id: f\n    type: rss\n    feeds: [https://example.com/feed]\n    poll_interval: 30\n")},
			exitUsage, `sources[0].poll_interval (line 5): 30 has no unit; write "30s" for seconds or "30m" for minutes`},
		{"every problem at once", []string{"serve", "--config", write("f.yaml", "log_level: loud\nsources:\n  - {id: h, type: webhook}\n  - {id: m, type: myspace}\nstreams:\n  - {id: s, sources: [h], delay: soon}\n")},
			exitUsage, "4 problems:\n" +
				`  streams[0].delay (line 6): "soon" is not a duration like "30s" or "5m"` + "\n" +
				`  log_level: "loud" must be debug, info, warn or error` + "\n" +
				`  sources[0].secret: is required and must be at least 16 characters` + "\n" +
				`  sources[1].type: unknown source type "myspace"`},
		{"missing file", []string{"serve", "--config", filepath.Join(dir, "none.yaml")}, exitUsage, "no such file"},
		{"unknown flag", []string{"serve", "--colour"}, exitUsage, "unknown flag"},
		{"version", []string{"version"}, exitOK, "chorus "},
		{"help", []string{"--help"}, exitOK, "serve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(t.Context(), tt.args, &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.out) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d with %q", code, out.String(), tt.code, tt.out)
			}
		})
	}
}

func TestIndexRebuild(t *testing.T) {
	dir := t.TempDir()
	app := startApp(t, dir, testConfig)
	if code, _ := app.push(t, `[{"id":"1","text":"one"},{"id":"2","text":"two idiot"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	waitFor(t, "indexed", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/search?q=two"), "webhook:2")
	})
	app.stop(t)

	cfgPath := filepath.Join(dir, "chorus.yaml")
	if err := os.WriteFile(cfgPath, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := run(t.Context(), []string{"index", "rebuild", "--config", cfgPath, "--data", dir}, &out, &out); code != 0 {
		t.Fatalf("rebuild exit %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "index rebuilt from 4 events") {
		t.Fatalf("output %q", out.String())
	}
	again := startApp(t, dir, testConfig)
	body := mustBody(t, again, "/api/v1/streams/wall/search?q=two")
	if !strings.Contains(body, `"status":"rejected"`) {
		t.Fatalf("rebuilt index lacks the rejected post: %s", body)
	}
}

// The commented example config is valid as a whole, rules included.
func TestExampleConfigStarts(t *testing.T) {
	t.Setenv("CHORUS_WEBHOOK_SECRET", "an-example-secret-of-enough-length")
	cfg, err := config.Load("../../config/chorus.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewApp(cfg, sourceTypes(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
}
