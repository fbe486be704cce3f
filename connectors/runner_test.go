package connectors_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// script is a source that plays a list of reads, then blocks.
type script struct {
	mu       sync.Mutex
	connects int
	failFor  int // connects that fail first
	reads    []func() ([]post.Post, error)
	acks     []error
}

func (s *script) Connect(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connects++
	if s.connects <= s.failFor {
		return errors.New("connect refused")
	}
	return nil
}

func (s *script) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	s.mu.Lock()
	if len(s.reads) == 0 {
		s.mu.Unlock()
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	next := s.reads[0]
	s.reads = s.reads[1:]
	s.mu.Unlock()
	posts, err := next()
	return posts, func(_ context.Context, err error) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.acks = append(s.acks, err)
		return nil
	}, err
}

func (s *script) Close(context.Context) error { return nil }

func (s *script) state() (int, []error, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connects, append([]error(nil), s.acks...), len(s.reads)
}

func TestRunner(t *testing.T) {
	conn := bustest.Open(t)
	p := func(id string) post.Post {
		return post.Post{ID: "webhook:" + id, Network: "webhook", Text: id, Source: "s"}
	}
	src := &script{failFor: 1, reads: []func() ([]post.Post, error){
		func() ([]post.Post, error) { return []post.Post{p("1"), p("2")}, nil },
		func() ([]post.Post, error) { return nil, errors.New("network hiccup") },
		func() ([]post.Post, error) { return []post.Post{p("2"), p("3")}, nil }, // 2 again: deduped
	}}
	reg := prometheus.NewRegistry()
	r := connectors.NewRunner(map[string]connectors.Source{"s": src}, conn, slog.New(slog.DiscardHandler), reg)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()

	deadline := time.Now().Add(15 * time.Second)
	for {
		connects, acks, left := src.state()
		if left == 0 && len(acks) == 2 {
			if connects != 2 {
				t.Fatalf("connects = %d, want a retry after the first failure", connects)
			}
			if acks[0] != nil || acks[1] != nil {
				t.Fatalf("acks = %v", acks)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("runner stalled: connects %d acks %v left %d", connects, acks, left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := r.Statuses()
	if len(st) != 1 || !st[0].Running || st[0].PostsFetch != 4 || st[0].LastFetch.IsZero() {
		t.Fatalf("status %+v", st)
	}
	want := strings.NewReader(`
# HELP chorus_posts_ingested_total Posts stored on the ingest stream, by source (duplicates excluded).
# TYPE chorus_posts_ingested_total counter
chorus_posts_ingested_total{source="s"} 3
`)
	if err := testutil.GatherAndCompare(reg, want, "chorus_posts_ingested_total"); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if st := r.Statuses(); st[0].Running {
		t.Fatal("still running after stop")
	}
}

func TestBackoff(t *testing.T) {
	for attempt, bounds := range map[int][2]time.Duration{
		0:  {250 * time.Millisecond, 500 * time.Millisecond},
		3:  {2 * time.Second, 4 * time.Second},
		30: {30 * time.Second, time.Minute},
	} {
		for range 100 {
			if d := connectors.Backoff(attempt); d < bounds[0] || d > bounds[1] {
				t.Fatalf("Backoff(%d) = %s, want within %v", attempt, d, bounds)
			}
		}
	}
}
