package privacy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/apibody"
)

// Handlers serve erasure and export requests.
type Handlers struct {
	Eraser   *Eraser
	Exporter *Exporter
	// ActorKey is the echo context key under which authentication stores
	// who is acting (curation.ActorKey).
	ActorKey string
}

// Erase answers POST /api/v1/authors/:author/erase (every stream) and POST
// /api/v1/streams/:id/authors/:author/erase (one stream), with an optional
// body {"reason": "..."}: the erasure's Report, once the author's posts
// are off every screen and gone from the streams, the index and the media
// cache.
func (h *Handlers) Erase(c echo.Context) error {
	author, err := url.PathUnescape(c.Param("author"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad author")
	}
	var body struct {
		Reason string `json:"reason"`
	}
	data, err := io.ReadAll(c.Request().Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", tooBig.Limit))
	case err != nil:
		return echo.NewHTTPError(http.StatusBadRequest, "body could not be read")
	}
	if err := apibody.Decode(c.Request().Header.Get(echo.HeaderContentType), data, &body); err != nil {
		var be *apibody.Error
		if errors.As(err, &be) {
			return echo.NewHTTPError(be.Status, be.Msg)
		}
		return err
	}
	if len(body.Reason) > 500 {
		return echo.NewHTTPError(http.StatusBadRequest, "reason must be at most 500 bytes")
	}
	actor, _ := c.Get(h.ActorKey).(string)
	rep, err := h.Eraser.Erase(c.Request().Context(), Request{Author: author, Stream: c.Param("id"), Actor: actor, Reason: body.Reason})
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, rep)
}

// Export answers GET /api/v1/authors/:author/export (every stream) and GET
// /api/v1/streams/:id/authors/:author/export (one stream): everything
// Chorus holds about the author, as a JSON download.
func (h *Handlers) Export(c echo.Context) error {
	author, err := url.PathUnescape(c.Param("author"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad author")
	}
	out, err := h.Exporter.Export(c.Request().Context(), author, c.Param("id"))
	if err != nil {
		return httpError(err)
	}
	name := "chorus-export-" + strings.NewReplacer(":", "-", "@", "-", "#", "", "/", "-").Replace(out.Author) + ".json"
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+strings.Map(safeFileRune, name)+`"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONPretty(http.StatusOK, out, "  ")
}

// safeFileRune keeps a download's name to plain characters.
func safeFileRune(r rune) rune {
	if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
		return r
	}
	return '_'
}

func httpError(err error) error {
	switch {
	case errors.Is(err, ErrBadRequest):
		return echo.NewHTTPError(http.StatusBadRequest, strings.TrimPrefix(err.Error(), ErrBadRequest.Error()+": "))
	case errors.Is(err, ErrUnknownStream):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	}
	return err
}
