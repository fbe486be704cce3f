package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors/webhook"
	"github.com/chorus-wall/chorus/static"
)

// HTTP edges: bad JSON answers in plain words, unknown paths and methods
// under /api/v1 answer 404 and 405 (not 401), HEAD works wherever GET does,
// admin bodies are capped, and /assets/ lists nothing.
func TestHTTPEdges(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig+"limits: {admin_body_bytes: 2048}\n")
	call := func(method, path, body, contentType string, token bool) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, app.base+path, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if token {
			req.Header.Set("Authorization", "Bearer "+testToken)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(data)
	}
	const js = "application/json"
	for _, tt := range []struct {
		name, method, path, body, contentType string
		token                                 bool
		code                                  int
		message                               string
	}{
		{"bad JSON", "POST", "/api/v1/streams/wall/bulk", `{"action":`, js, true, 400, "body is not valid JSON: "},
		{"bad JSON in settings", "PUT", "/api/v1/streams/wall/settings", `{"title": "x",}`, js + "; charset=utf-8", true, 400,
			"body is not valid JSON: invalid character '}' looking for beginning of object key string (at byte 15)"},
		{"body over the cap", "POST", "/api/v1/streams/wall/pause", `{"reason":"` + strings.Repeat("x", 4096) + `"}`, js, true, 413,
			"body is larger than 2048 bytes"},
		{"unknown api path", "GET", "/api/v1/nope", "", "", false, 404, "no such path"},
		{"unknown path under a stream", "GET", "/api/v1/streams/wall/nope", "", "", false, 404, "no such path"},
		{"unknown admin-looking path", "POST", "/api/v1/streams/wall/posts/x:1/approve/now", "", "", false, 404, "no such path"},
		{"wrong method on a public path", "PATCH", "/api/v1/streams/wall", "", "", false, 405, "method PATCH not allowed here"},
		{"wrong method on a collection", "POST", "/api/v1/streams", "", "", false, 405, "not allowed"},
		{"wrong method on an admin path", "GET", "/api/v1/streams/wall/pause", "", "", false, 405, "not allowed"},
		{"admin path without token", "POST", "/api/v1/streams/wall/pause", "", "", false, 401, "admin token or API key"},
		{"asset directory", "GET", "/assets/", "", "", false, 404, "no such file"},
		{"asset subdirectory", "GET", "/assets/../", "", "", false, 404, ""},
		{"missing asset", "GET", "/assets/nope.js", "", "", false, 404, "no such file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := call(tt.method, tt.path, tt.body, tt.contentType, tt.token)
			if resp.StatusCode != tt.code || !strings.Contains(body, tt.message) {
				t.Fatalf("got %d %s, want %d with %q", resp.StatusCode, body, tt.code, tt.message)
			}
			var e struct{ Error string }
			if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Fatalf("not a JSON error: %s", body)
			}
			for _, internal := range []string{"code=", "internal=", "Syntax error", "offset="} {
				if strings.Contains(body, internal) {
					t.Fatalf("answer shows Echo's internals (%s): %s", internal, body)
				}
			}
			if tt.code == 405 && resp.Header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}

	for _, path := range []string{"/", "/wall/wall", "/wall/x", "/assets/wall.js", "/healthz", "/readyz", "/api/v1/streams", "/api/v1/streams/wall/posts"} {
		resp, body := call(http.MethodHead, path, "", "", false)
		get, _ := call(http.MethodGet, path, "", "", false)
		if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if resp, _ := call(http.MethodHead, "/api/v1/streams/wall/queue", "", "", true); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD on an admin GET: %d", resp.StatusCode)
	}
	if resp, body := call(http.MethodGet, "/assets/wall.js", "", "", false); resp.StatusCode != http.StatusOK || body == "" {
		t.Errorf("asset: %d", resp.StatusCode)
	}

	// The page CSP: own scripts and connections only, https images.
	resp, _ := call(http.MethodGet, "/wall/wall", "", "", false)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"connect-src 'self';", "img-src 'self';", "media-src 'self';", "script-src 'self';", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, token := range strings.Fields(csp) {
		if src := strings.TrimSuffix(token, ";"); src == "http:" || src == "data:" || src == "ws:" || src == "wss:" || src == "*" {
			t.Errorf("CSP %q allows %s", csp, src)
		}
	}
}

// The display API never returns more posts than a wall shows, and the
// wall's own limit (MAX_POSTS in posts.js) is the server's.
func TestDisplayLimitMatchesTheWall(t *testing.T) {
	js, err := fs.ReadFile(static.FS(), "assets/posts.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`MAX_POSTS = (\d+)`).FindSubmatch(js)
	if m == nil || string(m[1]) != strconv.Itoa(config.MaxDisplayLimit) {
		t.Fatalf("posts.js MAX_POSTS is %q, the server's config.MaxDisplayLimit %d", m, config.MaxDisplayLimit)
	}
	app := startApp(t, t.TempDir(), testConfig)
	posts := make([]string, 250)
	for i := range posts {
		posts[i] = fmt.Sprintf(`{"id":"%d","text":"post %d"}`, i, i)
	}
	if code, body := app.push(t, "["+strings.Join(posts, ",")+"]"); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	count := func(limit string) int {
		var snap struct{ Posts []json.RawMessage }
		if err := json.Unmarshal([]byte(mustBody(t, app, "/api/v1/streams/wall/posts?limit="+limit)), &snap); err != nil {
			t.Fatal(err)
		}
		return len(snap.Posts)
	}
	waitFor(t, "every post on the wall", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/posts?limit=1"), "webhook:249")
	})
	waitFor(t, "200 posts", func() bool { return count("200") == 200 })
	if n := count("500"); n != 200 {
		t.Fatalf("limit=500 gave %d posts, want 200 (the most a wall shows)", n)
	}
	if n := count(""); n != 60 {
		t.Fatalf("default gave %d posts, want the stream's display_limit 60", n)
	}
	code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/settings", `{"sources":["hook"],"display_limit":201}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "display_limit: 201 must be between 1 and 200") {
		t.Fatalf("display_limit 201: %d %s", code, body)
	}
}

// /metrics needs the admin token on the main address, and is open on
// metrics.listen, which serves nothing else.
func TestMetricsAccess(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig+"metrics: {listen: '127.0.0.1:0'}\n")
	if code, body := do(t, mustReq(http.MethodGet, app.base+"/metrics")); code != http.StatusUnauthorized {
		t.Fatalf("public /metrics: %d %s", code, body[:min(len(body), 200)])
	}
	if body := mustBody(t, app, "/metrics"); !strings.Contains(body, "chorus_ws_clients") {
		t.Fatalf("/metrics with the token: %s", body[:min(len(body), 200)])
	}
	if app.MetricsAddr() == "" {
		t.Fatal("no metrics address")
	}
	private := "http://" + app.MetricsAddr()
	if code, body := do(t, mustReq(http.MethodGet, private+"/metrics")); code != http.StatusOK || !strings.Contains(body, "chorus_http_rate_limited_total") {
		t.Fatalf("metrics.listen: %d", code)
	}
	if code, _ := do(t, mustReq(http.MethodGet, private+"/api/v1/streams")); code != http.StatusNotFound {
		t.Fatalf("metrics.listen serves the API: %d", code)
	}
}

// Rate limits answer 429 with Retry-After: webhook calls per source, admin
// calls per credential, refused credentials per client address.
func TestRateLimits(t *testing.T) {
	cfg := strings.Replace(testConfig, "sources:\n", "sources:\n  - {id: other, type: webhook, secret: "+testSecret+"}\n", 1) +
		"metrics: {listen: '127.0.0.1:0'}\nlimits:\n  webhook: {per_second: 0.2, burst: 2}\n  admin: {per_second: 0.2, burst: 3}\n"
	app := startApp(t, t.TempDir(), cfg)
	pushTo := func(source, body string) *http.Response {
		t.Helper()
		now := time.Now()
		req, _ := http.NewRequest(http.MethodPost, app.base+"/api/v1/ingest/"+source, strings.NewReader(body))
		req.Header.Set(webhook.TimestampHeader, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(testSecret), now, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	limited := func(t *testing.T, what string, resp *http.Response) {
		t.Helper()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s: %d, want 429", what, resp.StatusCode)
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 5 {
			t.Fatalf("%s: Retry-After %q, want 1-5 seconds", what, resp.Header.Get("Retry-After"))
		}
	}
	for i := range 2 {
		if resp := pushTo("hook", fmt.Sprintf(`{"id":"%d","text":"hi"}`, i)); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("push %d: %d", i, resp.StatusCode)
		}
	}
	limited(t, "third push", pushTo("hook", `{"id":"3","text":"hi"}`))
	if resp := pushTo("other", `{"id":"1","text":"hi"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("another source is limited too: %d", resp.StatusCode)
	}

	adminCall := func(token string) *http.Response {
		t.Helper()
		req := mustReq(http.MethodGet, app.base+"/api/v1/sources")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for range 3 {
		if resp := adminCall("wrong-token-0123456789"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token: %d", resp.StatusCode)
		}
	}
	limited(t, "fourth wrong token", adminCall("wrong-token-0123456789"))
	for i := range 3 {
		if resp := adminCall(testToken); resp.StatusCode != http.StatusOK {
			t.Fatalf("admin call %d: %d (refused guesses must not use up the credential's calls)", i, resp.StatusCode)
		}
	}
	limited(t, "fourth admin call", adminCall(testToken))

	_, metrics := do(t, mustReq(http.MethodGet, "http://"+app.MetricsAddr()+"/metrics"))
	for _, want := range []string{`chorus_http_rate_limited_total{limit="admin"} 2`, `chorus_http_rate_limited_total{limit="webhook"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// dialOrigin opens the display websocket with an Origin header.
func dialOrigin(t *testing.T, base, stream, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/ws/streams/" + stream
	return websocket.DefaultDialer.DialContext(t.Context(), url, http.Header{"Origin": {origin}})
}

// With log_format json every line is one JSON object: an access log line
// per request (no query string, no token), a line per refused webhook call,
// websocket origin, admin credential and rate-limited call, and a line per
// moderator action naming its actor.
func TestLogs(t *testing.T) {
	dir := t.TempDir()
	cfgPath := dir + "/chorus.yaml"
	cfg := strings.Replace(testConfig, "log_level: warn", "log_level: info", 1) + "limits: {webhook: {per_second: 0.01, burst: 2}}\n"
	cfg = strings.Replace(cfg, "    moderation: manual\n", "    moderation: manual\n    viewer_token: required\n", 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, stop := context.WithCancel(t.Context())
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, []string{"serve", "--config", cfgPath, "--data", dir + "/data", "--log-format", "json"}, logs, logs)
	}()
	var base string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	waitFor(t, "chorus to serve", func() bool {
		for _, e := range logEntries(t, logs.String()) {
			if e["msg"] == "chorus is serving" {
				base = "http://" + e["addr"].(string)
				return true
			}
		}
		return false
	})
	app := &testApp{base: base}
	waitStatus(t, base+"/readyz", http.StatusOK)

	const querySecret = "viewer-token-in-a-query-0123"
	if code, _ := do(t, mustReq(http.MethodGet, base+"/api/v1/streams?token="+querySecret)); code != http.StatusOK {
		t.Fatal("streams")
	}
	if code, _ := app.push(t, `{"id":"1","text":"hi"}`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	bad := mustReq(http.MethodPost, base+"/api/v1/ingest/hook")
	bad.Header.Set(webhook.TimestampHeader, strconv.FormatInt(time.Now().Unix(), 10))
	bad.Header.Set(webhook.SignatureHeader, "sha256=00ff")
	if code, _ := do(t, bad); code != http.StatusUnauthorized {
		t.Fatal("badly signed push")
	}
	if code, _ := app.push(t, `{"id":"2","text":"hi"}`); code != http.StatusTooManyRequests {
		t.Fatalf("third push: %d, want 429", code)
	}
	if _, resp, err := dialOrigin(t, base, "wall", "https://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v", err)
	}
	cross := mustReq(http.MethodGet, base+"/api/v1/streams/wall/posts")
	cross.Header.Set("Origin", "https://evil.example")
	if code, _ := do(t, cross); code != http.StatusOK {
		t.Fatal("cross-origin read")
	}
	own := mustReq(http.MethodGet, base+"/api/v1/streams/wall/posts")
	own.Header.Set("Origin", base)
	if code, _ := do(t, own); code != http.StatusOK {
		t.Fatal("same-origin read")
	}
	if code, _ := do(t, mustReq(http.MethodGet, base+"/api/v1/streams/mod/posts?token=forged-viewer-token")); code != http.StatusUnauthorized {
		t.Fatal("forged viewer token")
	}
	const wrongToken = "wrong-token-0123456789"
	req := mustReq(http.MethodGet, base+"/api/v1/streams/wall/queue")
	req.Header.Set("Authorization", "Bearer "+wrongToken)
	if code, _ := do(t, req); code != http.StatusUnauthorized {
		t.Fatal("wrong token")
	}
	consoleURL := "ws" + strings.TrimPrefix(base, "http") + "/ws/console"
	if _, resp, err := websocket.DefaultDialer.DialContext(t.Context(), consoleURL, http.Header{"Authorization": {"Bearer " + wrongToken}}); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("console feed with a wrong token: %v", err)
	}
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/pause", `{"reason":"fire alarm"}`); code != http.StatusOK {
		t.Fatalf("pause: %d %s", code, body)
	}

	want := []map[string]any{
		{"level": "INFO", "msg": "http", "method": "GET", "path": "/api/v1/streams", "status": 200.0, "remote": "127.0.0.1"},
		{"level": "INFO", "msg": "http", "method": "POST", "path": "/api/v1/ingest/hook", "status": 202.0},
		{"level": "WARN", "msg": "webhook call refused", "source": "hook", "remote": "127.0.0.1", "why": webhook.ErrBadSignature.Error()},
		{"level": "WARN", "msg": "rate limited", "limit": "webhook", "key": "hook", "source": "hook", "remote": "127.0.0.1"},
		{"level": "INFO", "msg": "http", "method": "POST", "path": "/api/v1/ingest/hook", "status": 429.0},
		{"level": "WARN", "msg": "websocket origin refused", "stream": "wall", "origin": "https://evil.example", "remote": "127.0.0.1"},
		{"level": "WARN", "msg": "cross-origin read refused", "path": "/api/v1/streams/wall/posts", "origin": "https://evil.example", "remote": "127.0.0.1"},
		{"level": "WARN", "msg": "viewer token refused", "path": "/api/v1/streams/mod/posts", "why": "malformed viewer token", "remote": "127.0.0.1"},
		{"level": "WARN", "msg": "admin credentials refused", "why": "wrong admin token (an API key looks like chorus_<name>_<64 hex digits>)", "path": "/api/v1/streams/wall/queue", "remote": "127.0.0.1"},
		{"level": "WARN", "msg": "admin credentials refused", "why": "wrong admin token (an API key looks like chorus_<name>_<64 hex digits>)", "path": "/ws/console", "remote": "127.0.0.1"},
		{"level": "INFO", "msg": "moderator action", "actor": "admin-token", "method": "POST", "route": "/api/v1/streams/:id/pause", "stream": "wall", "status": 200.0},
	}
	waitFor(t, "the log lines", func() bool {
		entries := logEntries(t, logs.String())
		for _, w := range want {
			if !hasEntry(entries, w) {
				return false
			}
		}
		return true
	})
	for _, e := range logEntries(t, logs.String()) {
		if e["msg"] == "http" {
			if _, ok := e["duration"]; !ok {
				t.Errorf("access log without duration: %v", e)
			}
		}
	}
	if n := strings.Count(logs.String(), `"msg":"cross-origin read refused"`); n != 1 {
		t.Errorf("%d cross-origin refusals logged, want 1 (the server's own origin is no refusal)", n)
	}
	for _, secret := range []string{querySecret, testToken, wrongToken, testSecret, "fire alarm", "forged-viewer-token"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log shows %q", secret)
		}
	}
	stop()
	select {
	case code := <-exited:
		if code != exitOK {
			t.Fatalf("serve exited %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// logEntries parses JSON log lines; a line that is not JSON fails the test.
func logEntries(t *testing.T, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, e)
	}
	return out
}

func hasEntry(entries []map[string]any, want map[string]any) bool {
	for _, e := range entries {
		match := true
		for k, v := range want {
			if e[k] != v {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
