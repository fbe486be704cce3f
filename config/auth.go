package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/post"
)

// Auth is how people sign in: session lifetimes and optional single
// sign-on. Users and API keys themselves live in the chorus_config bucket.
type Auth struct {
	// SessionIdle ends a session not used for this long.
	SessionIdle time.Duration `yaml:"session_idle"`
	// SessionMaxAge ends a session this long after sign-in, used or not.
	SessionMaxAge time.Duration `yaml:"session_max_age"`
	// OIDC enables single sign-on with an OpenID Connect provider.
	OIDC *OIDC `yaml:"oidc"`
}

// OIDC is an OpenID Connect provider to sign in with (Google Workspace,
// Okta, Entra ID, Keycloak...).
type OIDC struct {
	// Issuer is the provider's issuer URL; discovery is at
	// <issuer>/.well-known/openid-configuration.
	Issuer       string `yaml:"issuer"`
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	// RedirectURL is registered at the provider; default
	// <public_url>/api/v1/oidc/callback.
	RedirectURL string `yaml:"redirect_url"`
	// Label is what the sign-in button says.
	Label string `yaml:"label"`
	// Scopes asked for; "openid" is always included.
	Scopes []string `yaml:"scopes"`
	// UsernameClaim names people in Chorus and the audit; default "email".
	UsernameClaim string `yaml:"username_claim"`
	// Roles map claims to roles; the first that matches decides, and
	// someone no rule matches cannot sign in.
	Roles []OIDCRole `yaml:"roles"`
}

// OIDCRole gives Role (on Streams, or every stream when empty) to whoever
// has Claim equal to Value, or a Claim list holding Value.
type OIDCRole struct {
	Claim   string   `yaml:"claim"`
	Value   string   `yaml:"value"`
	Role    string   `yaml:"role"`
	Streams []string `yaml:"streams"`
}

// Defaults of auth.
const (
	DefaultSessionIdle   = 12 * time.Hour
	DefaultSessionMaxAge = 7 * 24 * time.Hour
	// OIDCCallbackPath is the route single sign-on returns to.
	OIDCCallbackPath = "/api/v1/oidc/callback"
)

func (a *Auth) applyDefaults() {
	if a.SessionIdle == 0 {
		a.SessionIdle = DefaultSessionIdle
	}
	if a.SessionMaxAge == 0 {
		a.SessionMaxAge = DefaultSessionMaxAge
	}
	o := a.OIDC
	if o == nil {
		return
	}
	if o.Label == "" {
		o.Label = "Single sign-on"
	}
	if len(o.Scopes) == 0 {
		o.Scopes = []string{"openid", "email", "profile"}
	}
	if !slices.Contains(o.Scopes, "openid") {
		o.Scopes = append([]string{"openid"}, o.Scopes...)
	}
	if o.UsernameClaim == "" {
		o.UsernameClaim = "email"
	}
}

// validate names every bad auth key.
func (a *Auth) validate(bad func(key, format string, args ...any)) {
	if a.SessionIdle < time.Minute {
		bad("auth.session_idle", "%s is too short; keep at least 1m", a.SessionIdle)
	}
	if a.SessionMaxAge < a.SessionIdle {
		bad("auth.session_max_age", "%s is shorter than auth.session_idle (%s)", a.SessionMaxAge, a.SessionIdle)
	}
	o := a.OIDC
	if o == nil {
		return
	}
	if err := checkIssuer(o.Issuer); err != nil {
		bad("auth.oidc.issuer", "%v", err)
	}
	if strings.TrimSpace(o.ClientID) == "" {
		bad("auth.oidc.client_id", "is required (the provider shows it where the app is registered)")
	}
	if o.RedirectURL == "" {
		// <public_url>/api/v1/oidc/callback, filled in at start.
	} else if u, err := url.Parse(o.RedirectURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("auth.oidc.redirect_url", "%q is not an http(s) URL", o.RedirectURL)
	} else if u.Path != OIDCCallbackPath {
		bad("auth.oidc.redirect_url", "%q must end in %s, where Chorus takes the provider's answer", o.RedirectURL, OIDCCallbackPath)
	}
	if len(o.Roles) == 0 {
		bad("auth.oidc.roles", "is empty: without a rule that maps a claim to a role, nobody can sign in")
	}
	for i, r := range o.Roles {
		key := fmt.Sprintf("auth.oidc.roles[%d]", i)
		if strings.TrimSpace(r.Claim) == "" {
			bad(key+".claim", "is required (for example groups, email or hd)")
		}
		if r.Value == "" {
			bad(key+".value", "is required")
		}
		if !oneOf(r.Role, "viewer", "moderator", "manager", "owner") {
			bad(key+".role", "%q must be viewer, moderator, manager or owner", r.Role)
		} else if r.Role == "owner" && len(r.Streams) > 0 {
			bad(key+".streams", "an owner has every stream; leave streams empty")
		}
		for j, s := range r.Streams {
			if !post.IsToken(s) {
				bad(fmt.Sprintf("%s.streams[%d]", key, j), "%q is not a stream id", s)
			}
		}
	}
}

// checkIssuer wants https, or http on a loopback host (a provider on the
// same machine, or in tests).
func checkIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q is not a URL like https://accounts.google.com", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("%q must be https (http only for localhost)", s)
}
