package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// Handlers serve the console's feed and overview.
type Handlers struct {
	Feed    *Feed
	Figures *FigureSource
	// Viewer authenticates a request and says which streams it may see;
	// its error is an echo error (401 or 403) answered as it is.
	Viewer func(c echo.Context) (Viewer, error)
	// PublicURL's origin may open the feed, as may the request's own host.
	PublicURL string
}

// FeedWS upgrades GET /ws/console?since=N to the live moderation feed (see
// Feed). It is authenticated like the API (the session cookie or a bearer
// credential, never a token in the URL), and a browser may open it only
// from Chorus's own origin, so no other site can ride a moderator's
// session.
func (h *Handlers) FeedWS(c echo.Context) error {
	var since *uint64
	if raw := c.QueryParam("since"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "since must be a non-negative integer (the last seq the console saw)")
		}
		since = &n
	}
	if !h.sameOrigin(c.Request()) {
		return echo.NewHTTPError(http.StatusForbidden, "the console feed opens only from Chorus's own pages")
	}
	v, err := h.Viewer(c)
	if err != nil {
		return err
	}
	up := websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 8192,
		// The origin was checked above.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	conn, err := up.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // Upgrade has answered
	}
	h.Feed.serve(conn, v, since)
	return nil
}

// sameOrigin accepts requests without an Origin (not a browser) and those
// from the request's own host or the public URL's origin.
func (h *Handlers) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	pub, err := url.Parse(h.PublicURL)
	return err == nil && pub.Host != "" && strings.EqualFold(u.Scheme+"://"+u.Host, pub.Scheme+"://"+pub.Host)
}

// Overview answers GET /api/v1/overview: the figures of every stream the
// caller may see.
func (h *Handlers) Overview(c echo.Context) error {
	v, err := h.Viewer(c)
	if err != nil {
		return err
	}
	figs, err := h.Figures.All(c.Request().Context())
	if err != nil {
		return err
	}
	out := []Figures{}
	for _, f := range figs {
		if v.Sees == nil || v.Sees(f.ID) {
			out = append(out, f)
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"streams": out})
}
