package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// adminJSON calls an admin API with a JSON body.
func (a *testApp) adminJSON(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func TestRuleChangeAppliesLive(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	wall := app.dial(t, "wall", "")
	next(t, wall)
	if code, _ := app.push(t, `{"id":"1","text":"see https://a.example","links":[{"url":"https://a.example"}]}`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:1")

	// A moderator adds a rule through the API; the next post obeys it.
	code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/rules",
		`{"rules":[{"name":"no links","when":{"has_links":true},"action":"hold"},
		           {"name":"vip","when":{"authors":["webhook:ceo"]},"action":"pin"}]}`)
	if code != http.StatusOK {
		t.Fatalf("put rules: %d %s", code, body)
	}
	if code, _ := app.push(t, `[{"id":"2","text":"more https://b.example","links":[{"url":"https://b.example"}]},
		{"id":"3","text":"welcome everyone","author":{"handle":"CEO"}}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	m := expect(t, wall, "add webhook:3")[0]
	if !strings.Contains(mustBody(t, app, "/api/v1/streams/wall/posts"), `"pinned":true`) {
		t.Fatalf("vip post not pinned: %+v", m)
	}
	waitFor(t, "held by rule", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/queue"), `"rule":"no links"`)
	})
	audit := mustBody(t, app, "/api/v1/streams/wall/audit?post=webhook:2")
	if !strings.Contains(audit, `"reason":"rule \"no links\""`) {
		t.Fatalf("audit: %s", audit)
	}

	// A dry run reports what a rule would have done, and changes nothing.
	waitFor(t, "indexed", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/search?q=welcome"), "webhook:3")
	})
	code, body = app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/rules/dry-run",
		`{"rule":{"name":"no welcome","when":{"keywords":["welcome"]},"action":"reject"},"last":10}`)
	var rep struct {
		Checked, Matched, Changed int
		Posts                     []struct {
			PostID string `json:"post_id"`
		}
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &rep) != nil || rep.Checked != 3 || rep.Matched != 1 ||
		rep.Changed != 1 || rep.Posts[0].PostID != "webhook:3" {
		t.Fatalf("dry run: %d %s", code, body)
	}
	if ids := snapshotIDs(t, app, "wall"); strings.Join(ids, ",") != "webhook:3,webhook:1" {
		t.Fatalf("dry run changed the wall: %v", ids)
	}

	// Bad rules are refused with the key named; nothing changes.
	code, body = app.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/rules",
		`{"rules":[{"name":"broken","when":{"expr":"Author.Folowers > 3"},"action":"reject"}]}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "rules[0].when.expr") {
		t.Fatalf("bad rule: %d %s", code, body)
	}
	if rules := mustBody(t, app, "/api/v1/streams/wall/rules"); !strings.Contains(rules, "no links") {
		t.Fatalf("rules after a refused change: %s", rules)
	}

	// Settings survive a restart (they live in the config bucket).
	dir := app.dir
	app.stop(t)
	again := startApp(t, dir, testConfig)
	if rules := mustBody(t, again, "/api/v1/streams/wall/rules"); !strings.Contains(rules, "no links") {
		t.Fatalf("rules after restart: %s", rules)
	}
}

func TestBanRemovesPostsFromScreens(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	wall := app.dial(t, "wall", "")
	next(t, wall)
	if code, _ := app.push(t, `[{"id":"1","text":"hi","author":{"handle":"troll"}},{"id":"2","text":"nice talk","author":{"handle":"ana"}},
		{"id":"3","text":"again","author":{"handle":"troll"}}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:1", "add webhook:2", "add webhook:3")
	code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/authors/webhook:troll/ban", `{"reason":"abuse"}`)
	if code != http.StatusOK {
		t.Fatalf("ban: %d %s", code, body)
	}
	m := next(t, wall)
	if m.Type != "snapshot" || len(m.Posts) != 1 || m.Posts[0].ID != "webhook:2" {
		t.Fatalf("after ban: %+v", m)
	}
	// The ban holds for new posts too, on the screen and in the index.
	if code, _ := app.push(t, `[{"id":"4","text":"I'm back","author":{"handle":"Troll"}},{"id":"5","text":"marker"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:5")
	waitFor(t, "ban in the index", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/search?q=author_key:webhook\\:troll&status=removed"), "webhook:3")
	})
	if s := mustBody(t, app, "/api/v1/streams/wall/settings"); !strings.Contains(s, `"blocked_authors":["webhook:troll"]`) {
		t.Fatalf("settings: %s", s)
	}
	// Hide and show take an author off screens and back.
	if code, _ := app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/authors/webhook:ana/hide", ""); code != http.StatusOK {
		t.Fatal("hide")
	}
	if m := next(t, wall); m.Type != "snapshot" || len(m.Posts) != 1 || m.Posts[0].ID != "webhook:5" {
		t.Fatalf("after hide: %+v", m)
	}
	if code, _ := app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/authors/webhook:ana/show", ""); code != http.StatusOK {
		t.Fatal("show")
	}
	if m := next(t, wall); m.Type != "snapshot" || len(m.Posts) != 2 {
		t.Fatalf("after show: %+v", m)
	}
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/authors/troll/ban", ""); code != http.StatusBadRequest {
		t.Fatalf("author without network: %d %s", code, body)
	}
}

func TestDelayLetsModeratorsPullPosts(t *testing.T) {
	cfg := strings.Replace(testConfig, "    blocked_words: [idiot, \"buy followers\"]", "    blocked_words: [idiot, \"buy followers\"]\n    delay: 2s", 1)
	app := startApp(t, t.TempDir(), cfg)
	wall := app.dial(t, "wall", "")
	next(t, wall)
	start := time.Now()
	if code, _ := app.push(t, `[{"id":"pulled","text":"oops"},{"id":"kept","text":"fine"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	waitFor(t, "indexed", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/search?q=oops"), "webhook:pulled")
	})
	if code, body := app.admin(t, http.MethodPost, "/api/v1/streams/wall/posts/webhook:pulled/reject"); code != http.StatusOK {
		t.Fatalf("reject: %d %s", code, body)
	}
	m := expect(t, wall, "add webhook:kept")[0]
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("the delayed post arrived after %s", waited)
	}
	// Nothing else arrives: the rejected post never reaches the screen.
	if code, _ := app.push(t, `{"id":"marker","text":"marker"}`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:marker")
	_ = m
}

func TestSettingsAPI(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	// Create a stream at run time; it is live at once.
	code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/fresh/settings",
		`{"title":"Fresh","sources":["hook"],"moderation":"manual","filters":{"media_only":true}}`)
	if code != http.StatusOK || !strings.Contains(body, `"display_limit":60`) {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, _ := do(t, mustReq(http.MethodGet, app.base+"/api/v1/streams/fresh")); code != http.StatusOK {
		t.Fatal("new stream not public")
	}
	for _, tt := range []struct{ body, want string }{
		{`{"sources":["nowhere"]}`, `sources[0]: no source has id \"nowhere\"`},
		{`{"moderation":"sometimes"}`, "moderation"},
		{`{"filters":{"sensitive":"maybe"}}`, "filters.sensitive"},
		{`{"delay":"forever"}`, `delay: \"forever\" is not a duration`},
		{`{"rules":[{"name":"a","action":"tag"}]}`, "rules[0].tags"},
		{`not json`, "body is not valid JSON"},
	} {
		code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/fresh/settings", tt.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tt.body, code, body, tt.want)
		}
	}
	code, body = app.adminJSON(t, http.MethodPut, "/api/v1/streams/fresh/filters", `{"moderation":"auto","filters":{"min_followers":10}}`)
	if code != http.StatusOK || !strings.Contains(body, `"min_followers":10`) || !strings.Contains(body, `"moderation":"auto"`) {
		t.Fatalf("filters: %d %s", code, body)
	}
	if code, _ := app.adminJSON(t, http.MethodDelete, "/api/v1/streams/fresh", ""); code != http.StatusNoContent {
		t.Fatal("delete")
	}
	if code, _ := do(t, mustReq(http.MethodGet, app.base+"/api/v1/streams/fresh")); code != http.StatusNotFound {
		t.Fatal("deleted stream still there")
	}
}

func TestBulkAndAlt(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	if code, _ := app.push(t, `[{"id":"1","text":"one #keynote"},{"id":"2","text":"two #keynote"},{"id":"3","text":"three",
		"media":[{"url":"https://m.example/1.jpg","alt":"x"}]}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	waitFor(t, "queued", func() bool {
		var q struct{ Total int }
		return json.Unmarshal([]byte(mustBody(t, app, "/api/v1/streams/mod/queue")), &q) == nil && q.Total == 3
	})
	code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/mod/bulk", `{"action":"approve","query":"keynote","status":"held"}`)
	if code != http.StatusOK || !strings.Contains(body, `"changed":2`) {
		t.Fatalf("bulk by query: %d %s", code, body)
	}
	code, body = app.adminJSON(t, http.MethodPost, "/api/v1/streams/mod/bulk", `{"action":"reject","posts":["webhook:3","webhook:nope"]}`)
	if code != http.StatusOK || !strings.Contains(body, `"changed":1`) || !strings.Contains(body, `"post_id":"webhook:nope"`) {
		t.Fatalf("bulk by ids: %d %s", code, body)
	}
	if ids := snapshotIDs(t, app, "mod"); len(ids) != 2 {
		t.Fatalf("mod wall: %v", ids)
	}
	wall := app.dial(t, "wall", "")
	next(t, wall)
	code, body = app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/posts/webhook:3/alt", `{"media":0,"alt":"A <b>crowd</b> at sunset"}`)
	if code != http.StatusOK {
		t.Fatalf("alt: %d %s", code, body)
	}
	m := next(t, wall)
	if m.Type != "update" || m.Post == nil || m.Post.ID != "webhook:3" {
		t.Fatalf("alt update: %+v", m)
	}
	if !strings.Contains(mustBody(t, app, "/api/v1/streams/wall/posts"), `"alt":"A \u003cb\u003ecrowd\u003c/b\u003e at sunset"`) {
		t.Fatal("alt text not on screen")
	}
	if code, _ := app.adminJSON(t, http.MethodPost, "/api/v1/streams/wall/posts/webhook:3/alt", `{"media":5,"alt":"x"}`); code != http.StatusBadRequest {
		t.Fatal("alt on a missing media item")
	}
	if code, _ := app.adminJSON(t, http.MethodPost, "/api/v1/streams/mod/posts/webhook:3/pin", ""); code != http.StatusConflict {
		t.Fatal("pinning a rejected post")
	}
}

func TestModeratorCommands(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	wall := app.dial(t, "wall", "")
	next(t, wall)
	if code, _ := app.push(t, `[{"id":"1","text":"hi","author":{"handle":"troll"}},{"id":"2","text":"ok"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	expect(t, wall, "add webhook:1", "add webhook:2")
	waitFor(t, "indexed", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/wall/search?q=ok"), "webhook:2")
	})
	cli := func(args ...string) (int, string) {
		var out strings.Builder
		code := run(t.Context(), append(args, "--server", app.base, "--token", testToken), &out, &out)
		return code, out.String()
	}
	for _, tt := range []struct {
		args []string
		code int
		out  string
		msg  string
	}{
		{[]string{"pause", "wall"}, 0, "done", "control pause"},
		{[]string{"resume", "wall", "-r", "all clear"}, 0, "done", "control resume"},
		{[]string{"remove", "--stream", "wall", "webhook:2"}, 0, "done", "remove webhook:2"},
		{[]string{"remove", "--stream", "wall", "webhook:2"}, 0, "nothing to change (already removed)", ""},
		{[]string{"ban", "--stream", "wall", "webhook:troll"}, 0, "done", "snapshot"},
		{[]string{"pause", "nope"}, 1, "404 Not Found: no stream with that id", ""},
	} {
		code, out := cli(tt.args...)
		if code != tt.code || !strings.Contains(out, tt.out) {
			t.Fatalf("%v: exit %d %q, want %d %q", tt.args, code, out, tt.code, tt.out)
		}
		if tt.msg != "" {
			expect(t, wall, tt.msg)
		}
	}
	var out strings.Builder
	if code := run(t.Context(), []string{"pause", "wall", "--server", app.base, "--token", "wrong-token-123456"}, &out, &out); code != 1 || !strings.Contains(out.String(), "wrong admin token") {
		t.Fatalf("wrong token: %d %s", code, out.String())
	}
	if entries := mustBody(t, app, "/api/v1/streams/wall/audit?event=resume"); !strings.Contains(entries, `"reason":"all clear"`) {
		t.Fatalf("audit: %s", entries)
	}
}

func TestEnrichmentIsStored(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	if code, _ := app.push(t, `[{"id":"1","text":"What a wonderful keynote, I loved every minute of it!"},
		{"id":"2","text":"La comida estaba fría y el sonido era terrible","lang":"es-ES"}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	var res struct {
		Posts []struct {
			Post struct {
				ID        string  `json:"id"`
				Lang      string  `json:"lang"`
				Sentiment float64 `json:"sentiment"`
			} `json:"post"`
		} `json:"posts"`
	}
	waitFor(t, "indexed", func() bool {
		return json.Unmarshal([]byte(mustBody(t, app, "/api/v1/streams/wall/search?sort=oldest")), &res) == nil && len(res.Posts) == 2
	})
	en, es := res.Posts[0].Post, res.Posts[1].Post
	if en.Lang != "en" || en.Sentiment <= 0.5 {
		t.Fatalf("english post: %+v", en)
	}
	if es.Lang != "es" {
		t.Fatalf("spanish post: %+v", es)
	}
}
