package curation

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

var testStreams = []config.Stream{
	{ID: "wall", Sources: []string{"hook"}, Moderation: config.ModerationAuto, BlockedWords: []string{"idiot"}},
	{ID: "vip", Sources: []string{"hook", "other"}, Moderation: config.ModerationManual},
}

// collect reads events until want have arrived or the deadline passes.
func collect(t *testing.T, conn *bus.Conn, want int) []bus.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var got []bus.Event
	_ = conn.TailEvents(ctx, 1, 100, nil, func(b bus.Batch) error {
		got = append(got, b.Events...)
		if len(got) >= want {
			cancel()
		}
		return nil
	})
	return got
}

func startCurator(t *testing.T, conn *bus.Conn) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	streams := NewStreams(NewLists())
	for _, s := range testStreams {
		if err := streams.Put(s); err != nil {
			t.Fatal(err)
		}
	}
	c := NewCurator(conn, streams, nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func summary(events []bus.Event) string {
	var out []string
	for _, e := range events {
		out = append(out, e.Stream+"/"+e.PostID+"="+string(e.Kind))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestCuratorDecides(t *testing.T) {
	conn := bustest.Open(t)
	startCurator(t, conn)
	posts := []post.Post{
		{ID: "webhook:1", Network: "webhook", Source: "hook", Text: "hello"},
		{ID: "webhook:2", Network: "webhook", Source: "hook", Text: "you IDIOT"},
		{ID: "webhook:3", Network: "webhook", Source: "other", Text: "vip only"},
		{ID: "webhook:4", Network: "webhook", Source: "nobody", Text: "feeds no stream"},
	}
	if _, err := conn.PublishPosts(t.Context(), posts); err != nil {
		t.Fatal(err)
	}
	// Garbage on the ingest stream is dropped, not fatal.
	if err := conn.NC.Publish(bus.IngestSubject("webhook"), []byte("{garbage")); err != nil {
		t.Fatal(err)
	}
	got := collect(t, conn, 5)
	want := "vip/webhook:1=hold vip/webhook:2=hold vip/webhook:3=hold wall/webhook:1=approve wall/webhook:2=reject"
	if summary(got) != want {
		t.Fatalf("events\n got %s\nwant %s", summary(got), want)
	}
	for _, e := range got {
		if e.Post == nil || e.Actor != bus.ActorCuration || e.Reason == "" {
			t.Fatalf("incomplete event %+v", e)
		}
		if e.Kind == bus.EventReject && e.Reason != `blocked word "idiot" in text` {
			t.Fatalf("reason %q", e.Reason)
		}
	}
}

// A crash between storing events and acknowledging the ingest message makes
// JetStream deliver the posts again; a post fetched again later (past the
// ingest dedupe) is offered again. Neither may produce a second decision.
func TestCuratorIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	conn := bustest.OpenAt(t, dir)
	stop := startCurator(t, conn)
	p := post.Post{ID: "webhook:1", Network: "webhook", Source: "hook", Text: "hello"}
	if _, err := conn.PublishPosts(t.Context(), []post.Post{p}); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, conn, 2); len(got) != 2 {
		t.Fatalf("%d events", len(got))
	}
	stop()
	if err := conn.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn = bustest.OpenAt(t, dir) // as after a process restart

	// Replay the same post without a message id, as a re-fetch after the
	// dedupe window would, and run a fresh curator.
	raw := []byte(`{"id":"webhook:1","network":"webhook","source":"hook","text":"hello"}`)
	if _, err := conn.JS.Publish(t.Context(), bus.IngestSubject("webhook"), raw); err != nil {
		t.Fatal(err)
	}
	// Simulate the crash: the decision event was stored but the seen mark
	// was not (the curator died in between), so only the events' message-id
	// dedupe protects us.
	if err := conn.Seen.Delete(t.Context(), SeenKey("wall", "webhook:1")); err != nil {
		t.Fatal(err)
	}
	startCurator(t, conn)
	if _, err := conn.PublishPosts(t.Context(), []post.Post{{ID: "webhook:2", Network: "webhook", Source: "hook", Text: "next"}}); err != nil {
		t.Fatal(err)
	}
	got := collect(t, conn, 4)
	want := "vip/webhook:1=hold vip/webhook:2=hold wall/webhook:1=approve wall/webhook:2=approve"
	if summary(got) != want {
		t.Fatalf("events\n got %s\nwant %s", summary(got), want)
	}
}

func TestCuratorTakedowns(t *testing.T) {
	conn := bustest.Open(t)
	startCurator(t, conn)
	now := time.Now()
	posts := []post.Post{
		{ID: "webhook:1", Network: "webhook", Source: "hook", Text: "shown, then deleted"},
		post.Takedown("webhook", "webhook:1", "hook", now),
		post.Takedown("webhook", "webhook:2", "hook", now), // deleted before it arrived
		{ID: "webhook:2", Network: "webhook", Source: "hook", Text: "arrives after its takedown"},
		{ID: "webhook:3", Network: "webhook", Source: "hook", Text: "marker"},
	}
	for _, p := range posts { // one publish each, so they may land in separate batches
		if _, err := conn.PublishPosts(t.Context(), []post.Post{p}); err != nil {
			t.Fatal(err)
		}
	}
	got := allEvents(t, conn)
	// The takedown of webhook:1 is read by every partition: the post's own
	// reads it after the post (decided, then removed); another may handle
	// it first, and then the post is never decided. Either way it is not
	// on screens, and webhook:2 is never decided. Every stream the source
	// feeds records each takedown (a decision may be older than curation
	// remembers), whether or not it had the post.
	shown := "vip/webhook:1=hold vip/webhook:1=remove vip/webhook:2=remove vip/webhook:3=hold " +
		"wall/webhook:1=approve wall/webhook:1=remove wall/webhook:2=remove wall/webhook:3=approve"
	overtaken := "vip/webhook:1=remove vip/webhook:2=remove vip/webhook:3=hold wall/webhook:1=remove wall/webhook:2=remove wall/webhook:3=approve"
	if summary(got) != shown && summary(got) != overtaken {
		t.Fatalf("events\n got %s\nwant %s\n  or %s", summary(got), shown, overtaken)
	}
	for _, e := range got {
		if e.Kind == bus.EventRemove && (e.Reason != "deleted at its source" || e.Actor != "source:hook") {
			t.Fatalf("takedown event %+v", e)
		}
	}
}

// A busy stream is decided in large batches on every core. Everything in
// one batch keeps the order it came in where order matters: a takedown
// removes its post decided earlier in the batch, a copy after its takedown
// is never decided, an author's posts meet the rate cap in the order they
// were posted, and every pair is decided exactly once.
func TestCuratorBatchKeepsOrder(t *testing.T) {
	conn := bustest.Open(t)
	now := time.Now()
	var posts []post.Post
	want := map[string]string{}    // stream/post -> kinds in order, "," joined
	overtaken := map[string]bool{} // may also have only its takedown
	decide := func(p post.Post, wall string) {
		posts = append(posts, p)
		if wall != "" {
			want["wall/"+p.ID] = wall
		}
		want["vip/"+p.ID] = "hold"
	}
	for i := range 600 {
		p := post.Post{ID: fmt.Sprintf("webhook:%d", i), Network: "webhook", Source: "hook",
			Text: fmt.Sprintf("post number %d from a fan", i), Author: post.Author{Handle: fmt.Sprintf("fan%d", i)}}
		decide(p, "approve")
		if i%100 == 50 {
			// Deleted right after it was posted: decided then removed, or
			// (its takedown handled first by another partition) never
			// decided, only removed.
			posts = append(posts, post.Takedown("webhook", p.ID, "hook", now))
			want["wall/"+p.ID] += ",remove"
			want["vip/"+p.ID] += ",remove"
			overtaken["wall/"+p.ID], overtaken["vip/"+p.ID] = true, true
		}
		if i%100 == 70 {
			// Deleted before it arrives: never decided (the takedown is
			// recorded).
			id := fmt.Sprintf("webhook:late-%d", i)
			want["wall/"+id], want["vip/"+id] = "remove", "remove"
			posts = append(posts, post.Takedown("webhook", id, "hook", now))
			posts = append(posts, post.Post{ID: id, Network: "webhook", Source: "hook", Text: "arrives after its takedown"})
		}
		if i%100 == 90 {
			posts = append(posts, p) // fetched twice in one batch: decided once
		}
		if i%60 == 0 {
			// A busy author: past six posts a minute the spam filter holds.
			n := i / 60
			kind := "approve"
			if n >= 6 {
				kind = "hold"
			}
			decide(post.Post{ID: fmt.Sprintf("webhook:busy-%d", n), Network: "webhook", Source: "hook",
				Text: fmt.Sprintf("busy author says %d different things", n), Author: post.Author{Handle: "busy"}}, kind)
		}
	}
	if _, err := conn.PublishPosts(t.Context(), posts); err != nil {
		t.Fatal(err)
	}
	startCurator(t, conn)
	got := kindsByPost(t, conn)
	for key, kinds := range want {
		if got[key] != kinds && (got[key] != "remove" || !overtaken[key]) {
			t.Errorf("%s: events %q, want %q", key, got[key], kinds)
		}
	}
	for key, kinds := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("%s: unexpected events %q", key, kinds)
		}
	}
}

// kindsByPost lists the kinds of every event, by "stream/post", in order
// ("approve,pin").
func kindsByPost(t *testing.T, conn *bus.Conn) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, e := range allEvents(t, conn) {
		key := e.Stream + "/" + e.PostID
		if got[key] != "" {
			got[key] += ","
		}
		got[key] += string(e.Kind)
	}
	return got
}

// allEvents waits until curation has acknowledged every ingest message and
// returns every event on the stream.
func allEvents(t *testing.T, conn *bus.Conn) []bus.Event {
	t.Helper()
	waitAcked(t, conn)
	last, err := conn.LastEventSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, conn, int(last))
	if len(got) != int(last) {
		t.Fatalf("read %d events of %d", len(got), last)
	}
	return got
}

// waitAcked waits until curation has acknowledged every ingest message.
func waitAcked(t *testing.T, conn *bus.Conn) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if curated(t.Context(), conn) {
			return
		}
		select {
		case <-t.Context().Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("curation did not acknowledge every ingest message")
}

// curated says whether every curation consumer exists (those of
// CHORUS_INGEST from before partition streams: none) and has acknowledged
// everything.
func curated(ctx context.Context, conn *bus.Conn) bool {
	for _, c := range Consumers() {
		_, err := conn.JS.Consumer(ctx, c.Stream, c.Name)
		if c.Name == LegacyRouter {
			continue
		}
		if legacy := c.Stream == bus.IngestStream && c.Name != Durable; legacy != (err != nil) {
			return false
		}
	}
	n, err := Behind(ctx, conn.JS)
	return err == nil && n == 0
}
