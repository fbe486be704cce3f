package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stored is one message as a stream holds it.
type Stored struct {
	Seq     uint64
	Subject string
	Header  nats.Header
	Data    []byte
	Time    time.Time
}

// scanBatch is how many messages a scan asks the server for at once.
const scanBatch = 1000

// scanIdle is how long a scan waits for its next message before it asks
// the server whether any is left: messages deleted while it reads (by a
// retention sweep, an erasure) never come.
const scanIdle = time.Second

// Scan reads every message of a stream (one of its subjects when filter is
// set) stored when the call begins, in order, and calls fn with each; it
// returns when fn has seen the last of them or returns an error. Messages
// stored during the scan may or may not be seen, and so may messages
// deleted during it. Erasure, export and retention read whole streams
// with it: it is the one way to be sure nothing was missed.
func (c *Conn) Scan(ctx context.Context, stream, filter string, fn func(Stored) error) error {
	return c.scan(ctx, stream, filter, 0, 0, fn, nil)
}

// ScanRange is Scan of the messages from sequence from to sequence to
// (both included; to 0: the last stored when the call begins).
func (c *Conn) ScanRange(ctx context.Context, stream string, from, to uint64, fn func(Stored) error) error {
	return c.scan(ctx, stream, "", from, to, fn, nil)
}

// scan is Scan and ScanRange; beforeRead, when set, runs just before the
// reading begins (tests delete messages there).
func (c *Conn) scan(ctx context.Context, stream, filter string, from, to uint64, fn func(Stored) error, beforeRead func()) error {
	s, err := c.JS.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("bus: scan %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("bus: scan %s: %w", stream, err)
	}
	last := info.State.LastSeq
	if to > 0 {
		last = min(last, to)
	}
	if info.State.Msgs == 0 || last == 0 || from > last {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	if filter != "" {
		cfg.FilterSubjects = []string{filter}
		// A filter that matches nothing reads nothing.
		if _, err := s.GetLastMsgForSubject(ctx, filter); errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		} else if err != nil {
			return fmt.Errorf("bus: scan %s %s: %w", stream, filter, err)
		}
	}
	if beforeRead != nil {
		beforeRead()
	}
	cons, err := c.JS.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return fmt.Errorf("bus: scan %s: %w", stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(scanBatch))
	if err != nil {
		return fmt.Errorf("bus: scan %s: %w", stream, err)
	}
	defer it.Stop()
	for {
		next, cancel := context.WithTimeout(ctx, scanIdle)
		msg, err := it.Next(jetstream.NextContext(next))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("bus: scan %s: %w", stream, err)
			}
			// Nothing came for a while: done if nothing is left to come.
			ci, err := cons.Info(ctx)
			if err != nil {
				return fmt.Errorf("bus: scan %s: %w", stream, err)
			}
			if ci.NumPending == 0 || ci.Delivered.Stream >= last {
				return nil
			}
			continue
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("bus: scan %s: %w", stream, err)
		}
		seq := meta.Sequence.Stream
		if seq > last {
			return nil
		}
		if err := fn(Stored{Seq: seq, Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data(), Time: meta.Timestamp}); err != nil {
			return err
		}
		if seq == last || meta.NumPending == 0 {
			return nil
		}
	}
}

// Erase deletes message seq from a stream and overwrites its bytes where
// they were stored, so they are gone from the files, not only unlisted. A
// message already gone (deleted, or aged out) is not an error.
func (c *Conn) Erase(ctx context.Context, stream string, seq uint64) error {
	s, err := c.JS.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("bus: erase from %s: %w", stream, err)
	}
	err = s.SecureDeleteMsg(ctx, seq)
	if err == nil || errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	// JetStream answers a message already gone with several errors (a
	// sequence not found, a deletion that failed with "no message found");
	// whether it is still there says which kind this was.
	if _, getErr := s.GetMsg(ctx, seq); errors.Is(getErr, jetstream.ErrMsgNotFound) {
		return nil
	}
	return fmt.Errorf("bus: erase message %d of %s: %w", seq, stream, err)
}
