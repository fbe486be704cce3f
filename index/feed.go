package index

import (
	"cmp"
	"slices"
)

// Change is where one post stands in one stream after an applied batch.
type Change struct {
	Stream string `json:"stream"`
	Hit
}

// Applied is what one batch of events changed, in the order of the events.
type Applied struct {
	// Seq is the last event of the batch: every change up to it is in
	// the index, and a search from now on reflects it.
	Seq     uint64
	Changes []Change
	// Streams lists every stream an event of the batch was about, posts
	// or not (pause and resume change no post).
	Streams []string
	// Forgot is true when the batch deleted posts (an erasure, a purge):
	// views holding posts should load them again.
	Forgot bool
}

// applied describes a committed batch for OnApply.
func applied(seq uint64, docs map[string]*current, streams []string) Applied {
	out := Applied{Seq: seq, Changes: make([]Change, 0, len(docs)), Streams: streams}
	for _, c := range docs {
		out.Changes = append(out.Changes, Change{Stream: c.stream, Hit: c.meta.hit(c.post)})
	}
	slices.SortFunc(out.Changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(metaSeq(docs, a), metaSeq(docs, b)), cmp.Compare(a.Post.ID, b.Post.ID))
	})
	return out
}

func metaSeq(docs map[string]*current, c Change) uint64 {
	if d := docs[docID(c.Stream, c.Post.ID)]; d != nil {
		return d.meta.Seq
	}
	return 0
}
