package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeMastodon is a Mastodon server whose statuses can disappear, turn
// private or be edited between two compliance checks.
type fakeMastodon struct {
	*httptest.Server
	mu       sync.Mutex
	state    map[string]string // status id -> "ok", "deleted", "private", "edited"
	limited  bool              // answer status lookups with 429
	lookedUp int
}

func newFakeMastodon(t *testing.T, ids ...string) *fakeMastodon {
	f := &fakeMastodon{state: map[string]string{}}
	for _, id := range ids {
		f.state[id] = "ok"
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeMastodon) set(id, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state[id] = state
}

func (f *fakeMastodon) status(id, state string) string {
	visibility, content, edited := "public", "talk number "+id+" #chorus", "null"
	switch state {
	case "private":
		visibility = "private"
	case "edited":
		content, edited = "talk number "+id+" by an idiot #chorus", `"2026-11-23T10:00:00.000Z"`
	}
	return fmt.Sprintf(`{"id":%q,"uri":"%s/users/ana/statuses/%s","url":"%s/@ana/%s","created_at":"2026-11-23T09:00:00.000Z",
		"edited_at":%s,"visibility":%q,"sensitive":false,"spoiler_text":"","content":"<p>%s</p>","language":"en",
		"account":{"id":"7","username":"ana","acct":"ana","display_name":"Ana","url":"%s/@ana","followers_count":3},
		"media_attachments":[],"mentions":[],"tags":[{"name":"chorus"}],"emojis":[],"reblog":null}`,
		id, f.URL, id, f.URL, id, edited, visibility, content, f.URL)
}

func (f *fakeMastodon) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if id, ok := strings.CutPrefix(r.URL.Path, "/api/v1/statuses/"); ok {
		f.lookedUp++
		switch {
		case f.limited:
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":"Too many requests"}`)
		case f.state[id] == "" || f.state[id] == "deleted":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":"Record not found"}`)
		default:
			fmt.Fprint(w, f.status(id, f.state[id]))
		}
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/v1/timelines/tag/") {
		if r.URL.Query().Get("min_id") != "" {
			fmt.Fprint(w, `[]`)
			return
		}
		var all []string
		ids := make([]string, 0, len(f.state))
		for id := range f.state {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		slices.Reverse(ids)
		for _, id := range ids {
			all = append(all, f.status(id, "ok"))
		}
		fmt.Fprint(w, "["+strings.Join(all, ",")+"]")
		return
	}
	http.NotFound(w, r)
}

// TestComplianceSweep: a polled Mastodon source sends no deletions. The
// compliance sweep asks the server about every post on screen: all stand
// at first; then one is deleted, one turned private and one edited to
// carry a blocked word, and the next sweep takes all three off the wall,
// says why in the audit and counts them per source. A server that
// answers 429 takes nothing down.
func TestComplianceSweep(t *testing.T) {
	net := newFakeMastodon(t, "101", "102", "103", "104")
	app := startApp(t, t.TempDir(), `
server: {addr: "127.0.0.1:0"}
admin_token: `+testToken+`
log_level: warn
limits: {admin: {per_second: 1000}}
sources:
  - {id: m, type: mastodon, servers: [`+net.URL+`], hashtags: [chorus], poll_interval: 1s, compliance_per_minute: 6000}
streams:
  - id: wall
    sources: [m]
    blocked_words: [idiot]
`)
	waitFor(t, "four posts on the wall", func() bool { return len(snapshotIDs(t, app, "wall")) == 4 })
	cli := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		if code := run(t.Context(), append(args, "--server", app.base, "--token", testToken), &out, &out); code != 0 {
			t.Fatalf("chorus %v: %d\n%s", args, code, out.String())
		}
		return out.String()
	}
	out := cli("compliance", "--now", "--source", "m")
	if !strings.Contains(out, "m       mastodon  1h0m0s  24h0m0s  6000     ") || !strings.Contains(out, "  4        0           0       0             0") {
		t.Fatalf("first sweep:\n%s", out)
	}

	net.set("101", "deleted")
	net.set("102", "private")
	net.set("103", "edited")
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/compliance/m/sweep", ""); code != http.StatusOK ||
		!strings.Contains(body, `"taken_down":{"deleted":1,"private":1}`) || !strings.Contains(body, `"edited":1`) {
		t.Fatalf("second sweep: %d %s", code, body)
	}
	host := strings.TrimPrefix(net.URL, "http://")
	waitFor(t, "only the post that stands on the wall", func() bool {
		ids := snapshotIDs(t, app, "wall")
		return len(ids) == 1 && ids[0] == "mastodon:"+host+"/104"
	})
	waitFor(t, "the audit says why each left", func() bool {
		audit := mustBody(t, app, "/api/v1/streams/wall/audit")
		return strings.Contains(audit, "deleted at its source") && strings.Contains(audit, "made private at its source") &&
			strings.Contains(audit, `edited at its source: blocked word \"idiot\"`)
	})
	metrics := mustBody(t, app, "/metrics")
	for _, want := range []string{`chorus_compliance_checked_total{source="m"} 8`, `chorus_compliance_taken_down_total{reason="deleted",source="m"} 1`,
		`chorus_compliance_taken_down_total{reason="private",source="m"} 1`, `chorus_compliance_edits_total{source="m"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A network that refuses to answer takes nothing down.
	net.mu.Lock()
	net.limited = true
	net.mu.Unlock()
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/compliance/m/sweep", ""); code != http.StatusOK || !strings.Contains(body, `"failed":1`) {
		t.Fatalf("sweep against a 429: %d %s", code, body)
	}
	if ids := snapshotIDs(t, app, "wall"); len(ids) != 1 {
		t.Errorf("the wall after a refused check: %v", ids)
	}
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/compliance/nope/sweep", ""); code != http.StatusNotFound {
		t.Errorf("an unknown source: %d %s", code, body)
	}
}
