package auth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/apibody"
)

// Handlers serve sign-in, sessions, first-owner setup, single sign-on,
// and the users and keys owners manage. Which role each needs is said
// where the routes are listed (cmd/chorus/routes.go).
type Handlers struct {
	Store    *Store
	Throttle *Throttle
	// SSO is nil without single sign-on.
	SSO *SSO
	// PublicURL is how browsers reach Chorus: https makes cookies Secure,
	// and its origin may sign in.
	PublicURL string
	Log       *slog.Logger
}

// maxBody bounds every JSON body these handlers read.
const maxBody = 64 << 10

// SessionView answers "who am I": GET /api/v1/session, a sign-in and a
// setup.
type SessionView struct {
	// User is the name; Actor is how the audit names them (keys: "key:<name>").
	User  string `json:"user"`
	Actor string `json:"actor"`
	Kind  Kind   `json:"kind"`
	Role  Role   `json:"role"`
	// Streams are the streams the role covers; AllStreams when every one.
	Streams    []string `json:"streams"`
	AllStreams bool     `json:"all_streams"`
	// Only for a session: its ID, the CSRF token every change must carry
	// in X-CSRF-Token, and when it ends unless used again before.
	SessionID string    `json:"session_id,omitempty"`
	CSRFToken string    `json:"csrf_token,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func (h *Handlers) view(p Principal) SessionView {
	v := SessionView{User: p.Name, Actor: p.Actor(), Kind: p.Kind, Role: p.Role, Streams: p.Streams, AllStreams: p.AllStreams()}
	if v.Streams == nil {
		v.Streams = []string{}
	}
	if se := p.Session; se != nil {
		v.SessionID, v.CSRFToken, v.ExpiresAt = se.ID, se.CSRF, h.Store.Expires(*se)
	}
	return v
}

// decode reads a JSON object (or a flat form) strictly with apibody: an
// unknown key (a typo) is refused naming it. The body is required.
func decode(c echo.Context, v any) error {
	r := c.Request()
	data, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body must be at most %d bytes", maxBody))
	case err != nil:
		return echo.NewHTTPError(http.StatusBadRequest, "the body could not be read")
	case len(bytes.TrimSpace(data)) == 0:
		return echo.NewHTTPError(http.StatusBadRequest, "the body must be a JSON object")
	}
	if err := apibody.Decode(r.Header.Get(echo.HeaderContentType), data, v); err != nil {
		var be *apibody.Error
		if errors.As(err, &be) {
			return echo.NewHTTPError(be.Status, be.Msg)
		}
		return err
	}
	return nil
}

// httpError maps the store's errors to statuses; the message drops the
// sentinel's prefix.
func httpError(err error) error {
	for _, m := range []struct {
		err  error
		code int
	}{
		{ErrBadInput, http.StatusBadRequest},
		{ErrNotFound, http.StatusNotFound},
		{ErrExists, http.StatusConflict},
		{ErrLastOwner, http.StatusConflict},
		{ErrSetupDone, http.StatusConflict},
	} {
		if errors.Is(err, m.err) {
			msg := err.Error()
			if msg != m.err.Error() {
				msg = strings.TrimPrefix(msg, m.err.Error()+": ")
			}
			return echo.NewHTTPError(m.code, msg)
		}
	}
	return err
}

func (h *Handlers) secure(c echo.Context) bool {
	return strings.HasPrefix(h.PublicURL, "https://") || c.IsTLS()
}

// sameSite refuses a sign-in posted from another site (login CSRF: a page
// signing a visitor in as the attacker). Browsers send Origin with every
// POST; callers without one (curl, scripts) are not browsers.
func (h *Handlers) sameSite(c echo.Context) error {
	r := c.Request()
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return echo.NewHTTPError(http.StatusForbidden, "signing in from another site is refused")
	}
	origin := r.Header.Get(echo.HeaderOrigin)
	if origin == "" {
		return nil
	}
	if pub, err := url.Parse(h.PublicURL); err == nil && origin == pub.Scheme+"://"+pub.Host {
		return nil
	}
	if u, err := url.Parse(origin); err == nil && u.Host == r.Host {
		return nil
	}
	return echo.NewHTTPError(http.StatusForbidden, "signing in from another site is refused (Origin "+origin+")")
}

func tooMany(c echo.Context, wait time.Duration, what string) error {
	secs := int(math.Ceil(wait.Seconds()))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("%s; try again in %d s", what, secs))
}

// startBrowserSession ends the session the browser held before, if any
// (so a session id planted before sign-in is worthless after it), and
// sets the cookie of the new one.
func (h *Handlers) startBrowserSession(c echo.Context, se Session, secret string) {
	if old, err := c.Cookie(SessionCookie); err == nil && len(old.Value) == 64 {
		_ = h.Store.Logout(c.Request().Context(), digest(old.Value))
	}
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/",
		Expires: se.Created.Add(h.Store.opts.MaxAge), MaxAge: int(h.Store.opts.MaxAge / time.Second),
		HttpOnly: true, Secure: h.secure(c), SameSite: http.SameSiteLaxMode,
	})
	c.Response().Header().Set("Cache-Control", "no-store")
}

func (h *Handlers) clearCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, Secure: h.secure(c), SameSite: http.SameSiteLaxMode,
	})
}

// LoginOptions answers GET /api/v1/login-options: what the sign-in page
// offers. {"setup_needed": true} while no user exists (the page then asks
// for the setup code from the server's log); "sso" is null without
// single sign-on.
func (h *Handlers) LoginOptions(c echo.Context) error {
	needed, err := h.Store.SetupNeeded(c.Request().Context())
	if err != nil {
		return err
	}
	type sso struct {
		Label    string `json:"label"`
		LoginURL string `json:"login_url"`
	}
	out := struct {
		SetupNeeded bool `json:"setup_needed"`
		Password    bool `json:"password"`
		SSO         *sso `json:"sso"`
	}{SetupNeeded: needed, Password: true}
	if h.SSO != nil {
		out.SSO = &sso{Label: h.SSO.Label(), LoginURL: "/api/v1/oidc/login"}
	}
	return c.JSON(http.StatusOK, out)
}

// Login answers POST /api/v1/session {"username","password"}.
func (h *Handlers) Login(c echo.Context) error {
	if err := h.sameSite(c); err != nil {
		return err
	}
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	name := NormalizeName(body.Username)
	if name == "" || body.Password == "" {
		return echo.NewHTTPError(http.StatusBadRequest, `the body must be {"username": "...", "password": "..."}`)
	}
	addr := c.RealIP()
	if wait := h.Throttle.Wait(name, addr); wait > 0 {
		return tooMany(c, wait, "too many failed sign-ins")
	}
	p, secret, err := h.Store.Login(c.Request().Context(), name, body.Password, addr, c.Request().UserAgent())
	if errors.Is(err, ErrBadLogin) {
		h.Throttle.Failed(name, addr)
		h.Log.Info("sign-in failed", "user", name, "address", addr)
		return echo.NewHTTPError(http.StatusUnauthorized, ErrBadLogin.Error())
	}
	if err != nil {
		return err
	}
	h.Throttle.Succeeded(name)
	h.startBrowserSession(c, *p.Session, secret)
	return c.JSON(http.StatusOK, h.view(p))
}

// Setup answers POST /api/v1/setup {"code","username","password"}: the
// first owner, made with the code the server's log shows, signed in.
func (h *Handlers) Setup(c echo.Context) error {
	if err := h.sameSite(c); err != nil {
		return err
	}
	var body struct {
		Code     string `json:"code"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	addr := c.RealIP()
	if wait := h.Throttle.Wait("", addr); wait > 0 {
		return tooMany(c, wait, "too many wrong setup codes")
	}
	ctx := c.Request().Context()
	u, err := h.Store.Setup(ctx, body.Code, body.Username, body.Password)
	if errors.Is(err, ErrBadCode) {
		h.Throttle.Failed("", addr)
		return echo.NewHTTPError(http.StatusForbidden, err.Error())
	}
	if err != nil {
		return httpError(err)
	}
	h.Log.Info("first owner created with the setup code", "user", u.Name, "address", addr)
	se, secret, err := h.Store.startSession(ctx, u.Name, ViaPassword, nil, addr, c.Request().UserAgent())
	if err != nil {
		return err
	}
	h.startBrowserSession(c, se, secret)
	return c.JSON(http.StatusCreated, h.view(Principal{Name: u.Name, Kind: KindUser, Grant: u.Grant, Session: &se}))
}

// WhoAmI answers GET /api/v1/session.
func (h *Handlers) WhoAmI(c echo.Context) error {
	p, _ := From(c)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, h.view(p))
}

// session returns the caller's session, or a 400 for bearer credentials.
func session(c echo.Context) (Principal, *Session, error) {
	p, _ := From(c)
	if p.Session == nil {
		return p, nil, echo.NewHTTPError(http.StatusBadRequest, "API keys and the admin token have no session; this is for signed-in browsers")
	}
	return p, p.Session, nil
}

// Logout answers DELETE /api/v1/session.
func (h *Handlers) Logout(c echo.Context) error {
	_, se, err := session(c)
	if err != nil {
		return err
	}
	if err := h.Store.Logout(c.Request().Context(), se.ID); err != nil {
		return err
	}
	h.clearCookie(c)
	return c.NoContent(http.StatusNoContent)
}

// sessionInfo is one of my sessions, for GET /api/v1/sessions.
type sessionInfo struct {
	ID        string    `json:"id"`
	Via       string    `json:"via"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	ExpiresAt time.Time `json:"expires_at"`
	Address   string    `json:"address"`
	UserAgent string    `json:"user_agent"`
	Current   bool      `json:"current"`
}

// MySessions answers GET /api/v1/sessions: the caller's sessions, newest
// first.
func (h *Handlers) MySessions(c echo.Context) error {
	p, se, err := session(c)
	if err != nil {
		return err
	}
	list, err := h.Store.Sessions(c.Request().Context(), p.Name, se.Via)
	if err != nil {
		return err
	}
	out := make([]sessionInfo, 0, len(list))
	for _, s := range list {
		out = append(out, sessionInfo{ID: s.ID, Via: s.Via, Created: s.Created, LastSeen: s.LastSeen, ExpiresAt: h.Store.Expires(s),
			Address: s.Address, UserAgent: s.UserAgent, Current: s.ID == se.ID})
	}
	return c.JSON(http.StatusOK, map[string]any{"sessions": out})
}

// SignOutEverywhere answers DELETE /api/v1/sessions: every session of
// the caller ends, this one included.
func (h *Handlers) SignOutEverywhere(c echo.Context) error {
	p, se, err := session(c)
	if err != nil {
		return err
	}
	if err := h.Store.SignOutEverywhere(c.Request().Context(), p.Name, se.Via, ""); err != nil {
		return httpError(err)
	}
	h.Log.Info("signed out everywhere", "user", p.Name)
	h.clearCookie(c)
	return c.NoContent(http.StatusNoContent)
}

// EndSession answers DELETE /api/v1/sessions/{session}: one of the
// caller's sessions (by its id from GET /api/v1/sessions) ends.
func (h *Handlers) EndSession(c echo.Context) error {
	p, se, err := session(c)
	if err != nil {
		return err
	}
	id := c.Param("session")
	if err := h.Store.EndSession(c.Request().Context(), p.Name, se.Via, id); err != nil {
		return httpError(err)
	}
	if id == se.ID {
		h.clearCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}

// ChangePassword answers PUT /api/v1/session/password
// {"current","new"}: the caller's own password; their other sessions end.
func (h *Handlers) ChangePassword(c echo.Context) error {
	p, se, err := session(c)
	if err != nil {
		return err
	}
	if p.Kind != KindUser {
		return echo.NewHTTPError(http.StatusBadRequest, "single sign-on accounts change their password at the provider")
	}
	var body struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	addr := c.RealIP()
	if wait := h.Throttle.Wait(p.Name, addr); wait > 0 {
		return tooMany(c, wait, "too many wrong passwords")
	}
	ctx := c.Request().Context()
	if _, ok, err := h.Store.checkPassword(ctx, p.Name, body.Current, false); err != nil {
		return err
	} else if !ok {
		h.Throttle.Failed(p.Name, addr)
		return echo.NewHTTPError(http.StatusForbidden, "the current password is wrong")
	}
	if err := h.Store.SetPassword(ctx, p.Name, body.New, se.ID, p.Actor()); err != nil {
		return httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// grantBody is a role and streams in a request.
type grantBody struct {
	Role    string    `json:"role"`
	Streams *[]string `json:"streams"`
}

func (b grantBody) grant(old Grant) (Grant, error) {
	g := old
	if b.Role != "" {
		r, err := ParseRole(b.Role)
		if err != nil {
			return g, err
		}
		g.Role = r
	}
	if b.Streams != nil {
		g.Streams = *b.Streams
	}
	return g, nil
}

// ListUsers answers GET /api/v1/users.
func (h *Handlers) ListUsers(c echo.Context) error {
	users, err := h.Store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": users})
}

// GetUser answers GET /api/v1/users/{name}.
func (h *Handlers) GetUser(c echo.Context) error {
	u, err := h.Store.GetUser(c.Request().Context(), c.Param("name"))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, u)
}

// CreateUser answers POST /api/v1/users
// {"name","password","role","streams"}.
func (h *Handlers) CreateUser(c echo.Context) error {
	var body struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		grantBody
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.Role == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "role is required: viewer, moderator, manager or owner")
	}
	g, err := body.grant(Grant{})
	if err != nil {
		return httpError(err)
	}
	p, _ := From(c)
	u, err := h.Store.CreateUser(c.Request().Context(), body.Name, body.Password, g, p.Actor())
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusCreated, u)
}

// UpdateUser answers PATCH /api/v1/users/{name} {"role","streams"}:
// what is left out stays; "streams": [] means every stream.
func (h *Handlers) UpdateUser(c echo.Context) error {
	var body grantBody
	if err := decode(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := h.Store.GetUser(ctx, c.Param("name"))
	if err != nil {
		return httpError(err)
	}
	g, err := body.grant(u.Grant)
	if err != nil {
		return httpError(err)
	}
	p, _ := From(c)
	u, err = h.Store.SetGrant(ctx, u.Name, g, p.Actor())
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, u)
}

// ResetPassword answers PUT /api/v1/users/{name}/password {"password"};
// the user's sessions end.
func (h *Handlers) ResetPassword(c echo.Context) error {
	var body struct {
		Password string `json:"password"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	p, _ := From(c)
	keep := ""
	if p.Session != nil && p.Kind == KindUser && p.Name == NormalizeName(c.Param("name")) {
		keep = p.Session.ID
	}
	if err := h.Store.SetPassword(c.Request().Context(), c.Param("name"), body.Password, keep, p.Actor()); err != nil {
		return httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// RemoveUser answers DELETE /api/v1/users/{name}.
func (h *Handlers) RemoveUser(c echo.Context) error {
	p, _ := From(c)
	if err := h.Store.RemoveUser(c.Request().Context(), c.Param("name"), p.Actor()); err != nil {
		return httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// SignOutUser answers DELETE /api/v1/users/{name}/sessions: every
// session of that person ends, password or single sign-on (name is then
// their email).
func (h *Handlers) SignOutUser(c echo.Context) error {
	name := strings.ToLower(strings.TrimSpace(c.Param("name")))
	ctx := c.Request().Context()
	if err := h.Store.endSessions(ctx, name, ViaSSO, ""); err != nil {
		return err
	}
	if CheckName("user", name) == nil {
		err := h.Store.SignOutEverywhere(ctx, name, ViaPassword, "")
		if err != nil && !errors.Is(err, ErrNotFound) {
			return httpError(err)
		}
	}
	p, _ := From(c)
	h.Log.Info("user signed out everywhere", "user", name, "by", p.Actor())
	return c.NoContent(http.StatusNoContent)
}

// ListKeys answers GET /api/v1/keys.
func (h *Handlers) ListKeys(c echo.Context) error {
	keys, err := h.Store.Keys(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"keys": keys})
}

// CreateKey answers POST /api/v1/keys {"name","role","streams"} with the
// key and, this once, its secret.
func (h *Handlers) CreateKey(c echo.Context) error {
	var body struct {
		Name string `json:"name"`
		grantBody
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.Role == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "role is required: viewer, moderator, manager or owner")
	}
	g, err := body.grant(Grant{})
	if err != nil {
		return httpError(err)
	}
	p, _ := From(c)
	k, secret, err := h.Store.CreateKey(c.Request().Context(), body.Name, g, p.Actor())
	if err != nil {
		return httpError(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, struct {
		Key
		Secret string `json:"secret"`
	}{k, secret})
}

// RevokeKey answers DELETE /api/v1/keys/{name}.
func (h *Handlers) RevokeKey(c echo.Context) error {
	p, _ := From(c)
	if err := h.Store.RevokeKey(c.Request().Context(), c.Param("name"), p.Actor()); err != nil {
		return httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// SSOLogin answers GET /api/v1/oidc/login.
func (h *Handlers) SSOLogin(c echo.Context) error {
	if h.SSO == nil {
		return echo.NewHTTPError(http.StatusNotFound, "single sign-on is not configured (auth.oidc)")
	}
	return h.SSO.Start(c, h.secure(c))
}

// SSOCallback answers GET /api/v1/oidc/callback: the provider's redirect.
// It signs the person in and sends them on, or back to the sign-in page
// with an error code.
func (h *Handlers) SSOCallback(c echo.Context) error {
	if h.SSO == nil {
		return echo.NewHTTPError(http.StatusNotFound, "single sign-on is not configured (auth.oidc)")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.SetCookie(&http.Cookie{Name: stateCookie, Value: "", Path: "/api/v1/oidc", MaxAge: -1, HttpOnly: true, Secure: h.secure(c), SameSite: http.SameSiteLaxMode})
	name, g, next, err := h.SSO.Finish(c)
	if err != nil {
		var se *ssoError
		if !errors.As(err, &se) {
			return err
		}
		h.Log.Warn("single sign-on refused", "reason", se.code, "err", se.err, "address", c.RealIP())
		return c.Redirect(http.StatusSeeOther, loginError(se.code))
	}
	session, secret, err := h.Store.startSession(c.Request().Context(), name, ViaSSO, &g, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	h.Log.Info("signed in with single sign-on", "user", name, "grant", g.String(), "address", c.RealIP())
	h.startBrowserSession(c, session, secret)
	return c.Redirect(http.StatusSeeOther, next)
}
