package display

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chorus-wall/chorus/bus"
)

// replayers is how many streams replay their events at once at start-up.
const replayers = 4

// load builds every stream's state from its checkpoint and the events of
// that stream after it, up to the end of the events stream now, and turns
// the hub ready at that seq, which it returns. Nothing reaches clients
// while it runs: they are held until it is done.
func (h *Hub) load(ctx context.Context, conn *bus.Conn, cs *checkpoints) (uint64, error) {
	start := time.Now()
	upTo, err := conn.LastEventSeq(ctx)
	if err != nil {
		return 0, err
	}
	saved, err := cs.loadAll(ctx)
	if err != nil {
		return 0, err
	}
	states := map[string]*state{}
	for _, s := range h.streams.All() {
		states[s.ID] = newState(0)
	}
	for id, c := range saved {
		if c.Seq > upTo {
			h.log.Warn("display: checkpoint is ahead of the events stream (was the stream reset?); replaying the stream instead",
				"stream", id, "checkpoint_seq", c.Seq, "events_last_seq", upTo)
			states[id] = newState(0)
			continue
		}
		states[id] = c.restore()
	}
	var replayed atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(replayers)
	for id, st := range states {
		if st.seq >= upTo {
			continue
		}
		limit := h.limit(id)
		g.Go(func() error {
			err := conn.ReplayEvents(gctx, id, st.seq+1, upTo, 1000, h.skipped.Inc, func(b bus.Batch) error {
				st.mu.Lock()
				defer st.mu.Unlock()
				now := time.Now()
				for _, e := range b.Events {
					h.applyEvent(st, e, limit, now)
				}
				replayed.Add(int64(len(b.Events)))
				return nil
			})
			if err != nil {
				return fmt.Errorf("display: replay %s: %w", id, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	for _, st := range states {
		st.seq = upTo
	}
	h.mu.Lock()
	h.states = states
	h.mu.Unlock()
	h.markReady(upTo)
	took := time.Since(start)
	h.loadSeconds.Set(took.Seconds())
	h.replayed.Set(float64(replayed.Load()))
	h.appliedG.Set(float64(upTo))
	h.log.Info("display state loaded", "streams", len(states), "checkpoints", len(saved), "seq", upTo,
		"replayed_events", replayed.Load(), "took", took.Round(time.Millisecond))
	return upTo, nil
}
