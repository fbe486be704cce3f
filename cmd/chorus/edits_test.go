package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestEditAtTheSourceIsCuratedAgain: a post edited at its source after
// its streams decided it is judged again. An edit that still passes shows
// the new version on the wall (an update, the moderator's queue has the
// new text too); an edit that adds a blocked word takes the post off the
// wall, with the new text, before any screen sees it; a later edit never
// brings a rejected post back; the audit records each edit.
func TestEditAtTheSourceIsCuratedAgain(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig+"limits: {admin: {per_second: 1000}}\n")
	wall := app.dial(t, "wall", "")
	next(t, wall)
	push := func(body string) {
		t.Helper()
		if code, resp := app.push(t, body); code != http.StatusAccepted {
			t.Fatalf("push: %d %s", code, resp)
		}
	}
	push(`{"id":"1","text":"lovely day","author":{"handle":"ana"}}`)
	expect(t, wall, "add webhook:1")

	push(`{"id":"1","text":"lovely sunny day","author":{"handle":"ana"},"edited_at":"2026-01-01T10:00:00Z"}`)
	if m := expect(t, wall, "update webhook:1")[0]; m.Post.Text != "lovely sunny day" {
		t.Fatalf("the wall shows %q after the edit", m.Post.Text)
	}
	waitFor(t, "the new text in mod's queue", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/mod/queue"), "lovely sunny day")
	})

	push(`{"id":"1","text":"what an idiot","author":{"handle":"ana"},"edited_at":"2026-01-01T11:00:00Z"}`)
	if m := next(t, wall); describe(m) != "remove webhook:1" {
		t.Fatalf("after an edit adding a blocked word the wall got %q (post %+v)", describe(m), m.Post)
	}
	waitFor(t, "the edited post rejected in wall", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/search?status=rejected"), "what an idiot")
	})
	// mod holds it still (manual moderation), with the new text.
	waitFor(t, "mod's queue has the newest text", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/mod/queue"), "what an idiot")
	})

	// A later harmless edit leaves it rejected: an edit never brings a
	// post back on screen.
	push(`{"id":"1","text":"lovely again","author":{"handle":"ana"},"edited_at":"2026-01-01T12:00:00Z"}`)
	push(`{"id":"2","text":"marker post","author":{"handle":"bob"}}`)
	expect(t, wall, "add webhook:2")
	waitFor(t, "the last edit indexed", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/search?status=rejected"), "lovely again")
	})
	if ids := snapshotIDs(t, app, "wall"); len(ids) != 1 || ids[0] != "webhook:2" {
		t.Errorf("the wall shows %v", ids)
	}

	// A moderator rejects it in mod; the author edits again: mod's policy
	// would hold it (manual moderation), but an edit never brings a
	// rejected post back to the queue.
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/mod/posts/webhook:1/reject", ""); code != http.StatusOK {
		t.Fatalf("reject: %d %s", code, body)
	}
	push(`{"id":"1","text":"lovely once more","author":{"handle":"ana"},"edited_at":"2026-01-01T13:00:00Z"}`)
	waitFor(t, "the newest text in mod's rejected posts", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/mod/search?status=rejected"), "lovely once more")
	})
	if q := mustBody(t, app, "/api/v1/streams/mod/queue"); strings.Contains(q, "webhook:1") {
		t.Errorf("the edit brought a rejected post back to the queue: %s", q)
	}

	var audit struct {
		Entries []struct {
			Event  string `json:"event"`
			PostID string `json:"post_id"`
			Actor  string `json:"actor"`
			Reason string `json:"reason"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(mustBody(t, app, "/api/v1/streams/wall/audit")), &audit); err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range audit.Entries {
		if e.PostID == "webhook:1" {
			trail = append(trail, e.Event+": "+e.Reason)
		}
	}
	want := []string{"edit: edited at its source", "edit: edited at its source", `reject: edited at its source: blocked word "idiot" in text`,
		"edit: edited at its source", "approve: auto"}
	if strings.Join(trail, "|") != strings.Join(want, "|") {
		t.Errorf("wall's audit of the post, newest first:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}
	metrics := mustBody(t, app, "/metrics")
	for _, w := range []string{`chorus_posts_edited_total{outcome="approved",stream="wall"} 3`,
		`chorus_posts_edited_total{outcome="rejected",stream="wall"} 1`, `chorus_posts_edited_total{outcome="held",stream="mod"} 4`} {
		if !strings.Contains(metrics, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}
