package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
)

// seedHistory writes events to the server's events stream until it holds
// total, the way weeks of curation would have left it: approvals carrying
// their post (70% for the wall, the rest for the brand stream), every
// 20th a hold, every 50th a removal of an earlier post, every 1000th a
// pin. It writes straight to NATS; the server's index and display apply
// them as they would live events.
func seedHistory(ctx context.Context, s *server, m *mix, total uint64) (uint64, error) {
	last, err := s.eventsLast(ctx)
	if err != nil {
		return 0, err
	}
	if last >= total {
		return 0, nil
	}
	n := total - last
	now := time.Now().UTC()
	var futures []jetstream.PubAckFuture
	var ids [2][]string // recent post ids of wall and brand, for removals
	for i := range n {
		stream, from := "wall", wallSources
		if i%10 >= 7 {
			stream, from = "brand", []string{"brand", "feeds"}
		}
		si := 0
		if stream == "brand" {
			si = 1
		}
		e := bus.Event{Kind: bus.EventApprove, Stream: stream, Actor: bus.ActorCuration, At: now, Reason: "auto"}
		switch {
		case i%50 == 49 && len(ids[si]) > 0:
			e.Kind, e.PostID, e.Reason, e.Actor = bus.EventRemove, ids[si][int(i)%len(ids[si])], "off topic", "moderator"
		case i%1000 == 999 && len(ids[si]) > 0:
			e.Kind, e.PostID, e.Actor = bus.EventPin, ids[si][len(ids[si])-1], "moderator"
		default:
			p := m.post(from[i%uint64(len(from))], now)
			p.Source = from[i%uint64(len(from))]
			if i%20 == 19 {
				e.Kind, e.Reason = bus.EventHold, "manual moderation"
			}
			e.Post, e.PostID = &p, p.ID
			ids[si] = append(ids[si], p.ID)
			if len(ids[si]) > 1000 {
				ids[si] = ids[si][500:]
			}
		}
		msg, err := e.Msg(fmt.Sprintf("seed.%d.%d", m.seed, i))
		if err != nil {
			return 0, err
		}
		f, err := s.js.PublishMsgAsync(msg)
		if err != nil {
			return 0, fmt.Errorf("seed history: %w", err)
		}
		futures = append(futures, f)
		if len(futures) == 4096 {
			if err := settle(ctx, futures); err != nil {
				return 0, err
			}
			futures = futures[:0]
		}
	}
	return n, settle(ctx, futures)
}

func settle(ctx context.Context, futures []jetstream.PubAckFuture) error {
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("seed history: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
