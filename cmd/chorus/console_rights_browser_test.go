package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// testRights: in a stream whose widgets need rights, each card says where
// the post's rights stand. A moderator requests them and gets the text to
// post, with a copy button; the author's reply with the hashtag grants
// them and the card says so live. A consent given elsewhere is recorded
// with a note (refused without one), then revoked.
func testRights(t *testing.T, app *testApp) {
	if code, resp := app.pushTo(t, "hook-licensed", `[{"id":"r1","text":"What a keynote!","lang":"en","author":{"id":"u-ana","handle":"ana","name":"Ana Pérez"}},
		{"id":"r3","text":"Great venue","lang":"en","author":{"id":"u-bob","handle":"bob","name":"Bob Li"}}]`); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, resp)
	}
	app.waitHeld(t, "licensed", 2)
	ctx := bt.Tab(t)
	w := bt.Watch(t, ctx)
	bt.Emulate(t, ctx, bt.Desktop)
	signIn(t, ctx, app, "maria", "/console")
	openQueue(t, ctx, app, "licensed", "?sort=oldest", 2)
	item := func(id string) string { return fmt.Sprintf(`.q-item[data-id=%q]`, id) }
	badge := func(id string) string {
		return bt.Eval[string](t, ctx, fmt.Sprintf(`(document.querySelector('%s .rights-badge') || {}).textContent || ''`, item(id)))
	}
	if got := badge("webhook:r1"); got != "Not asked" {
		t.Errorf("a new post's rights say %q, want Not asked", got)
	}

	// Request: the dialog shows the text to post, and copies it.
	bt.Eval[bool](t, ctx, fmt.Sprintf(`(document.querySelector('%s .act-rights-request').click(), true)`, item("webhook:r1")))
	bt.WaitJS(t, ctx, "the request's text", `document.getElementById('rights').open && document.getElementById('rights-request').value.includes('#YesSummit')`)
	text := bt.Eval[string](t, ctx, `document.getElementById('rights-request').value`)
	if !strings.Contains(text, "@ana") {
		t.Errorf("the request does not name the author: %q", text)
	}
	checkConsoleLooks(t, ctx, "rights-request-desktop", bt.Desktop)
	bt.Screenshot(t, ctx, "rights-request-desktop")
	bt.Do(t, ctx, chromedp.Click(chromedp.CSS("#rights-copy")))
	bt.WaitJS(t, ctx, "the copy said", `document.getElementById('rights-copied').textContent !== ''`)
	bt.Do(t, ctx, chromedp.Click(chromedp.CSS("#rights-cancel")))
	bt.WaitJS(t, ctx, "the card says requested", fmt.Sprintf(`!document.getElementById('rights').open && (document.querySelector('%s .rights-badge') || {}).textContent === 'Requested'`, item("webhook:r1")))

	// Ana's reply grants the rights; the card follows live.
	if code, resp := app.pushTo(t, "hook-licensed", `{"id":"r2","text":"Of course! #YesSummit","lang":"en","author":{"id":"u-ana","handle":"ana"},"kind":"reply","reply_to":"r1"}`); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, resp)
	}
	bt.WaitJS(t, ctx, "the card says granted", fmt.Sprintf(`(document.querySelector('%s .rights-badge') || {}).textContent === 'Granted'`, item("webhook:r1")))

	// Bob agreed by email: recorded with a note, which is required.
	bt.Eval[bool](t, ctx, fmt.Sprintf(`(document.querySelector('%s .act-rights-grant').click(), true)`, item("webhook:r3")))
	bt.WaitJS(t, ctx, "the consent dialog, the note focused", `document.getElementById('rights').open && document.activeElement.id === 'rights-note'`)
	submit(t, ctx, "#rights-form")
	bt.WaitJS(t, ctx, "a note asked for", `!document.getElementById('rights-error').hidden && document.getElementById('rights').open`)
	bt.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#rights-note"), "email from Bob, 5 Dec"))
	checkConsoleLooks(t, ctx, "rights-grant-desktop", bt.Desktop)
	bt.Screenshot(t, ctx, "rights-grant-desktop")
	submit(t, ctx, "#rights-form")
	bt.WaitJS(t, ctx, "bob's card says granted", fmt.Sprintf(`!document.getElementById('rights').open && (document.querySelector('%s .rights-badge') || {}).textContent === 'Granted'`, item("webhook:r3")))
	bt.Eval[bool](t, ctx, fmt.Sprintf(`(document.querySelector('%s').click(), true)`, item("webhook:r3")))
	bt.Screenshot(t, ctx, "rights-cards-desktop")

	// Revoked, the card says so.
	bt.Eval[bool](t, ctx, fmt.Sprintf(`(document.querySelector('%s .act-rights-revoke').click(), true)`, item("webhook:r3")))
	bt.WaitJS(t, ctx, "the revoke dialog", `document.getElementById('rights').open`)
	submit(t, ctx, "#rights-form")
	bt.WaitJS(t, ctx, "bob's card says revoked", fmt.Sprintf(`(document.querySelector('%s .rights-badge') || {}).textContent === 'Revoked'`, item("webhook:r3")))
	audit := mustBody(t, app, "/api/v1/streams/licensed/audit?event=rights")
	if !strings.Contains(audit, `"actor":"maria"`) || !strings.Contains(audit, `"actor":"curation"`) || strings.Count(audit, `"event":"rights"`) != 4 {
		t.Errorf("the audit of the rights: %s", audit)
	}
	w.Check(t)
}
