package access

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/config"
)

type streams map[string]config.Stream

func (s streams) Get(id string) (config.Stream, bool) { st, ok := s[id]; return st, ok }

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func setup(t *testing.T) (*echo.Echo, *Tokens, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	tokens, err := NewTokens(bytes.Repeat([]byte{3}, 32), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	p := &Policy{Tokens: tokens, Streams: streams{
		"brand":   {ID: "brand", AllowedOrigins: []string{"https://www.brand.example", "https://shop.brand.example/"}},
		"open":    {ID: "open", AllowedOrigins: []string{"*"}},
		"closed":  {ID: "closed"},
		"private": {ID: "private", ViewerToken: ViewerTokenRequired, AllowedOrigins: []string{"https://www.brand.example"}},
	}}
	e := echo.New()
	ok := func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		c.Response().Header().Set("X-Frame-Options", "DENY")
		return c.String(http.StatusOK, "posts")
	}
	e.Match([]string{http.MethodGet, http.MethodOptions}, "/api/v1/streams/:id/posts", ok, p.Read)
	e.GET("/feeds/:file", ok, p.Read)
	e.GET("/embed/:id", ok, p.Framable)
	return e, tokens, clk
}

func request(e *echo.Echo, method, path, origin string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestCORSOnlyForAllowedOrigins(t *testing.T) {
	e, _, _ := setup(t)
	for _, tc := range []struct {
		name, path, origin, want string
	}{
		{"allowed", "/api/v1/streams/brand/posts", "https://www.brand.example", "https://www.brand.example"},
		{"allowed with a trailing slash in the list", "/api/v1/streams/brand/posts", "https://shop.brand.example", "https://shop.brand.example"},
		{"feeds too", "/feeds/brand.json", "https://www.brand.example", "https://www.brand.example"},
		{"another site", "/api/v1/streams/brand/posts", "https://evil.example", ""},
		{"http instead of https", "/api/v1/streams/brand/posts", "http://www.brand.example", ""},
		{"a look-alike host", "/api/v1/streams/brand/posts", "https://www.brand.example.evil.example", ""},
		{"null origin", "/api/v1/streams/brand/posts", "null", ""},
		{"a stream allowing everyone", "/api/v1/streams/open/posts", "https://anyone.example", "https://anyone.example"},
		{"a stream allowing no one", "/api/v1/streams/closed/posts", "https://www.brand.example", ""},
		{"no origin (not a browser)", "/api/v1/streams/brand/posts", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := request(e, http.MethodGet, tc.path, tc.origin)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			h := rec.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.want {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tc.want)
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatal("credentials allowed")
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Fatal("no Vary: Origin")
			}
		})
	}
	pre := request(e, http.MethodOptions, "/api/v1/streams/brand/posts", "https://www.brand.example")
	if pre.Code != http.StatusNoContent || pre.Header().Get("Access-Control-Allow-Methods") != "GET, HEAD" {
		t.Fatalf("preflight: %d %v", pre.Code, pre.Header())
	}
	pre = request(e, http.MethodOptions, "/api/v1/streams/brand/posts", "https://evil.example")
	if pre.Header().Get("Access-Control-Allow-Origin") != "" || pre.Header().Get("Access-Control-Allow-Methods") != "" {
		t.Fatalf("preflight from another site: %v", pre.Header())
	}
}

func TestViewerTokens(t *testing.T) {
	e, tokens, clk := setup(t)
	token, exp, err := tokens.Mint("private", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(clk.now.Add(time.Hour)) {
		t.Fatalf("expiry %s", exp)
	}
	other, _, _ := tokens.Mint("brand", time.Hour)
	forged, err := NewTokens(bytes.Repeat([]byte{4}, 32), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	forgedToken, _, _ := forged.Mint("private", time.Hour)
	for _, tc := range []struct {
		name, query string
		code        int
		says        string
	}{
		{"no token", "", 401, "this stream is private"},
		{"a valid token", "?token=" + token, 200, ""},
		{"another stream's token", "?token=" + other, 401, "not valid for this stream"},
		{"signed with another key", "?token=" + forgedToken, 401, "not valid for this stream"},
		{"a longer expiry with the old signature", "?token=9" + token, 401, "not valid"},
		{"garbage", "?token=abc", 401, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/streams/private/posts", "/feeds/private.rss"} {
				rec := request(e, http.MethodGet, path+tc.query, "")
				if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.says) {
					t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
				}
				if tc.code == 200 && rec.Header().Get("Cache-Control") != "private, no-store" {
					t.Fatalf("a private answer may be cached: %q", rec.Header().Get("Cache-Control"))
				}
			}
		})
	}
	clk.now = clk.now.Add(time.Hour)
	if rec := request(e, http.MethodGet, "/api/v1/streams/private/posts?token="+token, ""); rec.Code != 401 || !strings.Contains(rec.Body.String(), "expired") {
		t.Fatalf("expired token: %d %s", rec.Code, rec.Body)
	}
	if rec := request(e, http.MethodGet, "/api/v1/streams/brand/posts", ""); rec.Code != 200 {
		t.Fatalf("a public stream needs no token: %d", rec.Code)
	}
	for _, ttl := range []time.Duration{0, -time.Second, MaxTokenTTL + time.Second} {
		if _, _, err := tokens.Mint("private", ttl); err == nil {
			t.Errorf("ttl %s accepted", ttl)
		}
	}
}

func TestFramable(t *testing.T) {
	e, _, _ := setup(t)
	for stream, want := range map[string]string{
		"brand":  "frame-ancestors 'self' https://www.brand.example https://shop.brand.example",
		"open":   "frame-ancestors *",
		"closed": "frame-ancestors 'self'",
	} {
		rec := request(e, http.MethodGet, "/embed/"+stream, "")
		csp := rec.Header().Get("Content-Security-Policy")
		if csp != "default-src 'self'; "+want {
			t.Errorf("%s: CSP %q", stream, csp)
		}
		if rec.Header().Get("X-Frame-Options") != "" {
			t.Errorf("%s: X-Frame-Options kept", stream)
		}
	}
}

func TestListed(t *testing.T) {
	if !Listed(config.Stream{}) || Listed(config.Stream{Unlisted: true}) || Listed(config.Stream{ViewerToken: ViewerTokenRequired}) {
		t.Fatal("Listed")
	}
}
