package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// adminBody calls an admin API with a body of the given content type
// (none when empty).
func (a *testApp) adminBody(t *testing.T, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return do(t, req)
}

func TestAdminBodiesAreStrict(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	if code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/filters",
		`{"filters":{"blocked_hashtags":["spoiler"],"sensitive":"allow","min_followers":5}}`); code != http.StatusOK {
		t.Fatalf("filters: %d %s", code, body)
	}
	before := settingsOf(t, app, "wall")

	// A typo anywhere is refused with its path named, and changes nothing.
	for _, tt := range []struct{ method, path, body, want string }{
		{http.MethodPut, "/api/v1/streams/wall/filters", `{"moderaton":"manual"}`, "moderaton: unknown key"},
		{http.MethodPut, "/api/v1/streams/wall/filters", `{"filters":{"blocked_hastags":["x"]}}`, "filters.blocked_hastags: unknown key"},
		{http.MethodPut, "/api/v1/streams/wall/filters", `{"filters":{"spam":{"max_linkz":1}}}`, "filters.spam.max_linkz: unknown key"},
		{http.MethodPut, "/api/v1/streams/wall/filters", `{"title":"x"}`, "title: unknown key"},
		{http.MethodPut, "/api/v1/streams/wall/filters", `{"filters":{"min_followers":"ten"}}`, "filters.min_followers"},
		{http.MethodPut, "/api/v1/streams/wall/settings", `{"titel":"x"}`, "titel: unknown key"},
		{http.MethodPut, "/api/v1/streams/wall/settings", `{"rules":[{"name":"a","when":{"hashtag":["x"]},"action":"hold"}]}`, "rules[0].when.hashtag: unknown key"},
		{http.MethodPut, "/api/v1/streams/wall/rules", `{"rule":[]}`, "rule: unknown key"},
		{http.MethodPut, "/api/v1/streams/wall/rules", `{"rules":[{"name":"a","acton":"hold"}]}`, "rules[0].acton: unknown key"},
		{http.MethodPut, "/api/v1/streams/wall/rules", `{}`, "rules"},
		{http.MethodPost, "/api/v1/streams/wall/rules/dry-run", `{"rule":{"name":"a","action":"hold"},"lsat":5}`, "lsat: unknown key"},
		{http.MethodPost, "/api/v1/streams/wall/bulk", `{"action":"approve","querry":"x"}`, "querry: unknown key"},
		{http.MethodPost, "/api/v1/streams/wall/posts/webhook:1/alt", `{"media":0,"alt_text":"x"}`, "alt_text: unknown key"},
		{http.MethodPost, "/api/v1/streams/wall/posts/webhook:1/reject", `{"reasn":"spam"}`, "reasn: unknown key"},
		{http.MethodPost, "/api/v1/streams/wall/authors/webhook:x/ban", `{"reason":"x","forever":true}`, "forever: unknown key"},
		{http.MethodPost, "/api/v1/streams/wall/pause", `{"reason":["x"]}`, "reason"},
		{http.MethodPost, "/api/v1/streams/wall/pause", `{"reason":"x"} {"reason":"y"}`, "one JSON object"},
	} {
		code, body := app.adminJSON(t, tt.method, tt.path, tt.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("%s %s %s: %d %s, want 400 naming %q", tt.method, tt.path, tt.body, code, body, tt.want)
		}
	}
	after := settingsOf(t, app, "wall")
	if after.Moderation != before.Moderation || after.Title != before.Title || len(after.Rules) != len(before.Rules) ||
		!slices.Equal(after.Filters.BlockedHashtags, before.Filters.BlockedHashtags) {
		t.Fatalf("a refused call changed the stream:\nbefore %+v\nafter  %+v", before, after)
	}

	// A partial update changes only what it names, down to one filter.
	code, body := app.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/filters", `{"filters":{"blocked_hashtags":["spoiler","leak"]}}`)
	if code != http.StatusOK {
		t.Fatalf("partial filters: %d %s", code, body)
	}
	s := settingsOf(t, app, "wall")
	if !slices.Equal(s.Filters.BlockedHashtags, []string{"spoiler", "leak"}) || s.Filters.Sensitive != "allow" ||
		s.Filters.MinFollowers != 5 || !slices.Equal(s.BlockedWords, []string{"idiot", "buy followers"}) {
		t.Fatalf("partial filters changed more than they named: %+v", s)
	}
	code, body = app.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/settings", `{"title":"Renamed"}`)
	if code != http.StatusOK {
		t.Fatalf("partial settings: %d %s", code, body)
	}
	s = settingsOf(t, app, "wall")
	if s.Title != "Renamed" || !slices.Equal(s.Sources, []string{"hook"}) || !slices.Equal(s.BlockedWords, []string{"idiot", "buy followers"}) ||
		s.Filters.Sensitive != "allow" {
		t.Fatalf("partial settings changed more than they named: %+v", s)
	}
	// null clears a value back to its default.
	code, body = app.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/filters", `{"filters":{"sensitive":null,"min_followers":null}}`)
	if code != http.StatusOK {
		t.Fatalf("clearing: %d %s", code, body)
	}
	if s = settingsOf(t, app, "wall"); s.Filters.Sensitive != "" || s.Filters.MinFollowers != 0 || len(s.Filters.BlockedHashtags) != 2 {
		t.Fatalf("null did not clear only what it named: %+v", s.Filters)
	}
	// PATCH is the same call under its proper name.
	if code, body = app.adminJSON(t, http.MethodPatch, "/api/v1/streams/wall/settings", `{"display_limit":30}`); code != http.StatusOK {
		t.Fatalf("patch settings: %d %s", code, body)
	}
	if s = settingsOf(t, app, "wall"); s.DisplayLimit != 30 || s.Title != "Renamed" {
		t.Fatalf("patch settings: %+v", s)
	}
}

func TestActionBodiesNeverDropTheReason(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	if code, _ := app.push(t, `[{"id":"1","text":"one"},{"id":"2","text":"two"},{"id":"3","text":"three"},
		{"id":"4","text":"four","media":[{"url":"https://m.example/1.jpg","alt":"x"}]}]`); code != http.StatusAccepted {
		t.Fatal("push")
	}
	waitFor(t, "indexed", func() bool {
		return strings.Count(mustBody(t, app, "/api/v1/streams/wall/search?status=approved"), `"status":"approved"`) == 4
	})
	const form = "application/x-www-form-urlencoded"
	for _, tt := range []struct {
		name, path, contentType, body, audit, want string
	}{
		// What curl -d sends: a form.
		{"form reject", "/posts/webhook:1/reject", form, "reason=spam+bot", "post=webhook:1&event=reject", `"reason":"spam bot"`},
		// JSON typed as a form (curl -d '{...}' without -H).
		{"JSON sent as a form", "/posts/webhook:2/remove", form, `{"reason":"off topic"}`, "post=webhook:2&event=remove", `"reason":"off topic"`},
		// JSON without any content type.
		{"untyped JSON", "/posts/webhook:3/reject", "", `{"reason":"duplicate"}`, "post=webhook:3&event=reject", `"reason":"duplicate"`},
		{"form ban", "/authors/webhook:troll/ban", form, "reason=abuse", "event=ban_author", `"reason":"abuse"`},
		{"form pause", "/pause", form, "reason=fire+drill", "event=pause", `"reason":"fire drill"`},
		{"form resume", "/resume", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\nall clear\r\n--XX--\r\n",
			"event=resume", `"reason":"all clear"`},
		{"form alt", "/posts/webhook:4/alt", form, "media=0&alt=A+crowd&reason=accessibility", "post=webhook:4&event=edit", `"reason":"accessibility"`},
		{"form bulk", "/bulk", form, "action=pin&posts=webhook:4&reason=sponsor", "post=webhook:4&event=pin", `"reason":"sponsor"`},
	} {
		code, body := app.adminBody(t, http.MethodPost, "/api/v1/streams/wall"+tt.path, tt.contentType, tt.body)
		if code != http.StatusOK {
			t.Errorf("%s: %d %s", tt.name, code, body)
			continue
		}
		if audit := mustBody(t, app, "/api/v1/streams/wall/audit?"+tt.audit); !strings.Contains(audit, tt.want) {
			t.Errorf("%s: the reason was lost: %s", tt.name, audit)
		}
	}
	// A form with an unknown field is refused like JSON; other types get 415.
	for _, tt := range []struct {
		name, path, contentType, body string
		code                          int
		want                          string
	}{
		{"form typo", "/posts/webhook:1/approve", form, "reasn=x", http.StatusBadRequest, "reasn: unknown key"},
		{"text", "/posts/webhook:1/approve", "text/plain", "because", http.StatusUnsupportedMediaType, "application/json"},
		{"xml", "/pause", "application/xml", "<reason>x</reason>", http.StatusUnsupportedMediaType, "application/json"},
		{"form settings", "/settings", form, "title=x", http.StatusUnsupportedMediaType, "application/json"},
	} {
		method := http.MethodPost
		if tt.path == "/settings" {
			method = http.MethodPut
		}
		code, body := app.adminBody(t, method, "/api/v1/streams/wall"+tt.path, tt.contentType, tt.body)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s, want %d naming %q", tt.name, code, body, tt.code, tt.want)
		}
	}
}
