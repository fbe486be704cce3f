package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/chorus-wall/chorus/cluster"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Publisher stores posts durably, returning how many were new.
type Publisher interface {
	PublishPosts(ctx context.Context, posts []post.Post) (int, error)
}

// Status is what an operator sees of one source.
type Status struct {
	ID string `json:"id"`
	// Node runs the source ("" while no node does); for a push source,
	// the node that answers, whose calls the figures count.
	Node string `json:"node"`
	// EveryNode is true for push sources (webhooks): every node takes them.
	EveryNode   bool      `json:"every_node,omitempty"`
	Running     bool      `json:"running"`
	LastFetch   time.Time `json:"last_fetch,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	PostsFetch  int64     `json:"posts_fetched"`
	NextRetry   time.Time `json:"next_retry,omitzero"`
	Consecutive int       `json:"consecutive_errors,omitempty"`
}

// Runner drives the sources until its context ends. Alone, it runs every
// source. With Leases (several nodes on one NATS cluster), it runs push
// sources here and each other source only while this node holds its lease,
// so a network is polled by one node at a time; the node that takes a
// source over starts a fresh copy of it (Remake) from its stored cursor.
type Runner struct {
	sources map[string]Source
	pub     Publisher
	log     *slog.Logger

	// Leases, when set, shares the polled sources with the other nodes.
	Leases Leases
	// Remake builds a fresh copy of a source, for each time this node
	// takes it over after the first.
	Remake func(id string) (Source, error)

	mu     sync.Mutex
	status map[string]*Status
	// started are the sources run here before (with Leases).
	started map[string]bool

	ingested  *prometheus.CounterVec
	failures  *prometheus.CounterVec
	healthy   *prometheus.GaugeVec
	lastFetch *prometheus.GaugeVec
}

// NewRunner returns a runner for sources that publishes through pub.
func NewRunner(sources map[string]Source, pub Publisher, log *slog.Logger, reg prometheus.Registerer) *Runner {
	r := &Runner{
		sources: sources,
		pub:     pub,
		log:     log,
		status:  map[string]*Status{},
		started: map[string]bool{},
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_posts_ingested_total",
			Help: "Posts stored on the ingest stream, by source (duplicates excluded).",
		}, []string{"source"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_source_errors_total",
			Help: "Failed connects, reads and publishes, by source.",
		}, []string{"source"}),
		healthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chorus_source_up",
			Help: "1 when the source is running and its last operation succeeded, else 0.",
		}, []string{"source"}),
		lastFetch: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chorus_source_last_fetch_timestamp_seconds",
			Help: "Unix time of the source's last successful fetch.",
		}, []string{"source"}),
	}
	for id, s := range sources {
		_, push := s.(Push)
		r.status[id] = &Status{ID: id, EveryNode: push}
		r.ingested.WithLabelValues(id)
		r.failures.WithLabelValues(id)
		r.healthy.WithLabelValues(id)
	}
	reg.MustRegister(r.ingested, r.failures, r.healthy, r.lastFetch)
	return r
}

// Leases share work among the nodes of a cluster (cluster.Cluster).
type Leases interface {
	// Hold runs the work's pieces that fall to this node until ctx ends.
	Hold(ctx context.Context, w cluster.Work) error
	// Leases says who holds each piece of a kind of work.
	Leases(kind string) map[string]cluster.Lease
	// Name is this node's name.
	Name() string
}

// LeaseKind names sources in the leases bucket: work.source.<id>.
const LeaseKind = "source"

// Run runs the sources and returns when ctx ends and all have closed.
func (r *Runner) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	var polled []string
	for id, s := range r.sources {
		if _, push := s.(Push); r.Leases != nil && !push {
			polled = append(polled, id)
			continue
		}
		g.Go(func() error {
			r.runOne(ctx, id, s)
			return nil
		})
	}
	if len(polled) > 0 {
		sort.Strings(polled)
		g.Go(func() error {
			return r.Leases.Hold(ctx, cluster.Work{Kind: LeaseKind, Role: config.RoleConnectors, IDs: polled,
				Run: r.runLeased, Status: func(id string) any { return r.local(id) }})
		})
	}
	return g.Wait()
}

// runLeased runs a source for one lease term: the instance built at start
// the first time, a fresh one after.
func (r *Runner) runLeased(ctx context.Context, id string) {
	r.mu.Lock()
	s := r.sources[id]
	again := r.started[id]
	r.started[id] = true
	r.mu.Unlock()
	if again {
		var err error
		if s, err = r.Remake(id); err != nil {
			r.log.Error("could not build a source to take it over", "source", id, "err", err)
			<-ctx.Done()
			return
		}
	}
	r.runOne(ctx, id, s)
	r.healthy.DeleteLabelValues(id) // another node reports it now
}

// local is the state of a source as this node sees it.
func (r *Runner) local(id string) Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return *r.status[id]
}

// Statuses returns the state of every source, sorted by id: with Leases,
// a source another node runs as that node last reported it (at most a
// third of the lease's time old), with the node that runs it.
func (r *Runner) Statuses() []Status {
	var leases map[string]cluster.Lease
	me := ""
	if r.Leases != nil {
		leases = r.Leases.Leases(LeaseKind)
		me = r.Leases.Name()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.status))
	for id, s := range r.status {
		st := *s
		switch l, held := leases[id]; {
		case r.Leases == nil:
		case st.EveryNode:
			st.Node = me
		case !held:
			st = Status{ID: id}
		case l.Node != me:
			var remote Status
			if json.Unmarshal(l.Status, &remote) == nil && remote.ID == id {
				st = remote
			} else {
				st = Status{ID: id, Running: true}
			}
			st.Node = l.Node
		default:
			st.Node = me
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Backoff bounds for a failing source.
const (
	minBackoff = 500 * time.Millisecond
	maxBackoff = time.Minute
)

func (r *Runner) runOne(ctx context.Context, id string, s Source) {
	log := r.log.With("source", id)
	for attempt := 0; ; attempt++ {
		err := s.Connect(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		if !r.fail(ctx, id, log, "connect", err, attempt) {
			return
		}
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.Close(closeCtx); err != nil {
			log.Warn("close source", "err", err)
		}
		r.update(id, func(st *Status) { st.Running = false })
		r.healthy.WithLabelValues(id).Set(0)
	}()
	r.update(id, func(st *Status) { st.Running = true })
	r.healthy.WithLabelValues(id).Set(1)
	failures := 0
	for ctx.Err() == nil {
		posts, ack, err := s.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !r.fail(ctx, id, log, "read", err, failures) {
				return
			}
			failures++
			continue
		}
		failures = 0
		if len(posts) == 0 {
			_ = ack(ctx, nil)
			r.healthy.WithLabelValues(id).Set(1)
			r.lastFetch.WithLabelValues(id).SetToCurrentTime()
			r.update(id, func(st *Status) {
				st.LastFetch = time.Now()
				st.LastError, st.NextRetry, st.Consecutive = "", time.Time{}, 0
			})
			continue
		}
		fresh, perr := r.pub.PublishPosts(ctx, posts)
		if aerr := ack(ctx, perr); aerr != nil {
			log.Warn("commit cursor", "err", aerr)
		}
		if perr != nil {
			if ctx.Err() != nil {
				return
			}
			if !r.fail(ctx, id, log, "publish", perr, failures) {
				return
			}
			failures++
			continue
		}
		r.ingested.WithLabelValues(id).Add(float64(fresh))
		r.healthy.WithLabelValues(id).Set(1)
		r.lastFetch.WithLabelValues(id).SetToCurrentTime()
		r.update(id, func(st *Status) {
			st.LastFetch = time.Now()
			st.PostsFetch += int64(len(posts))
			st.LastError, st.NextRetry, st.Consecutive = "", time.Time{}, 0
		})
	}
}

// fail records err, waits out a jittered exponential backoff and reports
// whether to go on (false once ctx ends).
func (r *Runner) fail(ctx context.Context, id string, log *slog.Logger, op string, err error, attempt int) bool {
	wait := waitFor(err, attempt)
	r.failures.WithLabelValues(id).Inc()
	r.healthy.WithLabelValues(id).Set(0)
	r.update(id, func(st *Status) {
		st.LastError = fmt.Sprintf("%s: %v", op, err)
		st.NextRetry = time.Now().Add(wait)
		st.Consecutive++
	})
	log.Warn("source failed; retrying", "op", op, "err", err, "retry_in", wait.Round(time.Millisecond))
	return Sleep(ctx, wait) == nil
}

// Backoff is the wait before retry number attempt: exponential from 500ms to
// a minute, with full jitter in its upper half so many sources do not retry
// in step.
func Backoff(attempt int) time.Duration {
	d := minBackoff << min(attempt, 10)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func (r *Runner) update(id string, f func(*Status)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.status[id])
}

// ErrStopped is returned by push sources asked for posts after they stopped.
var ErrStopped = errors.New("source stopped")
