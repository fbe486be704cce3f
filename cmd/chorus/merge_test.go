package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/config"
)

// mergeConfig declares a stream with a rule of its own, so edits of the
// file and changes through the API meet on every kind of setting.
const mergeConfig = `
server: {addr: "127.0.0.1:0"}
admin_token: ` + testToken + `
sources:
  - {id: hook, type: webhook, secret: ` + testSecret + `}
streams:
  - id: wall
    title: Test wall
    sources: [hook]
    blocked_words: [idiot]
    rules:
      - {name: no links, when: {has_links: true}, action: hold}
  - id: side
    sources: [hook]
`

// logBuffer keeps what a test app logs, for assertions, and passes it on
// to t.Log.
type logBuffer struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the logged lines at level (e.g. "WARN") that contain every
// one of words.
func (l *logBuffer) lines(level string, words ...string) []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if !strings.Contains(line, "level="+level) {
			continue
		}
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(line, w) }) {
			out = append(out, line)
		}
	}
	return out
}

// startFromFile writes yaml to a config file and starts Chorus the way
// `chorus serve --config FILE` does, logging at info into the returned buffer.
func startFromFile(t *testing.T, dir, yaml string) (*testApp, *logBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chorus.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return startLogged(t, dir, cfg)
}

// startWithoutConfig starts Chorus the way `chorus serve` without --config
// does: the demo source and stream, nothing else declared.
func startWithoutConfig(t *testing.T, dir string) (*testApp, *logBuffer) {
	t.Helper()
	t.Setenv("CHORUS_ADMIN_TOKEN", testToken)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.SetAddr("127.0.0.1:0")
	addDemo(cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return startLogged(t, dir, cfg)
}

func startLogged(t *testing.T, dir string, cfg *config.Config) (*testApp, *logBuffer) {
	t.Helper()
	cfg.DataDir = dir
	logs := &logBuffer{t: t}
	app, err := NewApp(cfg, sourceTypes(), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	app.enricher = sharedEnricher(t)
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ta := &testApp{App: app, base: "http://" + app.Addr(), dir: dir}
	t.Cleanup(func() { ta.stop(t) })
	waitStatus(t, ta.base+"/readyz", http.StatusOK)
	return ta, logs
}

// settingsOf reads a stream's whole settings through the API.
func settingsOf(t *testing.T, a *testApp, stream string) config.Stream {
	t.Helper()
	code, body := a.admin(t, http.MethodGet, "/api/v1/streams/"+stream+"/settings")
	if code != http.StatusOK {
		t.Fatalf("settings of %s: %d %s", stream, code, body)
	}
	var s config.Stream
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func ruleNames(s config.Stream) []string {
	var names []string
	for _, r := range s.Rules {
		names = append(names, r.Name)
	}
	return names
}

// moderate makes the changes a moderator makes during an event, all
// through the API: a ban, a blocked hashtag, a stricter sensitive filter
// and a rule added live.
func moderate(t *testing.T, app *testApp) {
	t.Helper()
	for _, call := range []struct{ method, path, body string }{
		{http.MethodPut, "/api/v1/streams/wall/filters", `{"filters":{"blocked_hashtags":["spoiler"],"sensitive":"reject"}}`},
		{http.MethodPost, "/api/v1/streams/wall/authors/webhook:troll42/ban", `{"reason":"abuse"}`},
		{http.MethodPut, "/api/v1/streams/wall/rules", `{"rules":[{"name":"no links","when":{"has_links":true},"action":"hold"},
			{"name":"vip","when":{"authors":["webhook:ceo"]},"action":"pin"}]}`},
	} {
		if code, body := app.adminJSON(t, call.method, call.path, call.body); code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", call.method, call.path, code, body)
		}
	}
}

// checkModerated fails unless every change moderate made is in force.
func checkModerated(t *testing.T, s config.Stream) {
	t.Helper()
	if !slices.Contains(s.Filters.BlockedAuthors, "webhook:troll42") {
		t.Errorf("the ban is gone: blocked_authors %v", s.Filters.BlockedAuthors)
	}
	if !slices.Contains(s.Filters.BlockedHashtags, "spoiler") || s.Filters.Sensitive != "reject" {
		t.Errorf("filters changed through the API are gone: %+v", s.Filters)
	}
	if names := ruleNames(s); !slices.Contains(names, "vip") || !slices.Contains(names, "no links") {
		t.Errorf("rules: %v, want the file's and the one added live", names)
	}
}

// checkTrollRejected pushes a post by the banned author and one by someone
// else, and fails unless only the second reaches the wall.
func checkTrollRejected(t *testing.T, app *testApp, id string) {
	t.Helper()
	wall := app.dial(t, "wall", "")
	next(t, wall)
	if code, _ := app.push(t, `[{"id":"troll-`+id+`","text":"back again","author":{"handle":"troll42"}},
		{"id":"fan-`+id+`","text":"great show"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:fan-"+id)
	waitFor(t, "the banned author's post rejected", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/search?status=rejected&q=author_key:webhook\\:troll42"), "webhook:troll-"+id)
	})
}

func TestConfigEditKeepsModeratorChanges(t *testing.T) {
	dir := t.TempDir()
	app, _ := startFromFile(t, dir, mergeConfig)
	moderate(t, app)
	// A hidden author is an event, not a setting: it stays hidden too.
	if code, _ := app.push(t, `{"id":"ana-1","text":"hello","author":{"handle":"ana"}}`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	waitFor(t, "ana's post on the wall", func() bool { return slices.Contains(snapshotIDs(t, app, "wall"), "webhook:ana-1") })
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/authors/webhook:ana/hide", ""); code != http.StatusOK {
		t.Fatalf("hide: %d %s", code, body)
	}
	app.stop(t)

	// Edit only the title: every change made through the API stays.
	retitled := strings.Replace(mergeConfig, "title: Test wall", "title: Main stage wall", 1)
	app, _ = startFromFile(t, dir, retitled)
	s := settingsOf(t, app, "wall")
	if s.Title != "Main stage wall" {
		t.Errorf("title %q: the file's edit was not applied", s.Title)
	}
	checkModerated(t, s)
	checkTrollRejected(t, app, "1")
	if ids := snapshotIDs(t, app, "wall"); slices.Contains(ids, "webhook:ana-1") {
		t.Errorf("the hidden author is back on the wall: %v", ids)
	}
	app.stop(t)

	// Add a blocked word in the file: it applies, and the ban still holds.
	edited := strings.Replace(retitled, "blocked_words: [idiot]", "blocked_words: [idiot, rubbish]", 1)
	app, logs := startFromFile(t, dir, edited)
	s = settingsOf(t, app, "wall")
	if !slices.Equal(s.BlockedWords, []string{"idiot", "rubbish"}) {
		t.Errorf("blocked_words %v, want the file's new word added", s.BlockedWords)
	}
	checkModerated(t, s)
	checkTrollRejected(t, app, "2")
	// The start says what it applied and what it kept.
	if len(logs.lines("INFO", "stream=wall", "blocked_words: +rubbish")) == 0 ||
		len(logs.lines("INFO", "stream=wall", "filters.blocked_authors: +webhook:troll42")) == 0 {
		t.Errorf("the start does not say what it applied and kept:\n%s", logs)
	}
}

func TestStartWithoutConfigDeletesNothing(t *testing.T) {
	dir := t.TempDir()
	app, _ := startFromFile(t, dir, mergeConfig)
	moderate(t, app)
	app.stop(t)

	// One start without --config on the same data directory.
	app, _ = startWithoutConfig(t, dir)
	for _, id := range []string{"wall", "side", "demo"} {
		if code, body := app.admin(t, http.MethodGet, "/api/v1/streams/"+id+"/settings"); code != http.StatusOK {
			t.Fatalf("stream %s after a start without --config: %d %s", id, code, body)
		}
	}
	checkModerated(t, settingsOf(t, app, "wall"))
	app.stop(t)

	// Back with the file: nothing was lost on the way.
	app, _ = startFromFile(t, dir, mergeConfig)
	checkModerated(t, settingsOf(t, app, "wall"))
	checkTrollRejected(t, app, "1")
}

func TestStreamRemovedFromFileIsLoud(t *testing.T) {
	dir := t.TempDir()
	app, _ := startFromFile(t, dir, mergeConfig)
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/side/authors/webhook:troll42/ban", `{"reason":"abuse"}`); code != http.StatusOK {
		t.Fatalf("ban: %d %s", code, body)
	}
	app.stop(t)

	withoutSide, _, _ := strings.Cut(mergeConfig, "  - id: side")
	app, logs := startFromFile(t, dir, withoutSide)
	if code, _ := app.admin(t, http.MethodGet, "/api/v1/streams/side/settings"); code != http.StatusNotFound {
		t.Errorf("a stream removed from the file is still there: %d", code)
	}
	if len(logs.lines("WARN", "stream=side", "filters.blocked_authors: +webhook:troll42")) == 0 {
		t.Errorf("no warning names the removed stream and the ban that goes with it:\n%s", logs)
	}
}

func TestMergeThatDoesNotFitStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	yaml := strings.Replace(mergeConfig, "blocked_words: [idiot]", "blocked_words: [idiot]\n    filters: {allowed_words: [chorus]}", 1)
	app, _ := startFromFile(t, dir, yaml)
	// The API removes the only allowed word; the file then turns the allow
	// list on: together they would reject every post.
	if code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/filters", `{"filters":{"allowed_words":null}}`); code != http.StatusOK {
		t.Fatalf("filters: %d %s", code, body)
	}
	app.stop(t)
	path := filepath.Join(t.TempDir(), "chorus.yaml")
	edited := strings.Replace(yaml, "{allowed_words: [chorus]}", "{allowed_words: [chorus], allow_list_only: true}", 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out strings.Builder
	code := run(ctx, []string{"serve", "--config", path, "--data", dir}, &out, &out)
	if code != exitUsage || !strings.Contains(out.String(), "stream wall") || !strings.Contains(out.String(), "filters.allow_list_only") {
		t.Fatalf("exit %d: %s", code, out.String())
	}
}
