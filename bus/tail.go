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
				batch.Events = append(batch.Events, e)
			}
		}
		batch.LastSeq = seq
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
