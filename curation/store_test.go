package curation

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/config"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestStore returns a store on conn's config bucket and its log.
func newTestStore(conn *bus.Conn) (*Store, *syncBuffer) {
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return NewStore(conn.Config, NewStreams(NewLists()), []string{"hook", "other"}, log), logs
}

// declared returns the file's stream as config.Parse gives it: defaults
// applied.
func declared(t *testing.T, st config.Stream) config.Stream {
	t.Helper()
	if err := config.ValidateStream(&st, []string{"hook", "other"}); err != nil {
		t.Fatal(err)
	}
	return st
}

func stored(t *testing.T, s *Store, id string) (config.Stream, bool) {
	t.Helper()
	entry, err := s.kv.Get(t.Context(), streamPrefix+id)
	if err != nil {
		return config.Stream{}, false
	}
	var st config.Stream
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		t.Fatal(err)
	}
	return st, true
}

func hasLine(logs, level string, words ...string) bool {
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level="+level) && !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(line, w) }) {
			return true
		}
	}
	return false
}

func TestSeedConflictWarnsNamingTheKey(t *testing.T) {
	conn := bustest.Open(t)
	store, logs := newTestStore(conn)
	ctx := t.Context()
	file := declared(t, config.Stream{ID: "wall", Sources: []string{"hook"}, Filters: config.Filters{Sensitive: "hold"}})
	if err := store.Seed(ctx, []config.Stream{file}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(ctx, "wall", func(s *config.Stream) error { s.Filters.Sensitive = "allow"; return nil }); err != nil {
		t.Fatal(err)
	}
	file.Filters.Sensitive = "reject"
	if err := store.Seed(ctx, []config.Stream{file}); err != nil {
		t.Fatal(err)
	}
	if st, _ := stored(t, store, "wall"); st.Filters.Sensitive != "reject" {
		t.Errorf("sensitive %q, want the file's", st.Filters.Sensitive)
	}
	if !hasLine(logs.String(), "WARN", "stream=wall", "key=filters.sensitive", `file="\"reject\""`, `api="\"allow\""`) {
		t.Errorf("no warning names the key and both values:\n%s", logs)
	}
}

func TestSeedRefusesAMergeThatDoesNotValidate(t *testing.T) {
	conn := bustest.Open(t)
	store, _ := newTestStore(conn)
	ctx := t.Context()
	file := declared(t, config.Stream{ID: "wall", Sources: []string{"hook"}, Filters: config.Filters{AllowedWords: []string{"chorus"}}})
	if err := store.Seed(ctx, []config.Stream{file}); err != nil {
		t.Fatal(err)
	}
	// The API removes the only allowed word; the file then turns the
	// allow list on: together they would reject every post.
	if _, err := store.Update(ctx, "wall", func(s *config.Stream) error { s.Filters.AllowedWords = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	file.Filters.AllowListOnly = true
	err := store.Seed(ctx, []config.Stream{file})
	if err == nil || !strings.Contains(err.Error(), "stream wall") || !strings.Contains(err.Error(), "filters.allow_list_only") {
		t.Fatalf("err = %v, want one naming the stream and the key", err)
	}
	if st, _ := stored(t, store, "wall"); st.Filters.AllowListOnly {
		t.Error("a refused merge changed the stream")
	}
}

func TestSeedRecreatesAStreamDeletedThroughTheAPI(t *testing.T) {
	conn := bustest.Open(t)
	store, logs := newTestStore(conn)
	ctx := t.Context()
	file := declared(t, config.Stream{ID: "wall", Sources: []string{"hook"}})
	if err := store.Seed(ctx, []config.Stream{file}); err != nil {
		t.Fatal(err)
	}
	if err := store.streams.Put(file); err != nil { // as Watch would
		t.Fatal(err)
	}
	if err := store.Delete(ctx, "wall"); err != nil {
		t.Fatal(err)
	}
	if err := store.Seed(ctx, []config.Stream{file}); err != nil {
		t.Fatal(err)
	}
	if _, ok := stored(t, store, "wall"); !ok {
		t.Fatal("not recreated")
	}
	if !hasLine(logs.String(), "WARN", "stream=wall", "deleted through the API") {
		t.Errorf("no warning:\n%s", logs)
	}
}

func TestSeedOfAnOlderVersionKeepsTheBan(t *testing.T) {
	conn := bustest.Open(t)
	store, logs := newTestStore(conn)
	ctx := t.Context()
	// What an older version left: the stream with a ban made through the
	// API, and only a hash of the file's declaration.
	old := declared(t, config.Stream{ID: "wall", Title: "Wall", Sources: []string{"hook"}, BlockedWords: []string{"idiot"}})
	raw, _ := json.Marshal(old)
	sum := sha256.Sum256(raw)
	live := old
	live.Filters.BlockedAuthors = []string{"webhook:troll42"}
	liveRaw, _ := json.Marshal(live)
	if _, err := store.kv.Put(ctx, streamPrefix+"wall", liveRaw); err != nil {
		t.Fatal(err)
	}
	if _, err := store.kv.Put(ctx, seedPrefix+"wall", []byte(hex.EncodeToString(sum[:]))); err != nil {
		t.Fatal(err)
	}
	// Unchanged file: nothing changes, and the full declaration is stored now.
	if err := store.Seed(ctx, []config.Stream{old}); err != nil {
		t.Fatal(err)
	}
	if st, _ := stored(t, store, "wall"); !slices.Equal(st.Filters.BlockedAuthors, []string{"webhook:troll42"}) {
		t.Fatalf("unchanged file: %+v", st.Filters)
	}
	if hasLine(logs.String(), "WARN") {
		t.Errorf("an unchanged file warned:\n%s", logs)
	}
	// Back to a hash, and a file that changed: the ban still stays.
	if _, err := store.kv.Put(ctx, seedPrefix+"wall", []byte(hex.EncodeToString(sum[:]))); err != nil {
		t.Fatal(err)
	}
	edited := old
	edited.Title = "Main"
	edited.BlockedWords = []string{"idiot", "rubbish"}
	if err := store.Seed(ctx, []config.Stream{edited}); err != nil {
		t.Fatal(err)
	}
	st, _ := stored(t, store, "wall")
	if st.Title != "Main" || !slices.Equal(st.BlockedWords, []string{"idiot", "rubbish"}) || !slices.Equal(st.Filters.BlockedAuthors, []string{"webhook:troll42"}) {
		t.Fatalf("changed file: %+v", st)
	}
	if !hasLine(logs.String(), "WARN", "stream=wall", "only its hash") {
		t.Errorf("no warning about the missing declaration:\n%s", logs)
	}
}

func TestEnsureChangesNothingThatExists(t *testing.T) {
	conn := bustest.Open(t)
	store, logs := newTestStore(conn)
	ctx := t.Context()
	wall := declared(t, config.Stream{ID: "wall", Sources: []string{"hook"}})
	if err := store.Seed(ctx, []config.Stream{wall}); err != nil {
		t.Fatal(err)
	}
	demo := declared(t, config.Stream{ID: "demo", Sources: []string{"other"}})
	changedWall := wall
	changedWall.Title = "not from a file"
	if err := store.Ensure(ctx, []config.Stream{demo, changedWall}); err != nil {
		t.Fatal(err)
	}
	if st, ok := stored(t, store, "wall"); !ok || st.Title != "wall" {
		t.Fatalf("wall: %v %+v", ok, st)
	}
	if _, ok := stored(t, store, "demo"); !ok {
		t.Fatal("demo not created")
	}
	if !hasLine(logs.String(), "INFO", "kept as they are") || hasLine(logs.String(), "WARN") {
		t.Errorf("logs:\n%s", logs)
	}
}

// The watch delivers every change, including this node's own, a moment
// after Update has already applied it; a late, older entry must not undo a
// newer one (a settings read right after a write showed the old title).
func TestLateWatchEntryDoesNotUndoANewerChange(t *testing.T) {
	conn := bustest.Open(t)
	s, _ := newTestStore(conn)
	ctx := t.Context()
	if err := s.create(ctx, declared(t, config.Stream{ID: "wall", Title: "First", Sources: []string{"hook"}})); err != nil {
		t.Fatal(err)
	}
	first, err := s.kv.Get(ctx, streamPrefix+"wall")
	if err != nil {
		t.Fatal(err)
	}
	s.apply(first)
	if _, err := s.Update(ctx, "wall", func(st *config.Stream) error { st.Title = "Second"; return nil }); err != nil {
		t.Fatal(err)
	}
	s.apply(first) // the watch catching up with an older revision
	if st, _ := s.streams.Get("wall"); st.Title != "Second" {
		t.Fatalf("title %q after a late watch entry, want Second", st.Title)
	}
	if err := s.Delete(ctx, "wall"); err != nil {
		t.Fatal(err)
	}
	s.apply(first)
	if _, ok := s.streams.Get("wall"); ok {
		t.Fatal("a late watch entry brought a deleted stream back")
	}
}
