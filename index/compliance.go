package index

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/chorus-wall/chorus/post"
)

// ApprovedFrom returns the posts of a source approved in any stream since
// `since`, the latest decision first, each post once, at most limit: what
// the compliance sweep asks the network about again.
func (x *Index) ApprovedFrom(_ context.Context, source string, since time.Time, limit int) ([]post.Post, error) {
	after := bleve.NewDateRangeQuery(since, time.Time{})
	after.SetField("decided_at")
	q := bleve.NewConjunctionQuery(term("doc_type", typePost), term("source", source), term("status", "approved"), after)
	var out []post.Post
	have := map[string]bool{}
	const page = 1000
	for from := 0; len(out) < limit; from += page {
		req := bleve.NewSearchRequestOptions(q, page, from, false)
		req.Fields = []string{"post_json"}
		req.SortBy([]string{"-decided_at"})
		res, err := x.idx.Search(req)
		if err != nil {
			return nil, fmt.Errorf("index: approved posts of %s: %w", source, err)
		}
		for _, h := range res.Hits {
			var p post.Post
			if s, _ := h.Fields["post_json"].(string); json.Unmarshal([]byte(s), &p) != nil || p.ID == "" || have[p.ID] {
				continue
			}
			have[p.ID] = true
			out = append(out, p)
			if len(out) == limit {
				break
			}
		}
		if len(res.Hits) < page {
			break
		}
	}
	return out, nil
}
