package main

import (
	"crypto/subtle"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/connectors/webhook"
	"github.com/chorus-wall/chorus/curation"
	"github.com/chorus-wall/chorus/display"
	"github.com/chorus-wall/chorus/index"
	"github.com/chorus-wall/chorus/static"
)

// pageCSP keeps every page to its own scripts and styles: even if post text
// ever reached HTML, no inline script could run.
const pageCSP = "default-src 'self'; img-src 'self' https: http: data:; media-src 'self' https: http:; " +
	"connect-src 'self' ws: wss:; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"

// routes lists every route of the server in one place.
func (a *App) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.httpError
	e.Use(middleware.Recover())
	e.Use(a.requestLog())
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff: "nosniff",
		XFrameOptions:      "SAMEORIGIN",
		ReferrerPolicy:     "no-referrer",
	}))

	pages := &pageHandlers{files: static.FS()}
	e.GET("/", pages.file("index.html"))
	e.GET("/wall/:id", pages.file("wall.html"))
	e.GET("/assets/*", pages.assets())
	if a.hasSourceType("demo") {
		e.GET("/demo/media/*", echo.WrapHandler(demo.MediaHandler()))
	}

	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg})))

	disp := &display.Handlers{Hub: a.hub, Streams: a.streams, PublicURL: a.cfg.Server.PublicURL}
	e.GET("/ws/streams/:id", disp.WS)

	api := e.Group("/api/v1")
	api.GET("/streams", a.listStreams)
	api.GET("/streams/:id", a.getStream)
	api.GET("/streams/:id/posts", disp.Posts)
	api.POST("/ingest/:source", a.ingest)

	admin := api.Group("", a.requireAdmin)
	idx := &index.Handlers{Index: a.index, Streams: a.streams}
	admin.GET("/streams/:id/queue", idx.Queue)
	admin.GET("/streams/:id/search", idx.Search)
	mod := &curation.Handlers{Moderator: a.moderator, IsNotFound: func(err error) bool { return errors.Is(err, index.ErrNotFound) }}
	admin.POST("/streams/:id/posts/:post/:action", mod.Act)
	admin.POST("/streams/:id/pause", mod.Control("pause"))
	admin.POST("/streams/:id/resume", mod.Control("resume"))
	admin.GET("/sources", a.listSources)
	return e
}

// ingest routes a signed push to its webhook source.
func (a *App) ingest(c echo.Context) error {
	s, ok := a.sources[c.Param("source")].(*webhook.Source)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no webhook source with that id")
	}
	return s.Handle(c)
}

func (a *App) hasSourceType(typ string) bool {
	for _, s := range a.cfg.Sources {
		if s.Type == typ {
			return true
		}
	}
	return false
}

// streamInfo is the public description of a curated stream.
type streamInfo struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	Moderation   string `json:"moderation"`
	DisplayLimit int    `json:"display_limit"`
}

func (a *App) listStreams(c echo.Context) error {
	out := []streamInfo{}
	for _, s := range a.streams.All() {
		out = append(out, streamInfo{s.ID, s.Title, string(s.Moderation), s.DisplayLimit})
	}
	return c.JSON(http.StatusOK, map[string]any{"streams": out})
}

func (a *App) getStream(c echo.Context) error {
	s, ok := a.streams.Get(c.Param("id"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no stream with that id")
	}
	return c.JSON(http.StatusOK, streamInfo{s.ID, s.Title, string(s.Moderation), s.DisplayLimit})
}

func (a *App) listSources(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"sources": a.runner.Statuses()})
}

func (a *App) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (a *App) readyz(c echo.Context) error {
	if missing := a.notReady(); len(missing) > 0 {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "starting", "waiting_for": missing})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// requireAdmin accepts "Authorization: Bearer <admin token>".
func (a *App) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		got, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(a.token)) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="chorus"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "admin token required: Authorization: Bearer <token>")
		}
		c.Set(curation.ActorKey, "admin")
		return next(c)
	}
}

// httpError answers every error as JSON {"error": "..."}; internal errors
// are logged and not shown.
func (a *App) httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(code)
		}
	} else {
		a.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	_ = c.JSON(code, map[string]string{"error": msg})
}

func (a *App) requestLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelDebug
			if v.Status >= 500 && v.URIPath != "/readyz" {
				level = slog.LevelWarn
			}
			a.log.Log(c.Request().Context(), level, "http", "method", v.Method, "path", v.URIPath,
				"status", v.Status, "latency", v.Latency.Round(time.Microsecond))
			return nil
		},
	})
}

// pageHandlers serve the embedded web surfaces.
type pageHandlers struct{ files fs.FS }

func (p *pageHandlers) file(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		data, err := fs.ReadFile(p.files, name)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("Cache-Control", "no-cache")
		return c.Blob(http.StatusOK, "text/html; charset=utf-8", data)
	}
}

func (p *pageHandlers) assets() echo.HandlerFunc {
	sub, err := fs.Sub(p.files, "assets")
	if err != nil {
		panic("static: no assets folder: " + err.Error()) // a build defect, caught by every test
	}
	files := http.StripPrefix("/assets/", http.FileServerFS(sub))
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
