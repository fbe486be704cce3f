package main

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/console"
	"github.com/chorus-wall/chorus/index"
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

// consoleRoutes adds the console's live feed and overview.
func (a *App) consoleRoutes(e *echo.Echo, admin adminRoute, idx *index.Handlers) {
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

// screens tells the console's figures what the display serves.
type screens struct{ app *App }

func (s screens) Screens(stream string) int { return s.app.hub.Screens(stream) }
func (s screens) Paused(stream string) (paused, known bool) {
	return s.app.paused(stream)
}
