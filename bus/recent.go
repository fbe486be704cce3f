package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// EventIDsSince calls fn with the message id (Nats-Msg-Id) of every event
// stored at or after since (or, when after is not 0, of every event after
// that sequence), up to the last event stored when it was called, and
// returns that last sequence and how many it read. Only headers are read,
// so a long tail is cheap. Curation uses it after a restart to learn what
// was decided just before (see curation's decided window).
func (c *Conn) EventIDsSince(ctx context.Context, since time.Time, after uint64, fn func(id string)) (last uint64, read int, err error) {
	s, err := c.JS.Stream(ctx, EventsStream)
	if err != nil {
		return 0, 0, fmt.Errorf("bus: events stream: %w", err)
	}
	last = s.CachedInfo().State.LastSeq
	if last == 0 || last <= after {
		return last, 0, nil
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since, HeadersOnly: true}
	if after > 0 {
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: after + 1, HeadersOnly: true}
	} else if m, err := s.GetMsg(ctx, last, jetstream.WithGetMsgSubject(EventSubjects)); err == nil && m.Time.Before(since) {
		return last, 0, nil // nothing stored since: the reader below would wait for more
	} else if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, 0, fmt.Errorf("bus: last event: %w", err)
	}
	cons, err := c.JS.OrderedConsumer(ctx, EventsStream, cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("bus: events consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return 0, 0, fmt.Errorf("bus: events consumer: %w", err)
	}
	defer it.Stop()
	for {
		wait, cancel := context.WithTimeout(ctx, 10*time.Second)
		msg, err := it.Next(jetstream.NextContext(wait))
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && read == 0 && ctx.Err() == nil {
			return last, 0, nil // none (the last events were erased)
		}
		if err != nil {
			return 0, read, fmt.Errorf("bus: read events since %s: %w", since.Format(time.RFC3339), err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		read++
		if id := msg.Headers().Get(jetstream.MsgIDHeader); id != "" {
			fn(id)
		}
		if meta.Sequence.Stream >= last || meta.NumPending == 0 {
			return max(last, meta.Sequence.Stream), read, nil
		}
	}
}

// IngestStoredAt returns when the message at seq of an ingest stream was
// stored, or the first one after it when that one is gone; ok is false when
// the stream holds none from seq on.
func (c *Conn) IngestStoredAt(ctx context.Context, stream string, seq uint64) (t time.Time, ok bool, err error) {
	s, err := c.JS.Stream(ctx, stream)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("bus: ingest stream %s: %w", stream, err)
	}
	m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(">"))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("bus: ingest message %s/%d: %w", stream, seq, err)
	}
	return m.Time, true, nil
}
