package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/privacy"
)

const rightsConfig = `
server: {addr: "127.0.0.1:0"}
admin_token: ` + testToken + `
log_level: warn
limits: {admin: {per_second: 1000}}
sources:
  - {id: hook, type: webhook, secret: ` + testSecret + `}
streams:
  - id: brand
    title: Brand site
    sources: [hook]
    rights: {required: true, hashtag: YesSummit}
`

// dialSurface opens a stream's websocket as surface ("wall", "overlay", or
// "" as every widget does).
func (a *testApp) dialSurface(t *testing.T, stream, surface string) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(a.base, "http") + "/ws/streams/" + stream
	if surface != "" {
		url += "?surface=" + surface
	}
	c, _, err := websocket.DefaultDialer.DialContext(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// wallIDs are the ids of the posts the brand stream's walls show.
func wallIDs(t *testing.T, app *testApp) []string {
	t.Helper()
	var snap wsMsg
	if err := json.Unmarshal([]byte(mustBody(t, app, "/api/v1/streams/brand/posts?surface=wall")), &snap); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range snap.Posts {
		ids = append(ids, p.ID)
	}
	return ids
}

// TestRightsBeforeWidgets: in a stream that needs rights, a post reaches
// the kiosk wall at once but no widget, card, feed or posts API until its
// author consents. A moderator asks (the answer is the text to send); the
// author's reply carrying the consent hashtag grants the rights, with the
// reply as proof, and the widgets get the post; someone else's reply with
// the hashtag grants nothing. A moderator may record a consent given
// elsewhere, and revoke it (the post leaves the widgets). The grants
// survive a restart, and the audit and the export say who granted what.
func TestRightsBeforeWidgets(t *testing.T) {
	dir := t.TempDir()
	app := startApp(t, dir, rightsConfig)
	wall := app.dialSurface(t, "brand", "wall")
	widget := app.dialSurface(t, "brand", "")
	next(t, wall)
	next(t, widget)
	if code, body := app.push(t, `[{"id":"1","text":"Great keynote at the summit","author":{"id":"u-ana","handle":"ana"}},
		{"id":"2","text":"Loving the venue","author":{"id":"u-bob","handle":"bob"}}]`); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	expect(t, wall, "add webhook:1", "add webhook:2")
	if ids := snapshotIDs(t, app, "brand"); len(ids) != 0 {
		t.Errorf("the posts API shows %v without rights", ids)
	}
	if ids := wallIDs(t, app); len(ids) != 2 {
		t.Errorf("the wall's posts: %v, want both", ids)
	}
	if cards := mustBody(t, app, "/api/v1/streams/brand/cards.html"); strings.Contains(cards, "Great keynote") {
		t.Error("the cards show a post without rights")
	}
	waitFor(t, "the posts in the index", func() bool {
		return strings.Contains(mustBody(t, app, "/api/v1/streams/brand/search"), "webhook:2")
	})

	// A moderator asks ana; the answer is the text to send her.
	code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/brand/posts/webhook:1/rights", `{"action":"request"}`)
	if code != http.StatusOK || !strings.Contains(body, `"state":"requested"`) || !strings.Contains(body, "@ana") || !strings.Contains(body, "#YesSummit") {
		t.Fatalf("request: %d %s", code, body)
	}
	// Someone else's reply with the hashtag grants nothing: once her next
	// post (decided after it, in a later batch) is on the wall, the
	// widgets still show nothing.
	if code, body := app.push(t, `{"id":"3","text":"#YesSummit lol","author":{"id":"u-mal","handle":"mallory"},"kind":"reply","reply_to":"1"}`); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	expect(t, wall, "add webhook:3")
	if code, body := app.push(t, `{"id":"5","text":"anyway","author":{"id":"u-mal","handle":"mallory"}}`); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	expect(t, wall, "add webhook:5")
	if ids := snapshotIDs(t, app, "brand"); len(ids) != 0 {
		t.Fatalf("someone else's reply granted rights: the widgets show %v", ids)
	}
	// Ana's reply does.
	if code, body := app.push(t, `{"id":"4","text":"Sure, go ahead! #yessummit","author":{"id":"u-ana","handle":"ana"},"kind":"reply","reply_to":"1"}`); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, body)
	}
	expect(t, wall, "add webhook:4")
	if m := next(t, widget); describe(m) != "add webhook:1" {
		t.Fatalf("the widget got %q first, want ana's post once she consented", describe(m))
	}
	var audit string
	waitFor(t, "the grant in the audit", func() bool {
		audit = mustBody(t, app, "/api/v1/streams/brand/audit?event=rights")
		return strings.Contains(audit, `"actor":"curation"`)
	})
	if !strings.Contains(audit, `"actor":"admin-token"`) || !strings.Contains(audit, "the author replied #YesSummit") {
		t.Errorf("audit: %s", audit)
	}
	var ex privacy.Export
	if err := json.Unmarshal([]byte(mustBody(t, app, "/api/v1/authors/webhook:ana/export")), &ex); err != nil {
		t.Fatal(err)
	}
	var granted bool
	for _, p := range ex.Posts {
		for _, r := range p.Streams {
			if p.Post.ID == "webhook:1" && r.Rights != nil && r.Rights.State == "granted" && r.Rights.Proof != nil && r.Rights.Proof.PostID == "webhook:4" {
				granted = true
			}
		}
	}
	if !granted {
		t.Errorf("the export does not show the grant with ana's reply as proof: %+v", ex.Posts)
	}

	// A moderator records bob's consent given by email, then revokes it.
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/brand/posts/webhook:2/rights", `{"action":"grant"}`); code != http.StatusBadRequest || !strings.Contains(body, "note") {
		t.Errorf("a grant without a note: %d %s", code, body)
	}
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/brand/posts/webhook:2/rights", `{"action":"grant","note":"email from bob, 5 Dec"}`); code != http.StatusOK {
		t.Fatalf("grant: %d %s", code, body)
	}
	expect(t, widget, "add webhook:2")
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/brand/posts/webhook:2/rights", `{"action":"revoke","note":"bob changed his mind"}`); code != http.StatusOK {
		t.Fatalf("revoke: %d %s", code, body)
	}
	expect(t, widget, "remove webhook:2")
	if code, body := app.adminJSON(t, http.MethodPost, "/api/v1/streams/brand/posts/webhook:2/rights", `{"action":"sell"}`); code != http.StatusBadRequest || !strings.Contains(body, "request, grant, revoke") {
		t.Errorf("an unknown action: %d %s", code, body)
	}
	if code, body := app.adminJSON(t, http.MethodPatch, "/api/v1/streams/brand/settings", `{"rights":{"required":true,"hashtag":"not a tag!","exempt":["kiosk"]}}`); code != http.StatusBadRequest ||
		!strings.Contains(body, "rights.hashtag") || !strings.Contains(body, "rights.exempt[0]") {
		t.Errorf("bad rights settings: %d %s", code, body)
	}
	// The wall is exempt: it still shows every post.
	if ids := wallIDs(t, app); len(ids) != 5 {
		t.Errorf("the wall's posts: %v, want all five", ids)
	}

	// After a restart the widgets show what has rights, nothing else.
	app.stop(t)
	app = startApp(t, dir, rightsConfig)
	waitFor(t, "the display loaded", func() bool {
		code, _ := app.admin(t, http.MethodGet, "/api/v1/streams/brand/posts")
		return code == http.StatusOK
	})
	if ids := snapshotIDs(t, app, "brand"); len(ids) != 1 || ids[0] != "webhook:1" {
		t.Errorf("after a restart the widgets' posts are %v, want only webhook:1", ids)
	}
	if m := next(t, app.dialSurface(t, "brand", "")); m.Type != "snapshot" || len(m.Posts) != 1 || m.Posts[0].ID != "webhook:1" {
		t.Errorf("after a restart a widget's snapshot is %+v", m)
	}
}
