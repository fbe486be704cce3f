package curation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/cluster"
	"github.com/chorus-wall/chorus/post"
)

// Several curation nodes share the work by partition: the ingest is split
// into bus.IngestPartitions by author (bus.RouteSubjects), each partition
// has a stream of its own read whole by its durable consumer, and each
// partition is decided by one node at a time, the one holding its lease. So every post of an
// author is decided by one node, in order, and the per-author spam memory
// (repeated texts, rate caps) holds across nodes. When a partition moves
// (a node stops, dies or joins), its new node first replays the partition's
// recent decided posts into its spam memory, then goes on from the
// consumer's acknowledgement floor. Near-duplicates across authors span
// partitions: every node shares the fingerprints of the texts it decides
// through a stream that every node follows (texts.go).

// Leases share the partitions among the curation nodes (cluster.Cluster).
type Leases interface {
	Hold(ctx context.Context, w cluster.Work) error
	// Leases says who holds each piece of a kind of work.
	Leases(kind string) map[string]cluster.Lease
	// Name is this node's name.
	Name() string
}

// Started reports whether curation has started: every partition is held by
// a node, and the ones this node holds are being read (without Leases:
// every partition is being read here). It stays true once it is.
func (c *Curator) Started() bool {
	c.runMu.Lock()
	defer c.runMu.Unlock()
	if c.started {
		return true
	}
	var leases map[string]cluster.Lease
	if c.Leases != nil {
		leases = c.Leases.Leases(PartitionKind)
	}
	for _, id := range PartitionIDs() {
		if c.Leases == nil || leases[id].Node == c.Leases.Name() {
			if !c.running[id] {
				return false
			}
		} else if _, held := leases[id]; !held {
			return false
		}
	}
	c.started = true
	return true
}

// PartitionKind names curation partitions in the leases bucket:
// work.curation.p00 and so on.
const PartitionKind = "curation"

// PartitionIDs names every partition, p00 to p15.
func PartitionIDs() []string {
	ids := make([]string, bus.IngestPartitions)
	for p := range ids {
		ids[p] = fmt.Sprintf("p%02d", p)
	}
	return ids
}

// ConsumerName is the durable consumer of partition id ("curation-p07"),
// on its partition's stream (and, before partition streams, on
// CHORUS_INGEST: see drainLegacy).
func ConsumerName(id string) string { return Durable + "-" + id }

// Consumer names one durable consumer of curation's and its stream.
type Consumer struct{ Stream, Name string }

// Consumers names every consumer curation reads: the partitions' on their
// streams, the one of unpartitioned posts, and, on a data directory from
// before partition streams, the partitions' consumers of CHORUS_INGEST
// (gone once drained) and the LegacyRouter.
func Consumers() []Consumer {
	out := []Consumer{{bus.IngestStream, Durable}, {bus.IngestStream, LegacyRouter}}
	for p, id := range PartitionIDs() {
		out = append(out, Consumer{bus.PartitionStream(p), ConsumerName(id)}, Consumer{bus.IngestStream, ConsumerName(id)})
	}
	return out
}

// Behind is how many ingest messages curation has not acknowledged yet,
// over every consumer.
func Behind(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	var n uint64
	for _, c := range Consumers() {
		cons, err := js.Consumer(ctx, c.Stream, c.Name)
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return 0, err
		}
		n += info.NumPending + uint64(info.NumAckPending)
	}
	return n, nil
}

// ackWait bounds how long a batch may take to be decided and stored before
// its messages are delivered again.
const ackWait = 30 * time.Second

func (c *Curator) consumerConfig(name, filter string) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "Curation",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.ackWait,
		MaxAckPending: 4 * batchSize,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: filter,
	}
	return cfg
}

// partitionNumber reads "p07".
func partitionNumber(id string) (int, error) {
	p, err := strconv.Atoi(strings.TrimPrefix(id, "p"))
	if err != nil || p < 0 || p >= bus.IngestPartitions {
		return 0, fmt.Errorf("curation: no partition %q", id)
	}
	return p, nil
}

// handOverWait bounds how long a partition that stops waits for the
// messages it delivered to be decided before it lets go; giveBackWait how
// long it gives back what it fetched.
const (
	handOverWait = 10 * time.Second
	giveBackWait = time.Second
)

// runPartition decides one partition until ctx ends: it first drains the
// partition's consumer of CHORUS_INGEST left by an older Chorus, if any;
// then it warms the spam memory with the partition's recent posts, and
// delivers the messages of the partition's stream to the pipeline. Once
// ctx ends it gives back what it fetched but did not deliver (and the
// pipeline gives back what it has not started deciding), so the
// partition's next node gets them at once rather than after ackWait; then
// it waits until the messages being decided are (or the pipeline stopped),
// so the next node starts after them.
func (c *Curator) runPartition(ctx context.Context, id string, in chan<- delivery, pipeline <-chan struct{}) {
	p, err := partitionNumber(id)
	if err != nil {
		c.log.Error(err.Error())
		return
	}
	stream := bus.PartitionStream(p)
	var cons jetstream.Consumer
	for attempt := 0; ; attempt++ {
		cons, err = c.conn.JS.CreateOrUpdateConsumer(ctx, stream, c.consumerConfig(ConsumerName(id), ""))
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("curation: partition consumer; retrying", "partition", id, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Second<<min(attempt, 5), 30*time.Second)):
		}
	}
	c.runMu.Lock()
	c.running[id] = true
	c.runMu.Unlock()
	defer func() {
		c.runMu.Lock()
		delete(c.running, id)
		c.runMu.Unlock()
	}()
	var inflight sync.WaitGroup
	if !c.drainLegacy(ctx, id, in, pipeline, &inflight) {
		return
	}
	c.warm(ctx, id, cons)
	if err := c.recover(ctx, id, stream, cons); err != nil && ctx.Err() == nil {
		c.log.Warn("curation: could not read back the decisions of the messages delivered before; the dedupe window alone guards them",
			"partition", id, "err", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(batchSize))
	if err != nil {
		c.log.Warn("curation: partition consumer", "partition", id, "err", err)
		return
	}
	defer c.leave(id, it, pipeline, &inflight)
	c.deliver(ctx, id, it, in, &inflight, 0)
}

// deliver hands a consumer's messages to the pipeline until ctx ends, or,
// when idle is not 0, until none came for that long (it then returns true).
func (c *Curator) deliver(ctx context.Context, id string, it jetstream.MessagesContext, in chan<- delivery, inflight *sync.WaitGroup, idle time.Duration) bool {
	for {
		next, cancel := ctx, context.CancelFunc(func() {})
		if idle > 0 {
			next, cancel = context.WithTimeout(ctx, idle)
		}
		msg, err := it.Next(jetstream.NextContext(next))
		cancel()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return false
			}
			if idle > 0 && errors.Is(err, context.DeadlineExceeded) {
				return true
			}
			c.log.Warn("curation: read ingest", "partition", id, "err", err)
			continue
		}
		d := delivery{msg: msg, done: inflight.Done, stopped: ctx.Done()}
		if meta, err := msg.Metadata(); err == nil {
			d.pending, d.stream, d.seq = meta.NumPending, meta.Stream, meta.Sequence.Stream
			d.stored = bus.PublishedAt(msg.Headers(), meta.Timestamp)
		}
		inflight.Add(1)
		select {
		case in <- d:
		case <-ctx.Done():
			_ = msg.Nak()
			inflight.Done()
			return false
		}
	}
}

// leave gives back what a partition's consumer fetched and waits (a
// while) for the messages being decided, as the partition leaves this node.
func (c *Curator) leave(id string, it jetstream.MessagesContext, pipeline <-chan struct{}, inflight *sync.WaitGroup) {
	given := c.giveBack(it)
	c.log.Info("curation: partition leaving this node", "partition", id, "given_back", given)
	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-pipeline:
	case <-time.After(handOverWait):
	}
}

// legacyIdle is how long a legacy consumer being drained may deliver
// nothing before curation asks whether anything is left on it.
const legacyIdle = 500 * time.Millisecond

// drainLegacy decides what the partition's consumer of CHORUS_INGEST holds,
// when an older Chorus left one (before partition streams, every partition
// read CHORUS_INGEST through a filter): the messages it has not delivered
// and those it delivered without an acknowledgement (their decisions read
// back first, as after a crash). Once it holds none, and every message it
// delivered is decided, it is deleted, and the partition goes on with its
// own stream. It reports false when ctx ended first: the consumer stays for
// the partition's next node.
func (c *Curator) drainLegacy(ctx context.Context, id string, in chan<- delivery, pipeline <-chan struct{}, inflight *sync.WaitGroup) bool {
	cons, err := c.conn.JS.Consumer(ctx, bus.IngestStream, ConsumerName(id))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return true
	}
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		// Its messages stay on it; the next node to hold the partition, or
		// this one at its next start, drains it.
		c.log.Warn("curation: could not look up the partition's consumer from before partition streams", "partition", id, "err", err)
		return true
	}
	empty := func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}
	if !empty() {
		c.log.Info("curation: deciding what the partition's consumer from before partition streams holds", "partition", id)
		if err := c.recover(ctx, id, bus.IngestStream, cons); err != nil && ctx.Err() == nil {
			c.log.Warn("curation: could not read back the decisions of the messages delivered before; the dedupe window alone guards them",
				"partition", id, "err", err)
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(batchSize))
		if err != nil {
			c.log.Warn("curation: partition consumer from before partition streams", "partition", id, "err", err)
			return ctx.Err() == nil
		}
		for {
			if !c.deliver(ctx, id, it, in, inflight, legacyIdle) {
				c.leave(id, it, pipeline, inflight)
				return false
			}
			// Nothing came for a while: once what was delivered is decided,
			// is anything left?
			done := make(chan struct{})
			go func() { inflight.Wait(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				c.leave(id, it, pipeline, inflight)
				return false
			}
			if empty() {
				it.Stop()
				break
			}
		}
	}
	if _, err := c.legacyRouter(ctx); err != nil {
		// Kept: what an older node still publishes for the partition stays
		// on it, for the partition's next holder.
		c.log.Warn("curation: could not make the consumer of what older nodes publish; the partition's old consumer is kept", "partition", id, "err", err)
		return ctx.Err() == nil
	}
	if err := c.conn.JS.DeleteConsumer(ctx, bus.IngestStream, ConsumerName(id)); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		c.log.Warn("curation: could not delete the partition's drained consumer from before partition streams", "partition", id, "err", err)
	} else {
		c.log.Info("curation: the partition's consumer from before partition streams is drained and deleted", "partition", id)
	}
	return ctx.Err() == nil
}

// giveBack stops a partition's iterator and gives back the messages it had
// fetched and not handed out yet (NATS delivers them again at once), and
// says how many. With NATS away there is no one to give them to: they come
// back after ackWait, and a stop does not wait for NATS.
func (c *Curator) giveBack(it jetstream.MessagesContext) int {
	if !c.conn.NC.IsConnected() {
		it.Stop()
		return 0
	}
	it.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), giveBackWait)
	defer cancel()
	n := 0
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return n // drained, or NATS is away: the rest come back after ackWait
		}
		_ = msg.Nak()
		n++
	}
}

// Warming up: at most warmPosts posts in all (each partition its share, the
// most recent), read for at most warmTime. A var for tests.
var warmPosts = 100_000

const warmTime = 15 * time.Second

// errWarmed stops a warm-up's scan once it has its share.
var errWarmed = errors.New("warmed")

// warm replays the partition's posts of the spam windows that were decided
// before (up to the consumer's acknowledgement floor) through the streams'
// policies, so their memory of repeated texts and rates is as if this node
// had decided them. The decisions are not written again. Each partition
// reads its share of warmPosts, the most recent before the floor, in
// batches: a node taking over all sixteen reads warmPosts posts in all.
//
// Every partition says how its warm-up ended, in one line: warmed (with
// the posts replayed, none included), nothing to warm (at debug level),
// cut short at warmTime, or failed; a node stopping says nothing.
func (c *Curator) warm(ctx context.Context, id string, cons jetstream.Consumer) {
	started := time.Now()
	replayed, skip, err := c.replayRecent(ctx, cons)
	took := time.Since(started).Round(time.Millisecond)
	switch {
	case skip != "":
		c.log.Debug("curation: nothing to warm the spam memory with", "partition", id, "why", skip)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		c.log.Warn("curation: spam memory warm-up cut short at its time limit", "partition", id,
			"posts", replayed, "limit", warmTime)
	case err != nil && ctx.Err() != nil:
		// The node is stopping.
	case err != nil:
		c.log.Warn("curation: could not warm the spam memory", "partition", id, "posts", replayed, "err", err)
	default:
		c.log.Info("curation: spam memory warmed with the partition's recent posts", "partition", id,
			"posts", replayed, "took", took)
	}
}

// replayRecent is warm's reading: it says how many posts it replayed, or
// why there was nothing to read.
func (c *Curator) replayRecent(ctx context.Context, cons jetstream.Consumer) (replayed int, skip string, err error) {
	window := c.streams.spamWindow()
	if window == 0 {
		return 0, "no stream keeps a spam window", nil
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("consumer info: %w", err)
	}
	if info.AckFloor.Stream == 0 {
		return 0, "nothing decided before", nil
	}
	floor := info.AckFloor.Stream
	since := time.Now().Add(-window)
	share := uint64(max(warmPosts/bus.IngestPartitions, 1))
	start := uint64(1)
	if floor > share {
		start = floor - share + 1
	}
	wctx, cancel := context.WithTimeout(ctx, warmTime)
	defer cancel()
	err = c.conn.ScanRange(wctx, info.Stream, start, floor, func(m bus.Stored) error {
		if m.Time.Before(since) {
			return nil
		}
		po, err := bus.DecodePost(m.Data)
		if err != nil || po.Deleted {
			return nil
		}
		fed := c.streams.Fed(po.Source)
		if len(fed) == 0 {
			return nil
		}
		if c.enricher != nil {
			c.enricher.Enrich(&po)
		}
		for _, pol := range fed {
			pol.replay(&po, m.Time)
		}
		if replayed++; uint64(replayed) >= share {
			return errWarmed
		}
		return nil
	})
	if errors.Is(err, errWarmed) {
		err = nil
	}
	return replayed, "", err
}

// LegacyRouter is the consumer of the posts an older Chorus publishes on
// CHORUS_INGEST with a partition (chorus.ingest.<network>.<n>, takedowns on
// .all) while a cluster is upgraded one node at a time: made by the first
// node of this version that finds the partitions' old consumers, it starts
// after the last message then stored (those are the old consumers', which
// each partition drains), and every curation node moves what it reads to
// its partition's stream.
const LegacyRouter = Durable + "-legacy"

// legacySubjects are the subjects an older Chorus published partitioned
// posts on.
const legacySubjects = bus.UnpartitionedSubjects + ".*"

// route moves posts published without a partition (by an integrator, or an
// older Chorus during an upgrade) to their partition's stream, then
// acknowledges them. Every curation node reads the one shared consumer.
func (c *Curator) route(ctx context.Context) error {
	return c.routeFrom(ctx, "unpartitioned posts", func() (jetstream.Consumer, error) {
		return c.conn.JS.CreateOrUpdateConsumer(ctx, bus.IngestStream, c.consumerConfig(Durable, bus.UnpartitionedSubjects))
	})
}

// routeLegacy moves the posts an older Chorus publishes with a partition on
// CHORUS_INGEST to their partition's stream (LegacyRouter), when this data
// directory had partitions' consumers of CHORUS_INGEST.
func (c *Curator) routeLegacy(ctx context.Context) error {
	if _, err := c.conn.JS.Consumer(ctx, bus.IngestStream, LegacyRouter); err != nil {
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil // not known: the next start asks again
		}
		legacy := false
		for _, id := range PartitionIDs() {
			if _, err := c.conn.JS.Consumer(ctx, bus.IngestStream, ConsumerName(id)); err == nil {
				legacy = true
				break
			}
		}
		if !legacy {
			return nil
		}
	}
	return c.routeFrom(ctx, "posts of an older Chorus", func() (jetstream.Consumer, error) { return c.legacyRouter(ctx) })
}

// legacyRouter returns the LegacyRouter, made when there is none yet.
// Partitions make sure it is there before they delete their old
// consumers: every message on the old subjects is then read by one or the
// other (some by both, which the decided window and the events' dedupe
// catch), none by neither.
func (c *Curator) legacyRouter(ctx context.Context) (jetstream.Consumer, error) {
	if cons, err := c.conn.JS.Consumer(ctx, bus.IngestStream, LegacyRouter); err == nil {
		return cons, nil
	}
	s, err := c.conn.JS.Stream(ctx, bus.IngestStream)
	if err != nil {
		return nil, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	cfg := c.consumerConfig(LegacyRouter, legacySubjects)
	cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, info.State.LastSeq+1
	cons, err := c.conn.JS.CreateConsumer(ctx, bus.IngestStream, cfg)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		return c.conn.JS.Consumer(ctx, bus.IngestStream, LegacyRouter) // another node made it first
	}
	return cons, err
}

// routeFrom moves the posts a consumer of CHORUS_INGEST reads to their
// partitions' streams.
func (c *Curator) routeFrom(ctx context.Context, what string, consumer func() (jetstream.Consumer, error)) error {
	var cons jetstream.Consumer
	var err error
	for attempt := 0; ; attempt++ {
		cons, err = consumer()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("curation: consumer of "+what+"; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(time.Second<<min(attempt, 5), 30*time.Second)):
		}
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(batchSize))
	if err != nil {
		return fmt.Errorf("curation: consumer: %w", err)
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			c.log.Warn("curation: read "+what, "err", err)
			continue
		}
		var p post.Post
		if !c.decode(msg, &p) {
			_ = msg.Term()
			continue
		}
		id := msg.Headers().Get(jetstream.MsgIDHeader)
		if id == "" {
			id = p.ID
		}
		// Its own message id: the post's would be taken for a replay.
		at := time.Now()
		if meta, err := msg.Metadata(); err == nil {
			at = meta.Timestamp
		}
		at = bus.PublishedAt(msg.Headers(), at)
		var routed []*nats.Msg
		for _, subject := range bus.RouteSubjects(&p) {
			m := bus.PostMsg(subject, id+"#routed", msg.Data())
			m.Header.Set(bus.PublishedHeader, strconv.FormatInt(at.UnixNano(), 10))
			routed = append(routed, m)
		}
		if _, err := c.conn.PublishAll(ctx, routed); err != nil {
			_ = msg.NakWithDelay(time.Second)
			continue
		}
		_ = msg.Ack()
	}
}

func newInstance() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
