package connectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/chorus-wall/chorus/post"
)

// Publisher stores posts durably, returning how many were new.
type Publisher interface {
	PublishPosts(ctx context.Context, posts []post.Post) (int, error)
}

// Status is what an operator sees of one source.
type Status struct {
	ID          string    `json:"id"`
	Running     bool      `json:"running"`
	LastFetch   time.Time `json:"last_fetch,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	PostsFetch  int64     `json:"posts_fetched"`
	NextRetry   time.Time `json:"next_retry,omitzero"`
	Consecutive int       `json:"consecutive_errors,omitempty"`
}

// Runner drives every source until its context ends.
type Runner struct {
	sources map[string]Source
	pub     Publisher
	log     *slog.Logger

	mu     sync.Mutex
	status map[string]*Status

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
	for id := range sources {
		r.status[id] = &Status{ID: id}
		r.ingested.WithLabelValues(id)
		r.failures.WithLabelValues(id)
		r.healthy.WithLabelValues(id)
	}
	reg.MustRegister(r.ingested, r.failures, r.healthy, r.lastFetch)
	return r
}

// Run runs every source and returns when ctx ends and all have closed.
func (r *Runner) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for id, s := range r.sources {
		g.Go(func() error {
			r.runOne(ctx, id, s)
			return nil
		})
	}
	return g.Wait()
}

// Statuses returns the state of every source, sorted by id.
func (r *Runner) Statuses() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.status))
	for _, s := range r.status {
		out = append(out, *s)
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
