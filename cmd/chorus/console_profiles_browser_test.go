package main

import (
	"fmt"
	"testing"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// testProfiles: an owner edits the quiet stream's default display profile in
// the console; the live preview (the real widget, with the draft) changes
// before anything is saved; a bad colour is refused next to its field; the
// saved profile is what the API serves. A viewer sees the profile read-only.
func testProfiles(t *testing.T, app *testApp) {
	ctx := bt.Tab(t)
	w := bt.Watch(t, ctx)
	bt.Emulate(t, ctx, bt.Desktop)
	signIn(t, ctx, app, "olivia", "/console/streams/quiet/profiles")
	bt.Navigate(t, ctx, app.base+"/console/streams/quiet/profiles")
	const preview = `document.querySelector('.profile-preview chorus-wall')`
	bt.WaitJS(t, ctx, "the form and its preview", `!!document.getElementById('save-profile') && !!`+preview+` && !!`+preview+`.shadowRoot && `+preview+`.shadowRoot.querySelector('.widget').dataset.state !== 'loading'`)

	setValue(t, ctx, `.field[data-key="header"] input`, "Live from the lobby")
	setValue(t, ctx, `.field[data-key="layout"] select`, "list")
	setValue(t, ctx, `.field[data-key="colors.accent"] input`, "url(x)")
	bt.WaitJS(t, ctx, "the draft in the preview", preview+`.shadowRoot.querySelector('.headline').textContent === 'Live from the lobby' && `+preview+`.shadowRoot.querySelector('.widget').dataset.layout === 'list'`)

	submit(t, ctx, ".profile-form")
	bt.WaitJS(t, ctx, "the bad colour refused next to its field", `(() => { const e = document.querySelector('.field[data-key="colors.accent"] .field-error'); return !!e && !e.hidden && e.textContent.includes('not a CSS colour'); })()`)

	setValue(t, ctx, `.field[data-key="colors.accent"] input`, "#ff6600")
	submit(t, ctx, ".profile-form")
	bt.WaitJS(t, ctx, "saved", `document.querySelector('.profile-form .form-status').textContent.startsWith('Saved')`)
	got := evalAwait[string](t, ctx, `fetch('/api/v1/streams/quiet/profiles/default').then(r => r.json()).then(d => [d.stored, d.profile.header, d.profile.layout, d.profile.colors.accent].join('|'))`)
	if want := "true|Live from the lobby|list|#ff6600"; got != want {
		t.Errorf("stored profile = %s, want %s", got, want)
	}
	if !bt.Eval[bool](t, ctx, `document.querySelector('.profile-list button[data-name="default"]').getAttribute('aria-pressed') === 'true'`) {
		t.Error("the saved profile is not marked in the list")
	}
	ready := preview + `.shadowRoot.querySelector('.widget').dataset.state === 'live'`
	bt.WaitJS(t, ctx, "the preview live", ready)
	bt.Screenshot(t, ctx, "profiles-desktop")
	bt.Emulate(t, ctx, bt.Phone)
	bt.Navigate(t, ctx, app.base+"/console/streams/quiet/profiles")
	bt.WaitJS(t, ctx, "the form on a phone", `!!document.getElementById('save-profile') && `+preview+`.shadowRoot.querySelector('.headline').textContent === 'Live from the lobby' && `+ready)
	bt.Screenshot(t, ctx, "profiles-phone")
	w.Check(t)

	// A viewer reads the profile and its preview but cannot change it.
	vctx := bt.Tab(t)
	bt.Emulate(t, vctx, bt.Desktop)
	signIn(t, vctx, app, "vic", "/console/streams/quiet/profiles")
	bt.Navigate(t, vctx, app.base+"/console/streams/quiet/profiles")
	bt.WaitJS(t, vctx, "the profile, read-only", `!!document.querySelector('.profile-form') && document.querySelector('.field[data-key="header"] input').value === 'Live from the lobby'`)
	checks := map[string]string{
		"no save or delete button": `!document.getElementById('save-profile') && !document.getElementById('delete-profile')`,
		"every field disabled":     `Array.from(document.querySelectorAll('.profile-form fieldset.panel')).every(f => f.disabled)`,
		"no new-profile form":      `!document.getElementById('new-profile-name')`,
		"says why":                 `document.querySelector('.profile-form').textContent.includes('needs the manager role')`,
	}
	for what, cond := range checks {
		if !bt.Eval[bool](t, vctx, cond) {
			t.Errorf("viewer: %s: false", what)
		}
	}
	status := evalAwait[int](t, vctx, fmt.Sprintf(`fetch('/api/v1/session').then(r => r.json()).then(s => fetch('/api/v1/streams/quiet/profiles/default', {method: 'PUT', headers: {'X-CSRF-Token': s.csrf_token, 'Content-Type': 'application/json'}, body: %q})).then(r => r.status)`, `{"header":"vic was here"}`))
	if status != 403 {
		t.Errorf("a viewer's PUT answered %d, want 403", status)
	}
}
