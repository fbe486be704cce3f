package bus_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/post"
)

func TestOpenIsIdempotentAndDedupes(t *testing.T) {
	dir := t.TempDir()
	conn, err := bus.Open(t.Context(), bus.Options{DataDir: dir, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	posts := []post.Post{{ID: "webhook:1", Network: "webhook", Text: "a"}, {ID: "webhook:2", Network: "webhook", Text: "b"}}
	fresh, err := conn.PublishPosts(t.Context(), posts)
	if err != nil || fresh != 2 {
		t.Fatalf("fresh %d err %v", fresh, err)
	}
	fresh, err = conn.PublishPosts(t.Context(), posts[:1])
	if err != nil || fresh != 0 {
		t.Fatalf("replayed post stored again: fresh %d err %v", fresh, err)
	}
	if err := conn.PutCursor(t.Context(), "demo.x", []byte("42")); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(t.Context()); err != nil {
		t.Fatalf("second close: %v", err)
	}

	// Reopening the same directory keeps streams, messages and cursors.
	conn2 := bustest.OpenAt(t, dir)
	var msgs uint64
	for _, name := range bus.IngestStreams() {
		s, err := conn2.JS.Stream(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		msgs += info.State.Msgs
	}
	if msgs != 2 {
		t.Fatalf("the ingest streams hold %d messages after restart", msgs)
	}
	got, err := conn2.GetCursor(t.Context(), "demo.x")
	if err != nil || string(got) != "42" {
		t.Fatalf("cursor %q err %v", got, err)
	}
	missing, err := conn2.GetCursor(t.Context(), "nothing.here")
	if err != nil || missing != nil {
		t.Fatalf("missing cursor = %q, %v", missing, err)
	}
}

func TestTailEvents(t *testing.T) {
	conn := bustest.Open(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	batches := make(chan bus.Batch, 10)
	go conn.TailEvents(ctx, 1, 100, nil, func(b bus.Batch) error { batches <- b; return nil })
	if b := <-batches; !b.CaughtUp || len(b.Events) != 0 || b.LastSeq != 0 {
		t.Fatalf("empty stream: %+v", b)
	}

	e := bus.Event{Kind: bus.EventApprove, Stream: "s", Post: &post.Post{ID: "x:1", Text: "hi"}, At: time.Now()}
	msg, _ := e.Msg("")
	bad, _ := e.Msg("")
	bad.Data = []byte("{not json")
	if _, err := conn.PublishAll(ctx, append(msgsOf(msg), bad, msg)); err != nil {
		t.Fatal(err)
	}
	var got []bus.Event
	var last uint64
	for len(got) < 2 || last < 3 {
		b := <-batches
		got = append(got, b.Events...)
		last = b.LastSeq
	}
	if len(got) != 2 || got[0].PostID != "x:1" || got[0].Seq != 1 || got[1].Seq != 3 {
		t.Fatalf("events %+v", got)
	}

	// A second reader from a later sequence gets only what follows.
	go conn.TailEvents(ctx, 3, 100, nil, func(b bus.Batch) error { batches <- b; return nil })
	b := <-batches
	if len(b.Events) != 1 || b.Events[0].Seq != 3 {
		t.Fatalf("from 3: %+v", b)
	}
}

func msgsOf[T any](v ...T) []T { return v }

// ReadEvents reads the events between two sequences and returns;
// LastEventSeqOf finds one curated stream's last event.
func TestReadEventsAndLastEventOfAStream(t *testing.T) {
	conn := bustest.Open(t)
	ev := func(stream, id string) *nats.Msg {
		e := bus.Event{Kind: bus.EventApprove, Stream: stream, Post: &post.Post{ID: id, Text: id}, At: time.Now()}
		m, err := e.Msg("")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if _, err := conn.PublishAll(t.Context(), []*nats.Msg{ev("wall", "a"), ev("brand", "x"), ev("wall", "b"),
		ev("brand", "y"), ev("wall", "c"), ev("wall", "d")}); err != nil {
		t.Fatal(err)
	}
	read := func(from, to uint64) string {
		t.Helper()
		var got []string
		err := conn.ReadEvents(t.Context(), from, to, 2, nil, func(b bus.Batch) error {
			for _, e := range b.Events {
				if e.Stored.IsZero() {
					t.Errorf("event %d without its stored time", e.Seq)
				}
				got = append(got, fmt.Sprintf("%s@%d", e.PostID, e.Seq))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, " ")
	}
	for _, tt := range []struct {
		from, to uint64
		want     string
	}{
		{2, 5, "x@2 b@3 y@4 c@5"},
		{6, 100, "d@6"},
		{1, 1, "a@1"},
		{5, 4, ""},
		{7, 100, ""},
	} {
		if got := read(tt.from, tt.to); got != tt.want {
			t.Errorf("%d..%d: %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}
	for stream, want := range map[string]uint64{"wall": 6, "brand": 4, "nothing": 0} {
		if got, err := conn.LastEventSeqOf(t.Context(), stream); err != nil || got != want {
			t.Errorf("last of %s: %d %v, want %d", stream, got, err, want)
		}
	}
}

// A post goes to its author's partition stream only; a takedown goes to
// every partition's (so it is ordered after its post whatever the post's
// partition), stored once on each however often it is published, and
// counted as one new post.
func TestPartitionStreams(t *testing.T) {
	conn := bustest.Open(t)
	p := post.Post{ID: "webhook:1", Network: "webhook", Text: "a", Author: post.Author{Handle: "ana"}}
	down := post.Takedown("webhook", "webhook:1", "hook", time.Now())
	for i, want := range []int{2, 0} {
		fresh, err := conn.PublishPosts(t.Context(), []post.Post{p, down})
		if err != nil || fresh != want {
			t.Fatalf("publish %d: fresh %d (want %d), err %v", i+1, fresh, want, err)
		}
	}
	part := bus.IngestPartition(p.AuthorKey())
	for i, name := range bus.IngestStreams() {
		s, err := conn.JS.Stream(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := uint64(1) // the takedown
		switch {
		case name == bus.IngestStream:
			want = 0
		case i-1 == part:
			want = 2
		}
		if info.State.Msgs != want {
			t.Errorf("%s holds %d messages, want %d", name, info.State.Msgs, want)
		}
		if name != bus.IngestStream && (info.Config.MaxAge != 24*time.Hour || info.Config.Duplicates != bus.DedupeWindow) {
			t.Errorf("%s: max age %s, duplicates %s", name, info.Config.MaxAge, info.Config.Duplicates)
		}
	}
}
