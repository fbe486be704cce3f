// Package compliance keeps screens to posts that still stand at their
// source, for the networks that send no deletion notices (Mastodon without
// streaming, Reddit, RSS): on each source's compliance_interval it asks
// the network again about every post of the source on a screen now or
// approved within compliance_window, within compliance_per_minute, and
// turns a post deleted, made private or marked sensitive into a takedown,
// which curation takes off every screen.
package compliance

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// Shown finds the posts of a source to check: those on a screen now and
// those approved since a time, newest first.
type Shown interface {
	ShownBy(ctx context.Context, source string, since time.Time) ([]post.Post, error)
}

// Publisher stores takedowns and edits on the ingest stream.
type Publisher interface {
	PublishPosts(ctx context.Context, posts []post.Post) (int, error)
}

// maxPerSweep bounds the posts one sweep of a source checks.
const maxPerSweep = 5000

// Sweeper runs the compliance sweep of every checkable source.
type Sweeper struct {
	checkers map[string]connectors.Checker
	shown    Shown
	pub      Publisher
	mine     func(source string) bool
	now      func() time.Time
	log      *slog.Logger

	mu   sync.Mutex
	last map[string]Result

	checked  *prometheus.CounterVec
	unknown  *prometheus.CounterVec
	takedown *prometheus.CounterVec
	edited   *prometheus.CounterVec
	failed   *prometheus.CounterVec
	lastTS   *prometheus.GaugeVec
}

// Options configure a sweeper.
type Options struct {
	// Checkers are the sources that can be checked, by id.
	Checkers  map[string]connectors.Checker
	Shown     Shown
	Publisher Publisher
	// Mine says whether this node runs a source now (in a cluster, the
	// node holding its lease sweeps it); nil means every source.
	Mine func(source string) bool
	// Now is the sweep's clock (time.Now when nil).
	Now      func() time.Time
	Log      *slog.Logger
	Registry prometheus.Registerer
}

// New returns a sweeper, registering its metrics.
func New(o Options) *Sweeper {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Mine == nil {
		o.Mine = func(string) bool { return true }
	}
	s := &Sweeper{checkers: o.Checkers, shown: o.Shown, pub: o.Publisher, mine: o.Mine, now: o.Now, log: o.Log, last: map[string]Result{},
		checked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_compliance_checked_total",
			Help: "Posts the compliance sweep asked their network about, by source.",
		}, []string{"source"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_compliance_unverifiable_total",
			Help: "Posts the compliance sweep could not ask about (on a server the source cannot ask), by source.",
		}, []string{"source"}),
		takedown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_compliance_taken_down_total",
			Help: "Posts taken down because they no longer stand at their source, by source and reason (deleted, private, sensitive).",
		}, []string{"source", "reason"}),
		edited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_compliance_edits_total",
			Help: "Edits at the source found by the compliance sweep and sent to curation, by source.",
		}, []string{"source"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_compliance_errors_total",
			Help: "Compliance checks the network did not answer (retried at the next sweep), by source.",
		}, []string{"source"}),
		lastTS: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chorus_compliance_last_sweep_timestamp_seconds",
			Help: "Unix time of the source's last complete compliance sweep.",
		}, []string{"source"}),
	}
	for id := range o.Checkers {
		s.checked.WithLabelValues(id)
		s.unknown.WithLabelValues(id)
		s.edited.WithLabelValues(id)
		s.failed.WithLabelValues(id)
		for _, r := range []string{post.GoneDeleted, post.GonePrivate, post.GoneSensitive} {
			s.takedown.WithLabelValues(id, r)
		}
	}
	o.Registry.MustRegister(s.checked, s.unknown, s.takedown, s.edited, s.failed, s.lastTS)
	return s
}

// Run sweeps each source on its compliance_interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for id, c := range s.checkers {
		g.Go(func() error {
			tick := time.NewTicker(c.Compliance().ComplianceInterval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
				if !s.mine(id) {
					continue // another node runs the source, and sweeps it
				}
				if _, err := s.Sweep(ctx, id); err != nil && ctx.Err() == nil {
					s.log.Warn("compliance sweep failed; the next one tries again", "source", id, "err", err)
				}
			}
		})
	}
	return g.Wait()
}

// Result is one sweep's account for a source.
type Result struct {
	Source    string         `json:"source"`
	At        time.Time      `json:"at"`
	Checked   int            `json:"checked"`
	Unknown   int            `json:"unverifiable"`
	TakenDown map[string]int `json:"taken_down"`
	Edited    int            `json:"edited"`
	Failed    int            `json:"failed"`
	Took      string         `json:"took"`
	Error     string         `json:"error,omitempty"`
}

// Sweep checks one source's posts now.
func (s *Sweeper) Sweep(ctx context.Context, source string) (Result, error) {
	c, ok := s.checkers[source]
	if !ok {
		return Result{}, fmt.Errorf("compliance: source %q cannot be checked", source)
	}
	cfg := c.Compliance()
	start := s.now()
	res := Result{Source: source, At: start.UTC(), TakenDown: map[string]int{}}
	err := s.sweep(ctx, source, c, cfg, &res)
	res.Took = time.Since(start).Round(time.Millisecond).String()
	if err != nil {
		res.Error = err.Error()
	} else {
		s.lastTS.WithLabelValues(source).Set(float64(start.Unix()))
	}
	s.mu.Lock()
	s.last[source] = res
	s.mu.Unlock()
	return res, err
}

func (s *Sweeper) sweep(ctx context.Context, source string, c connectors.Checker, cfg connectors.Compliance, res *Result) error {
	posts, err := s.shown.ShownBy(ctx, source, s.now().Add(-cfg.ComplianceWindow))
	if err != nil {
		return err
	}
	if len(posts) > maxPerSweep {
		s.log.Warn("compliance: more posts to check than one sweep takes; the newest are checked", "source", source, "posts", len(posts), "checked", maxPerSweep)
		posts = posts[:maxPerSweep]
	}
	// One request per tick: compliance_per_minute, spread evenly.
	limit := rate.NewLimiter(rate.Limit(float64(cfg.CompliancePerMinute)/60), 1)
	for batch := range slices.Chunk(posts, cfg.Batch) {
		if err := limit.Wait(ctx); err != nil {
			return err
		}
		standing, err := c.Check(ctx, batch)
		if err != nil {
			// The network did not answer: nothing is taken down for it.
			res.Failed += len(batch)
			s.failed.WithLabelValues(source).Add(float64(len(batch)))
			s.log.Warn("compliance: a check failed; its posts are checked again next sweep", "source", source, "posts", len(batch), "err", err)
			continue
		}
		var out []post.Post
		now := s.now()
		for _, st := range standing {
			switch {
			case st.Unknown:
				res.Unknown++
				s.unknown.WithLabelValues(source).Inc()
				continue
			case st.Gone == "" && st.Edit == nil:
				// It stands as shown.
			case st.Gone != "":
				p := post.Takedown(network(st.ID), st.ID, source, now)
				p.Gone = st.Gone
				if err := p.Normalize(p.Network, now); err != nil {
					s.log.Warn("compliance: cannot take down a post with this id", "source", source, "post", st.ID, "err", err)
					continue
				}
				out = append(out, p)
				res.TakenDown[st.Gone]++
				s.takedown.WithLabelValues(source, st.Gone).Inc()
			default:
				out = append(out, *st.Edit)
				res.Edited++
				s.edited.WithLabelValues(source).Inc()
			}
			res.Checked++
			s.checked.WithLabelValues(source).Inc()
		}
		if len(out) > 0 {
			if _, err := s.pub.PublishPosts(ctx, out); err != nil {
				return fmt.Errorf("compliance: store takedowns of %s: %w", source, err)
			}
			for _, p := range out {
				s.log.Info("compliance: post no longer stands as shown", "source", source, "post", p.ID, "gone", p.Gone, "edited", !p.Deleted)
			}
		}
	}
	return nil
}

func network(id string) string {
	n, _, _ := strings.Cut(id, ":")
	return n
}

// Results are the last sweep of each source, by source id.
func (s *Sweeper) Results() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Result, 0, len(s.checkers))
	for id := range s.checkers {
		r, ok := s.last[id]
		if !ok {
			r = Result{Source: id, TakenDown: map[string]int{}}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}
