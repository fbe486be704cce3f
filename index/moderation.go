package index

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// What the moderation console reads besides pages of posts: the values a
// queue can be filtered by, an author's record, and counts for a stream's
// figures. Each is one or a few searches with size 0 and facets, so they
// stay cheap however many posts a stream holds.

// Facet is one value of a field and how many posts have it.
type Facet struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Facets are the values a page of posts can be filtered by, with counts.
type Facets struct {
	Total   uint64  `json:"total"`
	Network []Facet `json:"network"`
	Lang    []Facet `json:"lang"`
	Why     []Facet `json:"why"`
	Media   []Facet `json:"media"`
}

// maxFacetValues bounds the values listed per field.
const maxFacetValues = 50

// Facets counts a stream's posts of a status (every status when empty) by
// network, language, why (rule, filter, mode, moderator) and media.
func (x *Index) Facets(_ context.Context, stream, status string) (Facets, error) {
	must := []query.Query{term("doc_type", typePost), term("stream", stream)}
	if status != "" {
		must = append(must, term("status", status))
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(must...), 0, 0, false)
	for _, f := range []string{"network", "lang", "why", "has_media"} {
		req.AddFacet(f, bleve.NewFacetRequest(f, maxFacetValues))
	}
	res, err := x.idx.Search(req)
	if err != nil {
		return Facets{}, fmt.Errorf("index: facets: %w", err)
	}
	list := func(name string) []Facet {
		out := []Facet{}
		if fr := res.Facets[name]; fr != nil && fr.Terms != nil {
			for _, t := range fr.Terms.Terms() {
				out = append(out, Facet{Value: t.Term, Count: t.Count})
			}
		}
		return out
	}
	return Facets{Total: res.Total, Network: list("network"), Lang: list("lang"), Why: list("why"), Media: list("has_media")}, nil
}

// AuthorHistory is an author's record in one stream, and the streams whose
// filters ban them.
type AuthorHistory struct {
	Approved int `json:"approved"`
	Rejected int `json:"rejected"`
	Removed  int `json:"removed"`
	// BannedIn lists the streams that ban the author (filled by the
	// caller, which knows the streams' settings).
	BannedIn []string `json:"banned_in"`
}

// Authors returns the record in stream of each author key in keys: how
// many of their posts were approved, rejected and removed. Three searches
// whatever the number of authors.
func (x *Index) Authors(_ context.Context, stream string, keys []string) (map[string]*AuthorHistory, error) {
	out := make(map[string]*AuthorHistory, len(keys))
	var authors []query.Query
	for _, k := range keys {
		k = strings.ToLower(k)
		if k == "" || out[k] != nil {
			continue
		}
		out[k] = &AuthorHistory{BannedIn: []string{}}
		authors = append(authors, term("author_key", k))
	}
	if len(authors) == 0 {
		return out, nil
	}
	for _, status := range []string{"approved", "rejected", "removed"} {
		q := bleve.NewConjunctionQuery(term("doc_type", typePost), term("stream", stream), term("status", status),
			bleve.NewDisjunctionQuery(authors...))
		req := bleve.NewSearchRequestOptions(q, 0, 0, false)
		req.AddFacet("a", bleve.NewFacetRequest("author_key", len(authors)))
		res, err := x.idx.Search(req)
		if err != nil {
			return nil, fmt.Errorf("index: author history: %w", err)
		}
		fr := res.Facets["a"]
		if fr == nil || fr.Terms == nil {
			continue
		}
		for _, t := range fr.Terms.Terms() {
			h := out[t.Term]
			if h == nil {
				continue
			}
			switch status {
			case "approved":
				h.Approved = t.Count
			case "rejected":
				h.Rejected = t.Count
			case "removed":
				h.Removed = t.Count
			}
		}
	}
	return out, nil
}

// CountPosts is how many of a stream's posts have status, decided at or after
// since when since is not zero.
func (x *Index) CountPosts(_ context.Context, stream, status string, since time.Time) (uint64, error) {
	must := []query.Query{term("doc_type", typePost), term("stream", stream), term("status", status)}
	if !since.IsZero() {
		inclusive := true
		must = append(must, bleve.NewDateRangeInclusiveQuery(since, time.Time{}, &inclusive, nil))
		must[len(must)-1].(*query.DateRangeQuery).SetField("decided_at")
	}
	res, err := x.idx.Search(bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(must...), 0, 0, false))
	if err != nil {
		return 0, fmt.Errorf("index: count: %w", err)
	}
	return res.Total, nil
}

// AddHistory sets the History of every hit (all of stream) to its
// author's record there; hits without an author key get none.
func (x *Index) AddHistory(ctx context.Context, stream string, hits []Hit) error {
	var keys []string
	for _, h := range hits {
		if h.AuthorKey != "" && !slices.Contains(keys, h.AuthorKey) {
			keys = append(keys, h.AuthorKey)
		}
	}
	found, err := x.Authors(ctx, stream, keys)
	if err != nil {
		return err
	}
	for i := range hits {
		if h := found[strings.ToLower(hits[i].AuthorKey)]; h != nil {
			c := *h
			c.BannedIn = []string{}
			hits[i].History = &c
		}
	}
	return nil
}
