package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/post"
)

// PublishPosts stores posts on the ingest stream, each with its id as the
// message id so a replayed post is stored once, on its author's partition
// (RouteSubject). It returns after JetStream has acknowledged every post,
// with how many were new.
func (c *Conn) PublishPosts(ctx context.Context, posts []post.Post) (int, error) {
	msgs := make([]*nats.Msg, len(posts))
	for i, p := range posts {
		data, err := json.Marshal(p)
		if err != nil {
			return 0, fmt.Errorf("bus: encode post %s: %w", p.ID, err)
		}
		msgs[i] = &nats.Msg{Subject: RouteSubject(&p), Data: data, Header: nats.Header{}}
		id := p.ID
		switch {
		case p.Deleted:
			id += "#deleted" // a takedown must not be mistaken for a replay of its post
		case p.IsEdit():
			// Each version is stored once; an edit is not a replay.
			id += "#edited@" + strconv.FormatInt(p.EditedAt.UnixNano(), 10)
		}
		msgs[i].Header.Set(jetstream.MsgIDHeader, id)
	}
	acks, err := c.PublishAll(ctx, msgs)
	fresh := 0
	for _, a := range acks {
		if a != nil && !a.Duplicate {
			fresh++
		}
	}
	return fresh, err
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
