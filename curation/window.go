package curation

import (
	"context"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// How curation knows a (stream, post) pair was decided before, without a
// stored mark per decision:
//
//   - Within a batch, claims.
//   - Across batches, the decided window: the pairs this node decided
//     lately, in memory (the last windowSize of them, hours of a busy wall).
//   - Whatever the window forgot, JetStream's dedupe on the events stream:
//     every decision is published with the message id decide.<pair>, and a
//     second publish within bus.DedupeWindow is dropped (and counted as a
//     duplicate, not a decision).
//   - After a restart or a partition move, the ingest messages delivered
//     before and not acknowledged come again. If their decisions may be older
//     than the dedupe window by the time they are decided again, recover
//     reads the message ids of the events stored since the oldest of them
//     into the window first.
//   - Durable marks in chorus_seen only where a decision must hold for the
//     whole retention: a post taken down at its source (its pairs, and the
//     gone key of a post taken down before it arrived) and a pair a moderator
//     acted on, so a copy fetched again much later never undoes either.
//
// A post fetched again by a source past all of these (a connector replaying
// hours back after losing its cursor) is decided again by the same rules:
// its screens update it in place.

// windowSize is how many decided pairs the window remembers: about 20 MB at
// most, and more than 15 minutes at 250 decisions a second.
const windowSize = 1 << 18

// pairHash is a pair's key in the window.
type pairHash [16]byte

func hashPair(key string) pairHash {
	h := fnv.New128a()
	h.Write([]byte(key))
	var out pairHash
	h.Sum(out[:0])
	return out
}

// window is the decided window: the pairs decided lately, oldest forgotten
// first, and the pairs recovered after a restart until the messages they
// guard are decided.
type window struct {
	mu   sync.Mutex
	keys map[pairHash]struct{}
	ring []pairHash
	next int
	// recovered are the pairs read back from the events stream at start,
	// kept while an ingest message up to recoverBelow (by ingest stream)
	// may still come.
	recovered    map[pairHash]struct{}
	recoverBelow map[string]uint64
	// readFrom and readTo say what the recovered pairs cover of the events
	// stream: from that time to that sequence.
	readFrom time.Time
	readTo   uint64
}

func newWindow(size int) *window {
	return &window{keys: make(map[pairHash]struct{}), ring: make([]pairHash, 0, min(size, 4096)), recovered: map[pairHash]struct{}{}, recoverBelow: map[string]uint64{}}
}

// add remembers the pairs of keys, forgetting the oldest beyond the size.
func (w *window) add(keys []string, size int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range keys {
		h := hashPair(k)
		if _, ok := w.keys[h]; ok {
			continue
		}
		w.keys[h] = struct{}{}
		if len(w.ring) < size {
			w.ring = append(w.ring, h)
			continue
		}
		delete(w.keys, w.ring[w.next])
		w.ring[w.next] = h
		w.next = (w.next + 1) % len(w.ring)
	}
}

// has reports whether key's pair was decided lately.
func (w *window) has(key string) bool {
	h := hashPair(key)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.keys[h]; ok {
		return true
	}
	_, ok := w.recovered[h]
	return ok
}

// recover adds pairs read back at start, guarding the messages of an ingest
// stream up to below; they cover the events stream from `from` (or from
// before, when the pairs already read did) to the sequence to.
func (w *window) recover(keys []string, stream string, below uint64, from time.Time, to uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range keys {
		w.recovered[hashPair(k)] = struct{}{}
	}
	w.recoverBelow[stream] = max(w.recoverBelow[stream], below)
	if w.readFrom.IsZero() || from.Before(w.readFrom) {
		w.readFrom = from
	}
	w.readTo = max(w.readTo, to)
}

// readSince says from which events sequence a reading back from `since`
// must start: after what the recovered pairs cover when they go back as
// far, else from the start (0).
func (w *window) readSince(since time.Time) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.readFrom.IsZero() || since.Before(w.readFrom) {
		return 0
	}
	return w.readTo
}

// passed is told the items of a batch being decided (in the order each
// stream stored them): once every message up to recoverBelow of each
// stream is behind, the recovered pairs are dropped.
func (w *window) passed(items []*item) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.recovered) == 0 {
		return
	}
	for _, it := range items {
		if below, ok := w.recoverBelow[it.stream]; ok && it.seq > below {
			delete(w.recoverBelow, it.stream)
		}
	}
	if len(w.recoverBelow) == 0 {
		w.recovered = map[pairHash]struct{}{}
		w.readFrom, w.readTo = time.Time{}, 0
	}
}

// recover runs before a partition delivers its first message: the messages
// it delivered before (on this node before a crash, or on another before a
// move) and did not acknowledge come again, and their decisions may already
// be stored. Their events were stored after the oldest of them was; when
// that is older than the dedupe window can vouch for, the message ids of
// every event since are read into the window. After a clean stop nothing is
// unacknowledged and nothing is read.
func (c *Curator) recover(ctx context.Context, id, stream string, cons jetstream.Consumer) error {
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	floor, delivered := info.AckFloor.Stream, info.Delivered.Stream
	if info.NumAckPending == 0 && delivered <= floor {
		return nil
	}
	oldest, ok, err := c.conn.IngestStoredAt(ctx, stream, floor+1)
	if err != nil || !ok {
		return err
	}
	// The messages are redelivered at once and decided well within a third
	// of the window (5 minutes of 15).
	if time.Since(oldest) < c.dedupeWindow*2/3 {
		return nil // every decision they had is still within the dedupe window
	}
	c.recoverMu.Lock()
	defer c.recoverMu.Unlock()
	// Partitions starting together share one reading: what an earlier one
	// read from as far back is read no more, only what was stored since.
	after := c.window.readSince(oldest)
	started := time.Now()
	var keys []string
	last, n, err := c.conn.EventIDsSince(ctx, oldest, after, func(msgID string) {
		if kind, key, ok := strings.Cut(msgID, "."); ok && (kind == "decide" || kind == "takedown") {
			keys = append(keys, key)
		}
	})
	if err != nil {
		return err
	}
	c.window.recover(keys, stream, delivered, oldest, last)
	c.log.Info("curation: read back the decisions of the messages delivered before", "partition", id,
		"unacknowledged", info.NumAckPending, "since", oldest, "events", n, "took", time.Since(started).Round(time.Millisecond))
	return nil
}
