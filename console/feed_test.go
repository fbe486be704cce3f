package console

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/curation"
	"github.com/chorus-wall/chorus/index"
	"github.com/chorus-wall/chorus/post"
)

type display struct{ paused map[string]bool }

func (d display) Screens(stream string) int                 { return len(stream) }
func (d display) Paused(stream string) (paused, known bool) { return d.paused[stream], true }

type fixture struct {
	idx  *index.Index
	feed *Feed
	srv  *httptest.Server
	seq  uint64
	// ended makes every credential fail its next check.
	ended atomic.Bool
}

// newFixture runs a feed over a real index with streams main (manual),
// side and kids (which bans x:troll). A request's X-Streams header says
// which streams it may see ("*" for all); none is a 401.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	idx, err := index.Open(filepath.Join(t.TempDir(), "index"), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	streams := curation.NewStreams(curation.NewLists())
	for _, st := range []config.Stream{
		{ID: "main", Title: "Main stage", Moderation: config.ModerationManual},
		{ID: "side", Title: "Side", Moderation: config.ModerationAuto},
		{ID: "kids", Title: "Kids", Moderation: config.ModerationAuto, Filters: config.Filters{BlockedAuthors: []string{"x:troll"}}},
	} {
		if err := config.ValidateStream(&st, nil); err != nil {
			t.Fatal(err)
		}
		if err := streams.Put(st); err != nil {
			t.Fatal(err)
		}
	}
	dec := &Decorator{Index: idx, Streams: streams, Media: func(p post.Post) post.Post {
		for i := range p.Media {
			p.Media[i].URL = "/media/sig/" + p.Media[i].URL
		}
		return p
	}}
	figs := &FigureSource{Index: idx, Streams: streams, Display: display{paused: map[string]bool{"side": true}}}
	feed := NewFeed(dec, figs, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	feed.RecheckEvery = 50 * time.Millisecond
	idx.OnApply = feed.Applied
	f := &fixture{idx: idx, feed: feed}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { feed.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	h := &Handlers{Feed: feed, Figures: figs, PublicURL: "https://chorus.example",
		Viewer: func(c echo.Context) (Viewer, error) {
			list := c.Request().Header.Get("X-Streams")
			if list == "" {
				return Viewer{}, echo.NewHTTPError(http.StatusUnauthorized, "sign in")
			}
			return Viewer{
				Sees: func(s string) bool { return list == "*" || strings.Contains(","+list+",", ","+s+",") },
				Check: func(context.Context) error {
					if f.ended.Load() {
						return errors.New("session ended")
					}
					return nil
				},
			}, nil
		}}
	e := echo.New()
	e.GET("/ws/console", h.FeedWS)
	e.GET("/api/v1/overview", h.Overview)
	f.srv = httptest.NewServer(e)
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		feed.Close(ctx)
	})
	return f
}

// apply writes events to the index, as its Run would.
func (f *fixture) apply(t *testing.T, events ...bus.Event) uint64 {
	t.Helper()
	for i := range events {
		f.seq++
		events[i].Seq = f.seq
		if events[i].At.IsZero() {
			events[i].At = time.Now().UTC()
		}
		if events[i].Actor == "" {
			events[i].Actor = bus.ActorCuration
		}
	}
	if err := f.idx.Apply(bus.Batch{Events: events, LastSeq: f.seq, CaughtUp: true}); err != nil {
		t.Fatal(err)
	}
	// The feed takes the batch on its own goroutine: wait for it, so a
	// console connecting next starts after it.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		f.feed.mu.Lock()
		last := f.feed.last
		f.feed.mu.Unlock()
		if last >= f.seq {
			return f.seq
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the feed did not take event %d", f.seq)
		}
	}
}

func held(stream, id, handle string) bus.Event {
	p := &post.Post{ID: id, Network: "x", Text: "text of " + id, Author: post.Author{Handle: handle},
		Media: []post.Media{{Kind: post.MediaImage, URL: "https://img.example/" + id + ".jpg"}}}
	return bus.Event{Kind: bus.EventHold, Stream: stream, PostID: id, Post: p, Reason: "manual moderation"}
}

func approved(stream, id, handle string) bus.Event {
	e := held(stream, id, handle)
	e.Kind, e.Reason = bus.EventApprove, "auto"
	return e
}

func (f *fixture) dial(t *testing.T, path, streams, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if streams != "" {
		h.Set("X-Streams", streams)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(f.srv.URL, "http")+path, h)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

type message struct {
	Type    string      `json:"type"`
	Seq     uint64      `json:"seq"`
	Stream  string      `json:"stream"`
	Posts   []index.Hit `json:"posts"`
	Figures []Figures   `json:"figures"`
	Streams []Figures   `json:"streams"`
}

// next reads messages until one of typ arrives.
func next(t *testing.T, c *websocket.Conn, typ string) message {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if m.Type == typ {
			return m
		}
	}
}

func TestFeedSendsChangesOfTheStreamsOneSees(t *testing.T) {
	f := newFixture(t)
	f.apply(t, approved("main", "x:0", "ana"))
	all, _, err := f.dial(t, "/ws/console", "*", "")
	if err != nil {
		t.Fatal(err)
	}
	mainOnly, _, err := f.dial(t, "/ws/console", "main", "https://chorus.example")
	if err != nil {
		t.Fatal(err)
	}
	sideOnly, _, err := f.dial(t, "/ws/console", "side", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*websocket.Conn{all, mainOnly, sideOnly} {
		if s := next(t, c, "snapshot"); s.Seq != 1 {
			t.Fatalf("snapshot seq %d, want 1", s.Seq)
		}
	}
	// A troll banned in kids posts in main: the card says so, with Ana's
	// record and the picture through the proxy.
	f.apply(t, held("main", "x:1", "ana"), held("main", "x:2", "troll"))
	m := next(t, mainOnly, "changes")
	if m.Seq != 3 || m.Stream != "main" || len(m.Posts) != 2 {
		t.Fatalf("changes: %+v", m)
	}
	ana, troll := m.Posts[0], m.Posts[1]
	if ana.Post.ID != "x:1" || ana.Status != "held" || ana.Why != "mode" || ana.History == nil || ana.History.Approved != 1 {
		t.Fatalf("ana's card: %+v history %+v", ana, ana.History)
	}
	if troll.History == nil || len(troll.History.BannedIn) != 1 || troll.History.BannedIn[0] != "kids" {
		t.Fatalf("troll's card: %+v", troll.History)
	}
	if got := ana.Post.Media[0].URL; got != "/media/sig/https://img.example/x:1.jpg" {
		t.Fatalf("media not through the proxy: %s", got)
	}
	if m := next(t, all, "changes"); m.Stream != "main" {
		t.Fatalf("all: %+v", m)
	}

	// Another moderator approves x:1: it leaves the queue of everyone who sees main.
	f.apply(t, bus.Event{Kind: bus.EventApprove, Stream: "main", PostID: "x:1", Actor: "maria"})
	f.apply(t, held("side", "x:9", "bo"))
	m = next(t, mainOnly, "changes")
	if len(m.Posts) != 1 || m.Posts[0].Post.ID != "x:1" || m.Posts[0].Status != "approved" || m.Posts[0].Actor != "maria" {
		t.Fatalf("approval: %+v", m)
	}
	// The side-only console saw nothing of main, and gets side's post.
	if m := next(t, sideOnly, "changes"); m.Stream != "side" || m.Posts[0].Post.ID != "x:9" {
		t.Fatalf("side only: %+v", m)
	}
}

func TestFeedResumesWithSince(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.dial(t, "/ws/console", "*", "")
	if err != nil {
		t.Fatal(err)
	}
	next(t, c, "snapshot")
	f.apply(t, held("main", "x:1", "ana"))
	f.apply(t, held("main", "x:2", "bo"))
	next(t, c, "changes")
	next(t, c, "changes")
	c.Close()

	// Back after seq 1: exactly what came after, no snapshot.
	r, _, err := f.dial(t, "/ws/console?since=1", "*", "")
	if err != nil {
		t.Fatal(err)
	}
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := r.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var m message
	json.Unmarshal(data, &m)
	if m.Type != "changes" || m.Seq != 2 || m.Posts[0].Post.ID != "x:2" {
		t.Fatalf("resume: %s", data)
	}
	// From the future (a reset server) or bad: a snapshot, or a 400.
	fut, _, err := f.dial(t, "/ws/console?since=99", "*", "")
	if err != nil {
		t.Fatal(err)
	}
	if s := next(t, fut, "snapshot"); s.Seq != 2 {
		t.Fatalf("snapshot seq %d", s.Seq)
	}
	if _, resp, err := f.dial(t, "/ws/console?since=x", "*", ""); err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad since: %v %v", resp, err)
	}
}

func TestFeedRefusesOtherSitesAndStrangers(t *testing.T) {
	f := newFixture(t)
	if _, resp, err := f.dial(t, "/ws/console", "*", "https://evil.example"); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another site: %v %v", resp, err)
	}
	if _, resp, err := f.dial(t, "/ws/console", "", ""); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no credential: %v %v", resp, err)
	}
}

func TestFeedClosesWhenTheSessionEnds(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.dial(t, "/ws/console", "*", "")
	if err != nil {
		t.Fatal(err)
	}
	next(t, c, "snapshot")
	f.ended.Store(true)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != CloseSignedOut {
			t.Fatalf("closed with %v, want code %d", err, CloseSignedOut)
		}
		return
	}
}

func TestFiguresAndOverview(t *testing.T) {
	f := newFixture(t)
	f.apply(t, held("main", "x:1", "ana"), held("main", "x:2", "bo"), approved("main", "x:3", "cy"))
	old := approved("main", "x:4", "dee")
	old.At = time.Now().Add(-2 * time.Hour).UTC()
	f.apply(t, old)

	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/api/v1/overview", nil)
	req.Header.Set("X-Streams", "main,side")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Streams []Figures }
	json.NewDecoder(resp.Body).Decode(&out)
	if len(out.Streams) != 2 {
		t.Fatalf("overview: %+v", out)
	}
	main, side := out.Streams[0], out.Streams[1]
	if main.ID != "main" || main.Title != "Main stage" || main.Held != 2 || main.ApprovedLastHour != 1 ||
		main.Moderation != config.ModerationManual || main.Screens != 4 || main.Paused {
		t.Fatalf("main: %+v", main)
	}
	if side.ID != "side" || !side.Paused || side.Held != 0 {
		t.Fatalf("side: %+v", side)
	}

	// Live: a console gets figures, then new ones when a post is held.
	c, _, err := f.dial(t, "/ws/console", "main", "")
	if err != nil {
		t.Fatal(err)
	}
	next(t, c, "snapshot")
	f.apply(t, held("main", "x:5", "eve"))
	for {
		m := next(t, c, "figures")
		if len(m.Streams) == 1 && m.Streams[0].ID == "main" && m.Streams[0].Held == 3 {
			break
		}
	}
}
