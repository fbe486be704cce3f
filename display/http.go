package display

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/access"
	"github.com/chorus-wall/chorus/config"
)

// Handlers serve the display protocol over HTTP.
type Handlers struct {
	Hub     *Hub
	Streams Streams
	// PublicURL's origin is always allowed, like the request's own host.
	PublicURL string
}

// WS upgrades GET /ws/streams/:id to the display protocol: a snapshot (or,
// with ?since=N, exactly the messages after N when this node still has
// them), then every change. Until the state is loaded (and has reached
// since) the client is held: accepted, sent nothing but pings.
func (h *Handlers) WS(c echo.Context) error {
	stream, err := h.stream(c)
	if err != nil {
		return err
	}
	var since *uint64
	if raw := c.QueryParam("since"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "since must be a non-negative integer (the last seq the client saw)")
		}
		since = &n
	}
	batch := false
	if raw := c.QueryParam("batch"); raw != "" {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "batch must be 1 (several messages per frame, as a JSON array) or 0")
		}
		batch = b
	}
	if !h.originAllowed(c.Request(), stream) {
		return echo.NewHTTPError(http.StatusForbidden, "origin not allowed for this stream")
	}
	surface, err := surfaceOf(c)
	if err != nil {
		return err
	}
	up := websocket.Upgrader{
		// Clients send only pongs and close frames: a small read buffer
		// does, and is all an idle client holds.
		ReadBufferSize: readBufferSize,
		// Live frames are written straight from the shared messages; the
		// pool keeps gorilla from giving each connection a write buffer of
		// its own.
		WriteBufferPool: h.Hub.writeBuffers,
		// The origin was checked above, against the stream's list.
		CheckOrigin:       func(*http.Request) bool { return true },
		EnableCompression: false,
	}
	conn, err := up.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		// Upgrade has already written the HTTP error.
		return nil
	}
	h.Hub.serve(conn, stream, surface, since, batch)
	return nil
}

// readBufferSize is each connection's read buffer: room for the header
// and payload of any control frame.
const readBufferSize = 256

// RetryAfter is the Retry-After (seconds) of a snapshot asked for while the
// state is loading.
const RetryAfter = "2"

// Posts answers GET /api/v1/streams/:id/posts?limit=N with the snapshot,
// at most config.MaxDisplayLimit posts, or 503 with Retry-After while the
// state is loading. With ?before=ID it answers a page of the posts after ID
// in screen order (pinned ones left out): {"type":"page","seq","posts",
// "more"}; 404 when ID is not among the posts the state holds.
func (h *Handlers) Posts(c echo.Context) error {
	stream, err := h.stream(c)
	if err != nil {
		return err
	}
	// No screen shows more than config.MaxDisplayLimit posts, whatever a
	// stream stored before that limit said.
	limit := min(stream.DisplayLimit, config.MaxDisplayLimit)
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return echo.NewHTTPError(http.StatusBadRequest, "limit must be a positive integer")
		}
		limit = min(n, config.MaxDisplayLimit)
	}
	surface, err := surfaceOf(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if before, paged := c.QueryParams()["before"]; paged {
		// A page of older posts, for a widget's "load more".
		id := ""
		if len(before) > 0 {
			id = before[0]
		}
		if id == "" || len(id) > 512 {
			return echo.NewHTTPError(http.StatusBadRequest, "before must be the id of a post the stream shows (the oldest one a page has)")
		}
		page, found, ok := h.Hub.PostsBefore(stream, surface, id, limit)
		if !ok {
			c.Response().Header().Set("Retry-After", RetryAfter)
			return echo.NewHTTPError(http.StatusServiceUnavailable, "the display is loading its state; retry in "+RetryAfter+" s")
		}
		if !found {
			return echo.NewHTTPError(http.StatusNotFound, "post "+id+" is not among the stream's recent posts; start again from the newest")
		}
		return c.JSON(http.StatusOK, page)
	}
	snap, ok := h.Hub.PostsOn(stream, surface, limit)
	if !ok {
		c.Response().Header().Set("Retry-After", RetryAfter)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "the display is loading its state; retry in "+RetryAfter+" s")
	}
	return c.JSON(http.StatusOK, snap)
}

// surfaceOf reads ?surface=: "wall" or "overlay" for the pages that
// may be exempt from a stream's rights, nothing for every other surface
// (widgets, embeds, integrators), which shows only posts with rights.
func surfaceOf(c echo.Context) (string, error) {
	switch s := c.QueryParam("surface"); s {
	case "", config.SurfaceWall, config.SurfaceOverlay:
		return s, nil
	default:
		return "", echo.NewHTTPError(http.StatusBadRequest, "surface must be wall or overlay (or left out)")
	}
}

func (h *Handlers) stream(c echo.Context) (config.Stream, error) {
	s, ok := h.Streams.Get(c.Param("id"))
	if !ok {
		return config.Stream{}, echo.NewHTTPError(http.StatusNotFound, "no stream with that id")
	}
	return s, nil
}

// originAllowed accepts requests without an Origin (not a browser), from
// this server's own origin, and from the stream's allowed origins.
func (h *Handlers) originAllowed(r *http.Request, s config.Stream) bool {
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
	if pub, err := url.Parse(h.PublicURL); err == nil && strings.EqualFold(u.Scheme+"://"+u.Host, pub.Scheme+"://"+pub.Host) {
		return true
	}
	return access.OriginAllowed(s, origin)
}

// errClosed is returned by serve when the hub no longer accepts clients.
var errClosed = errors.New("display: hub closed")
