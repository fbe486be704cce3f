package display

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
)

func TestHistoryKeepsTenMinutesWithinItsBytes(t *testing.T) {
	var h history
	base := time.Now()
	for i := range 20 {
		h.record(&encoded{seq: uint64(i + 1), frame: make([]byte, 100)}, base.Add(time.Duration(i)*time.Minute), base.Add(time.Duration(i)*time.Minute))
	}
	// At minute 19, what is older than minute 9 is gone.
	if h.entries[0].msg.seq != 10 || h.coveredFrom != 9 {
		t.Fatalf("oldest kept %d, covered from %d", h.entries[0].msg.seq, h.coveredFrom)
	}
	if _, ok := h.since(8, 20); ok {
		t.Fatal("resumed from before the history")
	}
	if got, ok := h.since(9, 20); !ok || len(got) != 11 {
		t.Fatalf("since 9: %d messages, %v", len(got), ok)
	}
	if _, ok := h.since(21, 20); ok {
		t.Fatal("resumed from the future")
	}
	// Past HistoryBytes the oldest go even when recent.
	var b history
	big := make([]byte, 20<<20)
	for i := range 4 {
		b.record(&encoded{seq: uint64(i + 1), frame: big}, base, base)
	}
	if b.bytes > HistoryBytes || b.entries[0].msg.seq != 2 || b.coveredFrom != 1 {
		t.Fatalf("bytes %d, oldest %d", b.bytes, b.entries[0].msg.seq)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"a", "b", "c", "d"} {
		f.apply(approved(id))
	}
	f.apply(bus.Event{Kind: bus.EventPin, PostID: "a"})
	f.apply(bus.Event{Kind: bus.EventPin, PostID: "c"})
	f.apply(bus.Event{Kind: bus.EventRemove, PostID: "b"})
	delayed := approved("later")
	delayed.ShowAt = time.Now().Add(time.Hour)
	f.apply(delayed)
	f.apply(bus.Event{Kind: bus.EventHideAuthor, Author: "x:troll"})
	f.apply(bus.Event{Kind: bus.EventPause})
	st := f.hub.state("wall")
	st.mu.Lock()
	c := st.checkpoint("wall", time.Now())
	want := st.snapshotOf(10)
	st.mu.Unlock()

	data, err := encodeCheckpoint(c)
	if err != nil {
		t.Fatal(err)
	}
	if seq, err := checkpointSeq(data); err != nil || seq != f.seq {
		t.Fatalf("seq %d err %v", seq, err)
	}
	back, err := decodeCheckpoint(data)
	if err != nil {
		t.Fatal(err)
	}
	got := back.restore()
	snap := got.snapshotOf(10)
	if ids(snap.Posts) != ids(want.Posts) || strings.Join(snap.Pins, ",") != "c,a" || !snap.Paused || snap.Seq != f.seq {
		t.Fatalf("restored %s pins %v paused %v seq %d; want %s", ids(snap.Posts), snap.Pins, snap.Paused, snap.Seq, ids(want.Posts))
	}
	if got.pending["later"] == nil || !got.hidden["x:troll"] || got.gone["b"] == 0 {
		t.Fatalf("pending %v hidden %v gone %v", got.pending, got.hidden, got.gone)
	}
	if _, err := decodeCheckpoint([]byte("garbage")); err == nil {
		t.Fatal("garbage decoded")
	}
}

// Several nodes share the bucket: a checkpoint never replaces one of a
// later seq, whoever writes it.
func TestCheckpointNeverGoesBack(t *testing.T) {
	conn := bustest.Open(t)
	ctx := t.Context()
	max := int(conn.NC.MaxPayload())
	nodeA := newCheckpoints(conn.Display, max, nil)
	nodeB := newCheckpoints(conn.Display, max, nil)
	save := func(cs *checkpoints, seq uint64) string {
		t.Helper()
		st := newState(seq)
		res, err := cs.save(ctx, st.checkpoint("wall", time.Now()), 10)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	stored := func() uint64 {
		e, err := conn.Display.Get(ctx, "wall")
		if err != nil {
			t.Fatal(err)
		}
		seq, _ := checkpointSeq(e.Value())
		return seq
	}
	if res := save(nodeA, 10); res != "written" {
		t.Fatal(res)
	}
	if res := save(nodeB, 5); res != "newer_exists" || stored() != 10 {
		t.Fatalf("%s, stored %d", res, stored())
	}
	if res := save(nodeB, 20); res != "written" || stored() != 20 {
		t.Fatalf("%s, stored %d", res, stored())
	}
	if res := save(nodeA, 15); res != "newer_exists" || stored() != 20 {
		t.Fatalf("%s, stored %d", res, stored())
	}
}

// publish writes events to the events stream and returns the last seq.
func publish(t *testing.T, conn *bus.Conn, events ...bus.Event) uint64 {
	t.Helper()
	msgs := make([]*nats.Msg, len(events))
	for i, e := range events {
		if e.Stream == "" {
			e.Stream = "wall"
		}
		e.Actor, e.At = "test", time.Now()
		m, err := e.Msg("")
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = m
	}
	acks, err := conn.PublishAll(t.Context(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	return acks[len(acks)-1].Sequence
}

// runHub runs a hub on conn until the returned stop is called (which waits
// for Run to end, final checkpoint written).
func runHub(t *testing.T, conn *bus.Conn, timing Timing) (*Hub, func()) {
	t.Helper()
	hub := NewHub(Options{Streams: testStreams, Timing: timing})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx, conn) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		hub.Close(context.Background())
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
	t.Cleanup(stop)
	return hub, stop
}

func waitReady(t *testing.T, hub *Hub, seq uint64) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("the hub to reach %d", seq), func() bool {
		hub.mu.Lock()
		defer hub.mu.Unlock()
		return hub.isReady && hub.applied >= seq
	})
}

// A restart loads each stream's checkpoint and replays only the events
// after it, into the history too: a screen that saw the state before the
// restart resumes with exactly what it missed.
func TestRestartLoadsCheckpointsAndReplaysOnlyTheTail(t *testing.T) {
	dir := t.TempDir()
	conn := bustest.OpenAt(t, dir)
	a := approved("a")
	a.Pinned = true
	last := publish(t, conn, a, approved("b"), approved("c"), bus.Event{Kind: bus.EventPause})
	hub, stop := runHub(t, conn, Timing{})
	waitReady(t, hub, last)
	stop() // writes the final checkpoints

	var tail []bus.Event
	tail = append(tail, approved("d"), bus.Event{Kind: bus.EventRemove, PostID: "b"})
	for i := range 300 {
		e := approved(fmt.Sprintf("brand%d", i))
		e.Stream = "brand"
		tail = append(tail, e)
	}
	end := publish(t, conn, tail...)

	again, stopAgain := runHub(t, conn, Timing{})
	waitReady(t, again, end)
	if got := testutil.ToFloat64(again.replayed); got != float64(len(tail)) {
		t.Fatalf("replayed %v events, want only the %d after the checkpoints", got, len(tail))
	}
	snap, ok := again.Posts("wall", 10)
	if !ok || ids(snap.Posts) != "a,d,c" || !snap.Paused || snap.Seq != end || strings.Join(snap.Pins, ",") != "a" {
		t.Fatalf("after restart: %s pins %v paused %v seq %d", ids(snap.Posts), snap.Pins, snap.Paused, snap.Seq)
	}

	// A screen that saw `last` gets exactly what it missed.
	h := &Handlers{Hub: again, Streams: testStreams}
	srv := newServer(t, h)
	c, _, err := websocket.DefaultDialer.DialContext(t.Context(), srv+fmt.Sprintf("/ws/streams/wall?since=%d", last), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if m := read(t, c); describeMsg(m) != "add d" {
		t.Fatalf("first: %q", describeMsg(m))
	}
	if m := read(t, c); describeMsg(m) != "remove b" {
		t.Fatalf("second: %q", describeMsg(m))
	}

	// A clean stop writes the changed streams' checkpoints at the end, and
	// the next start replays nothing.
	c.Close()
	stopAgain()
	stored, err := conn.Display.Get(t.Context(), "wall")
	if err != nil {
		t.Fatal(err)
	}
	if seq, _ := checkpointSeq(stored.Value()); seq != end {
		t.Fatalf("checkpoint of wall at %d, want %d", seq, end)
	}
	third, _ := runHub(t, conn, Timing{})
	waitReady(t, third, end)
	if got := testutil.ToFloat64(third.replayed); got != 0 {
		t.Fatalf("replayed %v events after a clean stop", got)
	}
}
