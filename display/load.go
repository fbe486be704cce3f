package display

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chorus-wall/chorus/bus"
)

// lookups is how many streams' last events are looked up at once.
const lookups = 8

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
		h.forScreensItems(c.Posts)
		h.forScreensItems(c.Pending)
		states[id] = c.restore()
	}
	// Only streams with events after their checkpoint are replayed, all in
	// one read from the oldest of those checkpoints: after a clean stop that
	// is nothing, after a crash the last seconds before it.
	from, err := h.replayFrom(ctx, conn, states, upTo)
	if err != nil {
		return 0, err
	}
	var replayed int64
	if from <= upTo {
		now := time.Now()
		err := conn.ReadEvents(ctx, from, upTo, 1000, h.skipped.Inc, func(b bus.Batch) error {
			for _, e := range b.Events {
				st := states[e.Stream]
				if st == nil || e.Seq <= st.seq {
					continue // a stream no screen can show, or in its checkpoint
				}
				st.mu.Lock()
				h.applyEvent(st, e, h.limit(e.Stream), now)
				st.mu.Unlock()
				replayed++
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("display: replay events %d..%d: %w", from, upTo, err)
		}
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
	h.replayed.Set(float64(replayed))
	h.appliedG.Set(float64(upTo))
	h.log.Info("display state loaded", "streams", len(states), "checkpoints", len(saved), "seq", upTo,
		"replayed_events", replayed, "took", took.Round(time.Millisecond))
	return upTo, nil
}

// replayFrom returns the seq to replay from: one past the oldest checkpoint
// of the streams that have events after it (past upTo when none has).
func (h *Hub) replayFrom(ctx context.Context, conn *bus.Conn, states map[string]*state, upTo uint64) (uint64, error) {
	var mu sync.Mutex
	from := upTo + 1
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lookups)
	for id, st := range states {
		if st.seq >= upTo {
			continue
		}
		g.Go(func() error {
			last, err := conn.LastEventSeqOf(gctx, id)
			if err != nil {
				return err
			}
			if last > st.seq {
				mu.Lock()
				from = min(from, st.seq+1)
				mu.Unlock()
			}
			return nil
		})
	}
	return from, g.Wait()
}
