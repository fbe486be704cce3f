package main

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/console"
	"github.com/chorus-wall/chorus/curation"
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
	admin(http.MethodGet, "/overview", con.Overview)
	admin(http.MethodGet, "/streams/:id/facets", idx.Facets)
}

// consoleViewer authenticates a console request like every admin call:
// whoever holds the admin token sees every stream.
// A call already through requireAdmin is not counted twice.
func (a *App) consoleViewer(c echo.Context) (console.Viewer, error) {
	if c.Get(curation.ActorKey) != nil {
		return console.Viewer{}, nil
	}
	if err := a.authenticate(c); err != nil {
		return console.Viewer{}, err
	}
	return console.Viewer{}, nil
}

// screens tells the console's figures what the display serves.
type screens struct{ app *App }

func (s screens) Screens(stream string) int { return s.app.hub.Screens(stream) }
func (s screens) Paused(stream string) (paused, known bool) {
	return s.app.paused(stream)
}
