package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// ErrNotFound means the post is not in that stream's index.
var ErrNotFound = errors.New("post not found in this stream")

// ErrBadQuery wraps query-string syntax errors, which are the caller's fault.
var ErrBadQuery = errors.New("bad query")

// Hit is one post with where it stands in its stream.
type Hit struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	Actor  string `json:"actor,omitempty"`
	Rule   string `json:"rule,omitempty"`
	// Filter is the filter that decided (its settings key), when one did;
	// Why sums up what decided (see the why field).
	Filter    string    `json:"filter,omitempty"`
	Why       string    `json:"why,omitempty"`
	DecidedAt time.Time `json:"decided_at"`
	Pinned    bool      `json:"pinned,omitempty"`
	Featured  bool      `json:"featured,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	ShowAt    time.Time `json:"show_at,omitzero"`
	AuthorKey string    `json:"author_key,omitempty"`
	// Rights is the stream's right to use the post, once asked for.
	Rights *bus.Rights `json:"rights,omitempty"`
	// History is the author's record, when the caller asked for it.
	History *AuthorHistory `json:"author_history,omitempty"`
	Post    post.Post      `json:"post"`
}

// hit is the post p with where m says it stands.
func (m meta) hit(p post.Post) Hit {
	return Hit{Status: m.Status, Reason: m.Reason, Actor: m.Actor, Rule: m.Rule, Filter: m.Filter, Why: m.why(),
		DecidedAt: m.DecidedAt, Pinned: m.Pinned, Featured: m.Featured, Tags: m.Tags, ShowAt: m.ShowAt,
		AuthorKey: p.AuthorKey(), Rights: m.Rights, Post: p}
}

// Result is a page of hits.
type Result struct {
	Total uint64 `json:"total"`
	// Seq is the last event the index had applied when the search ran:
	// the page reflects every event up to it (and maybe a few after), so
	// a live view applies the changes after Seq on top of it.
	Seq  uint64 `json:"seq"`
	Hits []Hit  `json:"posts"`
}

// Query asks for posts of one stream.
type Query struct {
	Stream string
	// Text is in Bleve's query string syntax; empty matches every post.
	Text string
	// Status limits to one status (approved, held, rejected, removed).
	Status string
	// Network, Lang and Why limit to posts with that value (Why as in
	// Hit.Why: "rule:<name>", "filter:<key>", "mode", "moderator",
	// "source"); Media to posts with ("true") or without ("false") media.
	Network, Lang, Why, Media string
	Limit                     int
	Offset                    int
	// Sort is "relevance" (default with Text), "newest" (default without)
	// or "oldest"; by the post's creation time.
	Sort string
}

// MaxLimit caps a page.
const MaxLimit = 500

type found struct {
	status, postJSON, metaJSON string
}

// hitFields are the stored fields of a post document: the post and where
// it stands (its status among the rest).
var hitFields = []string{"post_json", "meta_json"}

// Find returns a post of a stream and its status.
func (x *Index) Find(_ context.Context, stream, postID string) (post.Post, string, error) {
	h, err := x.find(stream, postID)
	if err != nil {
		return post.Post{}, "", err
	}
	if h == nil {
		return post.Post{}, "", ErrNotFound
	}
	var p post.Post
	if err := json.Unmarshal([]byte(h.postJSON), &p); err != nil {
		return post.Post{}, "", fmt.Errorf("index: stored post %s: %w", postID, err)
	}
	return p, h.status, nil
}

func (x *Index) find(stream, postID string) (*found, error) {
	req := bleve.NewSearchRequestOptions(bleve.NewDocIDQuery([]string{docID(stream, postID)}), 1, 0, false)
	req.Fields = hitFields
	res, err := x.idx.Search(req)
	if err != nil {
		return nil, fmt.Errorf("index: find %s: %w", postID, err)
	}
	if len(res.Hits) == 0 {
		return nil, nil
	}
	f := fromFields(res.Hits[0])
	return &f, nil
}

func fromFields(h *search.DocumentMatch) found {
	str := func(k string) string { s, _ := h.Fields[k].(string); return s }
	f := found{postJSON: str("post_json"), metaJSON: str("meta_json")}
	var m struct {
		Status string `json:"status"`
	}
	if json.Unmarshal([]byte(f.metaJSON), &m) == nil {
		f.status = m.Status
	}
	return f
}

// Search runs q.
func (x *Index) Search(_ context.Context, q Query) (Result, error) {
	must := []query.Query{term("doc_type", typePost), term("stream", q.Stream)}
	for field, v := range map[string]string{"status": q.Status, "network": q.Network, "lang": q.Lang, "has_media": q.Media} {
		if v != "" {
			must = append(must, term(field, strings.ToLower(v)))
		}
	}
	if q.Why != "" {
		must = append(must, term("why", q.Why))
	}
	if strings.TrimSpace(q.Text) != "" {
		qs, err := parseQuery(q.Text)
		if err != nil {
			return Result{}, fmt.Errorf("%w: %v", ErrBadQuery, err)
		}
		must = append(must, qs)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxLimit)
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(must...), limit, max(q.Offset, 0), false)
	req.Fields = hitFields
	switch {
	case q.Sort == "oldest":
		req.SortBy([]string{"created_at", "_id"})
	case q.Sort == "newest" || (q.Sort == "" && strings.TrimSpace(q.Text) == ""):
		req.SortBy([]string{"-created_at", "-_id"})
	default:
		req.SortBy([]string{"-_score", "-created_at"})
	}
	seq := x.applied.Load()
	res, err := x.idx.Search(req)
	if err != nil && strings.TrimSpace(q.Text) != "" {
		// Some query errors (a bad regexp) only show when the search runs.
		return Result{}, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	if err != nil {
		return Result{}, fmt.Errorf("index: search: %w", err)
	}
	out := Result{Total: res.Total, Seq: seq, Hits: make([]Hit, 0, len(res.Hits))}
	for _, h := range res.Hits {
		f := fromFields(h)
		var p post.Post
		if err := json.Unmarshal([]byte(f.postJSON), &p); err != nil {
			x.log.Warn("index: stored post unreadable", "id", h.ID, "err", err)
			continue
		}
		m := meta{Status: f.status}
		if err := json.Unmarshal([]byte(f.metaJSON), &m); err != nil {
			m = meta{Status: f.status}
		}
		out.Hits = append(out.Hits, m.hit(p))
	}
	return out, nil
}

// parseQuery parses a query string the way the index was built (see
// prepare).
func parseQuery(text string) (query.Query, error) {
	q, err := bleve.NewQueryStringQuery(text).Parse()
	if err != nil {
		return nil, err
	}
	q = prepare(q)
	if v, ok := q.(query.ValidatableQuery); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// prepare returns q made to fit the index:
//   - a term without a field (a bare word, phrase, wildcard or regexp)
//     searches each of anyFields, any of them matching (the index has no
//     composite _all field);
//   - a phrase on a keyword field is a match: the field holds one term per
//     value, analysed as the phrase is, and keeps no positions;
//   - wildcard and regexp patterns match whatever their case on every
//     field but the exact ones: match and phrase queries go through each
//     field's analyzer, which folds case where the field was folded, but
//     Bleve passes patterns through as written.
func prepare(q query.Query) query.Query {
	switch q := q.(type) {
	case *query.BooleanQuery:
		for _, c := range []*query.Query{&q.Must, &q.Should, &q.MustNot, &q.Filter} {
			if *c != nil {
				*c = prepare(*c)
			}
		}
	case *query.ConjunctionQuery:
		for i, c := range q.Conjuncts {
			q.Conjuncts[i] = prepare(c)
		}
	case *query.DisjunctionQuery:
		for i, c := range q.Disjuncts {
			q.Disjuncts[i] = prepare(c)
		}
	case *query.MatchQuery:
		if q.FieldVal == "" {
			return anyField(q, func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
	case *query.MatchPhraseQuery:
		if q.FieldVal == "" {
			return anyField(q, func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
		if !textFields[q.FieldVal] {
			m := bleve.NewMatchQuery(q.MatchPhrase)
			m.SetField(q.FieldVal)
			m.SetBoost(q.BoostVal.Value())
			m.Analyzer, m.Fuzziness = q.Analyzer, q.Fuzziness
			return m
		}
	case *query.FuzzyQuery:
		if q.FieldVal == "" {
			return anyField(q, func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
	case *query.PrefixQuery:
		if q.FieldVal == "" {
			return anyField(q, func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
	case *query.TermQuery:
		if q.FieldVal == "" {
			return anyField(q, func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
	case *query.WildcardQuery:
		if q.FieldVal == "" {
			return anyField(q, func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
		if nameFields[q.FieldVal] {
			q.Wildcard = leadingSignRe.ReplaceAllString(q.Wildcard, "")
		}
		if !exactFields[q.FieldVal] {
			q.Wildcard = strings.ToLower(q.Wildcard)
		}
	case *query.RegexpQuery:
		if q.FieldVal == "" {
			return anyField(q, func(f string) query.Query { c := *q; c.FieldVal = f; return &c })
		}
		if !exactFields[q.FieldVal] {
			q.Regexp = "(?i)" + q.Regexp
		}
	}
	return q
}

// anyField is q spread over anyFields: a disjunction of one copy per field
// (made by on), each prepared for its field.
func anyField(q query.Query, on func(field string) query.Query) query.Query {
	any := make([]query.Query, len(anyFields))
	for i, f := range anyFields {
		any[i] = prepare(on(f))
	}
	d := bleve.NewDisjunctionQuery(any...)
	if b, ok := q.(query.BoostableQuery); ok {
		d.SetBoost(b.Boost())
	}
	return d
}

var leadingSignRe = regexp.MustCompile(leadingSign)

func term(field, value string) query.Query {
	t := bleve.NewTermQuery(value)
	t.SetField(field)
	return t
}

// AuditEntry is one event of a stream's history.
type AuditEntry struct {
	Seq    uint64    `json:"seq"`
	Event  string    `json:"event"`
	PostID string    `json:"post_id,omitempty"`
	Author string    `json:"author,omitempty"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason,omitempty"`
	Rule   string    `json:"rule,omitempty"`
	At     time.Time `json:"at"`
}

// AuditQuery selects a stream's history, newest first.
type AuditQuery struct {
	Stream, PostID, Actor, Event string
	Limit, Offset                int
}

// Audit lists the events of a stream: every decision with its reason,
// rule or moderator.
func (x *Index) Audit(_ context.Context, q AuditQuery) ([]AuditEntry, uint64, error) {
	must := []query.Query{term("doc_type", typeAudit), term("stream", q.Stream)}
	for field, v := range map[string]string{"post_id": q.PostID, "actor": q.Actor, "event": q.Event} {
		if v != "" {
			must = append(must, term(field, v))
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(must...), min(limit, MaxLimit), max(q.Offset, 0), false)
	req.Fields = []string{"entry"}
	req.SortBy([]string{"-seq"})
	res, err := x.idx.Search(req)
	if err != nil {
		return nil, 0, fmt.Errorf("index: audit: %w", err)
	}
	out := make([]AuditEntry, 0, len(res.Hits))
	for _, h := range res.Hits {
		var a AuditEntry
		if s, _ := h.Fields["entry"].(string); json.Unmarshal([]byte(s), &a) != nil {
			x.log.Warn("index: stored audit entry unreadable", "id", h.ID)
			a = AuditEntry{Seq: auditSeq(h.ID)}
		}
		out = append(out, a)
	}
	return out, res.Total, nil
}
