package profile

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/apibody"
	"github.com/chorus-wall/chorus/config"
)

// Streams looks streams up by id.
type Streams interface {
	Get(id string) (config.Stream, bool)
}

// Handlers serve profiles over HTTP: reads are public (widgets fetch their
// look), writes are admin routes.
type Handlers struct {
	Store   *Store
	Streams Streams
	// ImageURL turns the logo into what a page loads (the media proxy's URL).
	ImageURL func(string) string
}

// Document is what GET and PUT answer.
type Document struct {
	Stream string `json:"stream"`
	Name   string `json:"name"`
	// Stored is false for a default profile nobody has stored: the built-in look.
	Stored   bool     `json:"stored"`
	Revision uint64   `json:"revision"`
	Profile  Profile  `json:"profile"`
	Computed Computed `json:"computed"`
}

// Computed are values derived from the profile for pages to use as they are.
type Computed struct {
	// FontFamily is the CSS font stack of the profile's font.
	FontFamily string `json:"font_family"`
	// LogoSrc is the logo through the media proxy (a path on Chorus; resolve
	// it against Chorus's origin), "" without a logo.
	LogoSrc string `json:"logo_src"`
}

func (h *Handlers) target(c echo.Context) (config.Stream, string, error) {
	s, ok := h.Streams.Get(c.Param("id"))
	if !ok {
		return s, "", echo.NewHTTPError(http.StatusNotFound, "no stream with that id")
	}
	name := c.Param("name")
	if !ValidName(name) {
		return s, "", echo.NewHTTPError(http.StatusBadRequest, "profile name must be 1-64 of a-z, 0-9, '-' and '_'")
	}
	return s, name, nil
}

func (h *Handlers) document(stream, name string, p Profile, rev uint64, stored bool) Document {
	d := Document{Stream: stream, Name: name, Stored: stored, Revision: rev, Profile: p}
	d.Computed.FontFamily = Fonts[p.Font]
	if p.Logo != "" && h.ImageURL != nil {
		d.Computed.LogoSrc = h.ImageURL(p.Logo)
	}
	return d
}

// Get answers GET /api/v1/streams/:id/profiles/:name. The default profile
// always exists (the built-in look until one is stored). It carries an
// ETag, so a widget can revalidate cheaply.
func (h *Handlers) Get(c echo.Context) error {
	s, name, err := h.target(c)
	if err != nil {
		return err
	}
	p, rev, err := h.Store.Get(c.Request().Context(), s.ID, name)
	stored := err == nil
	switch {
	case errors.Is(err, ErrNotFound) && name == DefaultName:
		p = Default()
	case errors.Is(err, ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "stream "+s.ID+" has no profile named "+name)
	case err != nil:
		return err
	}
	etag := `"` + strconv.FormatUint(rev, 10) + `"`
	hd := c.Response().Header()
	hd.Set("ETag", etag)
	if hd.Get("Cache-Control") == "" {
		hd.Set("Cache-Control", "no-cache")
	}
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSON(http.StatusOK, h.document(s.ID, name, p, rev, stored))
}

// Put answers PUT /api/v1/streams/:id/profiles/:name: the body is a profile
// (keys left out take their defaults); it creates or replaces the profile.
// With If-Match: "<revision>" it replaces only that revision (412
// otherwise), so two editors do not overwrite each other unseen.
func (h *Handlers) Put(c echo.Context) error {
	s, name, err := h.target(c)
	if err != nil {
		return err
	}
	p, err := Decode(c.Request().Header.Get(echo.HeaderContentType), c.Request().Body)
	var be *apibody.Error
	if errors.As(err, &be) {
		return echo.NewHTTPError(be.Status, be.Msg)
	}
	if err != nil {
		return err
	}
	var ifRev uint64
	if m := strings.Trim(c.Request().Header.Get("If-Match"), `" `); m != "" {
		if ifRev, err = strconv.ParseUint(m, 10, 64); err != nil || ifRev == 0 {
			return echo.NewHTTPError(http.StatusBadRequest, `If-Match must be a profile revision, e.g. "12"`)
		}
	}
	rev, err := h.Store.Put(c.Request().Context(), s.ID, name, p, ifRev)
	if errors.Is(err, ErrConflict) {
		return echo.NewHTTPError(http.StatusPreconditionFailed, "the profile changed since revision "+strconv.FormatUint(ifRev, 10)+"; read it again")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", `"`+strconv.FormatUint(rev, 10)+`"`)
	return c.JSON(http.StatusOK, h.document(s.ID, name, p, rev, true))
}

// Delete answers DELETE /api/v1/streams/:id/profiles/:name. Deleting the
// default profile brings back the built-in look.
func (h *Handlers) Delete(c echo.Context) error {
	s, name, err := h.target(c)
	if err != nil {
		return err
	}
	err = h.Store.Delete(c.Request().Context(), s.ID, name)
	if errors.Is(err, ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "stream "+s.ID+" has no stored profile named "+name)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"stream": s.ID, "name": name, "deleted": true})
}

// List answers GET /api/v1/streams/:id/profiles with the stored profiles'
// names (the default is always there, stored or not).
func (h *Handlers) List(c echo.Context) error {
	s, ok := h.Streams.Get(c.Param("id"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no stream with that id")
	}
	names, err := h.Store.Names(c.Request().Context(), s.ID)
	if err != nil {
		return err
	}
	if !strings.Contains(","+strings.Join(names, ",")+",", ","+DefaultName+",") {
		names = append([]string{DefaultName}, names...)
	}
	return c.JSON(http.StatusOK, map[string]any{"stream": s.ID, "profiles": names})
}
