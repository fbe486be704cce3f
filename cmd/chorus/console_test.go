package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/index"
)

// queuePage is the queue API's answer.
type queuePage struct {
	Total uint64      `json:"total"`
	Seq   uint64      `json:"seq"`
	Posts []index.Hit `json:"posts"`
}

func (a *testApp) queue(t *testing.T, path string) queuePage {
	t.Helper()
	var q queuePage
	if err := json.Unmarshal([]byte(mustBody(t, a, path)), &q); err != nil {
		t.Fatal(err)
	}
	return q
}

// dialConsole opens the console's live feed with the admin token.
func (a *testApp) dialConsole(t *testing.T, since string) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(a.base, "http") + "/ws/console"
	if since != "" {
		url += "?since=" + since
	}
	h := http.Header{"Authorization": {"Bearer " + testToken}}
	c, _, err := websocket.DefaultDialer.DialContext(t.Context(), url, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type feedMsg struct {
	Type   string      `json:"type"`
	Seq    uint64      `json:"seq"`
	Stream string      `json:"stream"`
	Posts  []index.Hit `json:"posts"`
}

// nextFeed reads the feed until a message of typ about stream arrives.
func nextFeed(t *testing.T, c *websocket.Conn, typ, stream string) feedMsg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		var m feedMsg
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %s of %s: %v", typ, stream, err)
		}
		if m.Type == typ && (stream == "" || m.Stream == stream) {
			return m
		}
	}
}

// TestConsoleQueueLive: the queue API filters and decorates its posts, and
// the console feed carries each new held post and each moderator's action
// to every console.
func TestConsoleQueueLive(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	feed := app.dialConsole(t, "")
	nextFeed(t, feed, "snapshot", "")

	if code, body := app.push(t, `[{"id":"1","text":"first","lang":"en","author":{"handle":"ana"}},
		{"id":"2","text":"hola","lang":"es","author":{"handle":"bo"},"media":[{"url":"https://m.example/2.jpg"}]}]`); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	// New held posts reach the console without a reload, decorated.
	got := map[string]index.Hit{}
	for len(got) < 2 {
		for _, h := range nextFeed(t, feed, "changes", "mod").Posts {
			got[h.Post.ID] = h
		}
	}
	bo := got["webhook:2"]
	if bo.Status != "held" || bo.Why != "mode" || bo.History == nil || bo.History.BannedIn == nil {
		t.Fatalf("bo's card: %+v", bo)
	}
	if u := bo.Post.Media[0].URL; !strings.HasPrefix(u, "/media/") {
		t.Fatalf("the picture is not through the media proxy: %s", u)
	}

	q := app.queue(t, "/api/v1/streams/mod/queue?order=oldest")
	if q.Total != 2 || q.Posts[0].Post.ID != "webhook:1" || q.Seq == 0 || q.Posts[0].History == nil {
		t.Fatalf("queue: %+v", q)
	}
	if q := app.queue(t, "/api/v1/streams/mod/queue?lang=es&media=true"); q.Total != 1 || q.Posts[0].Post.ID != "webhook:2" {
		t.Fatalf("filtered queue: %+v", q)
	}
	if code, body := app.admin(t, http.MethodGet, "/api/v1/streams/mod/queue?media=maybe"); code != http.StatusBadRequest || !strings.Contains(body, "media") {
		t.Fatalf("bad media filter: %d %s", code, body)
	}
	var facets index.Facets
	if err := json.Unmarshal([]byte(mustBody(t, app, "/api/v1/streams/mod/facets?status=held")), &facets); err != nil ||
		facets.Total != 2 || len(facets.Lang) != 2 || facets.Why[0].Value != "mode" {
		t.Fatalf("facets: %+v %v", facets, err)
	}

	// A moderator approves one: it leaves the queue in the feed at once,
	// naming who.
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/mod/posts/webhook:1/approve", ""); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	m := nextFeed(t, feed, "changes", "mod")
	if len(m.Posts) != 1 || m.Posts[0].Post.ID != "webhook:1" || m.Posts[0].Status != "approved" || m.Posts[0].Actor != "admin-token" {
		t.Fatalf("approval in the feed: %+v", m)
	}
	// Hold puts it back (the console's undo).
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/mod/posts/webhook:1/hold", ""); code != http.StatusOK || !strings.Contains(body, `"status":"held"`) {
		t.Fatalf("hold: %d %s", code, body)
	}
	if ids := snapshotIDs(t, app, "mod"); len(ids) != 0 {
		t.Fatalf("a post put back in the queue is still on screens: %v", ids)
	}
	if q := app.queue(t, "/api/v1/streams/mod/queue"); q.Total != 2 {
		t.Fatalf("after hold: %+v", q)
	}
	// A console that was away resumes after what it saw.
	again := app.dialConsole(t, strconv.FormatUint(m.Seq, 10))
	if r := nextFeed(t, again, "changes", "mod"); r.Posts[0].Status != "held" {
		t.Fatalf("resume: %+v", r)
	}
}

// TestConsoleOverview: each stream's figures.
func TestConsoleOverview(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	if code, _ := app.push(t, `[{"id":"1","text":"one"},{"id":"2","text":"two"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	wall := app.dial(t, "wall", "")
	next(t, wall)
	if code, _ := app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/pause", ""); code != http.StatusOK {
		t.Fatal("pause")
	}
	type figures struct {
		ID               string
		Moderation       string
		Paused           bool
		Held             int
		ApprovedLastHour int `json:"approved_last_hour"`
		Screens          int
	}
	waitFor(t, "the overview's figures", func() bool {
		var out struct{ Streams []figures }
		if json.Unmarshal([]byte(mustBody(t, app, "/api/v1/overview")), &out) != nil || len(out.Streams) != 2 {
			return false
		}
		w, m := out.Streams[0], out.Streams[1]
		return w.ID == "wall" && w.Paused && w.ApprovedLastHour == 2 && w.Screens == 1 && w.Held == 0 &&
			m.ID == "mod" && m.Moderation == "manual" && m.Held == 2 && !m.Paused
	})
	if code, _ := do(t, mustReq(http.MethodGet, app.base+"/api/v1/overview")); code != http.StatusUnauthorized {
		t.Fatalf("overview without a credential: %d", code)
	}
}

// TestConsolePagesCannotBeFramed: the sign-in page and the console are
// served with a CSP without inline scripts that no page may frame, and are
// never cached; any path under /console is the console (it routes itself).
func TestConsolePagesCannotBeFramed(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	for _, path := range []string{"/login", "/console", "/console/streams/wall/queue", "/console/users"} {
		resp, err := http.Get(app.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		switch {
		case resp.StatusCode != http.StatusOK:
			t.Errorf("%s: %d", path, resp.StatusCode)
		case !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'"):
			t.Errorf("%s: CSP %q", path, csp)
		case resp.Header.Get("X-Frame-Options") != "DENY":
			t.Errorf("%s: X-Frame-Options %q", path, resp.Header.Get("X-Frame-Options"))
		case resp.Header.Get("Cache-Control") != "no-store":
			t.Errorf("%s: Cache-Control %q", path, resp.Header.Get("Cache-Control"))
		}
	}
}
