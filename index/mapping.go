// Package index keeps a Bleve full-text index of every post in every curated
// stream with its latest status, fed from the events stream in batches. The
// moderation queue and search read it; it can be rebuilt from the events
// stream at any time.
package index

import (
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// doc is what the index stores for one post in one stream.
type doc struct {
	Stream       string    `json:"stream"`
	PostID       string    `json:"post_id"`
	Network      string    `json:"network"`
	Status       string    `json:"status"`
	Reason       string    `json:"reason"`
	Actor        string    `json:"actor"`
	Hashtags     []string  `json:"hashtags"`
	Mentions     []string  `json:"mentions"`
	Text         string    `json:"text"`
	AuthorName   string    `json:"author_name"`
	AuthorHandle string    `json:"author_handle"`
	Lang         string    `json:"lang"`
	Kind         string    `json:"kind"`
	HasMedia     bool      `json:"has_media"`
	Followers    float64   `json:"followers"`
	CreatedAt    time.Time `json:"created_at"`
	DecidedAt    time.Time `json:"decided_at"`
	Seq          float64   `json:"seq"`
	// PostJSON is the whole post, stored but not indexed.
	PostJSON string `json:"post_json"`
}

func docID(stream, postID string) string { return stream + "/" + postID }

func newDoc(e bus.Event, p *post.Post, postJSON string) doc {
	lower := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = strings.ToLower(s)
		}
		return out
	}
	return doc{
		Stream:       e.Stream,
		PostID:       p.ID,
		Network:      p.Network,
		Status:       e.Kind.Status(),
		Reason:       e.Reason,
		Actor:        e.Actor,
		Hashtags:     lower(p.Hashtags),
		Mentions:     lower(p.Mentions),
		Text:         p.Text,
		AuthorName:   p.Author.Name,
		AuthorHandle: strings.ToLower(p.Author.Handle),
		Lang:         p.Lang,
		Kind:         string(p.Kind),
		HasMedia:     len(p.Media) > 0,
		Followers:    float64(p.Author.Followers),
		CreatedAt:    p.CreatedAt,
		DecidedAt:    e.At,
		Seq:          float64(e.Seq),
		PostJSON:     postJSON,
	}
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
	has := bleve.NewBooleanFieldMapping()
	has.IncludeInAll = false
	m.AddFieldMappingsAt("has_media", has)

	im := bleve.NewIndexMapping()
	im.DefaultMapping = m
	im.DefaultAnalyzer = standard.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im
}
