package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/privacy"
)

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startClocked starts Chorus like startApp, its sweeps on clock.
func startClocked(t *testing.T, dir, yaml string, clock *testClock) *testApp {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chorus.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	app, err := NewApp(cfg, sourceTypes(), slog.New(slog.NewTextHandler(&logBuffer{t: t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	app.now = clock.Now
	if err := app.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ta := &testApp{App: app, base: "http://" + app.Addr(), dir: dir}
	t.Cleanup(func() { ta.stop(t) })
	waitStatus(t, ta.base+"/readyz", http.StatusOK)
	return ta
}

// TestRetentionPurgesOnSchedule: with the sweep's clock moved on, held
// posts go after 7 days, rejected after 14, approved after the stream's
// retention (here nats.retention, 30 days): each from the index, the
// screens and the events stream, and from the ingest stream once no
// stream keeps it; the metrics and `chorus retention` say so.
func TestRetentionPurgesOnSchedule(t *testing.T) {
	clock := &testClock{now: time.Now()}
	app := startClocked(t, t.TempDir(), testConfig+"privacy: {sweep_interval: 1s}\nlimits: {admin: {per_second: 1000}}\n", clock)
	wall := app.dial(t, "wall", "")
	next(t, wall)
	// webhook:1 is approved on the wall and held in mod; webhook:2 is
	// rejected on the wall (a blocked word) and held in mod.
	if code, _ := app.push(t, `[{"id":"1","text":"lovely day","author":{"handle":"ana"}},{"id":"2","text":"what an idiot","author":{"handle":"bob"}}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:1")
	has := func(path, id string) bool { return strings.Contains(mustBody(t, app, path), `"id":"`+id+`"`) }
	waitFor(t, "both posts indexed", func() bool {
		return has("/api/v1/streams/mod/queue", "webhook:2") && has("/api/v1/streams/wall/search?status=rejected", "webhook:2")
	})
	stored := func(author string) bool {
		var ex privacy.Export
		if err := json.Unmarshal([]byte(mustBody(t, app, "/api/v1/authors/webhook:"+author+"/export")), &ex); err != nil {
			t.Fatal(err)
		}
		return len(ex.Posts) == 1 && ex.Posts[0].Stored
	}
	if !stored("ana") || !stored("bob") {
		t.Fatal("the posts are not on the ingest stream to begin with")
	}

	clock.Add(8 * 24 * time.Hour)
	waitFor(t, "held posts purged from mod", func() bool {
		return !has("/api/v1/streams/mod/search", "webhook:1") && !has("/api/v1/streams/mod/search", "webhook:2")
	})
	if !has("/api/v1/streams/wall/search?status=rejected", "webhook:2") || !stored("bob") {
		t.Fatal("the rejected post went with the held ones")
	}
	if audit := mustBody(t, app, "/api/v1/streams/mod/audit"); !strings.Contains(audit, `"event":"purge"`) ||
		strings.Contains(audit, `"event":"hold"`) {
		t.Fatalf("mod's audit keeps the held posts' events or lacks the purge: %s", audit)
	}

	clock.Add(7 * 24 * time.Hour)
	// The sweep erases the ingest copy once the index dropped the post:
	// wait for both.
	waitFor(t, "the rejected post purged from the index and the ingest stream", func() bool {
		return !has("/api/v1/streams/wall/search", "webhook:2") && !stored("bob")
	})
	if !stored("ana") {
		t.Error("the approved post left the ingest stream too soon")
	}

	clock.Add(16 * 24 * time.Hour)
	if m := next(t, wall); m.Type != "snapshot" || len(m.Posts) != 0 {
		t.Fatalf("the wall after 31 days: %+v", m)
	}
	waitFor(t, "the approved post purged", func() bool { return !has("/api/v1/streams/wall/search", "webhook:1") && !stored("ana") })

	metrics := mustBody(t, app, "/metrics")
	for _, want := range []string{`chorus_retention_purged_total{status="held",stream="mod"} 2`,
		`chorus_retention_purged_total{status="rejected",stream="wall"} 1`, `chorus_retention_purged_total{status="approved",stream="wall"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	var out strings.Builder
	if code := run(t.Context(), []string{"retention", "--server", app.base, "--token", testToken}, &out, &out); code != 0 ||
		!strings.Contains(out.String(), "wall    rejected  336h0m0s") || !strings.Contains(out.String(), "sweeps every 1s") {
		t.Errorf("chorus retention: %d\n%s", code, out.String())
	}
}
