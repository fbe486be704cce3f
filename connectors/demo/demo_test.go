package demo

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

// memCursors is an in-memory connectors.Cursors.
type memCursors struct {
	mu   sync.Mutex
	m    map[string][]byte
	puts int
}

func newMemCursors() *memCursors { return &memCursors{m: map[string][]byte{}} }

func (c *memCursors) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key], nil
}

func (c *memCursors) Put(_ context.Context, key string, value []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = append([]byte(nil), value...)
	c.puts++
	return nil
}

func (c *memCursors) get(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.m[key])
}

var _ connectors.Factory = New

// sourceFrom parses a config and builds its last source.
func sourceFrom(t *testing.T, yaml string, deps connectors.Deps) (*Source, error) {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	s, err := New(cfg.Sources[len(cfg.Sources)-1], deps)
	if err != nil {
		return nil, err
	}
	return s.(*Source), nil
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, s Settings)
	}{
		{
			name: "defaults",
			yaml: "sources: [{id: d, type: demo}]",
			check: func(t *testing.T, s Settings) {
				want := DefaultSettings()
				want.ID, want.Type = "d", "demo"
				if s != want {
					t.Errorf("got %+v, want %+v", s, want)
				}
			},
		},
		{
			name: "all keys",
			yaml: "sources: [{id: d, type: demo, rate: 20, burst: 0, seed: 0, spam_share: 0, offensive_share: 0.5}]",
			check: func(t *testing.T, s Settings) {
				if s.Rate != 20 || s.Burst != 0 || s.Seed != 0 || s.SpamShare != 0 || s.OffensiveShare != 0.5 {
					t.Errorf("got %+v", s)
				}
			},
		},
		{name: "unknown key", yaml: "sources: [{id: d, type: demo, speed: 3}]", wantErr: []string{"sources[0].speed", "unknown key"}},
		{name: "rate zero", yaml: "sources: [{id: d, type: demo, rate: 0}]", wantErr: []string{"sources[0].rate: must be between"}},
		{name: "rate too high", yaml: "sources: [{id: d, type: demo, rate: 1001}]", wantErr: []string{"sources[0].rate: must be between"}},
		{name: "rate not a number", yaml: "sources: [{id: d, type: demo, rate: .nan}]", wantErr: []string{"sources[0].rate: must be between"}},
		{name: "rate of wrong type", yaml: "sources: [{id: d, type: demo, rate: fast}]", wantErr: []string{"sources[0].rate"}},
		{name: "negative burst", yaml: "sources: [{id: d, type: demo, burst: -1}]", wantErr: []string{"sources[0].burst: must be between 0 and 500"}},
		{name: "burst too big", yaml: "sources: [{id: d, type: demo, burst: 501}]", wantErr: []string{"sources[0].burst"}},
		{
			name:    "shares out of range, both reported",
			yaml:    "sources: [{id: d, type: demo, spam_share: 0.6, offensive_share: -0.1}]",
			wantErr: []string{"sources[0].spam_share: must be between 0 and 0.5", "sources[0].offensive_share"},
		},
		{
			name:    "the last of two sources",
			yaml:    "sources: [{id: a, type: demo}, {id: b, type: demo, burst: 9999}]",
			wantErr: []string{"sources[1].burst"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sourceFrom(t, tt.yaml, connectors.Deps{})
			if len(tt.wantErr) > 0 {
				sourcetest.WantError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s.Settings())
		})
	}
}

// TestSourceWithoutSettings covers the source the serve command adds by
// itself, which has no YAML behind it.
func TestSourceWithoutSettings(t *testing.T) {
	s, err := New(config.NewSource("demo", "demo", "demo source"), connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.(*Source).Settings(); got.Rate != 0.5 || got.Burst != 24 || got.ID != "demo" {
		t.Errorf("settings %+v", got)
	}
}

func ids(posts []post.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = p.ID[strings.Index(p.ID, ":")+1:]
	}
	return out
}

func seqOf(t *testing.T, p post.Post) int64 {
	t.Helper()
	n, err := strconv.ParseInt(p.ID[strings.LastIndex(p.ID, "-")+1:], 10, 64)
	if err != nil {
		t.Fatalf("id %q: %v", p.ID, err)
	}
	return n
}

// checkRun checks that posts are numbered from first on, one after another.
func checkRun(t *testing.T, posts []post.Post, first int64) {
	t.Helper()
	if len(posts) == 0 {
		t.Fatal("no posts")
	}
	for i, p := range posts {
		if got := seqOf(t, p); got != first+int64(i) {
			t.Fatalf("post %d is number %d, want %d (ids %v)", i, got, first+int64(i), ids(posts))
		}
	}
}

func TestSourceReadAndAck(t *testing.T) {
	ctx := t.Context()
	cursors := newMemCursors()
	now := time.Date(2026, 6, 12, 20, 0, 0, 0, time.UTC)
	deps := connectors.Deps{Cursors: cursors, Now: func() time.Time { return now }}
	const yaml = "sources: [{id: d, type: demo, rate: 1000, burst: 30}]"
	s, err := sourceFrom(t, yaml, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })

	// A fresh start returns the burst at once, oldest first, over minutes.
	posts, ack, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 30 {
		t.Fatalf("burst of %d posts, want 30", len(posts))
	}
	checkRun(t, posts, 0)
	for i, p := range posts {
		if !p.FetchedAt.Equal(now) || p.Source != "d" {
			t.Errorf("post %d: fetched %v source %q", i, p.FetchedAt, p.Source)
		}
		if i > 0 && !p.CreatedAt.After(posts[i-1].CreatedAt.Add(-time.Minute)) {
			t.Errorf("post %d created %v, long before post %d (%v)", i, p.CreatedAt, i-1, posts[i-1].CreatedAt)
		}
	}
	if span := posts[len(posts)-1].CreatedAt.Sub(posts[0].CreatedAt); span < time.Minute {
		t.Errorf("burst spans %v, want a few minutes", span)
	}
	if got := cursors.get("demo.d"); got != "" {
		t.Fatalf("cursor %q stored before the ack", got)
	}
	if err := ack(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := cursors.get("demo.d"); got != "30" {
		t.Fatalf("cursor %q after ack, want 30", got)
	}

	// Then posts come at the rate, numbered on.
	posts, ack, err = s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, posts, 30)
	if len(posts) > maxBatch {
		t.Errorf("%d posts in one read, want at most %d", len(posts), maxBatch)
	}
	failed := posts

	// A failed publish leaves the cursor and repeats the same posts.
	if err := ack(ctx, errors.New("bus down")); err != nil {
		t.Fatal(err)
	}
	if got := cursors.get("demo.d"); got != "30" {
		t.Fatalf("cursor %q after failed ack, want 30", got)
	}
	posts, ack, err = s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, posts, 30)
	if posts[0].ID != failed[0].ID || posts[0].Text != failed[0].Text {
		t.Errorf("replayed post %q differs from %q", posts[0].ID, failed[0].ID)
	}
	if err := ack(ctx, nil); err != nil {
		t.Fatal(err)
	}
	end := 30 + int64(len(posts))
	if got := cursors.get("demo.d"); got != strconv.FormatInt(end, 10) {
		t.Fatalf("cursor %q, want %d", got, end)
	}

	// A new source on the same cursors goes on from there, without a burst.
	s2, err := sourceFrom(t, yaml, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close(context.Background()) })
	posts, _, err = s2.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, posts, end)
	if len(posts) == 30 {
		t.Errorf("restart returned a burst of %d", len(posts))
	}
}

func TestFailedBurstRepeats(t *testing.T) {
	ctx := t.Context()
	cursors := newMemCursors()
	s, err := sourceFrom(t, "sources: [{id: d, type: demo, burst: 5, rate: 0.001}]", connectors.Deps{Cursors: cursors})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	first, ack, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ack(ctx, errors.New("no")); err != nil {
		t.Fatal(err)
	}
	again, _, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids(first), ",") != strings.Join(ids(again), ",") {
		t.Errorf("after a failed ack got %v, want %v again", ids(again), ids(first))
	}
	if cursors.puts != 0 {
		t.Errorf("%d cursor writes, want none", cursors.puts)
	}
}

func TestConnectReadsCursor(t *testing.T) {
	tests := []struct {
		name   string
		stored string
		want   int64
	}{
		{name: "decimal", stored: "42", want: 42},
		{name: "json number with space", stored: " 42\n", want: 42},
		{name: "json string", stored: `"42"`, want: 42},
		{name: "json object", stored: `{"seq": 42}`, want: 42},
		{name: "garbage starts afresh", stored: "forty-two", want: 0},
		{name: "negative starts afresh", stored: "-3", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cursors := newMemCursors()
			cursors.m["demo.d"] = []byte(tt.stored)
			s, err := sourceFrom(t, "sources: [{id: d, type: demo, burst: 3, rate: 1000}]", connectors.Deps{Cursors: cursors})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Connect(t.Context()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close(context.Background()) })
			posts, _, err := s.Read(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			checkRun(t, posts, tt.want)
		})
	}
}

type brokenCursors struct{}

func (brokenCursors) Get(context.Context, string) ([]byte, error) { return nil, errors.New("kv down") }
func (brokenCursors) Put(context.Context, string, []byte) error   { return errors.New("kv down") }

func TestCursorErrors(t *testing.T) {
	s, err := sourceFrom(t, "sources: [{id: d, type: demo}]", connectors.Deps{Cursors: brokenCursors{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(t.Context()); err == nil || !strings.Contains(err.Error(), "demo.d") {
		t.Errorf("Connect error %v, want one naming the cursor demo.d", err)
	}
	_, ack, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := ack(t.Context(), nil); err == nil || !strings.Contains(err.Error(), "kv down") {
		t.Errorf("ack error %v, want the store's", err)
	}
}

func TestReadStopsWithContext(t *testing.T) {
	s, err := sourceFrom(t, "sources: [{id: d, type: demo, burst: 0, rate: 0.001}]", connectors.Deps{Cursors: newMemCursors()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Read(ctx)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Read returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return after its context ended")
	}
	// An ended context stops even a burst.
	fresh, err := sourceFrom(t, "sources: [{id: e, type: demo}]", connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fresh.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read on an ended context returned %v", err)
	}
}
