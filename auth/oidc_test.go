package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/chorus-wall/chorus/config"
)

// provider is a small OpenID Connect provider: discovery, JWKS, an
// authorize endpoint that signs in whoever the test says, and a token
// endpoint that checks the client, the code, the redirect and PKCE, and
// returns a real RS256-signed ID token.
type provider struct {
	t        *testing.T
	srv      *httptest.Server
	key      *rsa.PrivateKey
	clientID string
	secret   string

	mu sync.Mutex
	// next is the claims of whoever signs in next; deny makes the person
	// cancel instead.
	next map[string]any
	deny bool
	// tamper changes the ID token's claims; signWith signs it with another key.
	tamper   func(map[string]any)
	signWith *rsa.PrivateKey
	codes    map[string]authRequest
}

type authRequest struct {
	nonce, challenge, redirect string
	claims                     map[string]any
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{t: t, key: key, clientID: "chorus-test", secret: "provider-client-secret", codes: map[string]authRequest{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) signIn(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next, p.deny, p.tamper, p.signWith = claims, false, nil, nil
}

func (p *provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.srv.URL,
		"authorization_endpoint":                p.srv.URL + "/authorize",
		"token_endpoint":                        p.srv.URL + "/token",
		"jwks_uri":                              p.srv.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: string(jose.RS256), Use: "sig"},
	}})
}

func (p *provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || q.Get("client_id") != p.clientID || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" ||
		!strings.Contains(q.Get("scope"), "openid") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	if p.deny {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user cancelled")
	} else {
		code := randomToken(16)
		p.codes[code] = authRequest{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), claims: p.next}
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.clientID || secret != p.secret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	req, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code")) // codes work once
	tamper, signWith := p.tamper, p.signWith
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != req.redirect ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.srv.URL, "aud": p.clientID, "sub": "subject-1", "nonce": req.nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	for k, v := range req.claims {
		claims[k] = v
	}
	if tamper != nil {
		tamper(claims)
	}
	key := p.key
	if signWith != nil {
		key = signWith
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		p.t.Error(err)
		return
	}
	idToken, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		p.t.Error(err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": randomToken(16), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ssoHarness is the auth routes with single sign-on at a local provider.
func ssoHarness(t *testing.T, roles ...config.OIDCRole) (*harness, *provider) {
	t.Helper()
	h := newHarness(t)
	p := newProvider(t)
	if len(roles) == 0 {
		roles = []config.OIDCRole{
			{Claim: "groups", Value: "chorus-owners", Role: "owner"},
			{Claim: "groups", Value: "summit-mods", Role: "moderator", Streams: []string{streamA}},
			{Claim: "realm_access.roles", Value: "viewer", Role: "viewer"},
		}
	}
	sso, err := NewSSO(h.store, config.OIDC{
		Issuer: p.srv.URL, ClientID: p.clientID, ClientSecret: config.Secret(p.secret),
		Label: "Brand SSO", Scopes: []string{"openid", "email"}, UsernameClaim: "email", Roles: roles,
	}, h.srv.URL, p.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	h.handlers.SSO = sso
	return h, p
}

// ssoLogin walks the browser through the redirects and returns where it
// ends up: a path on Chorus outside /api/v1/oidc.
func (b *browser) ssoLogin(start string) string {
	b.h.t.Helper()
	next := b.h.srv.URL + start
	for range 5 {
		req, _ := http.NewRequestWithContext(b.h.t.Context(), http.MethodGet, next, nil)
		resp, err := b.client.Do(req)
		if err != nil {
			b.h.t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			b.h.t.Fatalf("GET %s: %d without a redirect", next, resp.StatusCode)
		}
		u, _ := url.Parse(loc)
		if !u.IsAbs() && !strings.HasPrefix(u.Path, "/api/v1/oidc/") {
			return loc
		}
		if !u.IsAbs() {
			loc = b.h.srv.URL + loc
		}
		next = loc
	}
	b.h.t.Fatal("too many redirects")
	return ""
}

func TestSSOSignIn(t *testing.T) {
	h, p := ssoHarness(t)
	opts := h.browser().do(http.MethodGet, "/api/v1/login-options", nil).want(t, http.StatusOK)
	if sso, _ := opts.body["sso"].(map[string]any); sso["label"] != "Brand SSO" || sso["login_url"] != "/api/v1/oidc/login" {
		t.Fatalf("login options: %s", opts.raw)
	}

	p.signIn(map[string]any{"email": "Mod@Brand.example", "email_verified": true, "groups": []string{"staff", "summit-mods"}})
	b := h.browser()
	if got := b.ssoLogin("/api/v1/oidc/login?return=/console/streams/a"); got != "/console/streams/a" {
		t.Fatalf("landed on %s", got)
	}
	who := b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
	if who.str("user") != "mod@brand.example" || who.str("kind") != "sso" || who.str("role") != "moderator" {
		t.Fatalf("signed in as: %s", who.raw)
	}
	if s, _ := who.body["streams"].([]any); len(s) != 1 || s[0] != streamA {
		t.Fatalf("streams: %s", who.raw)
	}
	b.csrf = who.str("csrf_token")
	if r := b.do(http.MethodPost, "/api/v1/streams/a/pause", nil).want(t, http.StatusOK); r.str("actor") != "mod@brand.example" {
		t.Fatalf("audit actor %q", r.str("actor"))
	}
	b.do(http.MethodPost, "/api/v1/streams/b/pause", nil).want(t, http.StatusForbidden)
	b.do(http.MethodPut, "/api/v1/session/password", map[string]string{"current": "x", "new": otherPassword}).want(t, http.StatusBadRequest)

	// The first rule that matches decides.
	p.signIn(map[string]any{"email": "boss@brand.example", "groups": []string{"summit-mods", "chorus-owners"}})
	boss := h.browser()
	boss.ssoLogin("/api/v1/oidc/login")
	if r := boss.do(http.MethodGet, "/api/v1/session", nil); r.str("role") != "owner" {
		t.Fatalf("boss: %s", r.raw)
	}
	// Nested claims (Keycloak's realm_access.roles); a name that is no
	// email is marked as single sign-on.
	p.signIn(map[string]any{"email": "kc-user", "realm_access": map[string]any{"roles": []string{"viewer"}}})
	kc := h.browser()
	if got := kc.ssoLogin("/api/v1/oidc/login?return=//evil.example/"); got != "/console" {
		t.Fatalf("an outside return address was followed: %s", got)
	}
	if r := kc.do(http.MethodGet, "/api/v1/session", nil); r.str("user") != "sso:kc-user" || r.str("role") != "viewer" {
		t.Fatalf("keycloak user: %s", r.raw)
	}

	// An owner signs a single sign-on person out everywhere.
	boss.csrf = boss.do(http.MethodGet, "/api/v1/session", nil).str("csrf_token")
	boss.do(http.MethodDelete, "/api/v1/users/mod@brand.example/sessions", nil).want(t, http.StatusNoContent)
	b.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	kc.do(http.MethodGet, "/api/v1/session", nil).want(t, http.StatusOK)
}

func TestSSORefusals(t *testing.T) {
	h, p := ssoHarness(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"email": "mod@brand.example", "email_verified": true, "groups": []string{"summit-mods"}}
	for _, tc := range []struct {
		name  string
		setup func()
		want  string
	}{
		{"no matching rule", func() {
			p.signIn(map[string]any{"email": "guest@else.example", "groups": []string{"visitors"}})
		}, SSONoRole},
		{"unverified email", func() {
			p.signIn(map[string]any{"email": "mod@brand.example", "email_verified": false, "groups": []string{"summit-mods"}})
		}, SSOFailed},
		{"no email", func() { p.signIn(map[string]any{"groups": []string{"summit-mods"}}) }, SSOFailed},
		{"wrong nonce", func() {
			p.signIn(good)
			p.tamper = func(c map[string]any) { c["nonce"] = "someone-elses" }
		}, SSOFailed},
		{"wrong audience", func() {
			p.signIn(good)
			p.tamper = func(c map[string]any) { c["aud"] = "another-app" }
		}, SSOFailed},
		{"wrong issuer", func() {
			p.signIn(good)
			p.tamper = func(c map[string]any) { c["iss"] = "https://evil.example" }
		}, SSOFailed},
		{"expired token", func() {
			p.signIn(good)
			p.tamper = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
		}, SSOFailed},
		{"signed by another key", func() {
			p.signIn(good)
			p.signWith = other
		}, SSOFailed},
		{"cancelled at the provider", func() {
			p.signIn(good)
			p.deny = true
		}, SSODenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup()
			b := h.browser()
			if got := b.ssoLogin("/api/v1/oidc/login"); got != "/login?error="+tc.want {
				t.Fatalf("landed on %s, want /login?error=%s", got, tc.want)
			}
			if b.cookie() != "" {
				t.Fatal("a refused sign-in set a session cookie")
			}
		})
	}
}

// The provider's redirect only works in the browser that started the
// sign-in, and only once.
func TestSSOStateBoundToBrowser(t *testing.T) {
	h, p := ssoHarness(t)
	p.signIn(map[string]any{"email": "mod@brand.example", "groups": []string{"summit-mods"}})
	b := h.browser()
	// Walk to the provider by hand and keep the callback address.
	get := func(b *browser, u string) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	toProvider := get(b, h.srv.URL+"/api/v1/oidc/login").Header.Get("Location")
	callback := get(b, toProvider).Header.Get("Location")
	if !strings.HasPrefix(callback, h.srv.URL+SSOCallbackPath) {
		t.Fatalf("provider sent the browser to %s", callback)
	}
	// Another browser (an attacker who got the link) is refused.
	if loc := get(h.browser(), callback).Header.Get("Location"); loc != "/login?error="+SSOFailed {
		t.Fatalf("callback in another browser: %s", loc)
	}
	if loc := get(b, callback).Header.Get("Location"); loc != "/console" {
		t.Fatalf("callback in the right browser: %s", loc)
	}
	// Replayed: the state is used up (and the cookie cleared).
	b2 := h.browser()
	toProvider = get(b2, h.srv.URL+"/api/v1/oidc/login").Header.Get("Location")
	callback = get(b2, toProvider).Header.Get("Location")
	state, _ := url.Parse(callback)
	b2.client.Jar.SetCookies(state, []*http.Cookie{{Name: stateCookie, Value: state.Query().Get("state"), Path: "/api/v1/oidc"}})
	get(b2, callback)
	b2.client.Jar.SetCookies(state, []*http.Cookie{{Name: stateCookie, Value: state.Query().Get("state"), Path: "/api/v1/oidc"}})
	if loc := get(b2, callback).Header.Get("Location"); !strings.HasPrefix(loc, "/login?error=") {
		t.Fatalf("replayed callback: %s", loc)
	}
}

// A provider that cannot be reached fails the sign-in, not Chorus.
func TestSSOProviderDown(t *testing.T) {
	h, p := ssoHarness(t)
	p.srv.Close()
	r := h.browser().do(http.MethodGet, "/api/v1/oidc/login", nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.str("error"), "cannot be reached") {
		t.Fatalf("provider down: %d %s", r.status, r.raw)
	}
	h.user("ana", Viewer)
	h.browser().login("ana", testPassword).want(t, http.StatusOK)
}

func TestNewSSORejectsBadRules(t *testing.T) {
	h := newHarness(t)
	_, err := NewSSO(h.store, config.OIDC{Issuer: "https://id.example", ClientID: "x", Roles: []config.OIDCRole{
		{Claim: "groups", Value: "a", Role: "admin"},
		{Claim: "groups", Value: "b", Role: "viewer", Streams: []string{"Bad Stream"}},
	}}, "http://localhost:8080", nil)
	if err == nil || !strings.Contains(err.Error(), "auth.oidc.roles[0].role") || !strings.Contains(err.Error(), "auth.oidc.roles[1].streams[0]") {
		t.Fatalf("bad rules: %v", err)
	}
}
