package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	bt "github.com/chorus-wall/chorus/static/browsertest"
)

const privateConfig = `
server: {addr: "127.0.0.1:0"}
admin_token: ` + testToken + `
log_level: warn
sources:
  - {id: hook, type: webhook, secret: ` + testSecret + `}
streams:
  - {id: private, title: Backstage, sources: [hook], viewer_token: required, display_limit: 10}
`

// TestPrivateStreamScreensWithAViewerToken: a private stream's screens
// (the kiosk wall, the embed page's widget with its load more, and the
// broadcast overlay) open with the viewer token in their address: every
// websocket and JSON call they make carries it. Without it they show
// nothing and say why.
func TestPrivateStreamScreensWithAViewerToken(t *testing.T) {
	app := startApp(t, t.TempDir(), privateConfig)
	// Different authors and words, so no spam check holds any of them.
	words := []string{"soundcheck", "lighting", "catering", "rigging", "wardrobe", "rehearsal", "security", "transport",
		"makeup", "signage", "projection", "microphones", "tickets", "merch", "dressing", "stagehands",
		"monitors", "confetti", "pyrotechnics", "setlist", "encore", "cables", "backline", "spotlights"}
	var posts []any
	for i, w := range words {
		posts = append(posts, map[string]any{
			"id":     fmt.Sprintf("p%02d", i),
			"text":   fmt.Sprintf("%s is ready backstage %d", w, i),
			"author": map[string]any{"handle": "crew" + w, "name": "Crew " + w},
		})
	}
	body, _ := json.Marshal(posts)
	if code, resp := app.push(t, string(body)); code != http.StatusAccepted {
		t.Fatalf("push: %d %s", code, resp)
	}
	code, resp := app.adminJSON(t, http.MethodPost, "/api/v1/streams/private/viewer-tokens", `{"ttl":"1h"}`)
	if code != http.StatusOK {
		t.Fatalf("mint a viewer token: %d %s", code, resp)
	}
	var minted struct{ Token string }
	if err := json.Unmarshal([]byte(resp), &minted); err != nil || minted.Token == "" {
		t.Fatalf("viewer token answer %s: %v", resp, err)
	}
	token := url.QueryEscape(minted.Token)
	var snap struct{ Posts []struct{ ID string } }
	waitFor(t, "posts on the stream", func() bool {
		code, body := do(t, mustReq(http.MethodGet, app.base+"/api/v1/streams/private/posts?token="+token))
		json.Unmarshal([]byte(body), &snap)
		return code == http.StatusOK && len(snap.Posts) == 10
	})
	onAir := snap.Posts[3].ID
	if code, resp := app.adminJSON(t, http.MethodPost, "/api/v1/streams/private/air", `{"post":"`+onAir+`"}`); code != http.StatusOK {
		t.Fatalf("air: %d %s", code, resp)
	}

	ctx := bt.Tab(t)
	w := bt.Watch(t, ctx)

	// The kiosk wall.
	bt.Navigate(t, ctx, app.base+"/wall/private?token="+token)
	bt.WaitJS(t, ctx, "the private wall's posts", `!!window.chorusWall && window.chorusWall.posts().length === 10`)
	bt.WaitJS(t, ctx, "the private wall's title", `document.title.startsWith('Backstage')`)

	// The embed page: the widget gets the token as its attribute, and
	// load more asks for older posts with it.
	bt.Do(t, ctx, chromedp.EmulateViewport(900, 700))
	bt.Navigate(t, ctx, app.base+"/embed/private?layout=list&limit=10&pace=off&token="+token)
	widget := `document.querySelector('chorus-wall')`
	bt.WaitJS(t, ctx, "the private widget's posts", widget+`.chorus && `+widget+`.chorus.posts().length === 10`)
	bt.WaitJS(t, ctx, "load more", `(() => { const b = `+widget+`.shadowRoot.querySelector('.more-row:not([hidden]) .more'); if (!b || b.disabled) return false; b.click(); return true; })()`)
	bt.WaitJS(t, ctx, "older posts of the private stream", widget+`.chorus.posts().length > 10`)

	// The broadcast overlay shows the post on air.
	bt.Do(t, ctx, chromedp.EmulateViewport(1920, 1080))
	bt.Navigate(t, ctx, app.base+"/overlay/private?token="+token)
	bt.WaitJS(t, ctx, "the private overlay's post on air", `!!window.chorusOverlay && window.chorusOverlay.onAir() === `+jsonString(onAir))
	w.Check(t)

	// Without the token: no posts, and the screen says it is private.
	bt.Navigate(t, ctx, app.base+"/wall/private")
	bt.WaitJS(t, ctx, "the wall to say it needs a token", `!!window.chorusWall && window.chorusWall.state() === 'private' && !document.getElementById('unavailable').hidden`)
	if n := bt.Eval[int](t, ctx, `window.chorusWall.posts().length`); n != 0 {
		t.Errorf("the private wall without a token shows %d posts", n)
	}
	if got := bt.Eval[string](t, ctx, `document.getElementById('unavailable-title').textContent`); got != "This wall is private" {
		t.Errorf("the wall without a token says %q", got)
	}
	bt.Screenshot(t, ctx, "private-wall-without-token")
	bt.Navigate(t, ctx, app.base+"/embed/private?layout=list&token=x"+token)
	bt.WaitJS(t, ctx, "the widget to say it needs a token", widget+`.shadowRoot && `+widget+`.shadowRoot.querySelector('[part~="widget"]').dataset.state === 'private'`)
	if n := bt.Eval[int](t, ctx, widget+`.chorus.posts().length`); n != 0 {
		t.Errorf("the private widget with a bad token shows %d posts", n)
	}
}
