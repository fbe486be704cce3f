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

// approvals applies n approvals of stream in one batch, as the events
// reader hands them over, and returns the last seq.
func (f *fixture) approvals(stream, prefix string, n int) uint64 {
	events := make([]bus.Event, n)
	for i := range events {
		f.seq++
		id := fmt.Sprintf("%s%d", prefix, i)
		events[i] = bus.Event{Kind: bus.EventApprove, Stream: stream, PostID: id, Seq: f.seq,
			Post: &post.Post{ID: id, Text: "text of " + id}}
	}
	f.hub.Apply(bus.Batch{Events: events, LastSeq: f.seq, CaughtUp: true})
	return f.seq
}

// readFrame reads one frame: the messages it holds, and whether it was an
// array.
func readFrame(t *testing.T, c *websocket.Conn) ([]msg, bool) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(data) > 0 && data[0] == '[' {
		var ms []msg
		if err := json.Unmarshal(data, &ms); err != nil {
			t.Fatalf("array frame: %v: %s", err, data)
		}
		if len(ms) < 2 {
			t.Fatalf("an array frame of %d messages: %s", len(ms), data)
		}
		return ms, true
	}
	var m msg
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("frame: %v: %s", err, data)
	}
	return []msg{m}, false
}

// readMessages reads frames until it has n messages; it returns them and
// how many frames they came in.
func readMessages(t *testing.T, c *websocket.Conn, n int) ([]msg, int) {
	t.Helper()
	var out []msg
	frames := 0
	for len(out) < n {
		ms, _ := readFrame(t, c)
		out = append(out, ms...)
		frames++
	}
	if len(out) != n {
		t.Fatalf("got %d messages, want %d", len(out), n)
	}
	return out, frames
}

// A client that asks for batched frames gets the messages of one burst in
// one frame, as an array, in order; a client that does not gets one
// message per frame, the same messages.
func TestBatchedFramesOnlyForClientsThatAsk(t *testing.T) {
	f := newFixture(t)
	batched, _, err := f.dial(t, "/ws/streams/wall?batch=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := f.dial(t, "/ws/streams/wall?batch=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*websocket.Conn{batched, plain, old} {
		if ms, _ := readFrame(t, c); ms[0].Type != TypeSnapshot {
			t.Fatalf("first: %+v", ms[0])
		}
	}
	waitUntil(t, "three clients", func() bool { return f.hub.Screens("wall") == 3 })
	last := f.approvals("wall", "p", 5)

	ms, array := readFrame(t, batched)
	if !array || len(ms) != 5 {
		t.Fatalf("batched client: %d messages in a frame (array %v), want one array of 5", len(ms), array)
	}
	for i, m := range ms {
		if m.Type != TypeAdd || m.Post.ID != fmt.Sprintf("p%d", i) || m.Seq != last-4+uint64(i) {
			t.Fatalf("batched message %d: %s", i, describeMsg(m))
		}
	}
	for name, c := range map[string]*websocket.Conn{"batch=0": plain, "no batch": old} {
		for i := range 5 {
			ms, array := readFrame(t, c)
			if array || ms[0].Type != TypeAdd || ms[0].Post.ID != fmt.Sprintf("p%d", i) {
				t.Fatalf("%s, frame %d: %s (array %v)", name, i, describeMsg(ms[0]), array)
			}
		}
	}
	// A lone message is never wrapped in an array.
	f.event("wall", bus.EventPause, "")
	if ms, array := readFrame(t, batched); array || ms[0].Type != TypeControl {
		t.Fatalf("lone message: %s (array %v)", describeMsg(ms[0]), array)
	}
}

func TestBatchMustBeABoolean(t *testing.T) {
	f := newFixture(t)
	_, resp, err := f.dial(t, "/ws/streams/wall?batch=please", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("batch=please: err %v resp %v, want 400", err, resp)
	}
}

// A batched resume backlog is exactly the messages after since, in order,
// in arrays, before live ones.
func TestBatchedResume(t *testing.T) {
	f := newFixture(t)
	seen := f.event("wall", bus.EventApprove, "a")
	for i := range 600 {
		f.event("wall", bus.EventApprove, fmt.Sprintf("p%d", i))
	}
	c, _, err := f.dial(t, fmt.Sprintf("/ws/streams/wall?batch=1&since=%d", seen), nil)
	if err != nil {
		t.Fatal(err)
	}
	ms, frames := readMessages(t, c, 600)
	for i, m := range ms {
		if m.Type != TypeAdd || m.Post.ID != fmt.Sprintf("p%d", i) || m.Seq != seen+uint64(i)+1 {
			t.Fatalf("message %d after since: %s seq %d", i, describeMsg(m), m.Seq)
		}
	}
	if frames >= 600 {
		t.Fatalf("600 messages in %d frames: not batched", frames)
	}
	live := f.event("wall", bus.EventApprove, "live")
	if ms, _ := readFrame(t, c); ms[0].Seq != live {
		t.Fatalf("after the backlog: %s seq %d", describeMsg(ms[0]), ms[0].Seq)
	}
}

// One large batch of events (the reader catching up) never makes a client
// that had taken everything before it too slow: it gets every message, in
// order, and stays connected.
func TestLargeBatchDoesNotDropCaughtUpClients(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/ws/streams/wall?batch=1", "/ws/streams/wall"} {
		t.Run(path, func(t *testing.T) {
			c, _, err := f.dial(t, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			readFrame(t, c)
			last := f.approvals("wall", "big", 3*QueueSize)
			ms, _ := readMessages(t, c, 3*QueueSize)
			for i, m := range ms {
				if m.Type != TypeAdd || m.Seq != last-uint64(3*QueueSize-1-i) {
					t.Fatalf("message %d: %s seq %d", i, describeMsg(m), m.Seq)
				}
			}
			if got := testutilCount(f.hub, dropSlow); got != 0 {
				t.Fatalf("%v clients dropped as slow", got)
			}
			c.Close()
		})
	}
}

// Messages close together in time share a write and, for batching
// clients, a frame: a stream sends at most once per batch window.
func TestBatchWindowGathersMessages(t *testing.T) {
	f := newLoadingFixture(t, Timing{BatchWindow: time.Hour})
	f.hub.markReady(0)
	c, _, err := f.dial(t, "/ws/streams/wall?batch=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	readFrame(t, c)
	f.event("wall", bus.EventApprove, "first") // after a quiet window: at once
	if ms, _ := readFrame(t, c); ms[0].Post.ID != "first" {
		t.Fatalf("first: %s", describeMsg(ms[0]))
	}
	f.event("wall", bus.EventApprove, "a") // within the window: gathered
	f.event("wall", bus.EventApprove, "b")
	// A client joining takes what was gathered with it: the others get it
	// first, the newcomer a snapshot that holds it.
	late, _, err := f.dial(t, "/ws/streams/wall?batch=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	ms, array := readFrame(t, c)
	if !array || len(ms) != 2 || ms[0].Post.ID != "a" || ms[1].Post.ID != "b" {
		t.Fatalf("gathered: %d messages, array %v", len(ms), array)
	}
	snap, _ := readFrame(t, late)
	if snap[0].Type != TypeSnapshot || ids(snap[0].Posts) != "b,a,first" || snap[0].Seq != f.seq {
		t.Fatalf("newcomer: %s %s seq %d", snap[0].Type, ids(snap[0].Posts), snap[0].Seq)
	}
}

// An idle client has no writer goroutine: one runs only while there is
// something to send.
func TestIdleClientsHaveNoWriter(t *testing.T) {
	f := newFixture(t)
	const n = 20
	for range n {
		c, _, err := f.dial(t, "/ws/streams/wall?batch=1", nil)
		if err != nil {
			t.Fatal(err)
		}
		readFrame(t, c)
	}
	waitUntil(t, "every client registered", func() bool { return f.hub.Screens("wall") == n })
	f.approvals("wall", "p", 3)
	waitUntil(t, "every writer gone", func() bool { return f.hub.writers("wall") == 0 })
}

// writers counts the stream's clients whose writer goroutine runs.
func (h *Hub) writers(stream string) int {
	st := h.state(stream)
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for c := range st.clients {
		c.mu.Lock()
		if c.writing {
			n++
		}
		c.mu.Unlock()
	}
	return n
}

// A client's close is answered with the same code, and its ping with a
// pong carrying the same data.
func TestClientPingAndCloseAreAnswered(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.dial(t, "/ws/streams/wall?batch=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	readFrame(t, c)
	pong := make(chan string, 1)
	c.SetPongHandler(func(data string) error { pong <- data; return nil })
	if err := c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	select {
	case got := <-pong:
		if got != "are you there" {
			t.Fatalf("pong %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
	if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		if !websocket.IsCloseError(err, 4001) {
			t.Fatalf("after our close: %v, want close 4001 back", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no close frame back")
	}
	waitUntil(t, "the client gone", func() bool { return testutil.ToFloat64(f.hub.clients.WithLabelValues("wall")) == 0 })
	if got := testutilCount(f.hub, dropUnresponsive) + testutilCount(f.hub, dropSlow); got != 0 {
		t.Fatalf("a client that said goodbye counted as dropped: %v", got)
	}
}
