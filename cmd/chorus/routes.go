package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chorus-wall/chorus/access"
	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/connectors/webhook"
	"github.com/chorus-wall/chorus/curation"
	"github.com/chorus-wall/chorus/display"
	"github.com/chorus-wall/chorus/index"
	"github.com/chorus-wall/chorus/profile"
	"github.com/chorus-wall/chorus/static"
	"github.com/chorus-wall/chorus/syndicate"
)

// pageCSP keeps every page to its own scripts, styles and connections:
// even if post text ever reached HTML, no inline script could run, and no
// page could talk to another host. connect-src 'self' covers the page's own
// websocket (ws: and wss: of the same host). Images and media come from
// Chorus only: the display sends media proxy URLs (/media/...) and same-site
// paths, never a network's own, so no screen's address reaches a CDN.
const pageCSP = "default-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; " +
	"script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

// routes lists every route of the server in one place. Admin routes carry
// their middleware one by one, so an unknown path answers 404 and a wrong
// method 405, never 401.
func (a *App) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.httpError
	// The client address: the TCP peer, or what a trusted proxy says
	// (server.trusted_proxies); see clientIP.
	e.IPExtractor = clientIP(a.proxies)
	e.Use(middleware.Recover())
	e.Use(a.accessLog())
	e.Use(a.serveRoles)
	e.Use(wholeSegments)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff: "nosniff",
		XFrameOptions:      "SAMEORIGIN",
		ReferrerPolicy:     "no-referrer",
	}))
	// get serves GET and HEAD alike.
	get := func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		e.Match([]string{http.MethodGet, http.MethodHead}, path, h, m...)
	}

	pages, err := newPageHandlers(static.FS())
	if err != nil {
		panic(err) // the embedded files cannot be read: a build defect, caught by every test
	}
	get("/", pages.file("index.html"))
	get("/wall/:id", pages.file("wall.html"))
	get("/embed/:id", pages.file("embed.html"), a.access.Framable)
	get("/embed.js", pages.widget())
	get("/overlay/:id", pages.file("overlay.html"))
	get("/assets/*", pages.assets())
	get("/media/:sig/:url", a.media.Serve)
	if a.hasSourceType("demo") {
		get("/demo/media/*", echo.WrapHandler(demo.MediaHandler()))
	}

	get("/healthz", a.healthz)
	get("/readyz", a.readyz)
	// guarded adds a route only callers with need reach, GET with HEAD.
	guarded := func(method, path string, need auth.Access, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		if method == http.MethodGet {
			a.guard.Handle(e, http.MethodHead, path, need, h, m...)
		}
		a.guard.Handle(e, method, path, need, h, m...)
	}
	// Metrics span every stream: a viewer on all of them may scrape.
	guarded(http.MethodGet, "/metrics", auth.Access{Role: auth.Viewer, Everywhere: true}, echo.WrapHandler(a.metricsHandler()))
	guarded(http.MethodGet, "/debug/pprof/*", auth.Access{Role: auth.Owner}, pprofHandler())
	guarded(http.MethodPost, "/debug/pprof/symbol", auth.Access{Role: auth.Owner}, pprofHandler())

	disp := &display.Handlers{Hub: a.hub, Streams: a.streams, PublicURL: a.cfg.Server.PublicURL}
	e.GET("/ws/streams/:id", disp.WS, a.logRefusedReads, a.access.Read)

	// A stream's public reads: CORS for its allowed origins, viewer tokens
	// for private streams (access.Policy.Read); the origins they refuse are
	// logged.
	read := []string{http.MethodGet, http.MethodHead, http.MethodOptions}
	syn := &syndicate.Handlers{Streams: a.streams, Posts: a.hub, Media: a.media, PublicURL: a.cfg.Server.PublicURL}
	e.Match(read, "/feeds/:file", syn.Feed, a.logRefusedReads, a.access.Read)

	const v1 = "/api/v1"
	get(v1+"/streams", a.listStreams)
	e.Match(read, v1+"/streams/:id", a.getStream, a.logRefusedReads, a.access.Read)
	e.Match(read, v1+"/streams/:id/posts", disp.Posts, a.logRefusedReads, a.access.Read)
	e.Match(read, v1+"/streams/:id/cards.html", syn.Cards, a.logRefusedReads, a.access.Read)
	prof := &profile.Handlers{Store: profile.NewStore(a.conn.Config), Streams: a.streams, ImageURL: a.media.URL}
	e.Match(read, v1+"/streams/:id/profiles/:name", prof.Get, a.logRefusedReads, a.access.Read)
	e.POST(v1+"/ingest/:source", a.ingest)

	// Sign-in, sessions, setup, users and keys: listed in auth/routes.go.
	a.signIn.Register(e.Group(v1), a.guard)

	// admin adds an admin route: the caller's credential and role (see
	// README, Accounts and access), a rate limit per credential, the body
	// cap, and a log line for every change a moderator makes.
	var admin adminRoute = func(method, path string, need auth.Access, h echo.HandlerFunc) {
		m := []echo.MiddlewareFunc{a.adminBody}
		if method != http.MethodGet {
			m = append(m, a.logModeration)
		}
		guarded(method, v1+path, need, h, m...)
	}
	var (
		viewer    = auth.Access{Role: auth.Viewer, Stream: true}
		moderator = auth.Access{Role: auth.Moderator, Stream: true}
		manager   = auth.Access{Role: auth.Manager, Stream: true}
		creator   = auth.Access{Role: auth.Manager, Stream: true, Create: auth.Owner}
		owner     = auth.Access{Role: auth.Owner, Stream: true}
	)
	idx := &index.Handlers{Index: a.index, Streams: a.streams}
	admin(http.MethodGet, "/streams/:id/queue", viewer, idx.Queue)
	admin(http.MethodGet, "/streams/:id/search", viewer, idx.Search)
	admin(http.MethodGet, "/streams/:id/audit", viewer, idx.Audit)
	mod := &curation.Handlers{
		Moderator: a.moderator, Store: a.store, Streams: a.streams,
		IsNotFound: func(err error) bool { return errors.Is(err, index.ErrNotFound) },
		Select:     a.selectPosts,
		Recent:     a.recentPosts,
	}
	admin(http.MethodPost, "/streams/:id/posts/:post/alt", moderator, mod.EditAlt)
	admin(http.MethodPost, "/streams/:id/posts/:post/rights", moderator, mod.Rights)
	admin(http.MethodPost, "/streams/:id/posts/:post/:action", moderator, mod.Act)
	admin(http.MethodPost, "/streams/:id/authors/:author/:action", moderator, mod.ActOnAuthor)
	admin(http.MethodPost, "/streams/:id/bulk", moderator, mod.Bulk)
	admin(http.MethodPut, "/streams/:id/pins", moderator, mod.OrderPins)
	admin(http.MethodPost, "/streams/:id/pause", moderator, mod.Control("pause"))
	admin(http.MethodPost, "/streams/:id/resume", moderator, mod.Control("resume"))
	admin(http.MethodGet, "/streams/:id/air", viewer, mod.OnAirNow)
	admin(http.MethodPost, "/streams/:id/air", moderator, mod.AirAction("air"))
	admin(http.MethodPost, "/streams/:id/air/next", moderator, mod.AirAction("next"))
	admin(http.MethodPost, "/streams/:id/air/clear", moderator, mod.AirAction("clear"))
	admin(http.MethodGet, "/streams/:id/settings", viewer, mod.GetSettings)
	admin(http.MethodPut, "/streams/:id/settings", creator, mod.PutSettings)
	admin(http.MethodPatch, "/streams/:id/settings", creator, mod.PutSettings)
	admin(http.MethodDelete, "/streams/:id", owner, mod.DeleteStream)
	admin(http.MethodGet, "/streams/:id/rules", viewer, mod.GetRules)
	admin(http.MethodPut, "/streams/:id/rules", manager, mod.PutRules)
	admin(http.MethodPost, "/streams/:id/rules/dry-run", manager, mod.DryRun)
	admin(http.MethodGet, "/streams/:id/filters", viewer, mod.GetFilters)
	admin(http.MethodPut, "/streams/:id/filters", manager, mod.PutFilters)
	admin(http.MethodPatch, "/streams/:id/filters", manager, mod.PutFilters)
	admin(http.MethodPost, "/streams/:id/viewer-tokens", manager, a.access.MintToken)
	admin(http.MethodGet, "/streams/:id/profiles", viewer, prof.List)
	admin(http.MethodPut, "/streams/:id/profiles/:name", manager, prof.Put)
	admin(http.MethodDelete, "/streams/:id/profiles/:name", manager, prof.Delete)
	admin(http.MethodGet, "/sources", auth.Access{Role: auth.Viewer}, a.listSources)
	a.consoleRoutes(e, admin, idx)
	a.privacyRoutes(admin)
	a.retentionRoutes(admin)
	a.complianceRoutes(admin)
	return e
}

// adminRoute adds an admin API route, path under /api/v1, that callers
// with need reach.
type adminRoute func(method, path string, need auth.Access, h echo.HandlerFunc)

// metricsHandler serves the Prometheus registry.
func (a *App) metricsHandler() http.Handler {
	return promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg})
}

// ingest routes a signed push to its webhook source.
// Each source has its own rate limit, so one runaway integrator cannot
// starve another.
func (a *App) ingest(c echo.Context) error {
	s, ok := a.sources[c.Param("source")].(*webhook.Source)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no webhook source with that id")
	}
	if err := a.webhookLimit.allow(c, s.ID(), "source", s.ID()); err != nil {
		return err
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
	// Rights says the stream's widgets show only posts whose rights were
	// granted.
	Rights bool `json:"rights_required,omitempty"`
}

func (a *App) listStreams(c echo.Context) error {
	out := []streamInfo{}
	for _, s := range a.streams.All() {
		if access.Listed(s) {
			out = append(out, streamInfo{s.ID, s.Title, string(s.Moderation), s.DisplayLimit, s.Rights.Required})
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"streams": out})
}

func (a *App) getStream(c echo.Context) error {
	s, ok := a.streams.Get(c.Param("id"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no stream with that id")
	}
	return c.JSON(http.StatusOK, streamInfo{s.ID, s.Title, string(s.Moderation), s.DisplayLimit, s.Rights.Required})
}

func (a *App) listSources(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"sources": a.visibleSources(c, a.runner.Statuses())})
}

func (a *App) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (a *App) readyz(c echo.Context) error {
	if missing := a.notReady(); len(missing) > 0 {
		return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "starting", "waiting_for": missing,
			"node": a.cfg.Node, "roles": a.cfg.Roles})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "node": a.cfg.Node, "roles": a.cfg.Roles})
}

// pageHandlers serve the embedded web surfaces.
//
// Every page and asset carries an ETag made from its content and
// Cache-Control: no-cache, so a browser keeps its copy but asks before each
// use, and gets 304 Not Modified while the copy is current. The pages are
// ES modules importing one another: with a max-age, a browser could run a
// new wall.js against an old cards.js for minutes after an upgrade. The
// check costs one small request per file and page load; the body travels
// only when it changed.
type pageHandlers struct {
	files fs.FS
	etags map[string]string // file name in files -> quoted content hash
}

// newPageHandlers hashes every file of files once: they are embedded in
// the binary and never change while it runs.
func newPageHandlers(files fs.FS) (*pageHandlers, error) {
	p := &pageHandlers{files: files, etags: map[string]string{}}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		p.etags[name] = `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: hash the pages: %w", err)
	}
	return p, nil
}

// revalidate sets the headers that make browsers check name before each
// use; http.ServeContent then answers a matching If-None-Match with 304.
func (p *pageHandlers) revalidate(h http.Header, name string) {
	h.Set("Cache-Control", "no-cache")
	if etag, ok := p.etags[name]; ok {
		h.Set("ETag", etag)
	}
}

func (p *pageHandlers) file(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		data, err := fs.ReadFile(p.files, name)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("Content-Type", "text/html; charset=utf-8")
		p.revalidate(h, name)
		http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(data))
		return nil
	}
}

// widget serves embed.js, the script brands load from their own pages: any
// site may load it (it does nothing without a stream that allows the site).
// Every visitor of a brand's page downloads it, so it is sent gzipped to
// browsers that accept that (all do). Like every page and asset it is
// revalidated before each use (Cache-Control: no-cache and its content
// ETag, with "-gz" for the gzipped form), so a brand's visitors get a new
// widget as soon as Chorus is upgraded. Both forms are made once.
func (p *pageHandlers) widget() echo.HandlerFunc {
	data, err := fs.ReadFile(p.files, "embed.js")
	if err != nil {
		panic("static: no embed.js: " + err.Error()) // a build defect, caught by every test
	}
	var zipped bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	etag := p.etags["embed.js"]
	zippedTag := strings.TrimSuffix(etag, `"`) + `-gz"`
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Vary", "Accept-Encoding")
		p.revalidate(h, "embed.js")
		body := data
		if acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			h.Set("ETag", zippedTag)
			body = zipped.Bytes()
		}
		if inm := c.Request().Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, h.Get("ETag")) {
			return c.NoContent(http.StatusNotModified)
		}
		return c.Blob(http.StatusOK, static.ContentType("embed.js"), body)
	}
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) listed without
// q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		return !strings.HasPrefix(q, "q=0") || strings.HasPrefix(q, "q=0.") && strings.Trim(q[len("q=0."):], "0") != ""
	}
	return false
}

// assets serves the files under assets/, never a directory listing.
func (p *pageHandlers) assets() echo.HandlerFunc {
	sub, err := fs.Sub(p.files, "assets")
	if err != nil {
		panic("static: no assets folder: " + err.Error()) // a build defect, caught by every test
	}
	files := http.StripPrefix("/assets/", http.FileServerFS(sub))
	return func(c echo.Context) error {
		name := strings.TrimPrefix(c.Request().URL.Path, "/assets/")
		if info, err := fs.Stat(sub, name); err != nil || info.IsDir() {
			return echo.NewHTTPError(http.StatusNotFound, "no such file")
		}
		if ct := static.ContentType(c.Request().URL.Path); ct != "" {
			c.Response().Header().Set("Content-Type", ct) // modules load only as JavaScript
		}
		p.revalidate(c.Response().Header(), path.Join("assets", name))
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
