// Package sourcetest runs connectors against a real embedded bus in tests:
// in-memory cursors for unit tests, and a harness that drives a source with
// the real runner and reads back what reached the ingest stream.
package sourcetest

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// Cursors is an in-memory connectors.Cursors.
type Cursors struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Get returns the stored value or nil.
func (c *Cursors) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.m[key]...), nil
}

// Put stores value.
func (c *Cursors) Put(_ context.Context, key string, value []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[key] = append([]byte(nil), value...)
	return nil
}

// Testdata returns the file name in the testdata folder of the package
// under test, failing the test when it cannot be read.
func Testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Spec parses one source's YAML (a mapping with id, type and settings) into
// the config.Source a factory takes, failing the test on a config error.
func Spec(t testing.TB, yaml string) config.Source {
	t.Helper()
	cfg, err := config.Parse([]byte("sources:\n  - " + indent(yaml)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Sources[0]
}

func indent(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' && i+1 < len(s) {
			out = append(out, "    "...)
		}
	}
	return string(out)
}

// Deps returns dependencies for a source under test, with cursors.
func Deps(t testing.TB, cursors connectors.Cursors) connectors.Deps {
	t.Helper()
	return connectors.Deps{
		Cursors:   cursors,
		Logger:    slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now:       time.Now,
		Skipped:   prometheus.NewCounter(prometheus.CounterOpts{Name: "skipped"}),
		UserAgent: connectors.DefaultUserAgent,
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// Run drives src with the real runner, publishing to conn, until stop
// returns true for the posts stored so far or the deadline passes; then it
// stops the source and returns what the ingest stream holds.
func Run(t testing.TB, conn *bus.Conn, id string, src connectors.Source, limit time.Duration, stop func([]post.Post) bool) []post.Post {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := connectors.NewRunner(map[string]connectors.Source{id: src}, conn, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var got []post.Post
	for {
		got = Ingested(t, conn)
		if stop(got) || time.Now().After(deadline) {
			break
		}
		<-tick.C
	}
	cancel()
	<-done
	return Ingested(t, conn)
}

// Ingested returns every post stored on the ingest streams, in the order
// they were published (a takedown, stored on every partition, once).
func Ingested(t testing.TB, conn *bus.Conn) []post.Post {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type stored struct {
		at time.Time
		p  post.Post
	}
	var all []stored
	ids := map[string]bool{}
	for _, name := range bus.IngestStreams() {
		err := conn.Scan(ctx, name, "", func(m bus.Stored) error {
			if id := m.Header.Get(jetstream.MsgIDHeader); id != "" {
				if ids[id] {
					return nil
				}
				ids[id] = true
			}
			var p post.Post
			if err := json.Unmarshal(m.Data, &p); err != nil {
				t.Fatalf("ingest message %s/%d: %v", name, m.Seq, err)
			}
			all = append(all, stored{bus.PublishedAt(m.Header, m.Time), p})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.SortStableFunc(all, func(a, b stored) int { return a.at.Compare(b.at) })
	out := make([]post.Post, len(all))
	for i, s := range all {
		out[i] = s.p
	}
	return out
}

// IDs lists the posts' ids (takedowns get a "deleted:" prefix, later
// versions of a post an "edited:" prefix).
func IDs(posts []post.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = p.ID
		switch {
		case p.Deleted:
			out[i] = "deleted:" + p.ID
		case p.IsEdit():
			out[i] = "edited:" + p.ID
		}
	}
	return out
}

// Unique fails the test when a post id appears twice.
func Unique(t testing.TB, posts []post.Post) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range IDs(posts) {
		if seen[id] {
			t.Fatalf("post %s stored twice", id)
		}
		seen[id] = true
	}
}

// WantError fails the test unless err is set and its message holds each
// of want: the check of a settings table's error cases, whose messages
// name the keys at fault.
func WantError(t testing.TB, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}
