package index

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// Forgetting: an erase event drops every document of an author in its
// stream (their posts and the audit entries about them or their posts), a
// purge event the documents of the posts it lists. The documents are
// deleted in the event's batch, and the index is then compacted (see
// compact.go) so their content is gone from the segment files too.

// maxTerms bounds the terms of one disjunction query.
const maxTerms = 512

// forget deletes the documents of stream's posts ids (and their audit
// entries, and the audit entries of the author keys authors) in batch. It
// returns the posts deleted.
func (x *Index) forget(batch *bleve.Batch, docs map[string]*current, stream string, ids, authors []string) ([]post.Post, error) {
	var gone []post.Post
	seen := map[string]bool{}
	for _, id := range ids {
		key := docID(stream, id)
		if c, ok := docs[key]; ok {
			delete(docs, key)
			if !seen[key] {
				seen[key] = true
				gone = append(gone, c.post)
			}
		}
	}
	for chunk := range slices.Chunk(ids, maxTerms) {
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = docID(stream, id)
		}
		hits, err := x.all(bleve.NewDocIDQuery(keys), []string{"post_json"})
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			batch.Delete(h.ID)
			if seen[h.ID] {
				continue
			}
			seen[h.ID] = true
			var p post.Post
			if s, _ := h.Fields["post_json"].(string); json.Unmarshal([]byte(s), &p) == nil {
				gone = append(gone, p)
			}
		}
		if err := x.deleteAudit(batch, stream, "post_id", chunk); err != nil {
			return nil, err
		}
	}
	for chunk := range slices.Chunk(authors, maxTerms) {
		if err := x.deleteAudit(batch, stream, "author_key", chunk); err != nil {
			return nil, err
		}
	}
	return gone, nil
}

// deleteAudit deletes the audit entries of stream whose field is one of
// values.
func (x *Index) deleteAudit(batch *bleve.Batch, stream, field string, values []string) error {
	any := make([]query.Query, len(values))
	for i, v := range values {
		if field == "author_key" {
			v = strings.ToLower(v)
		}
		any[i] = term(field, v)
	}
	q := bleve.NewConjunctionQuery(term("doc_type", typeAudit), term("stream", stream), bleve.NewDisjunctionQuery(any...))
	hits, err := x.all(q, nil)
	if err != nil {
		return err
	}
	for _, h := range hits {
		batch.Delete(h.ID)
	}
	return nil
}

// erase drops an erased author's documents from e's stream: the author is
// found by the hashes the event lists, among the author keys the index
// holds (the event names no one).
func (x *Index) erase(batch *bleve.Batch, e bus.Event, docs map[string]*current) ([]post.Post, error) {
	if x.AuthorHash == nil {
		return nil, fmt.Errorf("erase event %d: the index has no author hash to recognise the author", e.Seq)
	}
	hashes := map[string]bool{}
	for _, h := range append(slices.Clone(e.Erased), e.Author) {
		if h != "" {
			hashes[h] = true
		}
	}
	var keys []string
	dict, err := x.idx.FieldDict("author_key")
	if err != nil {
		return nil, fmt.Errorf("read author keys: %w", err)
	}
	for {
		t, err := dict.Next()
		if err != nil {
			dict.Close()
			return nil, fmt.Errorf("read author keys: %w", err)
		}
		if t == nil {
			break
		}
		if hashes[x.AuthorHash(t.Term)] {
			keys = append(keys, t.Term)
		}
	}
	if err := dict.Close(); err != nil {
		return nil, err
	}
	// Documents of this batch not yet in the index.
	var ids []string
	for _, c := range docs {
		if c.stream == e.Stream && x.erased(&c.post, hashes) {
			ids = append(ids, c.post.ID)
		}
	}
	for chunk := range slices.Chunk(keys, maxTerms) {
		any := make([]query.Query, len(chunk))
		for i, k := range chunk {
			any[i] = term("author_key", k)
		}
		q := bleve.NewConjunctionQuery(term("doc_type", typePost), term("stream", e.Stream), bleve.NewDisjunctionQuery(any...))
		hits, err := x.all(q, nil)
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			ids = append(ids, postIDOf(e.Stream, h.ID))
		}
	}
	return x.forget(batch, docs, e.Stream, ids, keys)
}

// erased reports whether one of p's author keys hashes into hashes.
func (x *Index) erased(p *post.Post, hashes map[string]bool) bool {
	if k := p.AuthorKey(); k != "" && hashes[x.AuthorHash(k)] {
		return true
	}
	return p.Author.ID != "" && hashes[x.AuthorHash(p.Network+":#"+p.Author.ID)]
}

// all returns every hit of q, with fields, in pages.
func (x *Index) all(q query.Query, fields []string) ([]*searchHit, error) {
	const page = 1000
	var out []*searchHit
	for from := 0; ; from += page {
		req := bleve.NewSearchRequestOptions(q, page, from, false)
		req.Fields = fields
		res, err := x.idx.Search(req)
		if err != nil {
			return nil, fmt.Errorf("index: search: %w", err)
		}
		for _, h := range res.Hits {
			out = append(out, &searchHit{ID: h.ID, Fields: h.Fields})
		}
		if len(res.Hits) < page {
			return out, nil
		}
	}
}

// searchHit is a hit's id and stored fields.
type searchHit struct {
	ID     string
	Fields map[string]any
}
