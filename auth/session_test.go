package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

func TestLoginSessionAndCSRF(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Moderator, streamA)
	b := h.browser()

	b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	if r := b.login("ana", "not the password at all"); r.status != http.StatusUnauthorized || r.str("error") != "wrong user name or password" {
		t.Fatalf("wrong password: %d %s", r.status, r.raw)
	}
	if r := b.login("nobody", testPassword); r.status != http.StatusUnauthorized || r.str("error") != "wrong user name or password" {
		t.Fatalf("unknown user answers differently: %d %s", r.status, r.raw)
	}
	r := b.login("ANA ", testPassword).want(t, http.StatusOK)
	if r.str("user") != "ana" || r.str("role") != "moderator" || r.str("csrf_token") == "" || r.str("kind") != "user" {
		t.Fatalf("login answer: %s", r.raw)
	}
	cookie := setCookie(t, r.header, SessionCookie)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure || cookie.MaxAge <= 0 {
		t.Fatalf("cookie attributes: %+v", cookie)
	}

	who := b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
	if who.str("csrf_token") != b.csrf || who.str("actor") != "ana" {
		t.Fatalf("who am I: %s", who.raw)
	}
	if streams, _ := who.body["streams"].([]any); len(streams) != 1 || streams[0] != streamA {
		t.Fatalf("streams: %s", who.raw)
	}
	// Reading needs no CSRF token; changing does.
	token := b.csrf
	b.csrf = ""
	b.do(http.MethodGet, "/api/v1/streams/a/queue", nil).want(t, http.StatusOK)
	if r := b.do(http.MethodPost, "/api/v1/streams/a/pause", nil); r.status != http.StatusForbidden || !strings.Contains(r.str("error"), CSRFHeader) {
		t.Fatalf("change without CSRF token: %d %s", r.status, r.raw)
	}
	b.csrf = strings.Repeat("0", 64)
	b.do(http.MethodPost, "/api/v1/streams/a/pause", nil).want(t, http.StatusForbidden)
	b.csrf = token
	if r := b.do(http.MethodPost, "/api/v1/streams/a/pause", nil).want(t, http.StatusOK); r.str("actor") != "ana" {
		t.Fatalf("audit actor %q, want ana", r.str("actor"))
	}
	// The role is checked too: a moderator cannot change settings, nor act
	// on a stream outside the grant.
	b.do(http.MethodPut, "/api/v1/streams/a/settings", map[string]any{}).want(t, http.StatusForbidden)
	b.do(http.MethodPost, "/api/v1/streams/b/pause", nil).want(t, http.StatusForbidden)

	// Another browser's CSRF token does not work with this cookie.
	other := h.browser()
	other.login("ana", testPassword).want(t, http.StatusOK)
	b.csrf = other.csrf
	b.do(http.MethodPost, "/api/v1/streams/a/pause", nil).want(t, http.StatusForbidden)
	b.csrf = token

	// Logging out needs the token too, then the cookie is worthless.
	old := b.cookie()
	b.csrf = ""
	b.do(http.MethodDelete, "/api/v1/session", nil).want(t, http.StatusForbidden)
	b.csrf = token
	r = b.do(http.MethodDelete, "/api/v1/session", nil).want(t, http.StatusNoContent)
	if c := setCookie(t, r.header, SessionCookie); c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("logout did not clear the cookie: %+v", c)
	}
	replay := h.browser()
	replay.setCookie(old)
	replay.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	other.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
}

func (b *browser) setCookie(value string) {
	u, _ := http.NewRequest(http.MethodGet, b.h.srv.URL+"/", nil)
	b.client.Jar.SetCookies(u.URL, []*http.Cookie{{Name: SessionCookie, Value: value, Path: "/"}})
}

func setCookie(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no Set-Cookie %s in %v", name, h.Values("Set-Cookie"))
	return nil
}

func TestSecureCookieOnHTTPS(t *testing.T) {
	h := newHarness(t, withPublicURL("https://wall.example"))
	h.user("ana", Viewer)
	r := h.browser().login("ana", testPassword).want(t, http.StatusOK)
	if c := setCookie(t, r.header, SessionCookie); !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie on an https site: %+v", c)
	}
}

// Signing in gives a new session id every time; the one the browser held
// before (perhaps planted by someone else) ends.
func TestSessionRotatesOnLogin(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Viewer)
	b := h.browser()
	b.login("ana", testPassword).want(t, http.StatusOK)
	first := b.cookie()
	b.login("ana", testPassword).want(t, http.StatusOK)
	second := b.cookie()
	if first == "" || first == second {
		t.Fatalf("session id not rotated: %q then %q", first, second)
	}
	stale := h.browser()
	stale.setCookie(first)
	stale.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)

	// A made-up session id is ignored and replaced.
	planted := h.browser()
	planted.setCookie(strings.Repeat("ab", 32))
	planted.login("ana", testPassword).want(t, http.StatusOK)
	if planted.cookie() == strings.Repeat("ab", 32) {
		t.Fatal("a planted session id survived sign-in")
	}
}

func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Viewer)

	t.Run("idle", func(t *testing.T) {
		b := h.browser()
		b.login("ana", testPassword).want(t, http.StatusOK)
		// Used just before the idle limit each time: it lives on.
		for range 3 {
			h.clock.Add(DefaultIdleTimeout - time.Minute)
			b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
		}
		h.clock.Add(DefaultIdleTimeout)
		r := b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
		if !strings.Contains(r.str("error"), "expired") {
			t.Fatalf("idle session: %s", r.raw)
		}
	})

	t.Run("max age", func(t *testing.T) {
		b := h.browser()
		r := b.login("ana", testPassword).want(t, http.StatusOK)
		start := h.clock.Now()
		var expires time.Time
		if err := json.Unmarshal([]byte(`"`+r.str("expires_at")+`"`), &expires); err != nil || !expires.Equal(start.Add(DefaultIdleTimeout)) {
			t.Fatalf("expires_at %q, want %s", r.str("expires_at"), start.Add(DefaultIdleTimeout))
		}
		// Busy all week: it still ends after the maximum age.
		for h.clock.Now().Before(start.Add(DefaultMaxAge - time.Hour)) {
			h.clock.Add(time.Hour)
			b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
		}
		h.clock.Add(time.Hour)
		b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	})

	t.Run("sweep", func(t *testing.T) {
		b := h.browser()
		b.login("ana", testPassword).want(t, http.StatusOK)
		if n := countKeys(t, h, sessionPrefix); n == 0 {
			t.Fatal("no session stored")
		}
		h.clock.Add(DefaultMaxAge)
		if err := h.store.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := countKeys(t, h, sessionPrefix); n != 0 {
			t.Fatalf("%d expired sessions left after a sweep", n)
		}
	})
}

func countKeys(t *testing.T, h *harness, prefix string) int {
	t.Helper()
	n := 0
	if err := h.store.scan(t.Context(), prefix, func(string, []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSignOutEverywhere(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Moderator)
	h.user("ben", Moderator)
	phone, laptop, tablet, ben := h.browser(), h.browser(), h.browser(), h.browser()
	for _, b := range []*browser{phone, laptop, tablet} {
		b.login("ana", testPassword).want(t, http.StatusOK)
	}
	ben.login("ben", testPassword).want(t, http.StatusOK)

	list := laptop.do(http.MethodGet, "/api/v1/sessions", nil).want(t, http.StatusOK)
	sessions, _ := list.body["sessions"].([]any)
	if len(sessions) != 3 {
		t.Fatalf("ana's sessions: %s", list.raw)
	}
	// End the phone's session from the laptop.
	var phoneID string
	for _, s := range sessions {
		m := s.(map[string]any)
		if m["id"] == digest(phone.cookie()) {
			phoneID = m["id"].(string)
		}
		if m["current"] == true && m["id"] != digest(laptop.cookie()) {
			t.Fatalf("wrong session marked current: %v", m)
		}
	}
	if phoneID == "" {
		t.Fatalf("phone's session not listed: %s", list.raw)
	}
	laptop.do(http.MethodDelete, "/api/v1/sessions/"+phoneID, nil).want(t, http.StatusNoContent)
	phone.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	// Ben's sessions are not ana's to end.
	laptop.do(http.MethodDelete, "/api/v1/sessions/"+digest(ben.cookie()), nil).want(t, http.StatusNotFound)

	laptop.do(http.MethodDelete, "/api/v1/sessions", nil).want(t, http.StatusNoContent)
	for _, b := range []*browser{laptop, tablet} {
		b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	}
	ben.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
}

func TestPasswordChangesEndSessions(t *testing.T) {
	h := newHarness(t)
	h.user("root", Owner)
	h.user("ana", Moderator)
	here, there := h.browser(), h.browser()
	here.login("ana", testPassword).want(t, http.StatusOK)
	there.login("ana", testPassword).want(t, http.StatusOK)

	// Changing one's own password keeps this session and ends the others.
	here.do(http.MethodPut, "/api/v1/session/password", map[string]string{"current": "wrong wrong wrong wrong", "new": otherPassword}).want(t, http.StatusForbidden)
	here.do(http.MethodPut, "/api/v1/session/password", map[string]string{"current": testPassword, "new": "short"}).want(t, http.StatusBadRequest)
	here.do(http.MethodPut, "/api/v1/session/password", map[string]string{"current": testPassword, "new": otherPassword}).want(t, http.StatusNoContent)
	here.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
	there.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	h.browser().login("ana", testPassword).want(t, http.StatusUnauthorized)

	// An owner's reset ends every session of the user.
	owner := h.browser()
	owner.login("root", testPassword).want(t, http.StatusOK)
	owner.do(http.MethodPut, "/api/v1/users/ana/password", map[string]string{"password": testPassword}).want(t, http.StatusNoContent)
	here.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	h.browser().login("ana", testPassword).want(t, http.StatusOK)
}

// A user's role is read on every request: a change holds at once, and a
// removed user's sessions end.
func TestGrantChangesTakeEffectAtOnce(t *testing.T) {
	h := newHarness(t)
	h.user("root", Owner)
	h.user("ana", Moderator, streamA)
	ana, owner := h.browser(), h.browser()
	ana.login("ana", testPassword).want(t, http.StatusOK)
	owner.login("root", testPassword).want(t, http.StatusOK)

	ana.do(http.MethodPost, "/api/v1/streams/a/pause", nil).want(t, http.StatusOK)
	owner.do(http.MethodPatch, "/api/v1/users/ana", map[string]any{"role": "viewer"}).want(t, http.StatusOK)
	ana.do(http.MethodPost, "/api/v1/streams/a/pause", nil).want(t, http.StatusForbidden)
	ana.do(http.MethodGet, "/api/v1/streams/a/queue", nil).want(t, http.StatusOK)
	ana.do(http.MethodGet, "/api/v1/streams/b/queue", nil).want(t, http.StatusForbidden)
	owner.do(http.MethodPatch, "/api/v1/users/ana", map[string]any{"streams": []string{}}).want(t, http.StatusOK)
	ana.do(http.MethodGet, "/api/v1/streams/b/queue", nil).want(t, http.StatusOK)

	owner.do(http.MethodDelete, "/api/v1/users/ana", nil).want(t, http.StatusNoContent)
	ana.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
}

// A sign-in posted from another site is refused (login CSRF).
func TestLoginFromAnotherSiteRefused(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Viewer)
	b := h.browser()
	b.origin = "https://evil.example"
	b.login("ana", testPassword).want(t, http.StatusForbidden)
	b.origin = "http://chorus.test" // the public URL's origin
	b.login("ana", testPassword).want(t, http.StatusOK)
	b.origin = h.srv.URL // the server's own host
	b.login("ana", testPassword).want(t, http.StatusOK)
}

func TestLoginRejectsBadBodies(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	for body, want := range map[string]string{
		`{"usernme":"ana","password":"x"}`: `usernme: unknown key; known keys here: password, username`,
		`{"username":"ana"}`:               "username",
		`not json`:                         "body is not valid JSON",
		``:                                 "JSON object",
		`{"username":1,"password":"x"}`:    "username: expected a string",
	} {
		r := b.do(http.MethodPost, "/api/v1/session", body)
		if r.status != http.StatusBadRequest || !strings.Contains(r.str("error"), want) {
			t.Errorf("body %q: %d %s, want 400 naming %q", body, r.status, r.raw, want)
		}
	}
	big := `{"username":"ana","password":"` + strings.Repeat("x", maxBody) + `"}`
	b.do(http.MethodPost, "/api/v1/session", big).want(t, http.StatusRequestEntityTooLarge)
}

// Nothing that signs in is stored as it is sent: the bucket holds
// argon2id hashes and SHA-256 digests.
func TestBucketHoldsNoSecrets(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Owner)
	b := h.browser()
	b.login("ana", testPassword).want(t, http.StatusOK)
	_, key, err := h.store.CreateKey(t.Context(), "ci", Grant{Role: Viewer}, "test")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{testPassword, b.cookie(), key}
	err = h.store.scan(t.Context(), "auth.", func(k string, v []byte) error {
		for _, s := range secrets {
			if strings.Contains(string(v), s) {
				t.Errorf("%s holds a secret in clear", k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// And the API never shows the hash.
	r := b.do(http.MethodGet, "/api/v1/users", nil).want(t, http.StatusOK)
	if strings.Contains(r.raw, "argon2") || strings.Contains(r.raw, "password") {
		t.Fatalf("users list shows the password hash: %s", r.raw)
	}
}

// Again checks a long-lived connection's credential: a role change shows,
// and an ended session or a revoked key stops it.
func TestAgainFollowsTheCredential(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Moderator, streamA)
	b := h.browser()
	b.login("ana", testPassword).want(t, http.StatusOK)
	_, key, err := h.store.CreateKey(t.Context(), "bot", Grant{Role: Viewer}, "test")
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	contextWith := func(header, cookie string) echo.Context {
		req := httptest.NewRequest(http.MethodGet, "/ws/console", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
		}
		return e.NewContext(req, httptest.NewRecorder())
	}
	session := h.guard.Again(contextWith("", b.cookie()))
	bot := h.guard.Again(contextWith("Bearer "+key, ""))
	if p, err := session(t.Context()); err != nil || p.Role != Moderator || !p.Covers(streamA) || p.Covers(streamB) {
		t.Fatalf("session: %+v %v", p, err)
	}
	if _, err := h.store.SetGrant(t.Context(), "ana", Grant{Role: Viewer}, "test"); err != nil {
		t.Fatal(err)
	}
	if p, err := session(t.Context()); err != nil || p.Role != Viewer || !p.Covers(streamB) {
		t.Fatalf("after the change: %+v %v", p, err)
	}
	b.csrf = b.do(http.MethodGet, "/api/v1/session", nil).str("csrf_token")
	b.do(http.MethodDelete, "/api/v1/session", nil).want(t, http.StatusNoContent)
	if _, err := session(t.Context()); err == nil {
		t.Fatal("an ended session still holds")
	}
	if _, err := bot(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := h.store.RevokeKey(t.Context(), "bot", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := bot(t.Context()); err == nil {
		t.Fatal("a revoked key still holds")
	}
}
