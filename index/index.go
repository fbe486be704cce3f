package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// seqKey is where the index remembers the last event it applied, written in
// the same batch as the documents so the two never disagree.
var seqKey = []byte("chorus.events_seq")

// BatchSize is how many events are applied in one Bleve batch at most.
const BatchSize = 500

// Index is the search index of every stream's posts.
type Index struct {
	idx bleve.Index
	log *slog.Logger

	applied atomic.Uint64
	ready   chan struct{}
	once    sync.Once

	// advanced is closed and replaced each time applied moves.
	mu       sync.Mutex
	advanced chan struct{}

	lag       prometheus.Gauge
	events    prometheus.Counter
	skipped   prometheus.Counter
	appliedGa prometheus.Gauge
}

// Open opens the index at path, creating it when absent.
func Open(path string, log *slog.Logger, reg prometheus.Registerer) (*Index, error) {
	idx, err := bleve.Open(path)
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		idx, err = bleve.New(path, newMapping())
	}
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	x := &Index{
		idx:      idx,
		log:      log,
		ready:    make(chan struct{}),
		advanced: make(chan struct{}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chorus_index_lag_events",
			Help: "Events on the events stream not yet applied to the search index.",
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_index_events_total",
			Help: "Events applied to the search index.",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_index_events_skipped_total",
			Help: "Events the index could not decode and skipped.",
		}),
		appliedGa: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chorus_index_applied_seq",
			Help: "Sequence of the last event applied to the search index.",
		}),
	}
	raw, err := idx.GetInternal(seqKey)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("index: read position: %w", err)
	}
	if len(raw) > 0 {
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			idx.Close()
			return nil, fmt.Errorf("index: bad stored position %q", raw)
		}
		x.applied.Store(n)
	}
	if reg != nil {
		reg.MustRegister(x.lag, x.events, x.skipped, x.appliedGa)
	}
	return x, nil
}

// Remove deletes the index at path (before a rebuild).
func Remove(path string) error {
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("index: remove %s: %w", path, err)
	}
	return nil
}

// Applied is the sequence of the last event in the index.
func (x *Index) Applied() uint64 { return x.applied.Load() }

// WaitApplied returns once the event at seq is in the index, so a caller
// that just wrote an event can read its own write.
func (x *Index) WaitApplied(ctx context.Context, seq uint64) error {
	for {
		x.mu.Lock()
		ch := x.advanced
		x.mu.Unlock()
		if x.applied.Load() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("index: waiting for event %d: %w", seq, ctx.Err())
		}
	}
}

// Ready is closed once the index has caught up with the events stream.
func (x *Index) Ready() <-chan struct{} { return x.ready }

// Run applies events from the one after the last applied until ctx ends.
func (x *Index) Run(ctx context.Context, conn *bus.Conn) error {
	return conn.TailEvents(ctx, x.applied.Load()+1, BatchSize, x.skipped.Inc, func(b bus.Batch) error {
		if err := x.Apply(b); err != nil {
			return err
		}
		if b.CaughtUp {
			x.once.Do(func() { close(x.ready) })
		}
		return nil
	})
}

// Apply writes one batch of events and the new position atomically.
func (x *Index) Apply(b bus.Batch) error {
	if b.LastSeq <= x.applied.Load() && len(b.Events) == 0 {
		x.lag.Set(float64(b.Pending))
		return nil
	}
	batch := x.idx.NewBatch()
	docs := map[string]doc{}
	for _, e := range b.Events {
		if e.PostID == "" {
			continue // stream-level events (pause, resume) have no document
		}
		id := docID(e.Stream, e.PostID)
		p, postJSON, err := x.postFor(e, docs[id])
		if err != nil {
			x.log.Warn("index: skipping event", "seq", e.Seq, "err", err)
			x.skipped.Inc()
			continue
		}
		if p == nil {
			continue
		}
		docs[id] = newDoc(e, p, postJSON)
	}
	for id, d := range docs {
		if err := batch.Index(id, d); err != nil {
			return fmt.Errorf("index: add %s: %w", id, err)
		}
	}
	batch.SetInternal(seqKey, []byte(strconv.FormatUint(b.LastSeq, 10)))
	if err := x.idx.Batch(batch); err != nil {
		return fmt.Errorf("index: apply batch to %d: %w", b.LastSeq, err)
	}
	x.applied.Store(b.LastSeq)
	x.mu.Lock()
	close(x.advanced)
	x.advanced = make(chan struct{})
	x.mu.Unlock()
	x.appliedGa.Set(float64(b.LastSeq))
	x.events.Add(float64(len(b.Events)))
	x.lag.Set(float64(b.Pending))
	return nil
}

// postFor finds the post an event is about: carried by the event, else the
// one pending in this batch, else the one already indexed. It returns nil
// when the post is unknown.
func (x *Index) postFor(e bus.Event, pending doc) (*post.Post, string, error) {
	if e.Post != nil {
		raw, err := json.Marshal(e.Post)
		return e.Post, string(raw), err
	}
	raw := pending.PostJSON
	if raw == "" {
		h, err := x.find(e.Stream, e.PostID)
		if err != nil || h == nil {
			return nil, "", err
		}
		raw = h.postJSON
	}
	var p post.Post
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, "", err
	}
	return &p, raw, nil
}

// Close flushes and closes the index.
func (x *Index) Close() error {
	if err := x.idx.Close(); err != nil {
		return fmt.Errorf("index: close: %w", err)
	}
	return nil
}

// Count is the number of documents.
func (x *Index) Count() (uint64, error) { return x.idx.DocCount() }
