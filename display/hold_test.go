package display

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// waitUntil retries cond until it holds, failing after 15 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(15 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func heldClients(h *Hub) float64 { return testutil.ToFloat64(h.held) }

// While the state loads, a screen is accepted and held; what the loader
// applies never reaches it as live messages. Once loaded, it starts from a
// snapshot of the whole state.
func TestClientIsHeldUntilTheStateIsLoaded(t *testing.T) {
	f := newLoadingFixture(t, Timing{})
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the client to be held", func() bool { return heldClients(f.hub) == 1 })

	resp, err := http.Get(f.srv.URL + "/api/v1/streams/wall/posts")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != RetryAfter {
		t.Fatalf("posts while loading: %d Retry-After %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}

	// What a load applies (as Run's replay does) reaches nobody.
	f.event("wall", bus.EventApprove, "a")
	f.event("wall", bus.EventApprove, "b")
	f.event("wall", bus.EventRemove, "a")
	last := f.event("wall", bus.EventPause, "")
	f.hub.markReady(last)

	m := read(t, c)
	if m.Type != TypeSnapshot || m.Seq != last || ids(m.Posts) != "b" || !m.Paused {
		t.Fatalf("first message after loading: %s seq %d posts %s paused %v", m.Type, m.Seq, ids(m.Posts), m.Paused)
	}
	if heldClients(f.hub) != 0 {
		t.Fatal("client still counted as held")
	}
	f.event("wall", bus.EventApprove, "c")
	if m := read(t, c); m.Type != TypeAdd || m.Post.ID != "c" {
		t.Fatalf("live after the snapshot: %+v", m)
	}
}

// A screen held longer than HoldTimeout is told to try again later (1013).
func TestHeldClientTimesOutWith1013(t *testing.T) {
	f := newLoadingFixture(t, Timing{HoldTimeout: 100 * time.Millisecond})
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
		t.Fatalf("err = %v, want close 1013", err)
	}
	if got := testutilCount(f.hub, dropNotReady); got != 1 {
		t.Fatalf("dropped not_ready = %v", got)
	}
}

// A screen that has seen seq N on another node (or before a restart) is
// held until this node has applied N: it never gets an older snapshot.
func TestClientAheadOfTheNodeWaitsForIt(t *testing.T) {
	f := newFixture(t)
	f.event("wall", bus.EventApprove, "a")
	// The node learns the stream holds 3 more events than it has applied.
	f.hub.Apply(bus.Batch{LastSeq: f.seq, Pending: 3})
	ahead := f.seq + 2
	c, _, err := f.dial(t, fmt.Sprintf("/ws/streams/wall?since=%d", ahead), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the client to be held", func() bool { return heldClients(f.hub) == 1 })
	f.event("wall", bus.EventApprove, "b")
	f.event("wall", bus.EventApprove, "c")
	f.event("wall", bus.EventApprove, "d")
	if m := read(t, c); m.Type != TypeAdd || m.Post.ID != "d" || m.Seq != ahead+1 {
		t.Fatalf("first message: %s seq %d %v, want add d at %d", m.Type, m.Seq, m.Post, ahead+1)
	}
}

// A since beyond anything the events stream holds (its data was reset) is
// not waited for: the screen gets the current snapshot.
func TestSinceBeyondTheStreamGetsSnapshot(t *testing.T) {
	f := newFixture(t)
	f.event("wall", bus.EventApprove, "a")
	c, _, err := f.dial(t, "/ws/streams/wall?since=999999", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := read(t, c); m.Type != TypeSnapshot || ids(m.Posts) != "a" {
		t.Fatalf("%+v", m)
	}
}

// A client that never reads answers no ping: it is dropped after the ping
// interval plus the pong timeout, long before its kernel buffers fill, and
// clients that read are not touched.
func TestClientThatNeverReadsIsDropped(t *testing.T) {
	f := newLoadingFixture(t, Timing{PingInterval: 50 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	f.hub.markReady(0)
	reader, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan msg, 100)
	go func() {
		for {
			var m msg
			if err := reader.ReadJSON(&m); err != nil {
				close(got)
				return
			}
			got <- m
		}
	}()
	deaf, _, err := f.dial(t, "/ws/streams/wall", nil) // never reads
	if err != nil {
		t.Fatal(err)
	}
	_ = deaf
	waitUntil(t, "the deaf client to be dropped", func() bool { return testutilCount(f.hub, dropUnresponsive) == 1 })
	waitUntil(t, "one client left", func() bool { return testutil.ToFloat64(f.hub.clients.WithLabelValues("wall")) == 1 })
	// The reading client has answered every ping and still gets messages.
	f.event("wall", bus.EventApprove, "x")
	for m := range got {
		if m.Type == TypeAdd && m.Post.ID == "x" {
			return
		}
	}
	t.Fatal("the reading client was disconnected")
}

// With the shipped timing, a client that never reads is dropped within
// 20 s (10 s ping interval + 10 s pong timeout); it used to take 60 s, or
// until its kernel buffers filled.
func TestClientThatNeverReadsIsDroppedWithDefaultTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("waits up to 20 s")
	}
	t.Parallel()
	f := newFixture(t)
	if _, _, err := f.dial(t, "/ws/streams/wall", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		f.hub.Apply(bus.Batch{Events: []bus.Event{{Kind: bus.EventApprove, Stream: "wall", PostID: fmt.Sprint(i),
			Post: &post.Post{ID: fmt.Sprint(i), Text: "a few messages, far from filling any buffer"}, Seq: uint64(i + 1)}}, LastSeq: uint64(i + 1)})
	}
	deadline := time.After(40 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for testutilCount(f.hub, dropUnresponsive) == 0 || testutil.ToFloat64(f.hub.clients.WithLabelValues("wall")) != 0 {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("a client that never reads was still connected after 40 s")
		}
	}
}

// Close tells held clients "going away" too.
func TestCloseReleasesHeldClients(t *testing.T) {
	f := newLoadingFixture(t, Timing{})
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the client to be held", func() bool { return heldClients(f.hub) == 1 })
	if err := f.hub.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("err = %v, want going away", err)
	}
}
