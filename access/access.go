// Package access decides who may read a curated stream from where: which
// sites get CORS headers for its JSON, cards and feeds, which sites may
// frame its embed page, and, for private screens, which viewer tokens
// open it. It is the one place that reads a stream's allowed_origins and
// viewer_token settings.
package access

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/config"
)

// Streams looks streams up by id.
type Streams interface {
	Get(id string) (config.Stream, bool)
}

// Policy applies the streams' access settings to requests.
type Policy struct {
	Streams Streams
	Tokens  *Tokens
}

// ViewerTokenRequired is the viewer_token setting of private streams.
const ViewerTokenRequired = "required"

// Private reports whether s needs a viewer token (and so is never listed).
func Private(s config.Stream) bool { return s.ViewerToken == ViewerTokenRequired }

// Listed reports whether s appears on the home page and in GET /api/v1/streams.
func Listed(s config.Stream) bool { return !s.Unlisted && !Private(s) }

// OriginAllowed reports whether a page at origin (scheme://host[:port], as
// browsers send it) may use s: it is in allowed_origins, or the list has "*".
func OriginAllowed(s config.Stream, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	origin = u.Scheme + "://" + u.Host
	for _, allowed := range s.AllowedOrigins {
		if allowed == "*" || strings.EqualFold(strings.TrimRight(allowed, "/"), origin) {
			return true
		}
	}
	return false
}

// streamID is the stream a read route names: its :id, or the name of its
// :file without the extension (/feeds/summit.atom).
func streamID(c echo.Context) string {
	if id := c.Param("id"); id != "" {
		return id
	}
	file := c.Param("file")
	if i := strings.LastIndexByte(file, '.'); i > 0 {
		return file[:i]
	}
	return file
}

// Read guards a stream's public read routes (its JSON, posts, cards, feeds
// and websocket). A private stream needs ?token= with a valid viewer token
// (401 otherwise). A page on an allowed origin gets CORS headers for a
// simple GET (no credentials), and its preflight an answer; other origins
// get no CORS headers, so their browsers keep the response from them.
// Requests for streams that do not exist pass to the handler, which
// answers 404.
func (p *Policy) Read(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, ok := p.Streams.Get(streamID(c))
		if !ok {
			return next(c)
		}
		h := c.Response().Header()
		h.Add("Vary", "Origin")
		origin := c.Request().Header.Get("Origin")
		cors := origin != "" && OriginAllowed(s, origin) && !isUpgrade(c.Request())
		if cors {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "ETag, Retry-After")
		}
		if c.Request().Method == http.MethodOptions {
			if !cors {
				return c.NoContent(http.StatusNoContent)
			}
			h.Set("Access-Control-Allow-Methods", "GET, HEAD")
			h.Set("Access-Control-Allow-Headers", "If-None-Match, If-Modified-Since")
			h.Set("Access-Control-Max-Age", "600")
			return c.NoContent(http.StatusNoContent)
		}
		if Private(s) {
			if err := p.Tokens.Check(s.ID, c.QueryParam("token")); err != nil {
				h.Set("Cache-Control", "no-store")
				return echo.NewHTTPError(http.StatusUnauthorized, err.Error())
			}
			// A private stream's answers are for this viewer only.
			c.Response().Before(func() { h.Set("Cache-Control", "private, no-store") })
		}
		return next(c)
	}
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// FrameAncestors is the CSP directive that lets s's allowed origins (and
// Chorus itself) frame its embed page: "frame-ancestors 'self' https://a".
func FrameAncestors(s config.Stream) string {
	parts := []string{"frame-ancestors", "'self'"}
	for _, o := range s.AllowedOrigins {
		if o == "*" {
			return "frame-ancestors *"
		}
		parts = append(parts, strings.TrimRight(o, "/"))
	}
	return strings.Join(parts, " ")
}

// Framable lets the stream named by :id be framed by its allowed origins
// only: whatever Content-Security-Policy the page and the server's
// middleware set, its frame-ancestors directive is replaced by the
// stream's, and X-Frame-Options (which cannot name several origins) is
// dropped. Mount it on /embed/:id and nothing else: every other page keeps
// the server's own frame-ancestors.
func (p *Policy) Framable(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, ok := p.Streams.Get(c.Param("id"))
		if !ok {
			return next(c)
		}
		h := c.Response().Header()
		c.Response().Before(func() {
			h.Del("X-Frame-Options")
			h.Set("Content-Security-Policy", withFrameAncestors(h.Get("Content-Security-Policy"), FrameAncestors(s)))
		})
		return next(c)
	}
}

// withFrameAncestors replaces csp's frame-ancestors directive by directive.
func withFrameAncestors(csp, directive string) string {
	var kept []string
	for _, d := range strings.Split(csp, ";") {
		d = strings.TrimSpace(d)
		if d == "" || strings.HasPrefix(strings.ToLower(d), "frame-ancestors") {
			continue
		}
		kept = append(kept, d)
	}
	return strings.Join(append(kept, directive), "; ")
}
