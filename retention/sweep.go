// Package retention keeps no post longer than its stream keeps it: a
// background sweep finds the posts whose retention (per stream, per
// status) ran out and deletes them from the screens, the search index and
// the ingest and events streams, with metrics for what it purged.
package retention

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/index"
)

// Index is what the sweep asks the search index (index.Index).
type Index interface {
	ExpiredPosts(ctx context.Context, stream, class string, before time.Time, limit int) ([]index.Expired, error)
	EventSeqs(ctx context.Context, stream string, ids []string) ([]uint64, error)
	HeldElsewhere(ctx context.Context, postID, stream string) (bool, error)
	KeptPosts(ctx context.Context, stream, class string) (index.Kept, error)
	WaitApplied(ctx context.Context, seq uint64) error
}

// StreamList is the curated streams as they run.
type StreamList interface {
	All() []config.Stream
}

// ActorRetention is who purges, in the audit.
const ActorRetention = "retention"

// batch is how many posts one purge event lists.
const batch = 500

// Sweeper runs the retention sweep.
type Sweeper struct {
	conn    *bus.Conn
	index   Index
	streams StreamList
	// max is nats.retention: nothing is kept longer.
	max   time.Duration
	every time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu   sync.Mutex
	last Sweep

	purged *prometheus.CounterVec
	sweeps *prometheus.CounterVec
	lastTS prometheus.Gauge
}

// Options configure a sweeper.
type Options struct {
	Conn    *bus.Conn
	Index   Index
	Streams StreamList
	// Max is nats.retention; Every the sweep interval.
	Max   time.Duration
	Every time.Duration
	// Now is the sweep's clock (time.Now when nil): a test controls it.
	Now      func() time.Time
	Log      *slog.Logger
	Registry prometheus.Registerer
}

// New returns a sweeper, registering its metrics.
func New(o Options) *Sweeper {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sweeper{conn: o.Conn, index: o.Index, streams: o.Streams, max: o.Max, every: o.Every, now: o.Now, log: o.Log,
		last: Sweep{Purged: map[string]map[string]int{}},
		purged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_retention_purged_total",
			Help: "Posts purged because their retention ran out, by stream and status (approved, held, rejected, removed, gone).",
		}, []string{"stream", "status"}),
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_retention_sweeps_total",
			Help: "Retention sweeps, by result (ok, failed).",
		}, []string{"result"}),
		lastTS: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chorus_retention_last_sweep_timestamp_seconds",
			Help: "Unix time of the last retention sweep that completed.",
		}),
	}
	s.sweeps.WithLabelValues("ok")
	s.sweeps.WithLabelValues("failed")
	o.Registry.MustRegister(s.purged, s.sweeps, s.lastTS)
	return s
}

// Run sweeps every interval until ctx ends. Every node sweeps: the work is
// the same on each and done once (a post purged by one is gone for the
// others).
func (s *Sweeper) Run(ctx context.Context) error {
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("retention sweep failed; the next one tries again", "err", err)
		}
	}
}

// Sweep is one sweep's account.
type Sweep struct {
	At time.Time `json:"at,omitzero"`
	// Purged counts the posts purged, by stream and status.
	Purged map[string]map[string]int `json:"purged"`
	Error  string                    `json:"error,omitempty"`
}

// Sweep purges every post whose retention ran out, now.
func (s *Sweeper) Sweep(ctx context.Context) (Sweep, error) {
	now := s.now()
	out := Sweep{At: now.UTC(), Purged: map[string]map[string]int{}}
	var err error
	for _, st := range s.streams.All() {
		for class, keep := range st.Retention.Effective(s.max) {
			var n int
			n, err = s.purgeClass(ctx, st.ID, class, now.Add(-keep), keep)
			if n > 0 {
				if out.Purged[st.ID] == nil {
					out.Purged[st.ID] = map[string]int{}
				}
				out.Purged[st.ID][class] += n
				s.purged.WithLabelValues(st.ID, class).Add(float64(n))
			}
			if err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if err != nil {
		out.Error = err.Error()
		s.sweeps.WithLabelValues("failed").Inc()
	} else {
		s.sweeps.WithLabelValues("ok").Inc()
		s.lastTS.Set(float64(now.Unix()))
	}
	s.mu.Lock()
	s.last = out
	s.mu.Unlock()
	return out, err
}

// purgeClass purges a stream's posts of one class decided before cutoff,
// a batch at a time: a purge event (screens and the index drop them),
// then the erasure of their events and, when no other stream holds them,
// of their copies on the ingest stream. It returns how many it purged.
func (s *Sweeper) purgeClass(ctx context.Context, stream, class string, cutoff time.Time, keep time.Duration) (int, error) {
	total := 0
	for {
		expired, err := s.index.ExpiredPosts(ctx, stream, class, cutoff, batch)
		if err != nil || len(expired) == 0 {
			return total, err
		}
		ids := make([]string, len(expired))
		for i, e := range expired {
			ids[i] = e.PostID
		}
		seqs, err := s.index.EventSeqs(ctx, stream, ids)
		if err != nil {
			return total, err
		}
		ev := bus.Event{Kind: bus.EventPurge, Stream: stream, Posts: ids, Actor: ActorRetention, At: s.now().UTC(),
			Reason: fmt.Sprintf("retention: %s posts are kept %s", class, keep)}
		msg, err := ev.Msg(purgeID(stream, ids))
		if err != nil {
			return total, err
		}
		acks, err := s.conn.PublishAll(ctx, []*nats.Msg{msg})
		if err != nil {
			return total, err
		}
		// The next page is asked of the index once it has dropped these.
		wait, cancel := context.WithTimeout(ctx, time.Minute)
		err = s.index.WaitApplied(wait, acks[0].Sequence)
		cancel()
		if err != nil {
			return total, fmt.Errorf("retention: purge of %s written (event %d) but the index has not applied it: %w", stream, acks[0].Sequence, err)
		}
		for _, seq := range seqs {
			if err := s.conn.Erase(ctx, bus.EventsStream, seq); err != nil {
				return total, err
			}
		}
		for _, e := range expired {
			if e.IngestSeq == 0 {
				continue
			}
			if elsewhere, err := s.index.HeldElsewhere(ctx, e.PostID, stream); err != nil {
				return total, err
			} else if !elsewhere {
				if err := s.conn.Erase(ctx, bus.IngestStreamOf(e.IngestStream), e.IngestSeq); err != nil {
					return total, err
				}
			}
		}
		total += len(expired)
		s.log.Info("retention: purged posts", "stream", stream, "status", class, "posts", len(expired), "events_erased", len(seqs))
		if len(expired) < batch {
			return total, nil
		}
	}
}

// purgeID makes a purge's message id: the same purge written by two nodes
// at once is stored once.
func purgeID(stream string, ids []string) string {
	sum := sha256.Sum256([]byte(strings.Join(ids, "\x00")))
	return "purge." + stream + "." + hex.EncodeToString(sum[:12])
}

// Report is what each stream keeps now, and the last sweep: an auditor's
// question about retention, answered.
type Report struct {
	Every     string         `json:"sweep_interval"`
	LastSweep Sweep          `json:"last_sweep"`
	Streams   []StreamReport `json:"streams"`
}

// StreamReport is one stream's retention and what it keeps now.
type StreamReport struct {
	ID string `json:"id"`
	// Retention is each status's retention in force.
	Retention map[string]string `json:"retention"`
	// Kept is what the stream holds now, by status.
	Kept map[string]index.Kept `json:"kept"`
}

// Report describes each stream's retention and what it keeps now.
func (s *Sweeper) Report(ctx context.Context) (Report, error) {
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	rep := Report{Every: s.every.String(), LastSweep: last, Streams: []StreamReport{}}
	for _, st := range s.streams.All() {
		sr := StreamReport{ID: st.ID, Retention: map[string]string{}, Kept: map[string]index.Kept{}}
		for class, keep := range st.Retention.Effective(s.max) {
			sr.Retention[class] = keep.String()
			k, err := s.index.KeptPosts(ctx, st.ID, class)
			if err != nil {
				return Report{}, err
			}
			sr.Kept[class] = k
		}
		rep.Streams = append(rep.Streams, sr)
	}
	return rep, nil
}
