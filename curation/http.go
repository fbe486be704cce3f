package curation

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// Handlers serve moderators' actions.
type Handlers struct {
	Moderator *Moderator
	// IsNotFound says whether a Finder error means the post is unknown.
	IsNotFound func(error) bool
}

// Act answers POST /api/v1/streams/:id/posts/:post/:action (approve, reject
// or remove). An optional JSON body {"reason": "..."} is recorded.
func (h *Handlers) Act(c echo.Context) error {
	postID, err := url.PathUnescape(c.Param("post"))
	if err != nil || postID == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "bad post id")
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if c.Request().ContentLength != 0 {
		if err := c.Bind(&body); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "body must be JSON like {\"reason\": \"...\"}")
		}
	}
	if len(body.Reason) > 500 {
		return echo.NewHTTPError(http.StatusBadRequest, "reason must be at most 500 bytes")
	}
	out, err := h.Moderator.Act(c.Request().Context(), c.Param("id"), postID, c.Param("action"), actor(c), body.Reason)
	switch {
	case errors.Is(err, ErrUnknownStream):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	case errors.Is(err, ErrUnknownAction):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	case err != nil && h.IsNotFound != nil && h.IsNotFound(err):
		return echo.NewHTTPError(http.StatusNotFound, "post not found in this stream")
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// ActorKey is the echo context key under which authentication stores who
// is acting.
const ActorKey = "chorus.actor"

func actor(c echo.Context) string {
	if a, ok := c.Get(ActorKey).(string); ok && a != "" {
		return a
	}
	return "admin"
}
