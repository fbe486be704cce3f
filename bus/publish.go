package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/post"
)

// PublishPosts stores posts on their partition streams (RouteSubjects:
// the author's, or every partition for a takedown), each with its id as the
// message id so a replayed post is stored once. It returns after JetStream
// has acknowledged every message, with how many posts were new.
func (c *Conn) PublishPosts(ctx context.Context, posts []post.Post) (int, error) {
	msgs := make([]*nats.Msg, 0, len(posts))
	first := make([]int, len(posts)) // each post's first message
	for i, p := range posts {
		data, err := encodePost(&p)
		if err != nil {
			return 0, fmt.Errorf("bus: encode post %s: %w", p.ID, err)
		}
		first[i] = len(msgs)
		at := publishStamp()
		for _, subject := range RouteSubjects(&p) {
			m := PostMsg(subject, PostMsgID(&p), data)
			m.Header.Set(PublishedHeader, at)
			msgs = append(msgs, m)
		}
	}
	acks, err := c.PublishAll(ctx, msgs)
	fresh := 0
	for _, i := range first {
		if i < len(acks) && acks[i] != nil && !acks[i].Duplicate {
			fresh++
		}
	}
	return fresh, err
}

// PublishedHeader says when a post was published (Unix nanoseconds, rising
// strictly within a process). Each partition's stream stamps its messages
// when it stores them, and streams store side by side: the order of posts
// published together (one webhook call, one page of a source) across
// partitions is this one.
const PublishedHeader = "Chorus-Published"

var lastStamp atomic.Int64

// publishStamp is now, in Unix nanoseconds, after every stamp before.
func publishStamp() string {
	now := time.Now().UnixNano()
	for {
		last := lastStamp.Load()
		next := max(now, last+1)
		if lastStamp.CompareAndSwap(last, next) {
			return strconv.FormatInt(next, 10)
		}
	}
}

// PublishedAt is when an ingest message was published (PublishedHeader),
// or, for a message without the header (published by an integrator or an
// older Chorus), when it was stored.
func PublishedAt(h nats.Header, stored time.Time) time.Time {
	if v := h.Get(PublishedHeader); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(0, n)
		}
	}
	return stored
}

// PostMsgID is a post's message id on the ingest streams. Message ids are
// remembered per stream, so the copies of a takedown on every partition
// share one.
func PostMsgID(p *post.Post) string {
	switch {
	case p.Deleted:
		return p.ID + "#deleted" // a takedown must not be mistaken for a replay of its post
	case p.IsEdit():
		// Each version is stored once; an edit is not a replay.
		return p.ID + "#edited@" + strconv.FormatInt(p.EditedAt.UnixNano(), 10)
	}
	return p.ID
}

// PostMsg is an ingest message of an encoded post with its message id.
func PostMsg(subject, id string, data []byte) *nats.Msg {
	m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, id)
	return m
}

// ErrNotConnected is returned while the connection to NATS is down.
var ErrNotConnected = errors.New("bus: not connected to NATS")

// PublishAll publishes msgs to JetStream asynchronously and waits until each
// is acknowledged. The acks are in the order of msgs; an error means at least
// one message may not be stored (and none is reported as stored).
func (c *Conn) PublishAll(ctx context.Context, msgs []*nats.Msg) ([]*jetstream.PubAck, error) {
	if !c.NC.IsConnected() {
		// Fail fast: buffering until NATS is back would hold callers for the
		// whole ack timeout, and they retry anyway.
		return nil, ErrNotConnected
	}
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		// When every publisher together has maxPending messages in flight,
		// this waits for room (backpressure) rather than failing the batch.
		f, err := c.JS.PublishMsgAsync(m, jetstream.WithStallWait(publishTimeout))
		if err != nil {
			return nil, fmt.Errorf("bus: publish %s: %w", m.Subject, err)
		}
		futures = append(futures, f)
	}
	acks := make([]*jetstream.PubAck, len(futures))
	var errs []error
	for i, f := range futures {
		select {
		case a := <-f.Ok():
			acks[i] = a
		case err := <-f.Err():
			errs = append(errs, fmt.Errorf("bus: publish %s: %w", f.Msg().Subject, err))
		case <-ctx.Done():
			return nil, fmt.Errorf("bus: publish: %w", ctx.Err())
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return acks, nil
}
