package auth

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAPIKeyScopesAndRevocation(t *testing.T) {
	h := newHarness(t)
	admin := h.withKey(testToken)

	// Only owners manage keys; the admin token is an owner.
	r := admin.do(http.MethodPost, "/api/v1/keys", map[string]any{"name": "Wall-Bot", "role": "moderator", "streams": []string{streamA}}).want(t, http.StatusCreated)
	secret := r.str("secret")
	if r.str("name") != "wall-bot" || !strings.HasPrefix(secret, "chorus_wall-bot_") || len(secret) != len("chorus_wall-bot_")+64 {
		t.Fatalf("created key: %s", r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the one answer holding the secret may be cached: %q", r.header.Get("Cache-Control"))
	}
	admin.do(http.MethodPost, "/api/v1/keys", map[string]any{"name": "wall-bot", "role": "viewer"}).want(t, http.StatusConflict)
	admin.do(http.MethodPost, "/api/v1/keys", map[string]any{"name": "x", "role": "god"}).want(t, http.StatusBadRequest)
	admin.do(http.MethodPost, "/api/v1/keys", map[string]any{"name": "x"}).want(t, http.StatusBadRequest)
	admin.do(http.MethodPost, "/api/v1/keys", map[string]any{"name": "x", "role": "viewer", "streams": []string{"Not A Stream"}}).want(t, http.StatusBadRequest)

	bot := h.withKey(secret)
	// Its role on its stream, nothing else; bearer calls need no CSRF token.
	if r := bot.do(http.MethodPost, "/api/v1/streams/a/pause", nil).want(t, http.StatusOK); r.str("actor") != "key:wall-bot" {
		t.Fatalf("audit actor %q", r.str("actor"))
	}
	bot.do(http.MethodPost, "/api/v1/streams/b/pause", nil).want(t, http.StatusForbidden)
	bot.do(http.MethodPut, "/api/v1/streams/a/settings", map[string]any{}).want(t, http.StatusForbidden)
	bot.do(http.MethodGet, "/api/v1/keys", nil).want(t, http.StatusForbidden)
	who := bot.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
	if who.str("kind") != "key" || who.str("role") != "moderator" || who.str("csrf_token") != "" {
		t.Fatalf("who am I with a key: %s", who.raw)
	}
	bot.do(http.MethodDelete, "/api/v1/session", nil).want(t, http.StatusBadRequest)

	// Last use is noted, at most once a minute.
	list := func() map[string]any {
		r := admin.do(http.MethodGet, "/api/v1/keys", nil).want(t, http.StatusOK)
		keys, _ := r.body["keys"].([]any)
		if len(keys) != 1 || strings.Contains(r.raw, "hash") || strings.Contains(r.raw, secret) {
			t.Fatalf("key list: %s", r.raw)
		}
		return keys[0].(map[string]any)
	}
	first := list()["last_used"]
	if first != h.clock.Now().Format(time.RFC3339) {
		t.Fatalf("last_used %v, want %s", first, h.clock.Now().Format(time.RFC3339))
	}
	h.clock.Add(30 * time.Second)
	bot.do(http.MethodGet, "/api/v1/streams/a/queue", nil).want(t, http.StatusOK)
	if list()["last_used"] != first {
		t.Fatal("last_used written more than once a minute")
	}
	h.clock.Add(time.Minute)
	bot.do(http.MethodGet, "/api/v1/streams/a/queue", nil).want(t, http.StatusOK)
	if list()["last_used"] == first {
		t.Fatal("last_used not updated")
	}

	// A near miss of the secret is refused.
	wrong := secret[:len(secret)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", secret[len(secret)-1])+1)%16])
	for _, bad := range []string{wrong, "chorus_wall-bot_", "chorus_nobody_" + strings.Repeat("0", 64), "not-a-key", "chorus_../x_" + strings.Repeat("0", 64)} {
		h.withKey(bad).do(http.MethodGet, "/api/v1/streams/a/queue", nil).want(t, http.StatusUnauthorized)
	}

	// Revoked: refused at once.
	admin.do(http.MethodDelete, "/api/v1/keys/wall-bot", nil).want(t, http.StatusNoContent)
	r = bot.do(http.MethodGet, "/api/v1/streams/a/queue", nil).want(t, http.StatusUnauthorized)
	if r.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	admin.do(http.MethodDelete, "/api/v1/keys/wall-bot", nil).want(t, http.StatusNotFound)
	// A key revoked and made again under its name gets a new secret; the
	// old one stays dead.
	admin.do(http.MethodPost, "/api/v1/keys", map[string]any{"name": "wall-bot", "role": "viewer"}).want(t, http.StatusCreated)
	bot.do(http.MethodGet, "/api/v1/streams/a/queue", nil).want(t, http.StatusUnauthorized)
}

// A key touched just as it is revoked stays revoked: last-use writes are
// conditional on the revision they read.
func TestKeyTouchDoesNotResurrect(t *testing.T) {
	h := newHarness(t)
	_, secret, err := h.store.CreateKey(t.Context(), "bot", Grant{Role: Viewer}, "test")
	if err != nil {
		t.Fatal(err)
	}
	var rec keyRecord
	rev, err := h.store.get(t.Context(), keyPrefix+"bot", &rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.RevokeKey(t.Context(), "bot", "test"); err != nil {
		t.Fatal(err)
	}
	rec.LastUsed = h.clock.Now()
	if err := h.store.update(t.Context(), keyPrefix+"bot", rec, rev); err == nil {
		t.Fatal("a stale update brought a revoked key back")
	}
	if _, err := h.store.AuthenticateKey(t.Context(), secret); err != ErrBadKey {
		t.Fatalf("revoked key: %v", err)
	}
}

func TestAdminTokenIsOwner(t *testing.T) {
	h := newHarness(t)
	admin := h.withKey(testToken)
	who := admin.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
	if who.str("role") != "owner" || who.str("actor") != TokenActor || who.body["all_streams"] != true {
		t.Fatalf("admin token: %s", who.raw)
	}
	admin.do(http.MethodPut, "/api/v1/streams/new-stream/settings", map[string]any{}).want(t, http.StatusOK)
	h.withKey(testToken+"x").do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	b := h.browser()
	for _, hdr := range []string{"Basic " + testToken, "Bearer", "Token " + testToken} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/api/v1/session", nil)
		req.Header.Set("Authorization", hdr)
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d", hdr, resp.StatusCode)
		}
	}
}

func TestUsersAPI(t *testing.T) {
	h := newHarness(t)
	admin := h.withKey(testToken)
	r := admin.do(http.MethodPost, "/api/v1/users", map[string]any{"name": "Ana.Silva", "password": testPassword, "role": "moderator", "streams": []string{"b", "a"}}).want(t, http.StatusCreated)
	if r.str("name") != "ana.silva" || r.str("created_by") != TokenActor || r.str("role") != "moderator" {
		t.Fatalf("created: %s", r.raw)
	}
	for _, tc := range []struct {
		body any
		code int
		want string
	}{
		{map[string]any{"name": "ana.silva", "password": testPassword, "role": "viewer"}, http.StatusConflict, "ana.silva"},
		{map[string]any{"name": "ben", "password": "short", "role": "viewer"}, http.StatusBadRequest, "at least 15"},
		{map[string]any{"name": "ben@x", "password": testPassword, "role": "viewer"}, http.StatusBadRequest, "user name"},
		{map[string]any{"name": "ben", "password": testPassword, "role": "superuser"}, http.StatusBadRequest, "role"},
		{map[string]any{"name": "ben", "password": testPassword}, http.StatusBadRequest, "role is required"},
		{map[string]any{"name": "ben", "password": testPassword, "role": "owner", "streams": []string{"a"}}, http.StatusBadRequest, "every stream"},
		{map[string]any{"name": "ben", "pasword": testPassword, "role": "viewer"}, http.StatusBadRequest, `pasword: unknown key`},
	} {
		r := admin.do(http.MethodPost, "/api/v1/users", tc.body)
		if r.status != tc.code || !strings.Contains(r.str("error"), tc.want) {
			t.Errorf("POST %v: %d %s, want %d naming %q", tc.body, r.status, r.raw, tc.code, tc.want)
		}
	}
	r = admin.do(http.MethodGet, "/api/v1/users/ana.silva", nil).want(t, http.StatusOK)
	if s, _ := r.body["streams"].([]any); len(s) != 2 || s[0] != "a" {
		t.Fatalf("streams not sorted: %s", r.raw)
	}
	admin.do(http.MethodGet, "/api/v1/users/nobody", nil).want(t, http.StatusNotFound)
	admin.do(http.MethodPatch, "/api/v1/users/nobody", map[string]any{"role": "viewer"}).want(t, http.StatusNotFound)
	admin.do(http.MethodPatch, "/api/v1/users/ana.silva", map[string]any{"role": "manager", "streams": []string{"a"}}).want(t, http.StatusOK)
	r = admin.do(http.MethodGet, "/api/v1/users", nil).want(t, http.StatusOK)
	users, _ := r.body["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["role"] != "manager" {
		t.Fatalf("users: %s", r.raw)
	}
	admin.do(http.MethodDelete, "/api/v1/users/ana.silva", nil).want(t, http.StatusNoContent)
	admin.do(http.MethodDelete, "/api/v1/users/ana.silva", nil).want(t, http.StatusNotFound)
}

func TestLastOwnerStays(t *testing.T) {
	h := newHarness(t)
	h.user("root", Owner)
	admin := h.withKey(testToken)
	if r := admin.do(http.MethodDelete, "/api/v1/users/root", nil); r.status != http.StatusConflict || !strings.Contains(r.str("error"), "last owner") {
		t.Fatalf("removing the last owner: %d %s", r.status, r.raw)
	}
	admin.do(http.MethodPatch, "/api/v1/users/root", map[string]any{"role": "manager"}).want(t, http.StatusConflict)
	h.user("second", Owner)
	admin.do(http.MethodPatch, "/api/v1/users/root", map[string]any{"role": "manager"}).want(t, http.StatusOK)
	admin.do(http.MethodDelete, "/api/v1/users/second", nil).want(t, http.StatusConflict)
}
