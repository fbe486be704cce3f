// Package syndicate renders a curated stream's latest approved posts for
// readers away from Chorus's live pages: email-safe HTML cards (for
// newsletters and <noscript>) and Atom, RSS and JSON feeds. What it renders
// is what screens show: approved posts only, none while the stream is
// paused, every image through the media proxy with absolute URLs.
package syndicate

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/display"
	"github.com/chorus-wall/chorus/media"
	"github.com/chorus-wall/chorus/post"
)

// Posts is where the latest approved posts come from: the display hub, as
// every public surface sees them (without posts whose rights a stream
// needs and lacks). It answers false while it is still loading its state.
type Posts interface {
	PublicPosts(stream string, limit int) (display.Snapshot, bool)
}

// Handlers serve cards and feeds.
type Handlers struct {
	Streams display.Streams
	Posts   Posts
	Media   *media.Proxy
	// PublicURL is how readers reach Chorus; every link and image is
	// absolute with it.
	PublicURL string
	Now       func() time.Time
}

// Limits on how many posts one rendering carries.
const (
	defaultLimit = 10
	maxLimit     = 50
)

// latest returns the stream named by the :id parameter and its newest
// visible posts (at most ?limit=N), with absolute proxied image URLs.
func (h *Handlers) latest(c echo.Context, id string) (config.Stream, []post.Post, error) {
	stream, ok := h.Streams.Get(id)
	if !ok {
		return config.Stream{}, nil, echo.NewHTTPError(http.StatusNotFound, "no stream with that id")
	}
	limit := defaultLimit
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit {
			return stream, nil, echo.NewHTTPError(http.StatusBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(maxLimit))
		}
		limit = n
	}
	snap, ok := h.Posts.PublicPosts(stream.ID, limit)
	if !ok {
		// Never a partial state: a node still loading answers "later".
		c.Response().Header().Set("Retry-After", "5")
		return stream, nil, echo.NewHTTPError(http.StatusServiceUnavailable, "still loading the stream; retry shortly")
	}
	if snap.Paused {
		return stream, nil, nil
	}
	out := make([]post.Post, 0, len(snap.Posts))
	for _, it := range snap.Posts {
		out = append(out, h.Media.AbsPost(it.Post))
	}
	return stream, out, nil
}

// link returns u as an absolute http(s) URL for a reader elsewhere, or ""
// when it is neither http(s) nor a same-site path.
func (h *Handlers) link(u string) string {
	if strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.HasPrefix(u, "/\\") {
		return strings.TrimRight(h.PublicURL, "/") + u
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

// origin is PublicURL's scheme://host.
func (h *Handlers) origin() string {
	u, err := url.Parse(h.PublicURL)
	if err != nil || u.Host == "" {
		return "'self'"
	}
	return u.Scheme + "://" + u.Host
}

// wallURL is the stream's kiosk wall, the home page of its feeds.
func (h *Handlers) wallURL(id string) string {
	return strings.TrimRight(h.PublicURL, "/") + "/wall/" + id
}

func (h *Handlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// networkNames are how networks are named to readers.
var networkNames = map[string]string{
	"x": "X", "twitter": "X", "mastodon": "Mastodon", "bluesky": "Bluesky", "rss": "RSS", "reddit": "Reddit",
	"youtube": "YouTube", "facebook": "Facebook", "instagram": "Instagram", "webhook": "Web", "demo": "Demo",
}

func networkName(n string) string {
	if name, ok := networkNames[n]; ok {
		return name
	}
	if n == "" {
		return ""
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

// handle is "@handle" for display, "" when there is none.
func handle(h string) string {
	h = strings.TrimPrefix(h, "@")
	if h == "" {
		return ""
	}
	return "@" + h
}

// cut shortens s to at most n runes, ending with "…" when it cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimRight(string(r[:n-1]), " \n") + "…"
}
