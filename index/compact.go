package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// A deleted document stays in its segment file, marked deleted, until the
// segment is merged into a new one. After an erasure or a purge, the index
// compacts: every segment that existed when the documents were deleted is
// merged away and its file removed, so the deleted content is gone from
// the disk, not only from answers. Compaction runs beside the index's
// batches (Bleve merges online); WaitCompacted lets an erasure wait for it.

// compactPoll is how often compaction looks at the segments while waiting
// for them to be persisted or their files removed.
const compactPoll = 50 * time.Millisecond

// nudgeEvery is how often compaction wakes Bleve's persister while the
// files of merged segments are still on disk (see waitFiles).
const nudgeEvery = 250 * time.Millisecond

// scrubID is a document without content that compaction writes when the
// index has a single segment, so that a merge has two to merge.
const scrubID = "chorus/scrub"

// requestCompaction asks for a compaction covering the events up to seq.
func (x *Index) requestCompaction(seq uint64) {
	x.mu.Lock()
	x.compactWanted = max(x.compactWanted, seq)
	x.mu.Unlock()
	select {
	case x.compactKick <- struct{}{}:
	default:
	}
}

// compactLoop compacts whenever asked, until ctx ends.
func (x *Index) compactLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-x.compactKick:
		}
		x.mu.Lock()
		wanted := x.compactWanted
		x.mu.Unlock()
		if err := x.Compact(ctx); err != nil {
			if ctx.Err() == nil {
				x.log.Error("index: compaction failed; deleted documents may stay in segment files until the next one", "err", err)
			}
			continue
		}
		x.mu.Lock()
		x.compacted = max(x.compacted, wanted)
		close(x.compactDone)
		x.compactDone = make(chan struct{})
		x.mu.Unlock()
	}
}

// WaitCompacted returns once a compaction has run after the event at seq
// was applied (so what it deleted is gone from the files).
func (x *Index) WaitCompacted(ctx context.Context, seq uint64) error {
	for {
		x.mu.Lock()
		done, ch := x.compacted >= seq, x.compactDone
		x.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("index: waiting for compaction: %w", ctx.Err())
		}
	}
}

// Compact merges away every segment that exists now and waits until their
// files are removed. Documents deleted before the call are then gone from
// the disk.
func (x *Index) Compact(ctx context.Context) error {
	adv, err := x.idx.Advanced()
	if err != nil {
		return fmt.Errorf("index: compact: %w", err)
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return fmt.Errorf("index: compact: index type %T cannot be compacted", adv)
	}
	old, err := segments(sc)
	if err != nil {
		return err
	}
	tick := time.NewTicker(compactPoll)
	defer tick.Stop()
	scrubbed := false
	for {
		now, err := segments(sc)
		if err != nil {
			return err
		}
		var left, memory int
		for id, persisted := range now {
			if _, was := old[id]; was {
				left++
				if !persisted {
					memory++
				}
			}
		}
		switch {
		case left == 0:
			return x.waitFiles(ctx, old, tick)
		case memory > 0:
			// Wait for the persister to write it out; then it can merge.
		case len(now) == 1 && !scrubbed:
			// A merge needs two segments.
			scrubbed = true
			if err := x.idx.Index(scrubID, map[string]any{"doc_type": "scrub", "at": time.Now().UTC()}); err != nil {
				return fmt.Errorf("index: compact: %w", err)
			}
			continue
		default:
			if err := sc.ForceMerge(ctx, nil); err != nil && !strings.Contains(err.Error(), "already in progress") {
				return fmt.Errorf("index: compact: %w", err)
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// segments returns the segments of the current snapshot: id, and
// whether it is persisted (in a file).
func segments(sc *scorch.Scorch) (map[uint64]bool, error) {
	r, err := sc.Reader()
	if err != nil {
		return nil, fmt.Errorf("index: compact: %w", err)
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, errors.New("index: compact: unexpected reader")
	}
	ids := map[uint64]bool{}
	for _, s := range snap.Segments() {
		_, persisted := s.Segment().(segment.PersistedSegment)
		ids[s.Id()] = persisted
	}
	return ids, nil
}

// waitFiles waits until no file of the segments gone is left in the
// index's store. Bleve removes them once no reader uses them, but only
// when its persister cleans up, which it does after writing something: a
// search that still held them then keeps them on disk until the next
// write, and an idle index never writes. So while files are left, an
// empty write (deleting the content-free scrub document) wakes the
// persister every nudgeEvery.
func (x *Index) waitFiles(ctx context.Context, gone map[uint64]bool, tick *time.Ticker) error {
	dir := filepath.Join(x.path, "store")
	lastNudge := time.Now()
	for {
		left := 0
		for id := range gone {
			if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%012x.zap", id))); err == nil {
				left++
			} else if !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("index: compact: %w", err)
			}
		}
		if left == 0 {
			return nil
		}
		if time.Since(lastNudge) >= nudgeEvery {
			lastNudge = time.Now()
			if err := x.idx.Delete(scrubID); err != nil {
				return fmt.Errorf("index: compact: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
