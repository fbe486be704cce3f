package curation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// Durable is the name of the curation workers' shared consumer: several
// chorus processes on one cluster split the ingest stream between them.
const Durable = "curation"

// Curator consumes the ingest stream and writes a decision event for every
// (stream, post) pair, exactly once.
type Curator struct {
	conn     *bus.Conn
	streams  *Streams
	enricher Enricher
	log      *slog.Logger
	now      func() time.Time

	decided    *prometheus.CounterVec
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
		decided: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_posts_decided_total",
			Help: "Curation decisions written, by stream and outcome (approve, hold, reject).",
		}, []string{"stream", "outcome"}),
		undecoded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_ingest_undecodable_total",
			Help: "Ingest messages that were not a post and were dropped.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_posts_duplicate_total",
			Help: "Posts skipped because their stream had already decided them.",
		}),
	}
	reg.MustRegister(c.decided, c.undecoded, c.duplicates)
	return c
}

// batchSize bounds how many ingest messages are decided together.
const batchSize = 256

// Run consumes until ctx ends.
func (c *Curator) Run(ctx context.Context) error {
	cons, err := c.conn.JS.CreateOrUpdateConsumer(ctx, bus.IngestStream, jetstream.ConsumerConfig{
		Durable:       Durable,
		Description:   "Curation workers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxAckPending: 4 * batchSize,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("curation: consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(batchSize))
	if err != nil {
		return fmt.Errorf("curation: consumer: %w", err)
	}
	defer it.Stop()
	var batch []jetstream.Msg
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			c.log.Warn("curation: read ingest", "err", err)
			continue
		}
		batch = append(batch, msg)
		meta, err := msg.Metadata()
		if len(batch) >= batchSize || err != nil || meta.NumPending == 0 {
			c.handle(ctx, batch)
			batch = batch[:0]
		}
	}
}

// pending is one decision waiting to be stored: an event (nil when the
// pair is only to be marked seen) and the pair's seen key.
type pending struct {
	event   *bus.Event
	msgID   string
	seenKey string
}

// handle decides a batch. Order of effects makes redelivery safe: the events
// are published with a deterministic message id (so a second publish within
// the dedupe window is dropped), then the seen keys are written, then the
// messages are acknowledged. A crash anywhere repeats at most the steps
// after it, and none of them can duplicate an event.
func (c *Curator) handle(ctx context.Context, msgs []jetstream.Msg) {
	work, decoded, err := c.decide(ctx, msgs)
	if err == nil {
		err = c.store(ctx, work)
	}
	if err != nil {
		c.log.Warn("curation: storing decisions failed; will retry", "err", err)
		for _, m := range decoded {
			_ = m.NakWithDelay(time.Second)
		}
		return
	}
	for _, w := range work {
		if w.event != nil {
			c.decided.WithLabelValues(w.event.Stream, string(w.event.Kind)).Inc()
		}
	}
	for _, m := range decoded {
		if err := m.Ack(); err != nil && ctx.Err() == nil {
			c.log.Warn("curation: ack", "err", err)
		}
	}
}

// decide turns messages into pending decisions, skipping (stream, post)
// pairs already decided. Undecodable messages are terminated and left out
// of the returned messages.
func (c *Curator) decide(ctx context.Context, msgs []jetstream.Msg) ([]pending, []jetstream.Msg, error) {
	var work []pending
	decoded := msgs[:0:0]
	inBatch := map[string]bool{}
	for _, m := range msgs {
		var p post.Post
		if err := json.Unmarshal(m.Data(), &p); err != nil || p.ID == "" {
			c.undecoded.Inc()
			c.log.Warn("curation: dropping undecodable ingest message", "subject", m.Subject(), "err", err)
			_ = m.Term()
			continue
		}
		decoded = append(decoded, m)
		if p.Deleted {
			took, err := c.takedown(ctx, &p, inBatch)
			if err != nil {
				return nil, decoded, err
			}
			work = append(work, took...)
			continue
		}
		fed := c.streams.Fed(p.Source)
		if len(fed) > 0 && c.enricher != nil {
			c.enricher.Enrich(&p)
		}
		now := c.now().UTC()
		for _, pol := range fed {
			key := SeenKey(pol.Stream.ID, p.ID)
			seen, err := c.seen(ctx, key)
			if err != nil {
				return nil, decoded, err
			}
			if inBatch[key] || seen {
				c.duplicates.Inc()
				continue
			}
			inBatch[key] = true
			d := pol.Decide(&p, now)
			e := &bus.Event{
				Kind: d.Kind, Stream: pol.Stream.ID, PostID: p.ID, Post: &p, Reason: d.Reason, Rule: d.Rule,
				Tags: d.Tags, Pinned: d.Pinned, Featured: d.Featured, Actor: bus.ActorCuration, At: now,
			}
			if delay := pol.Stream.Delay.D(); d.Kind == bus.EventApprove && delay > 0 && c.conn.Schedules {
				e.ShowAt = now.Add(delay).Truncate(time.Second).Add(time.Second)
			}
			work = append(work, pending{event: e, msgID: "decide." + key, seenKey: key})
		}
	}
	return work, decoded, nil
}

// takedown handles a post deleted at its source: every stream that decided
// the post gets a remove event, so it leaves every screen; the streams its
// source feeds that have not seen it yet mark it seen, so a copy arriving
// late is never shown.
// inBatch holds the pairs decided earlier in the same batch.
func (c *Curator) takedown(ctx context.Context, p *post.Post, inBatch map[string]bool) ([]pending, error) {
	var work []pending
	fed := map[string]bool{}
	for _, pol := range c.streams.Fed(p.Source) {
		fed[pol.Stream.ID] = true
	}
	for _, s := range c.streams.All() {
		key := SeenKey(s.ID, p.ID)
		seen, err := c.seen(ctx, key)
		if err != nil {
			return nil, err
		}
		decided := seen || inBatch[key]
		inBatch[key] = true
		switch {
		case decided:
			work = append(work, pending{
				event: &bus.Event{Kind: bus.EventRemove, Stream: s.ID, PostID: p.ID,
					Reason: "deleted at its source", Actor: "source:" + p.Source, At: c.now().UTC()},
				msgID:   "takedown." + key,
				seenKey: key,
			})
		case fed[s.ID]:
			work = append(work, pending{seenKey: key})
		}
	}
	return work, nil
}

func (c *Curator) store(ctx context.Context, work []pending) error {
	var msgs []*nats.Msg
	for _, w := range work {
		if w.event == nil {
			continue
		}
		m, err := w.event.Msg(w.msgID)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if len(msgs) > 0 {
		if _, err := c.conn.PublishAll(ctx, msgs); err != nil {
			return err
		}
	}
	for _, w := range work {
		if w.event != nil && !w.event.ShowAt.IsZero() {
			release := bus.Event{Kind: bus.EventRelease, Stream: w.event.Stream, PostID: w.event.PostID,
				Reason: "delay over", Actor: bus.ActorCuration, At: w.event.ShowAt}
			if err := c.conn.ScheduleRelease(ctx, release, strings.TrimPrefix(w.seenKey, w.event.Stream+"."), w.event.ShowAt); err != nil {
				return err
			}
		}
	}
	for _, w := range work {
		if _, err := c.conn.Seen.Create(ctx, w.seenKey, nil); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("curation: mark seen: %w", err)
		}
	}
	return nil
}

func (c *Curator) seen(ctx context.Context, key string) (bool, error) {
	_, err := c.conn.Seen.Get(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	}
	return false, fmt.Errorf("curation: seen lookup: %w", err)
}

// SeenKey is the chorus_seen key for a post in a stream. Post ids may hold
// any character, so they are hashed into the key.
func SeenKey(stream, postID string) string {
	sum := sha256.Sum256([]byte(postID))
	return stream + "." + hex.EncodeToString(sum[:16])
}
