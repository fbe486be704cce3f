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
	reason, err := reasonOf(c)
	if err != nil {
		return err
	}
	out, err := h.Moderator.Act(c.Request().Context(), c.Param("id"), postID, c.Param("action"), actor(c), reason)
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

// Control answers POST /api/v1/streams/:id/pause and .../resume.
func (h *Handlers) Control(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		reason, err := reasonOf(c)
		if err != nil {
			return err
		}
		e, err := h.Moderator.Control(c.Request().Context(), c.Param("id"), action, actor(c), reason)
		if errors.Is(err, ErrUnknownStream) {
			return echo.NewHTTPError(http.StatusNotFound, err.Error())
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"stream": e.Stream, "action": action, "seq": e.Seq})
	}
}

// reasonOf reads an optional JSON body {"reason": "..."}.
func reasonOf(c echo.Context) (string, error) {
	var body struct {
		Reason string `json:"reason"`
	}
	if c.Request().ContentLength != 0 {
		if err := c.Bind(&body); err != nil {
			return "", echo.NewHTTPError(http.StatusBadRequest, "body must be JSON like {\"reason\": \"...\"}")
		}
	}
	if len(body.Reason) > 500 {
		return "", echo.NewHTTPError(http.StatusBadRequest, "reason must be at most 500 bytes")
	}
	return body.Reason, nil
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
