package display

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

type streams map[string]config.Stream

func (s streams) Get(id string) (config.Stream, bool) { v, ok := s[id]; return v, ok }

func (s streams) All() []config.Stream {
	var out []config.Stream
	for _, id := range slices.Sorted(maps.Keys(s)) {
		out = append(out, s[id])
	}
	return out
}

var testStreams = streams{
	"wall":  {ID: "wall", DisplayLimit: 3},
	"brand": {ID: "brand", DisplayLimit: 10, AllowedOrigins: []string{"https://brand.example"}},
}

type fixture struct {
	hub *Hub
	srv *httptest.Server
	seq uint64
}

// newFixture serves a hub that is ready, as after loading an empty state.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newLoadingFixture(t, Timing{})
	f.hub.markReady(0)
	return f
}

// newLoadingFixture serves a hub that has not loaded its state yet.
func newLoadingFixture(t *testing.T, timing Timing) *fixture {
	t.Helper()
	hub := NewHub(Options{Streams: testStreams, Timing: timing})
	h := &Handlers{Hub: hub, Streams: testStreams, PublicURL: "https://wall.example"}
	srv := httptest.NewServer(routes(h))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { hub.Close(t.Context()) })
	return &fixture{hub: hub, srv: srv}
}

func routes(h *Handlers) *echo.Echo {
	e := echo.New()
	e.GET("/ws/streams/:id", h.WS)
	e.GET("/api/v1/streams/:id/posts", h.Posts)
	return e
}

// newServer serves h and returns its websocket base URL.
func newServer(t *testing.T, h *Handlers) string {
	t.Helper()
	srv := httptest.NewServer(routes(h))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// event applies one event for stream and returns its seq.
func (f *fixture) event(stream string, kind bus.EventKind, id string) uint64 {
	f.seq++
	e := bus.Event{Kind: kind, Stream: stream, PostID: id, Seq: f.seq}
	if kind == bus.EventApprove {
		e.Post = &post.Post{ID: id, Text: "text of " + id}
	}
	f.hub.Apply(bus.Batch{Events: []bus.Event{e}, LastSeq: f.seq, CaughtUp: true})
	return f.seq
}

func (f *fixture) dial(t *testing.T, path string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.DialContext(t.Context(), "ws"+strings.TrimPrefix(f.srv.URL, "http")+path, header)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

type msg struct {
	Type   string   `json:"type"`
	Seq    uint64   `json:"seq"`
	ID     string   `json:"id"`
	Action string   `json:"action"`
	Post   *Item    `json:"post"`
	Posts  []*Item  `json:"posts"`
	Pins   []string `json:"pins"`
	Paused bool     `json:"paused"`
}

func read(t *testing.T, c *websocket.Conn) msg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m msg
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func ids(items []*Item) string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return strings.Join(out, ",")
}

func TestSnapshotAddRemoveControl(t *testing.T) {
	f := newFixture(t)
	f.event("wall", bus.EventApprove, "a")
	f.event("wall", bus.EventApprove, "b")
	f.event("other", bus.EventApprove, "x")
	f.event("wall", bus.EventHold, "h") // never on screen: no message
	f.event("wall", bus.EventApprove, "c")
	f.event("wall", bus.EventApprove, "d")

	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := read(t, c)
	if snap.Type != TypeSnapshot || snap.Seq != 6 || ids(snap.Posts) != "d,c,b" || snap.Paused {
		t.Fatalf("snapshot %+v (%s)", snap, ids(snap.Posts))
	}
	f.event("wall", bus.EventApprove, "e")
	f.event("wall", bus.EventReject, "nope") // not on screen: no message
	f.event("wall", bus.EventRemove, "c")
	f.event("wall", bus.EventApprove, "e") // again: an update, not a second add
	f.event("wall", bus.EventPause, "")
	want := []string{"add 7 e", "remove 9 c", "update 10 e", "control 11 pause"}
	for _, w := range want {
		m := read(t, c)
		got := fmt.Sprintf("%s %d %s%s%s", m.Type, m.Seq, m.ID, m.Action, func() string {
			if m.Post != nil {
				return m.Post.ID
			}
			return ""
		}())
		if got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	snap2, ok := f.hub.Posts("wall", 10)
	if !ok || ids(snap2.Posts) != "e,d,b,a" || !snap2.Paused || snap2.Seq != 11 {
		t.Fatalf("posts %s paused %v seq %d", ids(snap2.Posts), snap2.Paused, snap2.Seq)
	}
}

func TestResumeSince(t *testing.T) {
	f := newFixture(t)
	f.event("wall", bus.EventApprove, "a")
	seen := f.event("wall", bus.EventApprove, "b")
	f.event("wall", bus.EventApprove, "c")
	f.event("other", bus.EventApprove, "x")
	f.event("wall", bus.EventRemove, "a")

	c, _, err := f.dial(t, fmt.Sprintf("/ws/streams/wall?since=%d", seen), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m.Type != TypeAdd || m.Post.ID != "c" || m.Seq != 3 {
		t.Fatalf("first after since: %+v", m)
	}
	if m := read(t, c); m.Type != TypeRemove || m.ID != "a" || m.Seq != 5 {
		t.Fatalf("second after since: %+v", m)
	}
	f.event("wall", bus.EventApprove, "d")
	if m := read(t, c); m.Type != TypeAdd || m.Post.ID != "d" || m.Seq != 6 {
		t.Fatalf("live after resume: %+v", m)
	}

	// Up to date: nothing is replayed, live messages follow.
	c2, _, err := f.dial(t, "/ws/streams/wall?since=6", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.event("wall", bus.EventApprove, "e")
	if m := read(t, c2); m.Type != TypeAdd || m.Post.ID != "e" {
		t.Fatalf("up-to-date client got %+v", m)
	}

	// From a future this node has not reached, or too far back: a snapshot.
	for _, since := range []string{"999", "0"} {
		c3, _, err := f.dial(t, "/ws/streams/wall?since="+since, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m := read(t, c3); m.Type != TypeSnapshot && since == "999" {
			t.Fatalf("since=%s: %+v", since, m)
		}
	}
}

// A wall away for a minute at 10 posts/s missed 600 messages: it gets
// exactly those, in order, then live ones, with no snapshot.
func TestResumeLargeBacklog(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := read(t, c).Seq
	c.Close()
	for i := range 600 {
		f.event("wall", bus.EventApprove, fmt.Sprintf("p%d", i))
	}
	back, _, err := f.dial(t, fmt.Sprintf("/ws/streams/wall?since=%d", seen), nil)
	if err != nil {
		t.Fatal(err)
	}
	live := f.event("wall", bus.EventApprove, "live") // may arrive while the backlog is written
	for i := range 600 {
		m := read(t, back)
		if m.Type != TypeAdd || m.Post.ID != fmt.Sprintf("p%d", i) || m.Seq != seen+uint64(i)+1 {
			t.Fatalf("message %d after since: %s %d %v", i, m.Type, m.Seq, m.Post)
		}
	}
	if m := read(t, back); m.Type != TypeAdd || m.Seq != live {
		t.Fatalf("after the backlog: %+v", m)
	}
}

// A client resuming from before what the history holds gets a snapshot.
func TestResumeFromBeforeHistoryGetsSnapshot(t *testing.T) {
	f := newFixture(t)
	first := f.event("wall", bus.EventApprove, "p0")
	// Events stored long ago, as a replay at start-up reads them, are
	// applied but not kept for resuming.
	st := f.hub.state("wall")
	for i := 1; i <= 5; i++ {
		f.seq++
		e := bus.Event{Kind: bus.EventApprove, Stream: "wall", PostID: fmt.Sprintf("p%d", i), Seq: f.seq,
			Post: &post.Post{ID: fmt.Sprintf("p%d", i)}, Stored: time.Now().Add(-HistoryWindow - time.Minute)}
		st.mu.Lock()
		f.hub.applyEvent(st, e, 3, time.Now())
		st.mu.Unlock()
	}
	f.hub.Apply(bus.Batch{LastSeq: f.seq, CaughtUp: true})
	c, _, err := f.dial(t, fmt.Sprintf("/ws/streams/wall?since=%d", first), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m.Type != TypeSnapshot || ids(m.Posts) != "p5,p4,p3" || m.Seq != f.seq {
		t.Fatalf("got %s %s seq %d", m.Type, ids(m.Posts), m.Seq)
	}
}

func TestRejects(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		path   string
		origin string
		status int
	}{
		{"/ws/streams/nope", "", http.StatusNotFound},
		{"/ws/streams/wall?since=abc", "", http.StatusBadRequest},
		{"/ws/streams/wall", "https://evil.example", http.StatusForbidden},
		{"/ws/streams/brand", "https://evil.example", http.StatusForbidden},
	} {
		h := http.Header{}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		_, resp, err := f.dial(t, tt.path, h)
		if err == nil || resp == nil || resp.StatusCode != tt.status {
			t.Errorf("%s from %q: err %v resp %v, want %d", tt.path, tt.origin, err, resp, tt.status)
		}
	}
	for _, origin := range []string{"https://brand.example", "https://wall.example", f.srv.URL} {
		h := http.Header{"Origin": {origin}}
		if _, _, err := f.dial(t, "/ws/streams/brand", h); err != nil {
			t.Errorf("origin %s refused: %v", origin, err)
		}
	}
	resp, err := http.Get(f.srv.URL + "/api/v1/streams/nope/posts")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("posts of unknown stream: %v %v", resp, err)
	}
}

func TestPostsJSON(t *testing.T) {
	f := newFixture(t)
	f.event("brand", bus.EventApprove, "a")
	f.event("brand", bus.EventApprove, "b")
	resp, err := http.Get(f.srv.URL + "/api/v1/streams/brand/posts?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap msg
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		t.Fatal(err)
	}
	if snap.Type != TypeSnapshot || ids(snap.Posts) != "b" || snap.Seq != 2 {
		t.Fatalf("%+v", snap)
	}
	if r, _ := http.Get(f.srv.URL + "/api/v1/streams/brand/posts?limit=-3"); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad limit: %d", r.StatusCode)
	}
}

func TestSlowClientIsDropped(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, c) // snapshot; then stop reading entirely
	big := strings.Repeat("x", 4000)
	deadline := time.Now().Add(20 * time.Second)
	for testutilCount(f.hub, "slow") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("slow client never dropped")
		}
		f.seq++
		f.hub.Apply(bus.Batch{Events: []bus.Event{{Kind: bus.EventApprove, Stream: "wall", PostID: fmt.Sprint(f.seq),
			Post: &post.Post{ID: fmt.Sprint(f.seq), Text: big}, Seq: f.seq}}, LastSeq: f.seq})
	}
	// Other clients are unaffected.
	c2, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := read(t, c2); m.Type != TypeSnapshot {
		t.Fatalf("%+v", m)
	}
}

func TestCloseSaysGoingAway(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, c)
	if err := f.hub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("err = %v, want going away", err)
	}
	// A client arriving after Close is told "going away" at once.
	late, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	late.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := late.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("late client: err = %v, want going away", err)
	}
}

func testutilCount(h *Hub, reason string) float64 {
	return testutil.ToFloat64(h.dropped.WithLabelValues(reason))
}

func testutilCountOf(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }
