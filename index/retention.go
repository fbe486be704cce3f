package index

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// What the retention sweep asks the index: which posts of a stream have
// stood where they are longer than the stream keeps them, which events
// are about them, whether another stream still holds one, and what each
// stream keeps now, for an auditor.

// Expired is a post whose retention ran out.
type Expired struct {
	PostID string
	// IngestStream and IngestSeq are where the post is on the ingest side
	// (seq 0: unknown; bus.IngestStreamOf names the stream).
	IngestStream string
	IngestSeq    uint64
}

// RetentionClass names which retention applies to a post: its status,
// except "gone" for a post removed because it left its source.
func retentionQuery(stream, class string) query.Query {
	must := []query.Query{term("doc_type", typePost), term("stream", stream)}
	switch class {
	case "gone":
		return bleve.NewConjunctionQuery(append(must, term("status", "removed"), term("why", "source"))...)
	case "removed":
		q := bleve.NewBooleanQuery()
		q.AddMust(append(must, term("status", "removed"))...)
		q.AddMustNot(term("why", "source"))
		return q
	}
	return bleve.NewConjunctionQuery(append(must, term("status", class))...)
}

// decidedBefore matches documents decided before t.
func decidedBefore(t time.Time) query.Query {
	exclusive := false
	q := bleve.NewDateRangeInclusiveQuery(time.Time{}, t, nil, &exclusive)
	q.SetField("decided_at")
	return q
}

// ExpiredPosts returns up to limit posts of stream of a retention class
// ("approved", "held", "rejected", "removed", or "gone": removed because
// they left their source) decided before `before`, oldest first.
func (x *Index) ExpiredPosts(_ context.Context, stream, class string, before time.Time, limit int) ([]Expired, error) {
	q := bleve.NewConjunctionQuery(retentionQuery(stream, class), decidedBefore(before))
	req := bleve.NewSearchRequestOptions(q, limit, 0, false)
	req.Fields = []string{"meta_json"}
	req.SortBy([]string{"decided_at"})
	res, err := x.idx.Search(req)
	if err != nil {
		return nil, fmt.Errorf("index: expired posts: %w", err)
	}
	out := make([]Expired, 0, len(res.Hits))
	for _, h := range res.Hits {
		id := postIDOf(stream, h.ID)
		var m meta
		if s, _ := h.Fields["meta_json"].(string); s != "" {
			_ = json.Unmarshal([]byte(s), &m)
		}
		out = append(out, Expired{PostID: id, IngestStream: m.IngestStream, IngestSeq: m.IngestSeq})
	}
	return out, nil
}

// EventSeqs returns the sequences of the events of stream about the posts
// ids (from their audit entries), in order.
func (x *Index) EventSeqs(_ context.Context, stream string, ids []string) ([]uint64, error) {
	var out []uint64
	for chunk := range slices.Chunk(ids, maxTerms) {
		any := make([]query.Query, len(chunk))
		for i, id := range chunk {
			any[i] = term("post_id", id)
		}
		q := bleve.NewConjunctionQuery(term("doc_type", typeAudit), term("stream", stream), bleve.NewDisjunctionQuery(any...))
		hits, err := x.all(q, nil)
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			if seq := auditSeq(h.ID); seq > 0 {
				out = append(out, seq)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// HeldElsewhere reports whether a stream other than stream holds the post.
func (x *Index) HeldElsewhere(_ context.Context, postID, stream string) (bool, error) {
	q := bleve.NewBooleanQuery()
	q.AddMust(term("doc_type", typePost), term("post_id", postID))
	q.AddMustNot(term("stream", stream))
	res, err := x.idx.Search(bleve.NewSearchRequestOptions(q, 0, 0, false))
	if err != nil {
		return false, fmt.Errorf("index: held elsewhere: %w", err)
	}
	return res.Total > 0, nil
}

// Kept is what a stream holds of one retention class now.
type Kept struct {
	Count uint64 `json:"count"`
	// Oldest is the oldest decision among them (zero when none).
	Oldest time.Time `json:"oldest,omitzero"`
}

// KeptPosts says how many posts of a retention class a stream holds, and
// since when.
func (x *Index) KeptPosts(_ context.Context, stream, class string) (Kept, error) {
	req := bleve.NewSearchRequestOptions(retentionQuery(stream, class), 1, 0, false)
	req.Fields = []string{"meta_json"}
	req.SortBy([]string{"decided_at"})
	res, err := x.idx.Search(req)
	if err != nil {
		return Kept{}, fmt.Errorf("index: kept posts: %w", err)
	}
	k := Kept{Count: res.Total}
	if len(res.Hits) > 0 {
		var m meta
		if s, _ := res.Hits[0].Fields["meta_json"].(string); json.Unmarshal([]byte(s), &m) == nil {
			k.Oldest = m.DecidedAt
		}
	}
	return k, nil
}
