package main

import (
	"context"
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

	"github.com/chorus-wall/chorus/access"
	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/connectors/webhook"
	"github.com/chorus-wall/chorus/curation"
	"github.com/chorus-wall/chorus/display"
	"github.com/chorus-wall/chorus/index"
	"github.com/chorus-wall/chorus/profile"
	"github.com/chorus-wall/chorus/static"
	"github.com/chorus-wall/chorus/syndicate"
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
	e.GET("/media/:sig/:url", a.media.Serve)
	if a.hasSourceType("demo") {
		e.GET("/demo/media/*", echo.WrapHandler(demo.MediaHandler()))
	}

	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg})))
	e.GET("/debug/pprof/*", pprofHandler(), a.requireAdmin)
	e.POST("/debug/pprof/symbol", pprofHandler(), a.requireAdmin)

	disp := &display.Handlers{Hub: a.hub, Streams: a.streams, PublicURL: a.cfg.Server.PublicURL}
	e.GET("/ws/streams/:id", disp.WS, a.access.Read)

	// A stream's public reads: CORS for its allowed origins, viewer tokens
	// for private streams (access.Policy.Read).
	read := []string{http.MethodGet, http.MethodOptions}
	syn := &syndicate.Handlers{Streams: a.streams, Posts: a.hub, Media: a.media, PublicURL: a.cfg.Server.PublicURL}
	e.Match(read, "/feeds/:file", syn.Feed, a.access.Read)

	api := e.Group("/api/v1")
	api.GET("/streams", a.listStreams)
	api.Match(read, "/streams/:id", a.getStream, a.access.Read)
	api.Match(read, "/streams/:id/posts", disp.Posts, a.access.Read)
	api.Match(read, "/streams/:id/cards.html", syn.Cards, a.access.Read)
	prof := &profile.Handlers{Store: profile.NewStore(a.conn.Config), Streams: a.streams, ImageURL: a.media.URL}
	api.Match(read, "/streams/:id/profiles/:name", prof.Get, a.access.Read)
	api.POST("/ingest/:source", a.ingest)

	admin := api.Group("", a.requireAdmin)
	idx := &index.Handlers{Index: a.index, Streams: a.streams}
	admin.GET("/streams/:id/queue", idx.Queue)
	admin.GET("/streams/:id/search", idx.Search)
	admin.GET("/streams/:id/audit", idx.Audit)
	mod := &curation.Handlers{
		Moderator: a.moderator, Store: a.store, Streams: a.streams,
		IsNotFound: func(err error) bool { return errors.Is(err, index.ErrNotFound) },
		Select:     a.selectPosts,
		Recent:     a.recentPosts,
	}
	admin.POST("/streams/:id/posts/:post/alt", mod.EditAlt)
	admin.POST("/streams/:id/posts/:post/:action", mod.Act)
	admin.POST("/streams/:id/authors/:author/:action", mod.ActOnAuthor)
	admin.POST("/streams/:id/bulk", mod.Bulk)
	admin.POST("/streams/:id/pause", mod.Control("pause"))
	admin.POST("/streams/:id/resume", mod.Control("resume"))
	admin.GET("/streams/:id/settings", mod.GetSettings)
	admin.PUT("/streams/:id/settings", mod.PutSettings)
	admin.PATCH("/streams/:id/settings", mod.PutSettings)
	admin.DELETE("/streams/:id", mod.DeleteStream)
	admin.GET("/streams/:id/rules", mod.GetRules)
	admin.PUT("/streams/:id/rules", mod.PutRules)
	admin.POST("/streams/:id/rules/dry-run", mod.DryRun)
	admin.GET("/streams/:id/filters", mod.GetFilters)
	admin.PUT("/streams/:id/filters", mod.PutFilters)
	admin.PATCH("/streams/:id/filters", mod.PutFilters)
	admin.POST("/streams/:id/viewer-tokens", a.access.MintToken)
	admin.GET("/streams/:id/profiles", prof.List)
	admin.PUT("/streams/:id/profiles/:name", prof.Put)
	admin.DELETE("/streams/:id/profiles/:name", prof.Delete)
	admin.GET("/sources", a.listSources)
	a.consoleRoutes(e, admin, idx)
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

// selectPosts picks posts for a bulk action by search.
func (a *App) selectPosts(ctx context.Context, stream, q, status string, limit int) ([]string, error) {
	res, err := a.index.Search(ctx, index.Query{Stream: stream, Text: q, Status: status, Limit: limit, Sort: "newest"})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.Post.ID
	}
	return ids, nil
}

// recentPosts returns a stream's newest posts for rule dry runs.
func (a *App) recentPosts(ctx context.Context, stream string, n int) ([]curation.Recent, error) {
	res, err := a.index.Search(ctx, index.Query{Stream: stream, Limit: n, Sort: "newest"})
	if err != nil {
		return nil, err
	}
	out := make([]curation.Recent, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = curation.Recent{Post: h.Post, Status: h.Status}
	}
	return out, nil
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
		if access.Listed(s) {
			out = append(out, streamInfo{s.ID, s.Title, string(s.Moderation), s.DisplayLimit})
		}
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
		if ct := static.ContentType(c.Request().URL.Path); ct != "" {
			c.Response().Header().Set("Content-Type", ct) // modules load only as JavaScript
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
