package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/oauth2"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// SSO signs people in with an OpenID Connect provider (Google Workspace,
// Okta, Entra ID, Keycloak...): the authorization code flow with PKCE, a
// nonce, and the ID token's signature, issuer, audience and expiry
// checked by go-oidc. The provider's claims pick the role, by the first of
// the configured rules that matches; nobody without a matching rule gets
// in. A single sign-on session is like a password session, with the grant
// its rule gave at sign-in.
type SSO struct {
	store  *Store
	cfg    config.OIDC
	rules  []claimRule
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

type claimRule struct {
	claim, value string
	grant        Grant
}

// The state cookie and how long a sign-in may take at the provider.
const (
	stateCookie = "chorus_oidc"
	stateTTL    = 10 * time.Minute
	// SSOCallbackPath is where the provider sends the browser back.
	SSOCallbackPath = "/api/v1/oidc/callback"
)

// NewSSO checks the role rules and returns the sign-in (redirected back
// to <publicURL>/api/v1/oidc/callback unless cfg says); the provider is
// discovered at the first sign-in (and again until it answers), so an
// unreachable provider never stops Chorus from starting. client is the
// HTTP client for the provider (http.DefaultClient when nil).
func NewSSO(store *Store, cfg config.OIDC, publicURL string, client *http.Client) (*SSO, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if cfg.RedirectURL == "" {
		cfg.RedirectURL = strings.TrimRight(publicURL, "/") + SSOCallbackPath
	}
	s := &SSO{store: store, cfg: cfg, client: client}
	var errs []error
	for i, r := range cfg.Roles {
		key := fmt.Sprintf("auth.oidc.roles[%d]", i)
		role, err := ParseRole(r.Role)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.role: %q must be one of viewer, moderator, manager, owner", key, r.Role))
			continue
		}
		for j, st := range r.Streams {
			if !post.IsToken(st) {
				errs = append(errs, fmt.Errorf("%s.streams[%d]: %q is not a stream id", key, j, st))
			}
		}
		g, err := Grant{Role: role, Streams: r.Streams}.Normalize()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s", key, strings.TrimPrefix(err.Error(), ErrBadInput.Error()+": ")))
			continue
		}
		s.rules = append(s.rules, claimRule{claim: r.Claim, value: r.Value, grant: g})
	}
	return s, errors.Join(errs...)
}

// Label is what the sign-in button says.
func (s *SSO) Label() string { return s.cfg.Label }

func (s *SSO) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, s.client)
}

// oauth returns the provider's OAuth2 settings and ID token verifier,
// discovering the provider first if needed.
func (s *SSO) oauth(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider == nil {
		dctx, cancel := context.WithTimeout(s.clientContext(ctx), 15*time.Second)
		defer cancel()
		p, err := oidc.NewProvider(dctx, s.cfg.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("auth: single sign-on provider %s: %w", s.cfg.Issuer, err)
		}
		s.provider = p
	}
	cfg := &oauth2.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.cfg.ClientSecret.Reveal(),
		RedirectURL:  s.cfg.RedirectURL,
		Endpoint:     s.provider.Endpoint(),
		Scopes:       s.cfg.Scopes,
	}
	return cfg, s.provider.Verifier(&oidc.Config{ClientID: s.cfg.ClientID}), nil
}

// ssoState is a sign-in in progress, stored under the SHA-256 of the
// state the browser carries in its cookie and through the provider.
type ssoState struct {
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Return   string    `json:"return"`
	Expires  time.Time `json:"expires"`
}

// Start answers GET /api/v1/oidc/login[?return=/console/...]: it sends the
// browser to the provider.
func (s *SSO) Start(c echo.Context, secureCookie bool) error {
	ctx := c.Request().Context()
	cfg, _, err := s.oauth(ctx)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the single sign-on provider cannot be reached; try again or sign in with a password").SetInternal(err)
	}
	state, nonce, verifier := randomToken(32), randomToken(16), oauth2.GenerateVerifier()
	st := ssoState{Nonce: nonce, Verifier: verifier, Return: localPath(c.QueryParam("return")), Expires: s.store.now().Add(stateTTL)}
	if err := s.store.create(ctx, statePrefix+digest(state), st); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name: stateCookie, Value: state, Path: "/api/v1/oidc", MaxAge: int(stateTTL / time.Second),
		HttpOnly: true, Secure: secureCookie, SameSite: http.SameSiteLaxMode,
	})
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Redirect(http.StatusFound, cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// localPath keeps a return address only when it is a path on this site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/console"
	}
	return p
}

// SSO sign-in failures, as the ?error= code the sign-in page shows.
const (
	SSOFailed  = "sso_failed"  // the exchange or the token did not check out
	SSODenied  = "sso_denied"  // the person cancelled at the provider
	SSONoRole  = "sso_no_role" // no role rule matches their claims
	SSOExpired = "sso_expired" // the sign-in took longer than 10 minutes
)

// ssoError is a failed sign-in: a code for the page, details for the log.
type ssoError struct {
	code string
	err  error
}

func (e *ssoError) Error() string { return e.code + ": " + e.err.Error() }

// Finish handles the provider's redirect back: it checks the state
// against the browser's cookie, exchanges the code (with the PKCE
// verifier), verifies the ID token and its nonce, and maps the claims to a
// grant. It returns the person's name, their grant and where to go next.
func (s *SSO) Finish(c echo.Context) (name string, g Grant, next string, err error) {
	fail := func(code string, format string, args ...any) (string, Grant, string, error) {
		return "", Grant{}, "", &ssoError{code: code, err: fmt.Errorf(format, args...)}
	}
	q := c.QueryParams()
	ctx := c.Request().Context()
	cookie, cerr := c.Cookie(stateCookie)
	state := q.Get("state")
	if cerr != nil || state == "" || subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(state)) != 1 {
		return fail(SSOFailed, "state does not match this browser's sign-in (cookie missing or another sign-in)")
	}
	key := statePrefix + digest(state)
	var st ssoState
	rev, err := s.store.get(ctx, key, &st)
	if err != nil {
		return fail(SSOExpired, "no sign-in in progress for this state: %v", err)
	}
	// Use the state up: a replayed redirect is refused.
	if err := s.store.kv.Purge(ctx, key, jetstream.LastRevision(rev)); err != nil {
		return fail(SSOFailed, "state used already")
	}
	if !s.store.now().Before(st.Expires) {
		return fail(SSOExpired, "the sign-in took longer than %s", stateTTL)
	}
	if e := q.Get("error"); e != "" {
		return fail(SSODenied, "provider answered %s: %s", e, q.Get("error_description"))
	}
	code := q.Get("code")
	if code == "" {
		return fail(SSOFailed, "the provider sent no code")
	}
	cfg, verifier, err := s.oauth(ctx)
	if err != nil {
		return fail(SSOFailed, "%v", err)
	}
	xctx, cancel := context.WithTimeout(s.clientContext(ctx), 15*time.Second)
	defer cancel()
	tok, err := cfg.Exchange(xctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return fail(SSOFailed, "code exchange: %v", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return fail(SSOFailed, "the token response has no id_token")
	}
	idt, err := verifier.Verify(xctx, raw)
	if err != nil {
		return fail(SSOFailed, "ID token: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return fail(SSOFailed, "ID token nonce does not match this sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return fail(SSOFailed, "ID token claims: %v", err)
	}
	name, err = s.username(claims)
	if err != nil {
		return fail(SSOFailed, "%v", err)
	}
	for _, r := range s.rules {
		if claimMatches(claims, r.claim, r.value) {
			return name, r.grant, st.Return, nil
		}
	}
	return fail(SSONoRole, "%s has no claim that a role rule matches", name)
}

// username is the name a single sign-on person has in Chorus and the
// audit: the username claim (email by default), lowercased, with "sso:"
// in front when it is not an email address, so it never reads like a
// local user name (those cannot hold "@").
func (s *SSO) username(claims map[string]any) (string, error) {
	claim := s.cfg.UsernameClaim
	v, _ := lookupClaim(claims, claim).(string)
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" || len(v) > 200 {
		return "", fmt.Errorf("the ID token has no usable %q claim", claim)
	}
	if claim == "email" {
		if verified, ok := claims["email_verified"].(bool); ok && !verified {
			return "", fmt.Errorf("the provider says %s is not verified", v)
		}
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("the %q claim holds control characters", claim)
		}
	}
	if !strings.Contains(v, "@") {
		v = "sso:" + v
	}
	return v, nil
}

// lookupClaim finds a claim by its name, or by a dotted path into nested
// objects ("realm_access.roles" in Keycloak).
func lookupClaim(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}

// claimMatches: the claim equals value, or is a list holding it.
func claimMatches(claims map[string]any, name, value string) bool {
	switch v := lookupClaim(claims, name).(type) {
	case string:
		return v == value
	case bool:
		return strconv.FormatBool(v) == value
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64) == value
	case []any:
		return slices.ContainsFunc(v, func(e any) bool { s, ok := e.(string); return ok && s == value })
	}
	return false
}

// loginError is where a failed sign-in sends the browser: the sign-in
// page with a code it explains (never details, never a token).
func loginError(code string) string { return "/login?" + url.Values{"error": {code}}.Encode() }
