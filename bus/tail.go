package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

const scheduleHeader = "Nats-Schedule"

// Batch is a run of events read in order. CaughtUp is true when no more
// events were waiting on the stream after the last one.
type Batch struct {
	Events   []Event
	LastSeq  uint64
	CaughtUp bool
	// Pending is how many events were still waiting after LastSeq.
	Pending uint64
}

// TailEvents reads the events stream in order from sequence from (1 for the
// beginning) until ctx ends, calling handle with runs of at most max events;
// a run ends early whenever the reader has caught up, so live events are
// handled at once and a replay is handled in large batches. Undecodable
// events are logged and skipped (counted through skipped when it is not nil).
// If the stream holds nothing from `from` on, handle is called once with an
// empty caught-up batch so callers can mark themselves ready.
func (c *Conn) TailEvents(ctx context.Context, from uint64, max int, skipped func(), handle func(Batch) error) error {
	if from < 1 {
		from = 1
	}
	last, err := c.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	if last < from {
		if err := handle(Batch{LastSeq: from - 1, CaughtUp: true}); err != nil {
			return err
		}
	}
	cons, err := c.JS.OrderedConsumer(ctx, EventsStream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
	})
	if err != nil {
		return fmt.Errorf("bus: events consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(max))
	if err != nil {
		return fmt.Errorf("bus: events consumer: %w", err)
	}
	defer it.Stop()
	var batch Batch
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			c.log.Warn("events reader", "err", err)
			continue
		}
		meta, err := msg.Metadata()
		if err != nil {
			c.log.Warn("events reader: no metadata", "err", err)
			continue
		}
		c.readEvent(msg, meta, &batch, skipped)
		batch.CaughtUp = meta.NumPending == 0
		batch.Pending = meta.NumPending
		if batch.CaughtUp || len(batch.Events) >= max {
			if err := handle(batch); err != nil {
				return err
			}
			batch = Batch{}
		}
	}
}

// LastEventSeqOf returns the sequence of the last event of one curated
// stream, 0 when the events stream holds none.
func (c *Conn) LastEventSeqOf(ctx context.Context, stream string) (uint64, error) {
	s, err := c.JS.Stream(ctx, EventsStream)
	if err != nil {
		return 0, fmt.Errorf("bus: events stream: %w", err)
	}
	m, err := s.GetLastMsgForSubject(ctx, eventsPrefix+stream+".>")
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("bus: last event of %s: %w", stream, err)
	}
	return m.Sequence, nil
}

// ReadEvents reads the events whose sequence is from..to (inclusive) in
// order, calling handle with runs of at most max events, and returns once
// it has read them all (or the stream holds no more). Undecodable events
// are skipped like in TailEvents.
func (c *Conn) ReadEvents(ctx context.Context, from, to uint64, max int, skipped func(), handle func(Batch) error) error {
	if from < 1 {
		from = 1
	}
	if to < from {
		return nil
	}
	// The last message always exists (age removes the oldest first), so a
	// read that starts at or before it is never left waiting.
	last, err := c.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	if last < from {
		return nil
	}
	cons, err := c.JS.OrderedConsumer(ctx, EventsStream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   from,
	})
	if err != nil {
		return fmt.Errorf("bus: events reader: %w", err)
	}
	// Pull well ahead of what is handled, so the server never waits on us.
	it, err := cons.Messages(jetstream.PullMaxMessages(4 * max))
	if err != nil {
		return fmt.Errorf("bus: events reader: %w", err)
	}
	defer it.Stop()
	var batch Batch
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("bus: read events %d..%d: %w", from, to, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			c.log.Warn("events reader: no metadata", "err", err)
			continue
		}
		seq := meta.Sequence.Stream
		done := meta.NumPending == 0 || seq >= to
		if seq <= to {
			c.readEvent(msg, meta, &batch, skipped)
		}
		if done || len(batch.Events) >= max {
			batch.Pending = meta.NumPending
			batch.CaughtUp = meta.NumPending == 0
			if err := handle(batch); err != nil {
				return err
			}
			batch = Batch{}
		}
		if done {
			return nil
		}
	}
}

// readEvent decodes msg onto batch (skipping schedules and undecodable
// events) and moves batch.LastSeq to it.
func (c *Conn) readEvent(msg jetstream.Msg, meta *jetstream.MsgMetadata, batch *Batch, skipped func()) {
	seq := meta.Sequence.Stream
	// A schedule waiting to fire is not an event yet; its release is.
	if msg.Headers().Get(scheduleHeader) == "" {
		e, err := DecodeEvent(msg.Data(), seq)
		if err != nil {
			c.log.Warn("skipping undecodable event", "seq", seq, "err", err)
			if skipped != nil {
				skipped()
			}
		} else {
			e.Stored = meta.Timestamp
			batch.Events = append(batch.Events, e)
		}
	}
	batch.LastSeq = seq
}
