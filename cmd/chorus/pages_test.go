package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"
)

// TestPagesRevalidate: pages and assets are served with a content ETag and
// Cache-Control: no-cache, and a browser that sends the ETag back gets 304
// without the body. No max-age: after an upgrade a browser must not run
// new modules with old ones.
func TestPagesRevalidate(t *testing.T) {
	app := startApp(t, t.TempDir(), testConfig)
	for _, path := range []string{"/assets/wall.js", "/assets/cards.css", "/assets/favicon.svg", "/", "/wall/wall"} {
		code, h, body := fetch(t, app.base+path, "")
		etag := h.Get("ETag")
		if code != http.StatusOK || body == "" || etag == "" || etag[0] != '"' {
			t.Fatalf("%s: %d, ETag %q, %d bytes", path, code, etag, len(body))
		}
		if cc := h.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", path, cc)
		}
		code, h, body = fetch(t, app.base+path, etag)
		if code != http.StatusNotModified || body != "" {
			t.Errorf("%s with If-None-Match %s: %d, %d bytes; want 304 and no body", path, etag, code, len(body))
		}
		if h.Get("ETag") != etag {
			t.Errorf("%s: 304 with ETag %q, want %q", path, h.Get("ETag"), etag)
		}
		if code, _, _ := fetch(t, app.base+path, `"an-older-version"`); code != http.StatusOK {
			t.Errorf("%s with a stale If-None-Match: %d, want 200", path, code)
		}
	}
	// The wall page and the home page differ, and so do their tags.
	_, home, _ := fetch(t, app.base+"/", "")
	_, wall, _ := fetch(t, app.base+"/wall/wall", "")
	if home.Get("ETag") == wall.Get("ETag") {
		t.Errorf("home and wall share the ETag %s", home.Get("ETag"))
	}
}

// TestChangedAssetGetsANewETag: the ETag is the content's, so the next
// release's wall.js gets another one and browsers fetch it, while an
// unchanged file keeps its tag across releases and stays cached.
func TestChangedAssetGetsANewETag(t *testing.T) {
	serve := func(files fstest.MapFS) *httptest.Server {
		p, err := newPageHandlers(files)
		if err != nil {
			t.Fatal(err)
		}
		e := echo.New()
		e.GET("/assets/*", p.assets())
		srv := httptest.NewServer(e)
		t.Cleanup(srv.Close)
		return srv
	}
	old := serve(fstest.MapFS{
		"assets/wall.js":   {Data: []byte(`import { Masonry } from "./masonry.js";`)},
		"assets/theme.css": {Data: []byte(`:root { --ink: #111; }`)},
	})
	upgraded := serve(fstest.MapFS{
		"assets/wall.js":   {Data: []byte(`import { Masonry, settle } from "./masonry.js";`)},
		"assets/theme.css": {Data: []byte(`:root { --ink: #111; }`)},
	})
	_, h, _ := fetch(t, old.URL+"/assets/wall.js", "")
	before := h.Get("ETag")
	code, h, body := fetch(t, upgraded.URL+"/assets/wall.js", before)
	if code != http.StatusOK || h.Get("ETag") == before || body != `import { Masonry, settle } from "./masonry.js";` {
		t.Fatalf("changed wall.js with the old ETag %s: %d, ETag %q, body %q", before, code, h.Get("ETag"), body)
	}
	_, h, _ = fetch(t, old.URL+"/assets/theme.css", "")
	if code, _, _ := fetch(t, upgraded.URL+"/assets/theme.css", h.Get("ETag")); code != http.StatusNotModified {
		t.Errorf("unchanged theme.css after the upgrade: %d, want 304", code)
	}
}

// fetch gets url, with If-None-Match when etag is set.
func fetch(t *testing.T, url, etag string) (int, http.Header, string) {
	t.Helper()
	req := mustReq(http.MethodGet, url)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}
