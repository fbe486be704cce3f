package curation

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/cluster"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Durable is the name of the consumer of posts published without a
// partition (by integrators or an older Chorus): every curation node reads
// it and moves each post to its partition.
const Durable = "curation"

// Curator consumes the ingest stream and writes a decision event for every
// (stream, post) pair, exactly once.
type Curator struct {
	conn     *bus.Conn
	streams  *Streams
	enricher Enricher
	log      *slog.Logger
	now      func() time.Time
	// workers is how many goroutines prepare and decide a batch.
	workers int
	// ackWait is how long a message delivered to this node may wait for
	// its decision before NATS delivers it again (ackWait by default).
	ackWait time.Duration
	// Leases, when set, shares the partitions with the other curation
	// nodes; without, this node decides them all.
	Leases Leases
	// instance tells this curator's shared texts from the other nodes'.
	instance string
	// queue is what the partitions deliver to the pipeline.
	queue chan delivery
	// texts is how far the texts the curation nodes share are read (nil
	// without Leases: nothing is shared).
	texts *textFollow
	// running are the partitions this node reads now; started latches
	// once every partition has a node and this node's are read.
	runMu   sync.Mutex
	running map[string]bool
	started bool

	// Bans, when set before Run, are the erased authors: their posts are
	// erased from the ingest stream unread (erased everywhere) or skipped
	// for the streams they were erased from.
	Bans Bans
	// Consent, when set before Run, recognises the authors' consent
	// replies to rights requests; RightsBook closes the requests they
	// grant (rights.go).
	Consent    Consent
	RightsBook RightsBook
	// window is what this node decided lately (window.go);
	// dedupeWindow, how long the events stream drops a repeated message id.
	window       *window
	dedupeWindow time.Duration
	recoverMu    sync.Mutex
	// beforeAck, in tests, sees a stored batch's messages before they are
	// acknowledged, and may keep them from it (a crash in between).
	beforeAck func(msgs []jetstream.Msg) (ack bool)

	decided    *prometheus.CounterVec
	edits      *prometheus.CounterVec
	undecoded  prometheus.Counter
	duplicates prometheus.Counter
}

// Enricher adds what curation needs and networks may not give: the
// language and a sentiment score.
type Enricher interface {
	Enrich(p *post.Post)
}

// NewCurator returns a curator for streams reading from conn; enricher may
// be nil.
func NewCurator(conn *bus.Conn, streams *Streams, enricher Enricher, log *slog.Logger, reg prometheus.Registerer) *Curator {
	c := &Curator{
		conn:     conn,
		streams:  streams,
		enricher: enricher,
		log:      log,
		now:      time.Now,
		workers:  runtime.GOMAXPROCS(0),
		ackWait:  ackWait,
		instance: newInstance(),
		running:  map[string]bool{},
		window:   newWindow(windowSize),
		queue:    make(chan delivery, batchSize),
		// The events stream's own setting (bus.Open).
		dedupeWindow: bus.DedupeWindow,
		decided: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_posts_decided_total",
			Help: "Curation decisions written, by stream and outcome (approve, hold, reject).",
		}, []string{"stream", "outcome"}),
		undecoded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_ingest_undecodable_total",
			Help: "Ingest messages that were not a post and were dropped.",
		}),
		edits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_posts_edited_total",
			Help: "Edits at the source of posts a stream had decided, judged again, by stream and outcome (approved: the new version replaces the old; held, rejected: it leaves the screens).",
		}, []string{"stream", "outcome"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_posts_duplicate_total",
			Help: "Posts skipped because their stream had already decided them.",
		}),
	}
	reg.MustRegister(c.decided, c.edits, c.undecoded, c.duplicates)
	return c
}

// batchSize bounds how many ingest messages are decided together. A busy
// stream fills batches; a quiet one is decided message by message, at once.
const batchSize = 1000

// Run consumes until ctx ends. The ingest stream is split into
// bus.IngestPartitions partitions by author; this node decides the
// partitions it holds (all of them without Leases), so one author's posts
// are always decided by one node and its spam memory sees them all. Work is
// pipelined: while one batch is being decided and stored, the next is read,
// decoded and enriched.
func (c *Curator) Run(ctx context.Context) error {
	in := c.queue
	g, ctx := errgroup.WithContext(ctx)
	pipeline := make(chan struct{})
	g.Go(func() error {
		defer close(pipeline)
		c.pipeline(ctx, in)
		return nil
	})
	g.Go(func() error { return c.route(ctx) })
	g.Go(func() error { return c.routeLegacy(ctx) })
	if c.Leases != nil {
		c.texts = newTextFollow()
		g.Go(func() error { return c.followTexts(ctx) })
	}
	run := func(ctx context.Context, id string) { c.runPartition(ctx, id, in, pipeline) }
	if c.Leases != nil {
		g.Go(func() error {
			return c.Leases.Hold(ctx, cluster.Work{Kind: PartitionKind, Role: config.RoleCuration, IDs: PartitionIDs(), Run: run})
		})
	} else {
		for _, id := range PartitionIDs() {
			g.Go(func() error { run(ctx, id); return nil })
		}
	}
	return g.Wait()
}

// pipeline decides what the partitions deliver, batch after batch.
func (c *Curator) pipeline(ctx context.Context, in <-chan delivery) {
	batches := make(chan []*item, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(batches)
		c.read(ctx, in, batches)
	}()
	for b := range batches {
		bctx, cancel := c.finishing(ctx)
		c.handle(bctx, b)
		cancel()
	}
	wg.Wait()
}

// finishing is the context a batch is decided and stored in: when ctx ends
// (the node stops), a batch begun is given handOverWait to be stored and
// acknowledged, or none with NATS away. (Cut off at once, a batch whose
// events were stored was given back unacknowledged, and the partition's
// next node decided it again.)
func (c *Curator) finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		if !c.conn.NC.IsConnected() {
			cancel()
			return
		}
		t := time.AfterFunc(handOverWait, cancel)
		context.AfterFunc(bctx, func() { t.Stop() })
	})
	return bctx, func() { stop(); cancel() }
}

// delivery is one ingest message from a partition this node holds.
type delivery struct {
	msg jetstream.Msg
	// pending is how many more messages its partition had then.
	pending uint64
	// stream and seq are where it is stored (its partition's stream, or
	// CHORUS_INGEST for a message stored before partition streams), and
	// stored when it was published (bus.PublishedAt).
	stream string
	seq    uint64
	stored time.Time
	// done is called once the message is acknowledged or given back.
	done func()
	// stopped is closed once its partition left this node: a message not
	// being decided yet is given back for the partition's next node.
	stopped <-chan struct{}
}

// handedOver gives d back when its partition has left this node, and
// reports whether it did.
func (d delivery) handedOver() bool {
	select {
	case <-d.stopped:
		_ = d.msg.Nak()
		d.done()
		return true
	default:
		return false
	}
}

// read gathers deliveries into batches, prepares each and hands it on,
// until ctx ends. A batch takes what is there (up to batchSize), and waits
// a moment for more while a partition says more are coming, and gapWait
// once when its newest message is live (published less than liveAge ago: a
// message of another partition published just before it may be on its
// way, through that partition's consumer). Each batch is
// decided in the order the messages were stored, so posts published
// together (one webhook call) reach screens in their order whatever their
// authors' partitions.
func (c *Curator) read(ctx context.Context, in <-chan delivery, out chan<- []*item) {
	// At start, posts that waited in the stream are read by every partition
	// at once: wait until the partitions are all running, so the first
	// batches hold them in order rather than whichever partition came first.
	for !c.Started() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	// The partitions' consumers have only just asked for their first
	// messages, some later than others: the first live batch waits longer
	// for them than batches do once every consumer has its pull waiting.
	gap := startGapWait
	for {
		var batch []delivery
		var gapUntil time.Time
		take := func(d delivery) {
			if !d.handedOver() {
				batch = append(batch, d)
			}
		}
		for len(batch) == 0 {
			select {
			case d := <-in:
				take(d)
			case <-ctx.Done():
				giveBackAll(nil, in)
				return
			}
		}
	gather:
		for len(batch) < batchSize {
			select {
			case d := <-in:
				take(d)
				continue
			default:
			}
			wait := time.Duration(0)
			if batch[len(batch)-1].pending > 0 {
				wait = 2 * time.Millisecond
			} else {
				if gapUntil.IsZero() && time.Since(newest(batch)) < liveAge {
					gapUntil = time.Now().Add(gap)
					gap = gapWait
				}
				wait = time.Until(gapUntil)
			}
			if wait <= 0 {
				break
			}
			select {
			case d := <-in:
				take(d)
			case <-time.After(wait):
				break gather
			case <-ctx.Done():
				giveBackAll(batch, in)
				return
			}
		}
		slices.SortStableFunc(batch, func(a, b delivery) int {
			return cmp.Or(a.stored.Compare(b.stored), cmp.Compare(a.stream, b.stream), cmp.Compare(a.seq, b.seq))
		})
		items := c.prepare(batch)
		select {
		case out <- items:
		case <-ctx.Done():
			for _, it := range items {
				_ = it.msg.Nak()
				it.done()
			}
			giveBackAll(nil, in)
			return
		}
	}
}

// giveBackAll gives back the batch and what waits in in when curation
// stops here, so another node gets them at once rather than after ackWait.
func giveBackAll(batch []delivery, in <-chan delivery) {
	for _, d := range batch {
		_ = d.msg.Nak()
		d.done()
	}
	for {
		select {
		case d := <-in:
			_ = d.msg.Nak()
			d.done()
		default:
			return
		}
	}
}

// gapWait is how long a batch of live messages waits for the messages
// other partitions' consumers may bring of what was published before them
// (on a cluster, from other nodes' partitions): a live batch costs this
// much latency once. A backlog (published more than liveAge ago) does not
// wait.
const (
	gapWait      = 10 * time.Millisecond
	startGapWait = 250 * time.Millisecond
	liveAge      = 5 * time.Second
)

// newest is when the newest message of a batch was stored.
func newest(batch []delivery) time.Time {
	var t time.Time
	for _, d := range batch {
		if d.stored.After(t) {
			t = d.stored
		}
	}
	return t
}

// item is one ingest message on its way through curation.
type item struct {
	msg  jetstream.Msg
	done func()
	// stream and seq are the message's place on the ingest side.
	stream string
	seq    uint64
	post   post.Post
	// fed are the streams the post's source feeds; seenKeys and goneKeys
	// the post's SeenKey and GoneKey in each, in order.
	fed                []*Policy
	seenKeys, goneKeys []string
}

// prepare decodes and enriches a batch, on every core: this is most of
// curation's CPU, and each post's is independent of the others'.
// Undecodable messages are terminated and left out.
func (c *Curator) prepare(batch []delivery) []*item {
	items := make([]*item, len(batch))
	parallel(len(batch), c.workers, func(i int) {
		d := batch[i]
		it := &item{msg: d.msg, done: d.done, stream: d.stream, seq: d.seq}
		if !c.decode(d.msg, &it.post) {
			_ = d.msg.Term()
			d.done()
			return
		}
		if c.erased(it) {
			d.done()
			return
		}
		if !it.post.Deleted {
			it.fed = c.streams.Fed(it.post.Source)
			it.seenKeys, it.goneKeys = pairKeys(it.fed, it.post.ID)
			if len(it.fed) > 0 && c.enricher != nil {
				c.enricher.Enrich(&it.post)
			}
		}
		items[i] = it
	})
	return slices.DeleteFunc(items, func(it *item) bool { return it == nil })
}

// decode reads an ingest message's post, counting and logging one that is
// not a post.
func (c *Curator) decode(m jetstream.Msg, p *post.Post) bool {
	var err error
	if *p, err = bus.DecodePost(m.Data()); err != nil || p.ID == "" {
		c.undecoded.Inc()
		c.log.Warn("curation: dropping undecodable ingest message", "subject", m.Subject(), "err", err)
		return false
	}
	return true
}

// pending is one decision waiting to be stored: its event, encoded (both
// nil for a durable mark alone), the pair's key, and whether the key is to
// be marked in chorus_seen (takedowns only: decisions are not marked, see
// window.go).
type pending struct {
	event   *bus.Event
	msg     *nats.Msg
	seenKey string
	mark    bool
	// consent marks a grant by an author's consent reply (rights.go).
	consent bool
	// it and pol are a decision's post and stream.
	it  *item
	pol *Policy
}

// handle decides and stores a batch. Whether each (stream, post) pair was
// decided before is asked of the decided window (window.go) and, once for
// the whole batch, of the durable marks in chorus_seen (takedowns,
// moderators' actions). Order of effects makes redelivery safe: the events
// are published with a deterministic message id (so a second publish
// within the dedupe window is dropped), then the marks are written, then
// the messages are acknowledged. A crash anywhere repeats at most the steps
// after it, and none of them can duplicate an event.
func (c *Curator) handle(ctx context.Context, items []*item) {
	if len(items) == 0 {
		return
	}
	c.window.passed(items)
	// The texts other nodes shared up to now are read while the seen
	// marks are looked up.
	caughtUp := make(chan struct{})
	go func() { defer close(caughtUp); c.catchUpTexts(ctx) }()
	seen, err := c.conn.SeenAmong(ctx, c.seenKeys(items))
	<-caughtUp
	var work []pending
	if err == nil {
		work, err = c.decide(items, seen)
	}
	if err == nil {
		var grants []pending
		if grants, err = c.consents(items); err == nil {
			work = append(work, grants...)
		}
	}
	var repeated []bool
	if err == nil {
		repeated, err = c.store(ctx, work, c.textMsgs())
	}
	if err == nil {
		work, repeated, err = c.storeLateEdits(ctx, work, repeated)
	}
	if err != nil {
		c.log.Warn("curation: storing decisions failed; will retry", "err", err)
		for _, it := range items {
			_ = it.msg.NakWithDelay(time.Second)
			it.done()
		}
		return
	}
	keys := make([]string, 0, len(work))
	for i, w := range work {
		switch {
		case w.event == nil, w.consent:
			continue
		}
		keys = append(keys, w.seenKey)
		switch {
		case repeated[i]:
			c.duplicates.Inc() // decided before, within the dedupe window
		case w.event.SourceEdit:
			outcome := w.event.Kind.Status()
			if w.event.Kind == bus.EventEdit {
				outcome = "approved"
			}
			c.edits.WithLabelValues(w.event.Stream, outcome).Inc()
		default:
			c.decided.WithLabelValues(w.event.Stream, string(w.event.Kind)).Inc()
		}
	}
	c.window.add(keys, windowSize)
	c.settleConsents(ctx, work)
	if c.beforeAck != nil && !c.beforeAck(msgsOf(items)) {
		for _, it := range items {
			it.done()
		}
		return
	}
	for _, it := range items {
		if err := it.msg.Ack(); err != nil && ctx.Err() == nil {
			c.log.Warn("curation: ack", "err", err)
		}
		it.done()
	}
}

// seenKeys lists the pairs a batch may decide: a post's in the streams its
// source feeds, a takedown's in every stream.
func (c *Curator) seenKeys(items []*item) []string {
	var all []config.Stream
	keys := make([]string, 0, len(items))
	have := make(map[string]bool, len(items))
	add := func(k string) {
		if !have[k] {
			have[k] = true
			keys = append(keys, k)
		}
	}
	for _, it := range items {
		if !it.post.Deleted {
			for i := range it.fed {
				add(it.seenKeys[i])
				add(it.goneKeys[i])
			}
			continue
		}
		if all == nil {
			all = c.streams.All()
		}
		for _, s := range all {
			add(SeenKey(s.ID, it.post.ID))
		}
	}
	return keys
}

// decide turns a batch into pending decisions, in the batch's order,
// skipping pairs decided before (seen) or earlier in the batch. Posts are
// decided on every core, split by author: one author's posts are decided
// in order by one worker, so the per-author spam memory (repeats, rate
// caps) sees them as they came. A takedown waits for every post before it
// in the batch, and the posts after it wait for the takedown.
func (c *Curator) decide(items []*item, seen map[string]bool) ([]pending, error) {
	decided := &claims{m: make(map[string]bool, len(items))}
	results := make([][]pending, len(items))
	errs := make([]error, len(items))
	start := 0
	for i, it := range items {
		if !it.post.Deleted {
			continue
		}
		c.decidePosts(items[start:i], results[start:i], errs[start:i], seen, decided)
		results[i] = c.takedown(&it.post, seen, decided)
		start = i + 1
	}
	c.decidePosts(items[start:], results[start:], errs[start:], seen, decided)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var work []pending
	for _, r := range results {
		work = append(work, r...)
	}
	return work, nil
}

// decidePosts decides posts (no takedowns), split by author over the
// workers, each writing its items' results.
func (c *Curator) decidePosts(items []*item, results [][]pending, errs []error, seen map[string]bool, decided *claims) {
	workers := c.workers
	if len(items) < 64 {
		workers = 1 // not worth the goroutines
	}
	parallel(workers, workers, func(w int) {
		for i, it := range items {
			if workers > 1 && int(authorHash(&it.post)%uint64(workers)) != w {
				continue
			}
			results[i], errs[i] = c.decidePost(it, seen, decided)
		}
	})
}

// decidePost decides one post for every stream its source feeds and
// encodes the events.
func (c *Curator) decidePost(it *item, seen map[string]bool, decided *claims) ([]pending, error) {
	p := &it.post
	var out []pending
	var toks []string // the text's words, split once for every stream
	now := c.now().UTC()
	for i, pol := range it.fed {
		key, gone := it.seenKeys[i], it.goneKeys[i]
		if seen[gone] || decided.has(gone) {
			c.duplicates.Inc() // taken down at its source: never decided, nor its edits
			continue
		}
		before := seen[key] || c.window.has(key) || !decided.claim(key)
		if c.Bans != nil && !c.Bans.Empty() && c.Bans.Banned(p, pol.Stream.ID) {
			continue // erased from this stream
		}
		if before && p.IsEdit() {
			w, err := c.edited(pol, it, key, now)
			if err != nil {
				return nil, err
			}
			out = append(out, w)
			continue
		}
		if before {
			c.duplicates.Inc()
			continue
		}
		if toks == nil {
			toks = tokenize(p.Text)
		}
		d := pol.decideWords(p, toks, now)
		e := &bus.Event{
			Kind: d.Kind, Stream: pol.Stream.ID, PostID: p.ID, Post: p, Reason: d.Reason, Filter: d.Filter, Rule: d.Rule,
			Tags: d.Tags, Pinned: d.Pinned, Featured: d.Featured, Actor: bus.ActorCuration, At: now,
			IngestStream: it.stream, IngestSeq: it.seq,
		}
		if delay := pol.Stream.Delay.D(); d.Kind == bus.EventApprove && delay > 0 && c.conn.Schedules {
			e.ShowAt = now.Add(delay).Truncate(time.Second).Add(time.Second)
		}
		msg, err := e.Msg("decide." + key)
		if err != nil {
			return nil, err
		}
		out = append(out, pending{event: e, msg: msg, seenKey: key, it: it, pol: pol})
	}
	return out, nil
}

// edited judges again a post its author edited after the stream decided
// it. Approved by the stream's policy, the new version replaces the old
// wherever it is (an edit event: on screen if it was, in the queue if it
// was held; a rejected post stays rejected). Held or rejected, it leaves
// the screens with that decision, which carries the new version; the
// screens never see the new text before the decision. Either way the audit
// records the edit.
func (c *Curator) edited(pol *Policy, it *item, key string, now time.Time) (pending, error) {
	p := &it.post
	d := pol.Redecide(p, now)
	e := &bus.Event{Kind: bus.EventEdit, Stream: pol.Stream.ID, PostID: p.ID, Post: p, Reason: "edited at its source",
		Actor: "source:" + p.Source, At: now, IngestStream: it.stream, IngestSeq: it.seq, SourceEdit: true}
	if d.Kind != bus.EventApprove {
		e.Kind, e.Reason, e.Filter, e.Rule, e.Actor = d.Kind, "edited at its source: "+d.Reason, d.Filter, d.Rule, bus.ActorCuration
	}
	msg, err := e.Msg("edit." + key + "@" + strconv.FormatInt(p.EditedAt.UnixNano(), 10))
	if err != nil {
		return pending{}, err
	}
	return pending{event: e, msg: msg, seenKey: key}, nil
}

// takedown handles a post deleted at its source: every stream that may
// have decided the post gets a remove event, so it leaves every screen (the
// streams its source feeds, and any other known to have decided it: a
// stream that never had the post only records the takedown in its audit);
// the streams its source feeds also mark it gone (GoneKey), so a copy
// arriving late is never decided. The pairs removed are marked in
// chorus_seen too, so a copy fetched again much later is never decided.
//
// Every partition reads every takedown (bus.RouteSubjects: a takedown
// does not name its author), so it is handled once per partition: the
// remove events carry one message id, which JetStream stores once, and the
// partition of the post's author, which reads the takedown in order with
// the post, makes sure the post ends off screens. Another partition may
// handle the takedown before the post's own partition decides the post;
// the post is then never decided, as if its takedown had come first.
func (c *Curator) takedown(p *post.Post, seen map[string]bool, decided *claims) []pending {
	var work []pending
	fed := map[string]bool{}
	for _, pol := range c.streams.Fed(p.Source) {
		fed[pol.Stream.ID] = true
	}
	for _, s := range c.streams.All() {
		key, gone := SeenKey(s.ID, p.ID), GoneKey(s.ID, p.ID)
		if !decided.claim("takedown." + key) {
			continue // another partition's copy of this takedown, in this batch
		}
		if !fed[s.ID] && !decided.has(key) && !seen[key] && !c.window.has(key) {
			continue
		}
		e := &bus.Event{Kind: bus.EventRemove, Stream: s.ID, PostID: p.ID,
			Reason: goneReason[p.Gone], Actor: "source:" + p.Source, At: c.now().UTC()}
		msg, err := e.Msg("takedown." + key)
		if err != nil {
			continue // an event of plain strings always encodes
		}
		work = append(work, pending{event: e, msg: msg, seenKey: key, mark: true})
		if fed[s.ID] {
			decided.claim(gone)
			work = append(work, pending{seenKey: gone, mark: true})
		}
	}
	return work
}

// goneReason is a takedown's reason in the audit, by why the post left
// its source.
var goneReason = map[string]string{
	"":                 "deleted at its source",
	post.GoneDeleted:   "deleted at its source",
	post.GonePrivate:   "made private at its source",
	post.GoneSensitive: "marked sensitive at its source",
}

// store publishes a batch's events (and the schedules of delayed
// approvals) with the fingerprints of its texts (texts), waits until
// JetStream has stored them all, then writes the durable marks and waits
// again: a pair is never marked before its event is stored. Each step is
// one pipelined round trip for the whole batch. It reports which of work's
// events JetStream already had (a repeat within the dedupe window,
// dropped).
func (c *Curator) store(ctx context.Context, work []pending, texts []*nats.Msg) ([]bool, error) {
	msgs := texts
	at := make([]int, len(work)) // where each event's message is in msgs
	for i, w := range work {
		if w.msg == nil {
			continue
		}
		at[i] = len(msgs)
		msgs = append(msgs, w.msg)
		if !w.event.ShowAt.IsZero() {
			release := bus.Event{Kind: bus.EventRelease, Stream: w.event.Stream, PostID: w.event.PostID,
				Reason: "delay over", Actor: bus.ActorCuration, At: w.event.ShowAt}
			m, err := c.conn.ReleaseMsg(release, strings.TrimPrefix(w.seenKey, w.event.Stream+"."), w.event.ShowAt)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
	}
	repeated := make([]bool, len(work))
	if len(msgs) > 0 {
		acks, err := c.conn.PublishAll(ctx, msgs)
		if err != nil {
			return nil, err
		}
		for i, w := range work {
			repeated[i] = w.msg != nil && acks[at[i]].Duplicate
		}
	}
	var marks []*nats.Msg
	for _, w := range work {
		if w.mark {
			marks = append(marks, bus.SeenMsg(w.seenKey))
		}
	}
	if len(marks) > 0 {
		if _, err := c.conn.PublishAll(ctx, marks); err != nil {
			return nil, fmt.Errorf("curation: mark seen: %w", err)
		}
	}
	return repeated, nil
}

// storeLateEdits judges again, as the edits they are, the edited posts
// whose decision JetStream already had (decided before this node's window
// remembers: just before a restart), and stores them; it returns work and
// repeated with them added.
func (c *Curator) storeLateEdits(ctx context.Context, work []pending, repeated []bool) ([]pending, []bool, error) {
	var edits []pending
	now := c.now().UTC()
	for i, w := range work {
		if !repeated[i] || w.it == nil || !w.it.post.IsEdit() {
			continue
		}
		e, err := c.edited(w.pol, w.it, w.seenKey, now)
		if err != nil {
			return nil, nil, err
		}
		edits = append(edits, e)
	}
	if len(edits) == 0 {
		return work, repeated, nil
	}
	again, err := c.store(ctx, edits, nil)
	if err != nil {
		return nil, nil, err
	}
	return append(work, edits...), append(repeated, again...), nil
}

// msgsOf lists the items' messages.
func msgsOf(items []*item) []jetstream.Msg {
	msgs := make([]jetstream.Msg, len(items))
	for i, it := range items {
		msgs[i] = it.msg
	}
	return msgs
}

// claims are the pairs decided so far in one batch, shared by the workers.
type claims struct {
	mu sync.Mutex
	m  map[string]bool
}

// claim records key and reports whether it was new.
func (d *claims) claim(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m[key] {
		return false
	}
	d.m[key] = true
	return true
}

// has reports whether key was claimed.
func (d *claims) has(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[key]
}

// authorHash spreads authors over the workers.
func authorHash(p *post.Post) uint64 {
	h := fnv.New64a()
	h.Write([]byte(p.AuthorKey()))
	return h.Sum64()
}

// parallel runs fn(0..n-1) on at most workers goroutines and waits.
func parallel(n, workers int, fn func(i int)) {
	if workers <= 1 || n <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// SeenKey is the chorus_seen key for a post in a stream. Post ids may hold
// any character, so they are hashed into the key.
func SeenKey(stream, postID string) string { return seenKeyOf(stream, postKey(postID)) }

// GoneKey is the chorus_seen key marking a post deleted at its source
// before a stream decided it: the stream never decides it, and the post's
// takedown writes no remove event for it.
func GoneKey(stream, postID string) string { return goneKeyOf(stream, postKey(postID)) }

// pairKeys returns SeenKey and GoneKey of post postID in each of streams,
// hashing the id once.
func pairKeys(streams []*Policy, postID string) (seen, gone []string) {
	if len(streams) == 0 {
		return nil, nil
	}
	h := postKey(postID)
	seen, gone = make([]string, len(streams)), make([]string, len(streams))
	for i, pol := range streams {
		seen[i], gone[i] = seenKeyOf(pol.Stream.ID, h), goneKeyOf(pol.Stream.ID, h)
	}
	return seen, gone
}

// postKey is a post id as the chorus_seen keys hold it.
func postKey(postID string) string {
	sum := sha256.Sum256([]byte(postID))
	return hex.EncodeToString(sum[:16])
}

func seenKeyOf(stream, postKey string) string { return stream + "." + postKey }
func goneKeyOf(stream, postKey string) string { return stream + ".gone." + postKey }
