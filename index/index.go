package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
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

// schemaVersion names the mapping and what newDoc writes into it. Bump it
// with any change to either (TestMappingMatchesSchemaVersion insists): Open
// finds an index built under another version and rebuilds it from the
// events stream. Version 1 (unrecorded) had no phrase positions and matched
// hashtags, handles and networks only in lower case; version 2 had no
// "why" (the rule, filter or person that decided); version 3 had no
// "source" and "rights"; version 4 stored every field and kept its doc
// values, had a composite _all field and indexed audit entries in full.
const schemaVersion = "5"

// schemaKey is where the index records the schemaVersion it was built under.
var schemaKey = []byte("chorus.schema")

// BatchSize is how many events are applied in one Bleve batch at most. A
// batch holds what is pending, so it grows with the lag: a caught-up index
// applies each event at once, one behind by thousands applies them 2,000
// at a time, which costs about a tenth less CPU per event than 500 at a
// time (fewer, larger segments to build and merge; BenchmarkApply).
const BatchSize = 2000

// Index is the search index of every stream's posts.
type Index struct {
	idx  bleve.Index
	log  *slog.Logger
	path string

	applied atomic.Uint64
	ready   chan struct{}
	once    sync.Once

	// advanced is closed and replaced each time applied moves.
	mu       sync.Mutex
	advanced chan struct{}

	// OnApply, when set before Run, is called with what each batch
	// changed once it is committed, on Run's goroutine: it must not block.
	OnApply func(Applied)

	// AuthorHash hashes an author key the way erase events name authors
	// (privacy.Hasher); without it erase events cannot be applied.
	AuthorHash func(authorKey string) string
	// Banned, when set, says whether p's author is erased in stream: events
	// carrying such a post are not applied (one written while an erasure
	// runs must not bring the post back).
	Banned func(p *post.Post, stream string) bool
	// OnForget, when set, is called with the posts an erase or purge
	// event removed, once the batch is committed (the media proxy forgets
	// their pictures). It runs on Run's goroutine: it must not block long.
	OnForget func([]post.Post)

	// Compaction (compact.go): compactWanted is the last forgetting event
	// a compaction was asked for, compacted the last one covered.
	compactKick   chan struct{}
	compactWanted uint64
	compacted     uint64
	compactDone   chan struct{}

	lag       prometheus.Gauge
	events    prometheus.Counter
	skipped   prometheus.Counter
	appliedGa prometheus.Gauge
}

// Open opens the index at path, creating it when absent. An index built
// under another schemaVersion is deleted and created empty, so Run rebuilds
// it from the first event (Ready stays open until it has caught up).
func Open(path string, log *slog.Logger, reg prometheus.Registerer) (*Index, error) {
	idx, err := openCurrent(path, log)
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	x := &Index{
		idx:         idx,
		log:         log,
		path:        path,
		ready:       make(chan struct{}),
		advanced:    make(chan struct{}),
		compactKick: make(chan struct{}, 1),
		compactDone: make(chan struct{}),
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

// openCurrent opens the index at path when it was built under
// schemaVersion, and creates it afresh when it is absent or of another version.
func openCurrent(path string, log *slog.Logger) (bleve.Index, error) {
	idx, err := bleve.Open(path)
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		return create(path)
	}
	if err != nil {
		return nil, err
	}
	built, err := idx.GetInternal(schemaKey)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if string(built) == schemaVersion {
		return idx, nil
	}
	if len(built) == 0 {
		built = []byte("1")
	}
	log.Warn("index: built by another version of Chorus; rebuilding it from the events stream (ready once caught up)",
		"path", path, "schema", string(built), "now", schemaVersion)
	if err := idx.Close(); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(path); err != nil {
		return nil, fmt.Errorf("remove the old index: %w", err)
	}
	return create(path)
}

// create makes an empty index under schemaVersion.
func create(path string) (bleve.Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	idx, err := bleve.New(path, m)
	if err != nil {
		return nil, err
	}
	// Recorded before any document: an index without it is rebuilt again.
	if err := idx.SetInternal(schemaKey, []byte(schemaVersion)); err != nil {
		idx.Close()
		return nil, fmt.Errorf("record schema version: %w", err)
	}
	return idx, nil
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

// Run applies events from the one after the last applied until ctx ends,
// and compacts the index after erasures and purges.
func (x *Index) Run(ctx context.Context, conn *bus.Conn) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		x.compactLoop(ctx)
	}()
	defer wg.Wait()
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

// Apply writes one batch of events and the new position atomically: each
// event changes its post's document and adds an audit entry.
func (x *Index) Apply(b bus.Batch) error {
	if b.LastSeq <= x.applied.Load() && len(b.Events) == 0 {
		x.lag.Set(float64(b.Pending))
		return nil
	}
	batch := x.idx.NewBatch()
	docs := map[string]*current{}
	var streams []string
	var forgot []post.Post
	forgetting := false
	for _, e := range b.Events {
		if !slices.Contains(streams, e.Stream) {
			streams = append(streams, e.Stream)
		}
		if e.Post != nil && x.Banned != nil && x.Banned(e.Post, e.Stream) {
			continue // an erased author's: never indexed, not even in the audit
		}
		a, err := newAudit(e)
		if err != nil {
			return fmt.Errorf("index: audit %d: %w", e.Seq, err)
		}
		if err := batch.Index(auditID(e.Seq), a); err != nil {
			return fmt.Errorf("index: audit %d: %w", e.Seq, err)
		}
		var gone []post.Post
		switch {
		case e.Kind == bus.EventBanAuthor:
			err = x.ban(e, docs)
		case e.Kind == bus.EventErase:
			gone, err = x.erase(batch, e, docs)
			forgetting = true
		case e.Kind == bus.EventPurge:
			gone, err = x.forget(batch, docs, e.Stream, e.Posts, nil)
			forgetting = true
		case e.PostID != "":
			err = x.change(e, docs)
		}
		forgot = append(forgot, gone...)
		if err != nil {
			x.log.Warn("index: skipping event", "seq", e.Seq, "err", err)
			x.skipped.Inc()
		}
	}
	for id, c := range docs {
		d, err := newDoc(c.stream, &c.post, c.postJSON, c.meta)
		if err != nil {
			return fmt.Errorf("index: encode %s: %w", id, err)
		}
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
	if forgetting {
		x.requestCompaction(b.LastSeq)
	}
	if len(forgot) > 0 && x.OnForget != nil {
		x.OnForget(forgot)
	}
	if x.OnApply != nil {
		a := applied(b.LastSeq, docs, streams)
		a.Forgot = forgetting
		x.OnApply(a)
	}
	return nil
}

// current is a post document being changed within a batch.
type current struct {
	stream   string
	post     post.Post
	postJSON string
	meta     meta
}

// load returns the document of (stream, postID): pending in this batch,
// else from the index; nil when the post is unknown.
func (x *Index) load(stream, postID string, docs map[string]*current) (*current, error) {
	id := docID(stream, postID)
	if c, ok := docs[id]; ok {
		return c, nil
	}
	f, err := x.find(stream, postID)
	if err != nil || f == nil {
		return nil, err
	}
	c := &current{stream: stream, postJSON: f.postJSON}
	if err := json.Unmarshal([]byte(f.postJSON), &c.post); err != nil {
		return nil, fmt.Errorf("stored post %s: %w", id, err)
	}
	if f.metaJSON != "" {
		if err := json.Unmarshal([]byte(f.metaJSON), &c.meta); err != nil {
			return nil, fmt.Errorf("stored state of %s: %w", id, err)
		}
	}
	docs[id] = c
	return c, nil
}

// change applies a post event to its document.
func (x *Index) change(e bus.Event, docs map[string]*current) error {
	c, err := x.load(e.Stream, e.PostID, docs)
	if err != nil {
		return err
	}
	if c == nil {
		if e.Post == nil || e.SourceEdit {
			return nil // an action on a post this stream never had (or no longer has)
		}
		c = &current{stream: e.Stream}
		docs[docID(e.Stream, e.PostID)] = c
	}
	if e.Post != nil {
		raw, err := json.Marshal(e.Post)
		if err != nil {
			return err
		}
		c.post, c.postJSON = *e.Post, string(raw)
	}
	if e.SourceEdit && e.Kind != bus.EventEdit && strictness[e.Kind.Status()] <= strictness[c.meta.Status] {
		// An edit takes a post further off screens, never back: the new
		// version replaces the old, where it stands.
		e.Kind = bus.EventEdit
	}
	c.meta.apply(e)
	return nil
}

// strictness orders statuses by how far off screens they keep a post.
var strictness = map[string]int{"approved": 0, "held": 1, "rejected": 2, "removed": 2}

// ban takes an author's approved and held posts in a stream off: approved
// ones become removed, held ones rejected.
func (x *Index) ban(e bus.Event, docs map[string]*current) error {
	q := bleve.NewConjunctionQuery(term("doc_type", typePost), term("stream", e.Stream), term("author_key", strings.ToLower(e.Author)))
	req := bleve.NewSearchRequestOptions(q, 10000, 0, false)
	res, err := x.idx.Search(req)
	if err != nil {
		return fmt.Errorf("find posts of %s: %w", e.Author, err)
	}
	for _, h := range res.Hits {
		if _, err := x.load(e.Stream, postIDOf(e.Stream, h.ID), docs); err != nil {
			return err
		}
	}
	for _, c := range docs {
		if c.stream != e.Stream || c.post.AuthorKey() != e.Author {
			continue
		}
		kind := map[string]bus.EventKind{"approved": bus.EventRemove, "held": bus.EventReject}[c.meta.Status]
		if kind == "" {
			continue
		}
		c.meta.apply(bus.Event{Kind: kind, Reason: "author banned: " + e.Reason, Actor: e.Actor, At: e.At, Seq: e.Seq})
	}
	return nil
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
