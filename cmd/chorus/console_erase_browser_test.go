package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/chorus-wall/chorus/privacy"
	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// waitErased waits for cond after an erasure was confirmed: the erasure
// reads both streams whole and compacts the index, which on a loaded
// machine under the race detector took 15 s of this test's data (the
// dialog says "Erasing…" meanwhile), longer than bt.WaitJS waits.
func waitErased(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Minute)
	for !bt.Eval[bool](t, ctx, cond) {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s: %s", what, cond)
		}
	}
}

// testEraseAuthor: erasing an author's data from a post's card in the
// queue. A moderator is offered no erasure; a manager of one stream erases
// from that stream only; an owner erases from every stream, and only after
// typing the author's key exactly (a near miss and Enter erase nothing).
// The author's posts leave the queue, the toast says what was erased, and
// the API's export and audit agree.
func testEraseAuthor(t *testing.T, app *testApp) {
	app.addUser(t, "eli", "manager", "erase")
	at := time.Now().Add(-time.Minute).UTC()
	var posts []map[string]any
	for i, a := range []struct{ id, handle, name, text string }{
		{"e1", "eve", "Eve Example", "Eve's first post at the summit, zqxconsoleerase"},
		{"e2", "eve", "Eve Example", "Eve again: the keynote was great"},
		{"a1", "ana", "Ana Pérez", "Ana says hello from row 3"},
		{"z1", "zed", "Zed Zephyr", "Zed wants this gone from one room"},
	} {
		posts = append(posts, map[string]any{"id": a.id, "text": a.text, "lang": "en",
			"created_at": at.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
			"author":     map[string]any{"id": "u-" + a.handle, "handle": a.handle, "name": a.name}})
	}
	body, _ := json.Marshal(posts)
	if code, resp := app.pushTo(t, "hook-erase", string(body)); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, resp)
	}
	app.waitHeld(t, "erase", 4)
	app.waitHeld(t, "erase-b", 4)
	export := func(author string) privacy.Export {
		t.Helper()
		var ex privacy.Export
		if err := json.Unmarshal([]byte(mustBody(t, app, "/api/v1/authors/"+author+"/export")), &ex); err != nil {
			t.Fatal(err)
		}
		return ex
	}
	item := func(id string) string { return fmt.Sprintf(`.q-item[data-id=%q]`, id) }
	dialogOpen := `document.getElementById('erase').open`

	// A moderator may not erase: no link, and Shift+e does nothing.
	mod := bt.Tab(t)
	wm := bt.Watch(t, mod)
	signIn(t, mod, app, "maria", "/console")
	openQueue(t, mod, app, "erase", "?sort=oldest", 4)
	if n := bt.Eval[int](t, mod, `document.querySelectorAll('.act-erase').length`); n != 0 {
		t.Errorf("a moderator is offered %d erasures", n)
	}
	key(t, mod, "E")
	if bt.Eval[bool](t, mod, dialogOpen) {
		t.Error("a moderator's Shift+e opened the erasure dialog")
	}
	wm.Check(t)

	// A manager of one stream erases from that stream only.
	mgr := bt.Tab(t)
	wg := bt.Watch(t, mgr)
	bt.Emulate(t, mgr, bt.Desktop)
	signIn(t, mgr, app, "eli", "/console")
	openQueue(t, mgr, app, "erase", "?sort=oldest", 4)
	bt.Eval[bool](t, mgr, fmt.Sprintf(`(document.querySelector('%s .act-erase').click(), true)`, item("webhook:z1")))
	bt.WaitJS(t, mgr, "the erasure dialog, the key field focused", dialogOpen+` && document.activeElement.id === 'erase-typed'`)
	if !bt.Eval[bool](t, mgr, `document.getElementById('erase-all').closest('label').hidden && document.getElementById('erase-stream').checked`) {
		t.Error("a manager of one stream is offered to erase from every stream")
	}
	bt.Do(t, mgr, chromedp.SendKeys(chromedp.CSS("#erase-typed"), "webhook:zed"))
	bt.WaitJS(t, mgr, "the erase button on", `!document.getElementById('erase-ok').disabled`)
	bt.Do(t, mgr, chromedp.Click(chromedp.CSS("#erase-ok")))
	waitErased(t, mgr, "the dialog closed and zed's post gone", `!`+dialogOpen+` && window.chorusQueue.total() === 3 && !window.chorusQueue.ids().includes('webhook:z1')`)
	bt.WaitJS(t, mgr, "the toast", `Array.from(document.querySelectorAll('.toast')).some((t) => t.textContent.includes('Erased webhook:zed from Erasure requests: 1 post'))`)
	if ex := export("webhook:zed"); len(ex.Erased) != 1 || ex.Erased[0].Stream != "erase" || len(ex.Posts) != 1 ||
		len(ex.Posts[0].Streams) != 1 || ex.Posts[0].Streams[0].Stream != "erase-b" {
		t.Errorf("after erasing zed from one stream the export says %+v", ex)
	}
	wg.Check(t)

	// An owner erases eve from every stream, by the keyboard, after typing
	// her key. First a look at the dialog on a phone, dark.
	ctx := bt.Tab(t)
	w := bt.Watch(t, ctx)
	signIn(t, ctx, app, "olivia", "/console")
	bt.Eval[bool](t, ctx, `(localStorage.setItem('chorus.console.theme', 'dark'), true)`)
	bt.Emulate(t, ctx, bt.Phone)
	openQueue(t, ctx, app, "erase", "?sort=oldest", 3)
	bt.Eval[bool](t, ctx, fmt.Sprintf(`(document.querySelector('%s .act-erase').click(), true)`, item("webhook:e1")))
	bt.WaitJS(t, ctx, "the erasure dialog", dialogOpen)
	bt.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#erase-typed"), "webhook:eve"))
	checkConsoleLooks(t, ctx, "erase-dialog-phone-dark", bt.Phone)
	bt.Screenshot(t, ctx, "erase-dialog-phone-dark")
	key(t, ctx, kb.Escape)
	bt.WaitJS(t, ctx, "Escape closed it", `!`+dialogOpen)
	if ex := export("webhook:eve"); len(ex.Posts) != 2 {
		t.Fatalf("Escape erased: %+v", ex)
	}

	bt.Eval[bool](t, ctx, `(localStorage.setItem('chorus.console.theme', 'light'), true)`)
	bt.Emulate(t, ctx, bt.Desktop)
	openQueue(t, ctx, app, "erase", "?sort=oldest", 3)
	bt.Eval[bool](t, ctx, fmt.Sprintf(`(document.querySelector('%s').click(), true)`, item("webhook:e1")))
	checkConsoleLooks(t, ctx, "erase-card-desktop", bt.Desktop)
	bt.Screenshot(t, ctx, "erase-card-desktop")
	key(t, ctx, "E")
	bt.WaitJS(t, ctx, "the erasure dialog, the key field focused, every stream chosen",
		dialogOpen+` && document.activeElement.id === 'erase-typed' && document.getElementById('erase-all').checked && document.getElementById('erase-key').textContent === 'webhook:eve'`)
	bt.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#erase-typed"), "webhook:ev"))
	key(t, ctx, kb.Enter)
	if !bt.Eval[bool](t, ctx, dialogOpen+` && document.getElementById('erase-ok').disabled`) {
		t.Fatal("a near miss of the key let the erasure go")
	}
	if ex := export("webhook:eve"); len(ex.Posts) != 2 {
		t.Fatalf("a near miss erased: %+v", ex)
	}
	bt.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#erase-reason"), "GDPR request 2026-114"))
	bt.Do(t, ctx, chromedp.SendKeys(chromedp.CSS("#erase-typed"), "e"))
	bt.WaitJS(t, ctx, "the erase button on", `!document.getElementById('erase-ok').disabled`)
	checkConsoleLooks(t, ctx, "erase-dialog-desktop", bt.Desktop)
	bt.Screenshot(t, ctx, "erase-dialog-desktop")
	bt.Do(t, ctx, chromedp.Focus(chromedp.CSS("#erase-typed")))
	key(t, ctx, kb.Enter)
	waitErased(t, ctx, "the dialog closed and eve's posts gone", `!`+dialogOpen+` && window.chorusQueue.total() === 1 && window.chorusQueue.ids()[0] === 'webhook:a1'`)
	bt.WaitJS(t, ctx, "the toast", `Array.from(document.querySelectorAll('.toast')).some((t) => t.textContent.includes('Erased webhook:eve from every stream: 2 posts'))`)
	t.Log(bt.Eval[string](t, ctx, `Array.from(document.querySelectorAll('.toast')).map((t) => t.textContent).join(' | ')`))
	bt.Screenshot(t, ctx, "erase-done-desktop")

	ex := export("webhook:eve")
	if len(ex.Posts) != 0 || len(ex.Erased) != 1 || ex.Erased[0].Stream != "" {
		t.Errorf("after the erasure the export says %+v", ex)
	}
	if q := mustBody(t, app, "/api/v1/streams/erase-b/search?limit=50"); strings.Contains(q, "webhook:e1") || strings.Contains(q, "webhook:e2") {
		t.Errorf("eve's posts are still in the other stream: %s", q)
	}
	audit := mustBody(t, app, "/api/v1/streams/erase/audit?event=erase")
	if !strings.Contains(audit, `"actor":"olivia"`) || !strings.Contains(audit, "GDPR request 2026-114") || strings.Contains(audit, "webhook:eve") || strings.Contains(audit, "u-eve") {
		t.Errorf("the audit of the erasure: %s", audit)
	}
	w.Check(t)
}
