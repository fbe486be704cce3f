package index

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// TestCompactionEndsAfterAReaderLetGo: a search still reading the old
// segments while they are merged away keeps Bleve from removing their
// files when it cleans up after the merge, and an idle index does not
// clean up again by itself. Compaction must still end (and the erased
// text leave the disk) once the reader lets go. Before the fix, Compact
// waited for the files until its context ended, and every erasure waited
// its two minutes.
func TestCompactionEndsAfterAReaderLetGo(t *testing.T) {
	const marker = "zqxreadermarker"
	dir := t.TempDir() + "/index"
	x := open(t, dir)
	defer x.Close()
	x.AuthorHash = fakeHash
	var events []bus.Event
	for i := range 200 {
		p := &post.Post{ID: fmt.Sprintf("x:%d", i), Network: "x", Text: fmt.Sprintf("ordinary post %d", i), Author: post.Author{Handle: "crowd"}}
		events = append(events, ev(uint64(i+1), bus.EventApprove, "wall", p))
	}
	eve := &post.Post{ID: "x:eve", Network: "x", Text: "hello " + marker, Author: post.Author{Handle: "eve"}}
	events = append(events, ev(201, bus.EventApprove, "wall", eve))
	if err := x.Apply(bus.Batch{Events: events, LastSeq: 201}); err != nil {
		t.Fatal(err)
	}
	if err := x.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	erase := bus.Event{Kind: bus.EventErase, Stream: "wall", Seq: 202, Author: fakeHash("x:eve"), Erased: []string{fakeHash("x:eve")}, Actor: "owner"}
	if err := x.Apply(bus.Batch{Events: []bus.Event{erase}, LastSeq: 202}); err != nil {
		t.Fatal(err)
	}
	adv, err := x.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	sc := adv.(*scorch.Scorch)
	old, err := segments(sc)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := sc.Reader() // a search still reading the old segments
	if err != nil {
		t.Fatal(err)
	}
	// A bound so that a hang fails the test instead of stalling it; the
	// compaction takes well under a second once the reader has let go.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- x.Compact(ctx) }()
	// Wait until the old segments are merged away and the persister has
	// cleaned up and gone idle while the reader still holds them.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		now, err := segments(sc)
		if err != nil {
			t.Fatal(err)
		}
		merged := true
		for id, persisted := range now {
			if _, was := old[id]; was || !persisted {
				merged = false
			}
		}
		st := sc.StatsMap()
		if merged && st["CurRootEpoch"] == st["LastPersistedEpoch"] &&
			st["TotPersistLoopWait"].(uint64) == st["TotPersistLoopEnd"].(uint64)+1 {
			break
		}
		select {
		case <-tick.C:
		case err := <-done:
			t.Fatalf("compaction ended while a reader held the old segments: %v", err)
		case <-ctx.Done():
			t.Fatal("the old segments were never merged away")
		}
	}
	if err := reader.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("compaction did not end after the reader let go: %v", err)
	}
	if storeHolds(t, dir, marker) {
		t.Errorf("%q is still in the index files", marker)
	}
}
