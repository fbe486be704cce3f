package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Kind says how a principal proved who it is.
type Kind string

// The kinds of principal.
const (
	KindUser  Kind = "user"  // a password session
	KindSSO   Kind = "sso"   // a single sign-on session
	KindKey   Kind = "key"   // an API key
	KindToken Kind = "token" // the bootstrap admin token
)

// TokenActor is the audit's name for whoever uses the admin token.
const TokenActor = "admin-token"

// Principal is whoever makes a request, with what they may do.
type Principal struct {
	Name string
	Kind Kind
	Grant
	// Session is the signed-in session, nil for bearer credentials.
	Session *Session
}

// Actor is the principal's name in the audit: the user name, "key:" and
// the key's name, or "admin-token".
func (p Principal) Actor() string {
	switch p.Kind {
	case KindKey:
		return "key:" + p.Name
	case KindToken:
		return TokenActor
	}
	return p.Name
}

// Access is what a route requires.
type Access struct {
	// Role is the least role that may call the route.
	Role Role
	// Stream says the route acts on the stream named by the path parameter
	// "id", which the caller's grant must cover.
	Stream bool
	// Create, when set, is the role needed when that stream does not exist
	// yet, for routes that create it.
	Create Role
	// Everywhere says the grant must cover every stream (for what spans
	// them all, like metrics).
	Everywhere bool
}

// String reads like the README: "manager of the stream".
func (a Access) String() string {
	s := string(a.Role)
	if a.Stream {
		s += " of the stream"
	}
	if a.Create != "" {
		s += "; " + string(a.Create) + " to create it"
	}
	if a.Everywhere {
		s += " on every stream"
	}
	return s
}

// Route is one guarded route, as registered.
type Route struct {
	Method, Path string
	Access       Access
}

// Router is where routes are added: an *echo.Echo or an *echo.Group.
type Router interface {
	Add(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// Guard authenticates requests and checks every guarded route's access.
// It records each route it guards, so tests can walk them all.
type Guard struct {
	Store *Store
	// AdminToken, when set, is a bearer credential with the owner role on
	// every stream: the bootstrap credential.
	AdminToken string
	// ActorKey, when set, is the echo context key under which the
	// principal's audit name is stored for handlers that record it.
	ActorKey string
	// StreamExists reports whether a stream exists, for Access.Create.
	StreamExists func(id string) bool
	// Admit, when set, runs for every authenticated call before its access
	// is checked (a rate limit per credential); its error refuses the call.
	Admit func(c echo.Context, p Principal) error
	// Refused, when set, runs when a call's credential is refused; an error
	// it returns (a 429 for a guesser) is the answer instead of the 401.
	Refused func(c echo.Context, err error) error

	routes []Route
}

// Names of the cookie and header.
const (
	SessionCookie = "chorus_session"
	CSRFHeader    = "X-CSRF-Token"
)

const principalKey = "chorus.principal"

// From returns the principal the guard stored for this request.
func From(c echo.Context) (Principal, bool) {
	p, ok := c.Get(principalKey).(Principal)
	return p, ok
}

// Handle adds a route that only callers with access reach; more
// middleware, if given, runs after the guard.
func (g *Guard) Handle(r Router, method, path string, access Access, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	rt := r.Add(method, path, h, append([]echo.MiddlewareFunc{g.Require(access)}, m...)...)
	g.routes = append(g.routes, Route{Method: rt.Method, Path: rt.Path, Access: access})
}

// Routes lists every route the guard protects, in the order added.
func (g *Guard) Routes() []Route { return append([]Route(nil), g.routes...) }

// Require is middleware that authenticates the request, checks the CSRF
// token of a session's state-changing call, and checks access.
func (g *Guard) Require(access Access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, err := g.Admitted(c)
			if err != nil {
				return err
			}
			if p.Session != nil && !safeMethod(c.Request().Method) {
				got := c.Request().Header.Get(CSRFHeader)
				if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.Session.CSRF)) != 1 {
					return echo.NewHTTPError(http.StatusForbidden,
						"missing or wrong "+CSRFHeader+" header: a signed-in browser sends the csrf_token from GET /api/v1/session with every change")
				}
			}
			if err := g.authorize(c, p, access); err != nil {
				return err
			}
			c.Set(principalKey, p)
			if g.ActorKey != "" {
				c.Set(g.ActorKey, p.Actor())
			}
			return next(c)
		}
	}
}

// Admitted authenticates the request and runs the Refused and Admit
// hooks: what Require does before it checks the CSRF token and access,
// for a surface that checks access itself (the console's websocket).
func (g *Guard) Admitted(c echo.Context) (Principal, error) {
	p, err := g.Authenticate(c)
	if err != nil {
		var he *echo.HTTPError
		if g.Refused != nil && errors.As(err, &he) && he.Code == http.StatusUnauthorized {
			if rerr := g.Refused(c, err); rerr != nil {
				return Principal{}, rerr
			}
		}
		return Principal{}, err
	}
	if g.Admit != nil {
		if err := g.Admit(c, p); err != nil {
			return Principal{}, err
		}
	}
	return p, nil
}

func (g *Guard) authorize(c echo.Context, p Principal, access Access) error {
	need, stream := access.Role, ""
	if access.Stream {
		stream = c.Param("id")
		if access.Create != "" && g.StreamExists != nil && !g.StreamExists(stream) {
			need = access.Create
		}
	}
	switch {
	case !p.Role.AtLeast(need):
		what := "this"
		if need == access.Create && need != access.Role {
			what = "creating a stream"
		}
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("%s needs the %s role; %s has %s", what, need, p.Actor(), p.Grant))
	case access.Everywhere && !p.AllStreams():
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("this needs a grant on every stream; %s has %s", p.Actor(), p.Grant))
	case stream != "" && !p.Covers(stream):
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("stream %q is not among %s's streams (%s)", stream, p.Actor(), strings.Join(p.Streams, ", ")))
	}
	return nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Authenticate returns the request's principal: a bearer credential (the
// admin token or an API key) when the Authorization header is there, else
// the session of the chorus_session cookie. Errors are echo errors with
// status 401, or the store's failure.
func (g *Guard) Authenticate(c echo.Context) (Principal, error) {
	p, refusal, err := g.check(c.Request().Context(), credentialOf(c.Request()))
	if refusal != "" {
		return Principal{}, unauthorized(c, refusal)
	}
	return p, err
}

// Again returns a check of the request's credential to run later, for a
// connection that lives on (the console's websocket): it gives the
// principal as it is then (a changed role shows), or an error once the
// session has ended, the key was revoked or the user removed.
func (g *Guard) Again(c echo.Context) func(ctx context.Context) (Principal, error) {
	cred := credentialOf(c.Request())
	return func(ctx context.Context) (Principal, error) {
		p, refusal, err := g.check(ctx, cred)
		if refusal != "" {
			return Principal{}, errors.New(refusal)
		}
		return p, err
	}
}

// credential is what a request presents: an Authorization header, else a
// session cookie.
type credential struct {
	authorization, session string
}

func credentialOf(r *http.Request) credential {
	cr := credential{authorization: r.Header.Get(echo.HeaderAuthorization)}
	if cookie, err := r.Cookie(SessionCookie); err == nil {
		cr.session = cookie.Value
	}
	return cr
}

// check returns the principal of cr, or why it is refused (a 401), or the
// store's failure.
func (g *Guard) check(ctx context.Context, cr credential) (Principal, string, error) {
	if h := cr.authorization; h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return Principal{}, "the Authorization header must be \"Bearer <API key>\"", nil
		}
		if g.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(g.AdminToken)) == 1 {
			return Principal{Name: TokenActor, Kind: KindToken, Grant: Grant{Role: Owner, Streams: []string{}}}, "", nil
		}
		if !strings.HasPrefix(token, KeyPrefix) {
			return Principal{}, "wrong admin token (an API key looks like chorus_<name>_<64 hex digits>)", nil
		}
		p, err := g.Store.AuthenticateKey(ctx, token)
		if errors.Is(err, ErrBadKey) {
			return Principal{}, "unknown or revoked API key", nil
		}
		return p, "", err
	}
	if cr.session == "" {
		return Principal{}, "sign in (POST /api/v1/session) or send Authorization: Bearer <admin token or API key>", nil
	}
	p, _, err := g.Store.Authenticate(ctx, cr.session)
	switch {
	case errors.Is(err, ErrExpired):
		return Principal{}, "your session has expired; sign in again", nil
	case errors.Is(err, ErrNoSession):
		return Principal{}, "your session has ended; sign in again", nil
	}
	return p, "", err
}

func unauthorized(c echo.Context, msg string) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="chorus"`)
	return echo.NewHTTPError(http.StatusUnauthorized, msg)
}
