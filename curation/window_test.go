package curation

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/post"
)

// A crash after the decisions of a batch are stored and before its ingest
// messages are acknowledged brings the messages back after the restart. When
// the restart comes after the events stream's dedupe window, JetStream
// would store their decisions a second time: the restarted curator reads
// back the decisions stored since the oldest unacknowledged message and
// decides none of them again. (The test shrinks the dedupe window to a
// fraction of a second instead of waiting 15 minutes.)
func TestRedeliveredAfterRestartIsNotDecidedTwice(t *testing.T) {
	dir := t.TempDir()
	conn := bustest.OpenAt(t, dir)
	var posts []post.Post
	for i := range 40 {
		posts = append(posts, post.Post{ID: fmt.Sprintf("webhook:%d", i), Network: "webhook", Source: "hook",
			Text: fmt.Sprintf("post %d", i), Author: post.Author{Handle: fmt.Sprintf("fan%d", i)}})
	}
	if _, err := conn.PublishPosts(t.Context(), posts); err != nil {
		t.Fatal(err)
	}

	// The first curator stores every decision and dies before acknowledging.
	var mu sync.Mutex
	var unacked []jetstream.Msg
	stop := runCurator(t, conn, func(c *Curator) {
		c.beforeAck = func(msgs []jetstream.Msg) bool {
			mu.Lock()
			defer mu.Unlock()
			unacked = append(unacked, msgs...)
			return false
		}
	})
	waitFor(t, "the first curator to store every decision", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(unacked) == len(posts)
	})
	stop()
	if n := decisions(t, conn); n != 2*len(posts) {
		t.Fatalf("%d decisions stored before the crash, want %d", n, 2*len(posts))
	}

	// Time passes beyond the dedupe window.
	const window = 300 * time.Millisecond
	shrinkDedupe(t, conn, window)
	if err := conn.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn = bustest.OpenAt(t, dir) // as after a process restart
	shrinkDedupe(t, conn, window)
	waitDedupeForgets(t, conn)

	runCurator(t, conn, func(c *Curator) { c.dedupeWindow = window })
	for _, m := range unacked {
		// What the server does by itself once the acknowledgement wait is
		// over (30 seconds): the messages come again.
		if err := conn.NC.Publish(m.Reply(), []byte("-NAK")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.PublishPosts(t.Context(), []post.Post{{ID: "webhook:marker", Network: "webhook", Source: "hook", Text: "after"}}); err != nil {
		t.Fatal(err)
	}
	waitAcked(t, conn)
	if n := decisions(t, conn); n != 2*len(posts)+2 {
		t.Fatalf("%d decisions after the restart, want %d: the redelivered posts were decided again", n, 2*len(posts)+2)
	}
}

// runCurator runs a curator of testStreams, set up by setup, until the
// returned stop (or the test's end).
func runCurator(t *testing.T, conn *bus.Conn, setup func(*Curator)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	streams := NewStreams(NewLists())
	for _, s := range testStreams {
		if err := streams.Put(s); err != nil {
			t.Fatal(err)
		}
	}
	c := NewCurator(conn, streams, nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	setup(c)
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// decisions counts the events stored on the events stream: decisions and
// the test's probes' (none are left: a probe is stored only once the
// dedupe has forgotten it, and then deleted).
func decisions(t *testing.T, conn *bus.Conn) int {
	t.Helper()
	s, err := conn.JS.Stream(t.Context(), bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Msgs)
}

// shrinkDedupe sets the events stream's dedupe window.
func shrinkDedupe(t *testing.T, conn *bus.Conn, window time.Duration) {
	t.Helper()
	s, err := conn.JS.Stream(t.Context(), bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.Duplicates = window
	if _, err := conn.JS.UpdateStream(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
}

// waitDedupeForgets waits until the events stream stores a message id it
// was given before: its dedupe window is over.
func waitDedupeForgets(t *testing.T, conn *bus.Conn) {
	t.Helper()
	s, err := conn.JS.Stream(t.Context(), bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	probe := func() bool {
		ack, err := conn.JS.Publish(t.Context(), "chorus.events.probe.dedupe", nil, jetstream.WithMsgID("probe"))
		if err != nil {
			t.Fatal(err)
		}
		if !ack.Duplicate {
			if err := s.DeleteMsg(t.Context(), ack.Sequence); err != nil {
				t.Fatal(err)
			}
		}
		return !ack.Duplicate
	}
	probe()
	waitFor(t, "the dedupe window to pass", func() bool { return probe() })
}

// waitFor waits up to 20 seconds for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// An edit that comes after a restart, while the decided window is empty
// but the events stream's dedupe still holds the post's first decision, is
// judged as the edit it is: JetStream reports the repeated decision, and
// curation writes the edit instead of dropping it as a duplicate.
func TestEditAfterRestartIsAnEdit(t *testing.T) {
	conn := bustest.Open(t)
	p := post.Post{ID: "webhook:1", Network: "webhook", Source: "hook", Text: "first words", CreatedAt: time.Now()}
	stop := runCurator(t, conn, func(*Curator) {})
	if _, err := conn.PublishPosts(t.Context(), []post.Post{p}); err != nil {
		t.Fatal(err)
	}
	waitAcked(t, conn)
	stop()

	runCurator(t, conn, func(*Curator) {}) // as after a restart: nothing remembered
	p.Text, p.EditedAt = "second thoughts", time.Now()
	if _, err := conn.PublishPosts(t.Context(), []post.Post{p}); err != nil {
		t.Fatal(err)
	}
	got := allEvents(t, conn)
	edits := map[string]string{}
	for _, e := range got {
		if e.SourceEdit {
			edits[e.Stream] = e.Post.Text
		}
	}
	if len(got) != 4 || edits["wall"] != "second thoughts" || edits["vip"] != "second thoughts" {
		t.Fatalf("events %s, edits %v: want a decision and an edit in each stream", summary(got), edits)
	}
}
