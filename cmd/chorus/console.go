package main

import (
	"context"
	"io/fs"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/console"
	"github.com/chorus-wall/chorus/index"
	"github.com/chorus-wall/chorus/static"
)

// startConsole builds what the moderation console reads live: the
// decorated posts, the streams' figures and the feed the index drives.
// It runs before the index starts, so the feed sees every batch.
func (a *App) startConsole(ctx context.Context) {
	a.decorator = &console.Decorator{Index: a.index, Streams: a.streams, Media: a.media.Post}
	a.figures = &console.FigureSource{Index: a.index, Streams: a.streams, Display: screens{a}}
	a.feed = console.NewFeed(a.decorator, a.figures, a.log, a.reg)
	a.index.OnApply = a.feed.Applied
	a.run(ctx, "console", a.feed.Run)
}

// consoleCSP is pageCSP for the sign-in page and the console, which no
// other page may frame (clickjacking a moderator's buttons).
var consoleCSP = strings.Replace(pageCSP, "frame-ancestors 'self'", "frame-ancestors 'none'", 1)

// consoleRoutes adds the sign-in page, the console and what it reads live.
func (a *App) consoleRoutes(e *echo.Echo, admin adminRoute, idx *index.Handlers) {
	get := []string{http.MethodGet, http.MethodHead}
	e.Match(get, "/login", consolePage("login.html"))
	e.Match(get, "/console", consolePage("console.html"))
	e.Match(get, "/console/*", consolePage("console.html"))
	idx.Decorate = a.decorator.Decorate
	con := &console.Handlers{Feed: a.feed, Figures: a.figures, Viewer: a.consoleViewer, PublicURL: a.cfg.Server.PublicURL}
	e.GET("/ws/console", con.FeedWS)
	admin(http.MethodGet, "/overview", auth.Access{Role: auth.Viewer}, con.Overview)
	admin(http.MethodGet, "/streams/:id/facets", auth.Access{Role: auth.Viewer, Stream: true}, idx.Facets)
}

// consoleViewer authenticates a console request like any admin call (a
// session, an API key or the admin token) and sees the streams the
// caller's grant covers. The feed checks the credential again as it runs,
// so a signed-out session, a revoked key or a narrowed grant holds there
// too.
func (a *App) consoleViewer(c echo.Context) (console.Viewer, error) {
	// A call the guard let through (the overview) is not checked twice.
	p, ok := auth.From(c)
	if !ok {
		var err error
		if p, err = a.guard.Admitted(c); err != nil {
			return console.Viewer{}, err
		}
	}
	again := a.guard.Again(c)
	var grant atomic.Pointer[auth.Grant]
	grant.Store(&p.Grant)
	return console.Viewer{
		Sees: func(stream string) bool { return grant.Load().Covers(stream) },
		Check: func(ctx context.Context) error {
			now, err := again(ctx)
			if err != nil {
				return err
			}
			grant.Store(&now.Grant)
			return nil
		},
	}, nil
}

// consolePage serves one of the console's pages: never framed, never
// cached, so a signed-out browser's back button shows nothing stale.
func consolePage(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		data, err := fs.ReadFile(static.FS(), name)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		return c.Blob(http.StatusOK, "text/html; charset=utf-8", data)
	}
}

// screens tells the console's figures what the display serves.
type screens struct{ app *App }

func (s screens) Screens(stream string) int { return s.app.hub.Screens(stream) }
func (s screens) Paused(stream string) (paused, known bool) {
	return s.app.paused(stream)
}
