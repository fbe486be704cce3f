package static_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/post"
	"github.com/chorus-wall/chorus/static"
	"github.com/chorus-wall/chorus/static/browsertest"
)

// testCSP is as strict as the server's page policy: no inline script or
// style, so a page that needs either fails here too.
const testCSP = "default-src 'self'; img-src 'self' data:; connect-src 'self'; script-src 'self'; " +
	"style-src 'self'; object-src 'none'; base-uri 'none'"

// fakeChorus is a Chorus whose display protocol a test scripts: it serves
// the real embedded pages and the demo's images, answers the stream and
// snapshot APIs with what the test set, and hands every websocket to the
// test. With auto set, each websocket first gets the current snapshot.
type fakeChorus struct {
	srv   *httptest.Server
	conns chan *fakeConn

	mu         sync.Mutex
	info       map[string]any // GET /api/v1/streams/wall; nil answers 404
	snap       map[string]any // GET .../posts and, with auto, each websocket's first message
	snapStatus int            // status of GET .../posts; 0 means 200
	retryAfter string         // Retry-After of a 503
	wsStatus   int            // when set, websocket upgrades are refused with it
	auto       bool
	httpHits   int
	// profile is the "profile" of GET .../profiles/{name}; nil answers 404.
	profile map[string]any
	// allowed are the origins that get CORS headers and may open websockets
	// (besides the server's own).
	allowed []string
	// older are posts older than the snapshot's, newest first, for
	// GET .../posts?before=.
	older []map[string]any
	// requests counts requests by path, to see what a page asked for.
	requests map[string]int
}

// fakeConn is one websocket the wall opened.
type fakeConn struct {
	since string
	batch string // the ?batch= the wall asked for
	ws    *websocket.Conn
	done  chan struct{} // closed when the wall's side is gone
}

func newFakeChorus(t *testing.T) *fakeChorus {
	t.Helper()
	f := &fakeChorus{
		conns:    make(chan *fakeConn, 64),
		info:     map[string]any{"id": "wall", "title": "Test wall", "moderation": "auto", "display_limit": 60},
		snap:     snapshot(0, false),
		auto:     true,
		profile:  map[string]any{},
		requests: map[string]int{},
	}
	mux := http.NewServeMux()
	pages := static.FS()
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			data, err := fs.ReadFile(pages, name)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Security-Policy", testCSP)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(data)
		}
	}
	mux.HandleFunc("GET /wall/{id}", page("wall.html"))
	assets, _ := fs.Sub(pages, "assets")
	files := http.StripPrefix("/assets/", http.FileServerFS(assets))
	mux.HandleFunc("GET /assets/", func(w http.ResponseWriter, r *http.Request) {
		if ct := static.ContentType(r.URL.Path); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
	mux.Handle("GET /demo/media/", demo.MediaHandler())
	mux.HandleFunc("GET /embed.js", func(w http.ResponseWriter, r *http.Request) {
		data, err := fs.ReadFile(pages, "embed.js")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", static.ContentType("embed.js"))
		w.Write(data)
	})
	mux.HandleFunc("GET /embed/{id}", page("embed.html"))
	mux.HandleFunc("GET /api/v1/streams/wall/profiles/{name}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		prof := f.profile
		f.mu.Unlock()
		if prof == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such profile"})
			return
		}
		computed := map[string]any{"font_family": "", "logo_src": ""}
		if logo, _ := prof["logo"].(string); logo != "" {
			computed["logo_src"] = logo
		}
		writeJSON(w, http.StatusOK, map[string]any{"stream": "wall", "name": r.PathValue("name"), "stored": len(prof) > 0,
			"revision": 1, "profile": prof, "computed": computed})
	})
	mux.HandleFunc("GET /api/v1/streams/wall", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		info := f.info
		f.mu.Unlock()
		if info == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no stream with that id"})
			return
		}
		writeJSON(w, http.StatusOK, info)
	})
	mux.HandleFunc("GET /api/v1/streams/wall/posts", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.httpHits++
		status, snap, retry, older := f.snapStatus, f.snap, f.retryAfter, f.older
		f.mu.Unlock()
		if before := r.URL.Query().Get("before"); before != "" {
			all := append(append([]map[string]any{}, snap["posts"].([]map[string]any)...), older...)
			var page []map[string]any
			found := false
			for _, p := range all {
				if found && len(page) < 20 {
					page = append(page, p)
				}
				found = found || p["id"] == before
			}
			if page == nil {
				page = []map[string]any{}
			}
			writeJSON(w, http.StatusOK, map[string]any{"type": "page", "seq": snap["seq"], "posts": page,
				"more": len(page) == 20 && page[len(page)-1]["id"] != all[len(all)-1]["id"]})
			return
		}
		if status == http.StatusServiceUnavailable {
			if retry != "" {
				w.Header().Set("Retry-After", retry)
			}
			writeJSON(w, status, map[string]string{"error": "the display is loading its state"})
			return
		}
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, snap)
	})
	upgrader := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		return origin == "" || origin == "http://"+r.Host || f.allows(origin)
	}}
	mux.HandleFunc("GET /ws/streams/wall", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		refuse, auto, snap := f.wsStatus, f.auto, f.snap
		f.mu.Unlock()
		if refuse != 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "not now", refuse)
			return
		}
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &fakeConn{since: r.URL.Query().Get("since"), batch: r.URL.Query().Get("batch"), ws: ws, done: make(chan struct{})}
		go func() { // read until the wall goes, so control frames are answered
			defer close(c.done)
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
		if auto {
			ws.WriteJSON(snap)
		}
		select {
		case f.conns <- c:
		default:
		}
		<-c.done
		ws.Close()
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests[r.URL.Path]++
		f.mu.Unlock()
		if origin := r.Header.Get("Origin"); origin != "" && f.allows(origin) && strings.HasPrefix(r.URL.Path, "/api/") {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Vary", "Origin")
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// allows reports whether origin is one of the allowed origins.
func (f *fakeChorus) allows(origin string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.allowed {
		if a == origin {
			return true
		}
	}
	return false
}

// hits returns how often path was asked for.
func (f *fakeChorus) hits(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[path]
}

// set changes what the server answers, under its lock.
func (f *fakeChorus) set(change func(f *fakeChorus)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// accept returns the next websocket the wall opens.
func (f *fakeChorus) accept(t *testing.T) *fakeConn {
	t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(browsertest.Timeout):
		t.Fatal("timed out waiting for the wall to connect")
		return nil
	}
}

// acceptSince returns the next websocket, which must ask ?since=since
// ("" for none) and for batched frames (?batch=1).
func (f *fakeChorus) acceptSince(t *testing.T, since string) *fakeConn {
	t.Helper()
	c := f.accept(t)
	if c.since != since {
		t.Fatalf("the wall connected with since=%q, want %q", c.since, since)
	}
	if c.batch != "1" {
		t.Fatalf("the wall connected with batch=%q, want 1 (it reads arrays of messages)", c.batch)
	}
	return c
}

// drain forgets the websockets opened so far.
func (f *fakeChorus) drain() {
	for {
		select {
		case <-f.conns:
		default:
			return
		}
	}
}

func (c *fakeConn) send(t *testing.T, v any) {
	t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func (c *fakeConn) sendRaw(t *testing.T, s string) {
	t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// close ends the connection from the server's side with code.
func (c *fakeConn) close(code int, reason string) {
	msg := websocket.FormatCloseMessage(code, reason)
	c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
	c.ws.Close()
}

// closedByWall waits until the wall closes the connection itself.
func (c *fakeConn) closedByWall(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(browsertest.Timeout):
		t.Fatal("the wall kept a connection it should have closed")
	}
}

// snapshot is a display-protocol snapshot message.
func snapshot(seq int, paused bool, posts ...map[string]any) map[string]any {
	if posts == nil {
		posts = []map[string]any{}
	}
	return map[string]any{"type": "snapshot", "seq": seq, "posts": posts, "paused": paused}
}

func add(seq int, p map[string]any) map[string]any {
	return map[string]any{"type": "add", "seq": seq, "post": p}
}

func remove(seq int, id string) map[string]any {
	return map[string]any{"type": "remove", "seq": seq, "id": id}
}

var baseTime = time.Now().Add(-time.Hour).UTC()

// textPost is a post with id and text, by an author named after the id.
func textPost(id, text string) map[string]any {
	return map[string]any{
		"id": id, "network": "webhook", "text": text, "kind": "original",
		"author":     map[string]any{"id": "u-" + id, "name": "Author " + id, "handle": "author_" + id},
		"created_at": baseTime.Format(time.RFC3339),
	}
}

// demoPosts are n posts from the demo generator (several languages, photos,
// avatars), newest first, as screens get them.
func demoPosts(t *testing.T, n int) []map[string]any {
	t.Helper()
	g := demo.Generator{SourceID: "demo", Seed: 26}
	now := time.Now()
	out := make([]map[string]any, 0, n)
	for i := n; i >= 1; i-- {
		p := g.Post(int64(i), now.Add(time.Duration(i-n)*97*time.Second))
		out = append(out, asJSON(t, p))
	}
	return out
}

func asJSON(t *testing.T, p post.Post) map[string]any {
	t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// ids returns the posts' ids joined by commas, as chorusWall.posts() reads.
func ids(posts ...map[string]any) string {
	s := make([]string, len(posts))
	for i, p := range posts {
		s[i] = fmt.Sprint(p["id"])
	}
	return strings.Join(s, ",")
}
