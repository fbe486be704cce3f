package main

import (
	"context"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/retention"
)

// clock is the time of the sweeps: time.Now, unless a test set now.
func (a *App) clock() func() time.Time {
	if a.now != nil {
		return a.now
	}
	return time.Now
}

// startRetention runs the retention sweep on this node.
func (a *App) startRetention(ctx context.Context) {
	a.sweeper = retention.New(retention.Options{
		Conn: a.conn, Index: a.index, Streams: a.streams, Max: a.cfg.NATS.Retention, Every: a.cfg.Privacy.SweepInterval,
		Now: a.clock(), Log: a.log, Registry: a.reg,
	})
	a.run(ctx, "retention", a.sweeper.Run)
}

// retentionRoutes adds the auditor's view of retention.
func (a *App) retentionRoutes(admin adminRoute) {
	admin(http.MethodGet, "/retention", auth.Access{Role: auth.Viewer, Everywhere: true}, func(c echo.Context) error {
		rep, err := a.sweeper.Report(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, rep)
	})
}

type retentionCmd struct {
	serverFlags
}

func (c *retentionCmd) Run(e *env) error {
	base, token, err := c.target()
	if err != nil {
		return err
	}
	var rep retention.Report
	if err := apiCall(e.ctx, base, token, http.MethodGet, "/api/v1/retention", nil, &rep); err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "STREAM\tSTATUS\tKEPT FOR\tPOSTS\tOLDEST\tPURGED AT LAST SWEEP")
	for _, s := range rep.Streams {
		for _, class := range config.RetentionStatuses {
			k := s.Kept[class]
			oldest := "-"
			if !k.Oldest.IsZero() {
				oldest = k.Oldest.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%d\n", s.ID, class, s.Retention[class], k.Count, oldest, rep.LastSweep.Purged[s.ID][class])
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	last := "not yet"
	if !rep.LastSweep.At.IsZero() {
		last = rep.LastSweep.At.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(e.stdout, "sweeps every %s; last sweep: %s", rep.Every, last)
	if rep.LastSweep.Error != "" {
		fmt.Fprintf(e.stdout, " (failed: %s)", rep.LastSweep.Error)
	}
	fmt.Fprintln(e.stdout)
	return nil
}
