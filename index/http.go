package index

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/config"
)

// Streams tells the handlers which curated streams exist.
type Streams interface {
	Get(id string) (config.Stream, bool)
}

// Handlers serve the moderation queue and search.
type Handlers struct {
	Index   *Index
	Streams Streams
	// Decorate, when set, finishes a page of hits of a stream before it is
	// answered: the authors' records, media URLs through the proxy.
	Decorate func(ctx context.Context, stream string, hits []Hit) error
}

// Queue answers GET /api/v1/streams/:id/queue: the posts waiting for a
// moderator, newest first (?order=oldest for first come, first served).
// ?status= shows the posts of another status instead, and network, lang,
// why and media narrow the list (see query).
func (h *Handlers) Queue(c echo.Context) error {
	q, err := h.query(c)
	if err != nil {
		return err
	}
	q.Text = ""
	if q.Status == "" {
		q.Status = "held"
	}
	q.Sort = "newest"
	switch c.QueryParam("order") {
	case "", "newest":
	case "oldest":
		q.Sort = "oldest"
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "order must be newest or oldest")
	}
	return h.answer(c, q)
}

// Facets answers GET /api/v1/streams/:id/facets?status=held: how many
// posts of that status (every status when empty) each network, language,
// why and media value has, for the queue's filters.
func (h *Handlers) Facets(c echo.Context) error {
	q, err := h.query(c)
	if err != nil {
		return err
	}
	f, err := h.Index.Facets(c.Request().Context(), q.Stream, q.Status)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

// Search answers GET /api/v1/streams/:id/search?q=...: Bleve query string
// syntax over text, author and hashtags (fields: network, status, lang,
// kind, hashtags, author_handle, author_name, text, created_at..., listed in
// the README); phrases match, and names match whatever their case.
func (h *Handlers) Search(c echo.Context) error {
	q, err := h.query(c)
	if err != nil {
		return err
	}
	q.Text = c.QueryParam("q")
	q.Sort = c.QueryParam("sort")
	switch q.Sort {
	case "", "relevance", "newest", "oldest":
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "sort must be relevance, newest or oldest")
	}
	return h.answer(c, q)
}

func (h *Handlers) query(c echo.Context) (Query, error) {
	s, ok := h.Streams.Get(c.Param("id"))
	if !ok {
		return Query{}, echo.NewHTTPError(http.StatusNotFound, "no stream with that id")
	}
	q := Query{Stream: s.ID, Limit: 50, Status: c.QueryParam("status"), Network: c.QueryParam("network"),
		Lang: c.QueryParam("lang"), Why: c.QueryParam("why"), Media: c.QueryParam("media")}
	switch q.Status {
	case "", "approved", "held", "rejected", "removed":
	default:
		return Query{}, echo.NewHTTPError(http.StatusBadRequest, "status must be approved, held, rejected or removed")
	}
	switch q.Media {
	case "", "true", "false":
	default:
		return Query{}, echo.NewHTTPError(http.StatusBadRequest, "media must be true (posts with media) or false (without)")
	}
	for name, dst := range map[string]*int{"limit": &q.Limit, "offset": &q.Offset} {
		if raw := c.QueryParam(name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 || (name == "limit" && (n < 1 || n > MaxLimit)) {
				return Query{}, echo.NewHTTPError(http.StatusBadRequest, name+" must be an integer (limit 1-500, offset 0 or more)")
			}
			*dst = n
		}
	}
	return q, nil
}

func (h *Handlers) answer(c echo.Context, q Query) error {
	res, err := h.Index.Search(c.Request().Context(), q)
	if errors.Is(err, ErrBadQuery) {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	if h.Decorate != nil {
		if err := h.Decorate(c.Request().Context(), q.Stream, res.Hits); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, res)
}

// Audit answers GET /api/v1/streams/:id/audit: every event of the stream,
// newest first, with its reason, rule or moderator. Filters: post, actor,
// event; paging: limit, offset.
func (h *Handlers) Audit(c echo.Context) error {
	q, err := h.query(c)
	if err != nil {
		return err
	}
	entries, total, err := h.Index.Audit(c.Request().Context(), AuditQuery{
		Stream: q.Stream, PostID: c.QueryParam("post"), Actor: c.QueryParam("actor"), Event: c.QueryParam("event"),
		Limit: q.Limit, Offset: q.Offset,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"total": total, "entries": entries})
}
