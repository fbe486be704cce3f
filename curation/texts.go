package curation

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
)

// Near-duplicates span authors, hence partitions and nodes. Every curation
// node publishes the fingerprints (SimHashes) of the texts it decides to
// bus.TextsStream, with the batch's decisions, and follows that stream from
// its newest fingerprints on: a node that starts or takes over partitions
// knows the texts decided anywhere before, not only from then on. Before it
// decides a batch, a node reads every fingerprint stored by then (it asks
// the stream's last sequence while it looks up the batch's seen marks), so
// a copy decided on any node after its original's decision is caught
// (a node holding every partition skips that). Without Leases (one node
// deciding every partition) nothing is shared.

const (
	// instanceHeader names the curator that published fingerprints: its
	// own are in its memory already.
	instanceHeader = "Chorus-Curator"
	// textsReplay is how many of the newest messages of the texts stream
	// a node reads back when it starts: each holds one batch's texts of a
	// stream, so more than the memory keeps (recentTexts per stream).
	textsReplay = 16 * recentTexts
	// textsCatchUp bounds how long a batch waits for the fingerprints
	// stored before it (NATS slow or away): it is then decided with what
	// this node has read.
	textsCatchUp = 2 * time.Second
	// textSize is one fingerprint's encoding: SimHash, author hash and
	// decision time (Unix nanoseconds), little-endian.
	textSize = 24
)

// textFollow is how far this node has read the texts stream.
type textFollow struct {
	mu     sync.Mutex
	stream jetstream.Stream // set once following started
	read   uint64           // the last sequence read
	// moved is closed (and replaced) when stream or read change.
	moved chan struct{}
}

func newTextFollow() *textFollow { return &textFollow{moved: make(chan struct{})} }

func (f *textFollow) set(update func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	update()
	close(f.moved)
	f.moved = make(chan struct{})
}

// waitUntil waits until the stream is read up to seq (0: until following
// started) or deadline passes, and reports whether it is.
func (f *textFollow) waitUntil(ctx context.Context, seq uint64, deadline <-chan time.Time) bool {
	for {
		f.mu.Lock()
		done := f.stream != nil && f.read >= seq
		moved := f.moved
		f.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-moved:
		case <-deadline:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// followTexts reads the fingerprints the other curation nodes share into
// this node's spam memory, from the newest textsReplay messages on, until
// ctx ends.
func (c *Curator) followTexts(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		err := c.followTextsFrom(ctx)
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("curation: cannot read the texts other curation nodes share; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(time.Second<<min(attempt, 5), 30*time.Second)):
		}
	}
}

func (c *Curator) followTextsFrom(ctx context.Context) error {
	s, err := c.conn.JS.Stream(ctx, bus.TextsStream)
	if err != nil {
		return err
	}
	state := s.CachedInfo().State
	start := max(state.FirstSeq, 1)
	if state.LastSeq >= textsReplay {
		start = max(start, state.LastSeq-textsReplay+1)
	}
	cons, err := c.conn.JS.OrderedConsumer(ctx, bus.TextsStream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
	})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(c.learnTexts, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if ctx.Err() == nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
			c.log.Debug("curation: reading shared texts", "err", err)
		}
	}))
	if err != nil {
		return err
	}
	defer cc.Stop()
	c.texts.set(func() {
		c.texts.stream = s
		c.texts.read = max(c.texts.read, start-1)
	})
	<-ctx.Done()
	return nil
}

// learnTexts remembers one message of fingerprints another node shared.
func (c *Curator) learnTexts(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	if m.Headers().Get(instanceHeader) != c.instance {
		texts, err := decodeTexts(m.Data())
		if err != nil {
			c.log.Warn("curation: skipping undecodable shared texts", "subject", m.Subject(), "seq", meta.Sequence.Stream, "err", err)
		} else if pol, ok := c.streams.Policy(bus.StreamOfTexts(m.Subject())); ok {
			pol.spam.learn(texts)
		}
	}
	c.texts.set(func() { c.texts.read = max(c.texts.read, meta.Sequence.Stream) })
}

// catchUpTexts waits until this node has read every fingerprint stored in
// the texts stream by now, for at most textsCatchUp. Best effort: a batch
// is never held longer, and then a near-duplicate of a text decided on
// another node moments ago may get through.
func (c *Curator) catchUpTexts(ctx context.Context) {
	if c.texts == nil || c.decidesAlone() {
		return
	}
	deadline := time.NewTimer(textsCatchUp)
	defer deadline.Stop()
	if !c.texts.waitUntil(ctx, 0, deadline.C) {
		return
	}
	c.texts.mu.Lock()
	s := c.texts.stream
	c.texts.mu.Unlock()
	ictx, cancel := context.WithTimeout(ctx, textsCatchUp)
	info, err := s.Info(ictx)
	cancel()
	if err != nil {
		return
	}
	if !c.texts.waitUntil(ctx, info.State.LastSeq, deadline.C) && ctx.Err() == nil {
		c.log.Warn("curation: deciding before every shared text was read", "stream_last", info.State.LastSeq)
	}
}

// decidesAlone reports whether this node holds every partition: no other
// node is deciding, so there is nothing new to catch up with (what a node
// that just left shared is read moments later).
func (c *Curator) decidesAlone() bool {
	me := c.Leases.Name()
	leases := c.Leases.Leases(PartitionKind)
	for _, id := range PartitionIDs() {
		if leases[id].Node != me {
			return false
		}
	}
	return true
}

// textMsgs takes the fingerprints of the texts remembered since the last
// call: one message per stream, for the texts stream (none without Leases).
func (c *Curator) textMsgs() []*nats.Msg {
	var msgs []*nats.Msg
	for _, s := range c.streams.All() {
		pol, ok := c.streams.Policy(s.ID)
		if !ok {
			continue
		}
		texts := pol.spam.drain()
		if len(texts) == 0 || c.texts == nil {
			continue
		}
		m := &nats.Msg{Subject: bus.TextsSubject(s.ID), Data: encodeTexts(texts), Header: nats.Header{}}
		m.Header.Set(instanceHeader, c.instance)
		msgs = append(msgs, m)
	}
	return msgs
}

func encodeTexts(texts []recentText) []byte {
	out := make([]byte, 0, len(texts)*textSize)
	for _, t := range texts {
		out = binary.LittleEndian.AppendUint64(out, t.hash)
		out = binary.LittleEndian.AppendUint64(out, t.author)
		out = binary.LittleEndian.AppendUint64(out, uint64(t.at))
	}
	return out
}

func decodeTexts(data []byte) ([]recentText, error) {
	if len(data)%textSize != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of %d-byte fingerprints", len(data), textSize)
	}
	out := make([]recentText, 0, len(data)/textSize)
	for b := data; len(b) > 0; b = b[textSize:] {
		out = append(out, recentText{
			hash:   binary.LittleEndian.Uint64(b),
			author: binary.LittleEndian.Uint64(b[8:]),
			at:     int64(binary.LittleEndian.Uint64(b[16:])),
		})
	}
	return out, nil
}
