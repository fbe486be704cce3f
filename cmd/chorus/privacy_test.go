package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/privacy"
)

// filesHolding lists the files under dir that contain marker, by their
// path relative to dir.
func filesHolding(t *testing.T, dir, marker string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed while we walk
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(marker)) {
			rel, _ := filepath.Rel(dir, path)
			hits = append(hits, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// holdsIn reports whether one of files is under the folder sub.
func holdsIn(files []string, sub string) bool {
	return slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(f, sub+string(filepath.Separator)) })
}

// TestErasureLeavesNoTrace: an author's posts leave connected screens at
// once, and after the erasure none of their text is anywhere in the data
// directory (the raw JetStream and Bleve files are searched for a marker
// only their posts carried), their new posts are refused without being
// stored, and the audit says an erasure happened without saying who.
func TestErasureLeavesNoTrace(t *testing.T) {
	const (
		marker  = "zqxmarker7731"
		later   = "zqxlater5519"
		handle  = "evezq9"
		renamed = "evezq9new"
	)
	dir := t.TempDir()
	app := startApp(t, dir, testConfig+"limits: {admin: {per_second: 1000}}\n")
	wall := app.dial(t, "wall", "")
	next(t, wall)
	// Eve posts under two handles (she renamed herself; her account id
	// stays), Ana beside her.
	code, body := app.push(t, `[
		{"id":"1","text":"first `+marker+` from eve","author":{"id":"u-eve","handle":"`+handle+`","name":"Eve `+marker+`"}},
		{"id":"2","text":"nice talk","author":{"id":"u-ana","handle":"ana"}},
		{"id":"3","text":"again `+marker+`","author":{"id":"u-eve","handle":"`+renamed+`"}}]`)
	if code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	expect(t, wall, "add webhook:1", "add webhook:2", "add webhook:3")
	waitFor(t, "the posts in the index", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/search"), "webhook:3")
	})
	// Moderators acted on her: a pin, and a ban by name in another stream.
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/posts/webhook:1/pin", ""); code != http.StatusOK {
		t.Fatalf("pin: %d %s", code, body)
	}
	next(t, wall)
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/mod/authors/webhook:"+handle+"/ban", `{"reason":"spam"}`); code != http.StatusOK {
		t.Fatalf("ban: %d %s", code, body)
	}
	// A subject access request finds both posts under both handles, what
	// each stream did and when they were on screen.
	var ex privacy.Export
	if err := json.Unmarshal([]byte(mustBody(t, app, "/api/v1/authors/webhook:"+handle+"/export")), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Posts) != 2 || !slices.Equal(ex.KnownAs, []string{"webhook:#u-eve", "webhook:" + handle, "webhook:" + renamed}) ||
		len(ex.Actions) != 1 || ex.Actions[0].Event != "ban_author" || ex.Actions[0].Stream != "mod" ||
		!slices.Equal(ex.NamedIn, []string{"mod: filters.blocked_authors"}) || len(ex.Erased) != 0 {
		t.Fatalf("export: %+v", ex)
	}
	first := ex.Posts[0]
	if first.Post.ID != "webhook:1" || !first.Stored || len(first.Streams) != 2 {
		t.Fatalf("export of the first post: %+v", first)
	}
	for _, r := range first.Streams {
		switch r.Stream {
		case "wall":
			if r.Status != "approved" || len(r.Shown) != 1 || !r.Shown[0].To.IsZero() || len(r.Decisions) != 2 {
				t.Errorf("wall record: %+v", r)
			}
		case "mod":
			if r.Status != "held" || len(r.Shown) != 0 {
				t.Errorf("mod record: %+v", r)
			}
		}
	}
	// Her text is on disk: in JetStream's files and in the index's.
	waitFor(t, "the marker in the stream and index files", func() bool {
		files := filesHolding(t, dir, marker)
		return holdsIn(files, "nats") && holdsIn(files, "index")
	})

	start := time.Now()
	code, body = app.adminJSON(t, http.MethodPost, "/api/v1/authors/webhook:"+handle+"/erase", `{"reason":"GDPR request 12"}`)
	if code != http.StatusOK {
		t.Fatalf("erase: %d %s", code, body)
	}
	// The screen already had its snapshot without her posts when the call
	// answered; how long it took is logged, not asserted.
	m := next(t, wall)
	t.Logf("the screen had its new snapshot %s after the erasure began", time.Since(start))
	if m.Type != "snapshot" || len(m.Posts) != 1 || m.Posts[0].ID != "webhook:2" {
		t.Fatalf("after the erasure the wall shows %+v", m)
	}
	var rep privacy.Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Posts != 2 || rep.Keys != 3 || rep.IngestDeleted != 2 || rep.EventsDeleted < 5 || rep.Scope != "every stream" ||
		!slices.Equal(rep.Streams, []string{"mod", "wall"}) || len(rep.SettingsChanged) != 1 {
		t.Errorf("report: %s", body)
	}
	if strings.Contains(body, handle) || strings.Contains(body, marker) {
		t.Errorf("the report names the author: %s", body)
	}
	// A screen resuming from before the erasure gets a snapshot, not the
	// messages that carried her posts.
	resumed := app.dial(t, "wall", "1")
	if m := next(t, resumed); m.Type != "snapshot" || len(m.Posts) != 1 {
		t.Fatalf("resuming: %+v", m)
	}
	// Her new posts are refused before they are stored; Ana's pass.
	if code, _ := app.push(t, `[{"id":"4","text":"`+later+` I am back","author":{"id":"u-eve","handle":"`+handle+`"}},
		{"id":"5","text":"still here","author":{"handle":"ana"}}]`); code != http.StatusAccepted {
		t.Fatal("push after the erasure")
	}
	expect(t, wall, "add webhook:5")
	// The audit says an erasure happened, by whom and when, and nothing
	// about whom.
	audit := mustBody(t, app, "/api/v1/streams/wall/audit?event=erase")
	if !strings.Contains(audit, `"actor":"admin-token"`) || !strings.Contains(audit, rep.Author) || !strings.Contains(audit, "GDPR request 12") ||
		strings.Contains(audit, handle) {
		t.Errorf("audit: %s", audit)
	}
	if all := mustBody(t, app, "/api/v1/streams/mod/audit"); strings.Contains(all, handle) {
		t.Errorf("the audit still names the author: %s", all)
	}
	if s := mustBody(t, app, "/api/v1/streams/mod/settings"); strings.Contains(s, handle) {
		t.Errorf("settings still name the author: %s", s)
	}
	export := mustBody(t, app, "/api/v1/authors/webhook:"+handle+"/export")
	ex = privacy.Export{}
	if err := json.Unmarshal([]byte(export), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Posts) != 0 || len(ex.Erased) != 1 || ex.Erased[0].Stream != "" {
		t.Errorf("export after the erasure: %s", export)
	}
	app.stop(t)
	for _, s := range []string{marker, later} {
		if files := filesHolding(t, dir, s); len(files) > 0 {
			t.Errorf("%q is still in %v", s, files)
		}
	}
	// Her handle was in the mod stream's settings (the ban by name). The
	// versions that named her are purged from the settings bucket, whose
	// files NATS rewrites in its own time (it refuses to erase a bucket's
	// messages one by one); nowhere else may it remain.
	for _, f := range filesHolding(t, dir, handle) {
		if !strings.Contains(f, "KV_chorus_config") {
			t.Errorf("the author's handle is still in %s", f)
		}
	}
}

// TestErasureFromOneStream: `chorus erase --stream` takes the author out of
// one stream (screens, index, that stream's events) and bans them there,
// while the other stream fed by the same source keeps their posts and
// takes their new ones; `chorus export` writes what is left.
func TestErasureFromOneStream(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig+"limits: {admin: {per_second: 1000}}\n")
	wall := app.dial(t, "wall", "")
	next(t, wall)
	if code, _ := app.push(t, `[{"id":"1","text":"hello both","author":{"handle":"bob"}},{"id":"2","text":"ok","author":{"handle":"ana"}}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:1", "add webhook:2")
	waitFor(t, "indexed in mod", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/mod/search"), "webhook:1")
	})
	cli := func(args ...string) (int, string) {
		var out strings.Builder
		code := run(t.Context(), append(args, "--server", app.base, "--token", testToken), &out, &out)
		return code, out.String()
	}
	if code, out := cli("erase", "--stream", "wall", "-r", "asked by email", "webhook:bob"); code != 0 ||
		!strings.Contains(out, "erased webhook:bob from wall") || !strings.Contains(out, "1 posts") {
		t.Fatalf("erase: %d %s", code, out)
	}
	if m := next(t, wall); m.Type != "snapshot" || len(m.Posts) != 1 || m.Posts[0].ID != "webhook:2" {
		t.Fatalf("wall after the erasure: %+v", m)
	}
	if s := mustBody(t, app, "/api/v1/streams/wall/search"); strings.Contains(s, "webhook:1") {
		t.Errorf("still in wall's index: %s", s)
	}
	if s := mustBody(t, app, "/api/v1/streams/mod/search"); !strings.Contains(s, "webhook:1") {
		t.Errorf("mod lost the post: %s", s)
	}
	// New posts of bob reach mod (held there), not the wall.
	if code, _ := app.push(t, `[{"id":"3","text":"me again","author":{"handle":"bob"}},{"id":"4","text":"fine","author":{"handle":"ana"}}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:4")
	waitFor(t, "bob's new post held in mod", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/mod/queue"), "webhook:3")
	})
	out := filepath.Join(t.TempDir(), "bob.json")
	if code, msg := cli("export", "-o", out, "webhook:bob"); code != 0 || !strings.Contains(msg, "wrote "+out+": 2 posts") {
		t.Fatalf("export: %d %s", code, msg)
	}
	var ex privacy.Export
	raw, _ := os.ReadFile(out)
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	for _, p := range ex.Posts {
		for _, r := range p.Streams {
			if r.Stream != "mod" {
				t.Errorf("the export still has %s in %s", p.Post.ID, r.Stream)
			}
		}
	}
	if len(ex.Erased) != 1 || ex.Erased[0].Stream != "wall" {
		t.Errorf("erased: %+v", ex.Erased)
	}
	if code, msg := cli("erase", "nobody"); code != 2 || !strings.Contains(msg, "network:handle") {
		t.Errorf("a bad author: %d %s", code, msg)
	}
}
