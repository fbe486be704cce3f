// Package index keeps a Bleve full-text index of every post in every curated
// stream with its latest status, fed from the events stream in batches. The
// moderation queue and search read it; it can be rebuilt from the events
// stream at any time.
package index

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// Document types in the index.
const (
	typePost  = "post"
	typeAudit = "audit"
)

// meta is where a post stands in one stream, beside the post itself.
type meta struct {
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	Rule      string    `json:"rule,omitempty"`
	DecidedAt time.Time `json:"decided_at"`
	Pinned    bool      `json:"pinned,omitempty"`
	Featured  bool      `json:"featured,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	ShowAt    time.Time `json:"show_at,omitzero"`
	Seq       uint64    `json:"seq"`
}

// apply moves m by e and reports whether e concerns the post's document.
func (m *meta) apply(e bus.Event) bool {
	switch e.Kind {
	case bus.EventApprove, bus.EventHold, bus.EventReject, bus.EventRemove:
		m.Status, m.Reason, m.Actor, m.Rule, m.DecidedAt = e.Kind.Status(), e.Reason, e.Actor, e.Rule, e.At
		m.ShowAt = e.ShowAt
		m.Pinned, m.Featured = m.Pinned || e.Pinned, m.Featured || e.Featured
		if len(e.Tags) > 0 {
			m.Tags = e.Tags
		}
	case bus.EventRelease:
		m.ShowAt = time.Time{}
	case bus.EventPin, bus.EventUnpin:
		m.Pinned = e.Kind == bus.EventPin
	case bus.EventFeature, bus.EventUnfeature:
		m.Featured = e.Kind == bus.EventFeature
	case bus.EventEdit:
	default:
		return false
	}
	m.Seq = e.Seq
	return true
}

// doc is what the index stores for one post in one stream.
type doc struct {
	DocType      string   `json:"doc_type"`
	Stream       string   `json:"stream"`
	PostID       string   `json:"post_id"`
	Network      string   `json:"network"`
	Status       string   `json:"status"`
	Reason       string   `json:"reason"`
	Actor        string   `json:"actor"`
	Rule         string   `json:"rule"`
	Hashtags     []string `json:"hashtags"`
	Mentions     []string `json:"mentions"`
	Tags         []string `json:"tags"`
	Text         string   `json:"text"`
	AuthorName   string   `json:"author_name"`
	AuthorHandle string   `json:"author_handle"`
	AuthorKey    string   `json:"author_key"`
	Lang         string   `json:"lang"`
	Kind         string   `json:"kind"`
	// Booleans are indexed as "true"/"false" keywords, so query strings
	// like pinned:true work.
	HasMedia  string    `json:"has_media"`
	Pinned    string    `json:"pinned"`
	Featured  string    `json:"featured"`
	Followers float64   `json:"followers"`
	Sentiment float64   `json:"sentiment"`
	CreatedAt time.Time `json:"created_at"`
	DecidedAt time.Time `json:"decided_at"`
	Seq       float64   `json:"seq"`
	// PostJSON and MetaJSON are the post and its standing, stored whole but
	// not indexed, so a document can be read back and changed.
	PostJSON string `json:"post_json"`
	MetaJSON string `json:"meta_json"`
}

func docID(stream, postID string) string { return stream + "/" + postID }

func newDoc(stream string, p *post.Post, postJSON string, m meta) (doc, error) {
	metaJSON, err := json.Marshal(m)
	if err != nil {
		return doc{}, err
	}
	lower := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = strings.ToLower(s)
		}
		return out
	}
	return doc{
		DocType:      typePost,
		Stream:       stream,
		PostID:       p.ID,
		Network:      p.Network,
		Status:       m.Status,
		Reason:       m.Reason,
		Actor:        m.Actor,
		Rule:         m.Rule,
		Hashtags:     lower(p.Hashtags),
		Mentions:     lower(p.Mentions),
		Tags:         lower(m.Tags),
		Text:         p.Text,
		AuthorName:   p.Author.Name,
		AuthorHandle: strings.ToLower(p.Author.Handle),
		AuthorKey:    p.AuthorKey(),
		Lang:         p.Lang,
		Kind:         string(p.Kind),
		HasMedia:     strconv.FormatBool(len(p.Media) > 0),
		Pinned:       strconv.FormatBool(m.Pinned),
		Featured:     strconv.FormatBool(m.Featured),
		Followers:    float64(p.Author.Followers),
		Sentiment:    p.Sentiment,
		CreatedAt:    p.CreatedAt,
		DecidedAt:    m.DecidedAt,
		Seq:          float64(m.Seq),
		PostJSON:     postJSON,
		MetaJSON:     string(metaJSON),
	}, nil
}

// auditDoc is one event, for the audit trail.
type auditDoc struct {
	DocType string    `json:"doc_type"`
	Stream  string    `json:"stream"`
	Seq     float64   `json:"seq"`
	Event   string    `json:"event"`
	PostID  string    `json:"post_id"`
	Author  string    `json:"author_key"`
	Actor   string    `json:"actor"`
	Reason  string    `json:"reason"`
	Rule    string    `json:"rule"`
	At      time.Time `json:"decided_at"`
}

func auditID(seq uint64) string { return "audit/" + strconv.FormatUint(seq, 10) }

func newAudit(e bus.Event) auditDoc {
	return auditDoc{DocType: typeAudit, Stream: e.Stream, Seq: float64(e.Seq), Event: string(e.Kind), PostID: e.PostID,
		Author: e.Author, Actor: e.Actor, Reason: e.Reason, Rule: e.Rule, At: e.At}
}

// newMapping is the explicit mapping: keywords for ids and facets, analysed
// text for what people write, dates for time, and the post itself stored
// whole. Nothing is mapped dynamically.
func newMapping() mapping.IndexMapping {
	kw := func(all bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.IncludeInAll = all
		f.DocValues = true
		return f
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = standard.Name
		f.IncludeInAll = true
		f.IncludeTermVectors = false
		return f
	}
	date := func() *mapping.FieldMapping {
		f := bleve.NewDateTimeFieldMapping()
		f.IncludeInAll = false
		return f
	}
	num := func() *mapping.FieldMapping {
		f := bleve.NewNumericFieldMapping()
		f.IncludeInAll = false
		return f
	}
	stored := bleve.NewTextFieldMapping()
	stored.Index = false
	stored.Store = true
	stored.IncludeInAll = false
	stored.DocValues = false

	m := bleve.NewDocumentStaticMapping()
	for name, f := range map[string]*mapping.FieldMapping{
		"doc_type":      kw(false),
		"event":         kw(false),
		"rule":          kw(false),
		"tags":          kw(true),
		"author_key":    kw(false),
		"sentiment":     num(),
		"meta_json":     stored,
		"stream":        kw(false),
		"post_id":       kw(false),
		"network":       kw(false),
		"status":        kw(false),
		"actor":         kw(false),
		"lang":          kw(false),
		"kind":          kw(false),
		"hashtags":      kw(true),
		"mentions":      kw(true),
		"author_handle": kw(true),
		"text":          text(),
		"author_name":   text(),
		"reason":        text(),
		"created_at":    date(),
		"decided_at":    date(),
		"followers":     num(),
		"seq":           num(),
		"post_json":     stored,
	} {
		m.AddFieldMappingsAt(name, f)
	}
	for _, name := range []string{"has_media", "pinned", "featured"} {
		m.AddFieldMappingsAt(name, kw(false))
	}

	im := bleve.NewIndexMapping()
	im.DefaultMapping = m
	im.DefaultAnalyzer = standard.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im
}
