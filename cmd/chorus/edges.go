package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/curation"
)

// The server's edges: who may call, how much, how big, and what the log
// says about it. Logs never carry a token, a secret or a query string
// (a viewer token may ride in one).

// admit limits calls per credential (the guard's Admit): each user, key
// and the admin token has its own bucket.
func (a *App) admit(c echo.Context, p auth.Principal) error {
	return a.adminLimit.allow(c, "credential "+p.Actor(), "actor", p.Actor())
}

// refused logs a refused credential (the guard's Refused) and limits them
// per client address, so guessing is slow and a flood does not flood the
// log.
func (a *App) refused(c echo.Context, err error) error {
	if lerr := a.adminLimit.allow(c, "client "+c.RealIP()); lerr != nil {
		return lerr
	}
	why := err.Error()
	var he *echo.HTTPError
	if errors.As(err, &he) {
		why, _ = he.Message.(string)
	}
	a.log.Warn("admin credentials refused", "why", why, "method", c.Request().Method,
		"path", c.Request().URL.Path, "remote", c.RealIP())
	return nil
}

// wholeSegments answers 404 when Echo matched a route's last parameter
// across several path segments (/posts/x:1/approve/now as action
// "approve/now"): that path names nothing, so it must not reach a
// handler, nor ask for credentials. An id with a slash in it arrives
// percent-encoded, as one segment.
func wholeSegments(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for i, name := range c.ParamNames() {
			if name != "*" && i < len(c.ParamValues()) && strings.Contains(c.ParamValues()[i], "/") {
				return echo.ErrNotFound
			}
		}
		return next(c)
	}
}

// adminBody caps an admin call's body at limits.admin_body_bytes: whoever
// reads it past that gets an error (413), so no call can make the server
// hold more.
func (a *App) adminBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, a.cfg.Limits.AdminBodyBytes)
		}
		return next(c)
	}
}

// logModeration logs every change made through the admin API with its
// actor: who paused, removed, banned or changed settings, and the answer.
func (a *App) logModeration(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = http.StatusInternalServerError
			var he *echo.HTTPError
			if errors.As(err, &he) {
				status = he.Code
			}
		}
		actor, _ := c.Get(curation.ActorKey).(string)
		attrs := []any{"actor", actor, "method", c.Request().Method, "route", c.Path(), "stream", c.Param("id")}
		for _, p := range []string{"post", "author", "action"} {
			if v := c.Param(p); v != "" {
				if p == "author" {
					v = a.loggedAuthor(c)
				}
				attrs = append(attrs, p, v)
			}
		}
		a.log.Info("moderator action", append(attrs, "status", status)...)
		return err
	}
}

// logRefusedReads logs what a stream's public read refused: a viewer
// token (401 on a private stream; the token is never logged), a websocket
// answered 403 for its Origin, or a cross-origin read answered without CORS
// headers (its browser keeps the answer from the page). Mount it outside
// access.Policy.Read, which sets those headers.
func (a *App) logRefusedReads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusUnauthorized {
			a.log.Warn("viewer token refused", "path", c.Request().URL.Path, "why", he.Message, "remote", c.RealIP())
			return err
		}
		origin := c.Request().Header.Get("Origin")
		if origin == "" {
			return err
		}
		switch {
		case errors.As(err, &he) && he.Code == http.StatusForbidden && isWebsocket(c.Request()):
			a.log.Warn("websocket origin refused", "stream", c.Param("id"), "origin", origin, "remote", c.RealIP())
		case err == nil && c.Response().Status < 400 && !isWebsocket(c.Request()) &&
			c.Response().Header().Get(echo.HeaderAccessControlAllowOrigin) == "" && !a.ownOrigin(c.Request(), origin):
			a.log.Warn("cross-origin read refused", "path", c.Request().URL.Path, "origin", origin, "remote", c.RealIP())
		}
		return err
	}
}

func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// ownOrigin reports whether origin is this server's: the request's host or
// public_url. Browsers send Origin on some same-origin calls too.
func (a *App) ownOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	pub, err := url.Parse(a.cfg.Server.PublicURL)
	return err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, pub.Scheme+"://"+pub.Host)
}

// clientIP says who is calling, for rate limits, sign-in throttling and
// logs (echo's RealIP). Without trusted proxies it is the TCP peer: headers
// like X-Forwarded-For are ignored, since anyone can send them. With them,
// and only when the peer is one of them, it is the rightmost address of
// X-Forwarded-For that is not a trusted proxy (each proxy appends the
// address it saw, so everything left of that hop is the client's to forge),
// or X-Real-IP when there is no X-Forwarded-For. An unparsable hop stops the
// walk at the peer. Loopback and private addresses are trusted only when
// listed.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	forwarded, realIP := echo.ExtractIPFromXFFHeader(opts...), echo.ExtractIPFromRealIPHeader(opts...)
	return func(r *http.Request) string {
		if len(r.Header.Values(echo.HeaderXForwardedFor)) > 0 {
			return forwarded(r)
		}
		return realIP(r)
	}
}

// quietPaths are probes and scrapes: logged at debug, not at info.
var quietPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// accessLog logs every request at info: method, path (never the query),
// status, duration, bytes written and client address. Probes log at
// debug, server errors at warn.
func (a *App) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogResponseSize: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			switch {
			case quietPaths[v.URIPath] && v.Status < 500:
				level = slog.LevelDebug
			case v.Status >= 500 && v.URIPath != "/readyz":
				level = slog.LevelWarn
			}
			a.log.Log(c.Request().Context(), level, "http", "method", v.Method, "path", a.loggedPath(c, v.URIPath),
				"status", v.Status, "duration", v.Latency.Round(time.Microsecond), "bytes", v.ResponseSize,
				"remote", c.RealIP())
			return nil
		},
	})
}

// httpError answers every error as JSON {"error": "..."}; internal errors
// are logged and not shown.
func (a *App) httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	switch {
	case errors.Is(err, echo.ErrNotFound):
		code, msg = http.StatusNotFound, "no such path"
	case errors.Is(err, echo.ErrMethodNotAllowed):
		code, msg = http.StatusMethodNotAllowed, "method "+c.Request().Method+" not allowed here"
		if allow := c.Response().Header().Get(echo.HeaderAllow); allow != "" {
			msg += "; allowed: " + allow
		}
	case errors.As(err, &he):
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(code)
		}
	default:
		a.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	_ = c.JSON(code, map[string]string{"error": msg})
}
