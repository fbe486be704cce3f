package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/auth"
	"github.com/chorus-wall/chorus/compliance"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// startCompliance runs the compliance sweep of every source that can be
// checked (the polled networks).
func (a *App) startCompliance(ctx context.Context) {
	checkers := map[string]connectors.Checker{}
	for id, s := range a.sources {
		if c, ok := s.(connectors.Checker); ok {
			checkers[id] = c
		}
	}
	a.compliance = compliance.New(compliance.Options{
		Checkers: checkers, Shown: shownPosts{a}, Publisher: a.gate, Mine: a.runsSource,
		Now: a.clock(), Log: a.log, Registry: a.reg,
	})
	a.run(ctx, "compliance", a.compliance.Run)
}

// runsSource reports whether this node holds the lease of a source.
func (a *App) runsSource(id string) bool {
	l, ok := a.cluster.Leases(connectors.LeaseKind)[id]
	return ok && l.Node == a.cluster.Name()
}

// shownPosts finds a source's posts on screen now (every stream's
// display) and approved since a time (the index).
type shownPosts struct{ a *App }

// maxShown bounds what one source's sweep checks.
const maxShown = 5000

func (s shownPosts) ShownBy(ctx context.Context, source string, since time.Time) ([]post.Post, error) {
	var out []post.Post
	have := map[string]bool{}
	for _, st := range s.a.streams.All() {
		if s.a.hub == nil {
			break
		}
		snap, ok := s.a.hub.Posts(st.ID, config.MaxDisplayLimit)
		if !ok {
			continue
		}
		for _, it := range snap.Posts {
			if it.Source == source && !have[it.ID] {
				have[it.ID] = true
				out = append(out, it.Post)
			}
		}
	}
	approved, err := s.a.index.ApprovedFrom(ctx, source, since, maxShown)
	if err != nil {
		return nil, err
	}
	for _, p := range approved {
		if !have[p.ID] {
			have[p.ID] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// complianceRoutes adds the compliance report and the sweep on demand.
func (a *App) complianceRoutes(admin adminRoute) {
	admin(http.MethodGet, "/compliance", auth.Access{Role: auth.Viewer, Everywhere: true}, func(c echo.Context) error {
		if a.compliance == nil {
			return echo.NewHTTPError(http.StatusMisdirectedRequest, notSweeping)
		}
		return c.JSON(http.StatusOK, map[string]any{"sources": a.complianceReport()})
	})
	admin(http.MethodPost, "/compliance/:source/sweep", auth.Access{Role: auth.Manager, Everywhere: true}, func(c echo.Context) error {
		if a.compliance == nil {
			return echo.NewHTTPError(http.StatusMisdirectedRequest, notSweeping)
		}
		id := c.Param("source")
		if _, ok := a.complianceSources()[id]; !ok {
			return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("source %q is not one the compliance sweep checks (polled networks: mastodon, reddit, rss)", id))
		}
		res, err := a.compliance.Sweep(c.Request().Context(), id)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadGateway, err.Error())
		}
		return c.JSON(http.StatusOK, a.complianceEntry(id, res))
	})
}

// notSweeping answers a compliance call on a node that does not sweep.
const notSweeping = "this node does not run the compliance sweep: it needs the connectors and index roles; ask a node that has both"

// ComplianceSource is a checked source's settings and last sweep.
type ComplianceSource struct {
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	Interval  string            `json:"compliance_interval"`
	Window    string            `json:"compliance_window"`
	PerMinute int               `json:"compliance_per_minute"`
	LastSweep compliance.Result `json:"last_sweep"`
}

func (a *App) complianceSources() map[string]connectors.Checker {
	out := map[string]connectors.Checker{}
	for id, s := range a.sources {
		if c, ok := s.(connectors.Checker); ok {
			out[id] = c
		}
	}
	return out
}

func (a *App) complianceEntry(id string, res compliance.Result) ComplianceSource {
	c := a.complianceSources()[id].Compliance()
	typ := ""
	for _, s := range a.cfg.Sources {
		if s.ID == id {
			typ = s.Type
		}
	}
	return ComplianceSource{ID: id, Type: typ, Interval: c.ComplianceInterval.String(), Window: c.ComplianceWindow.String(),
		PerMinute: c.CompliancePerMinute, LastSweep: res}
}

func (a *App) complianceReport() []ComplianceSource {
	out := []ComplianceSource{}
	for _, r := range a.compliance.Results() {
		out = append(out, a.complianceEntry(r.Source, r))
	}
	return out
}

type complianceCmd struct {
	serverFlags
	Now    bool   `help:"Sweep now (every checked source, or --source) and wait for the result."`
	Source string `help:"With --now: sweep this source only."`
}

func (c *complianceCmd) Run(e *env) error {
	base, token, err := c.target()
	if err != nil {
		return err
	}
	var rep struct {
		Sources []ComplianceSource `json:"sources"`
	}
	if err := apiCall(e.ctx, base, token, http.MethodGet, "/api/v1/compliance", nil, &rep); err != nil {
		return err
	}
	if c.Source != "" && !c.Now {
		return usageError{fmt.Errorf("--source goes with --now")}
	}
	if c.Now {
		var swept []ComplianceSource
		for _, s := range rep.Sources {
			if c.Source != "" && s.ID != c.Source {
				continue
			}
			var one ComplianceSource
			if err := apiCallLimited(e.ctx, personalCall, base, token, http.MethodPost, "/api/v1/compliance/"+url.PathEscape(s.ID)+"/sweep", nil, &one); err != nil {
				return err
			}
			swept = append(swept, one)
		}
		if c.Source != "" && len(swept) == 0 {
			return usageError{fmt.Errorf("--source: %q is not a source the compliance sweep checks", c.Source)}
		}
		rep.Sources = swept
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SOURCE\tTYPE\tEVERY\tWINDOW\tPER MIN\tLAST SWEEP\tCHECKED\tTAKEN DOWN\tEDITED\tUNVERIFIABLE\tFAILED")
	for _, s := range rep.Sources {
		r := s.LastSweep
		last := "not yet"
		if !r.At.IsZero() {
			last = r.At.UTC().Format(time.RFC3339)
			if r.Error != "" {
				last += " (failed)"
			}
		}
		down := 0
		for _, n := range r.TakenDown {
			down += n
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\n", s.ID, s.Type, s.Interval, s.Window, s.PerMinute, last,
			r.Checked, down, r.Edited, r.Unknown, r.Failed)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(rep.Sources) == 0 {
		fmt.Fprintln(e.stdout, "no source is checked: streamed networks (X, Bluesky, Mastodon streams, YouTube chat) send deletions themselves")
	}
	return nil
}
