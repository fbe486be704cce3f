// Package index keeps a Bleve full-text index of every post in every curated
// stream with its latest status, fed from the events stream in batches. The
// moderation queue and search read it; it can be rebuilt from the events
// stream at any time.
package index

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	charregexp "github.com/blevesearch/bleve/v2/analysis/char/regexp"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
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
	Filter    string    `json:"filter,omitempty"`
	DecidedAt time.Time `json:"decided_at"`
	Pinned    bool      `json:"pinned,omitempty"`
	Featured  bool      `json:"featured,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	ShowAt    time.Time `json:"show_at,omitzero"`
	Seq       uint64    `json:"seq"`
	// Rights is the stream's right to use the post (rights events).
	Rights *bus.Rights `json:"rights,omitempty"`
	// IngestSeq is where the post is on the ingest stream, when known.
	IngestSeq uint64 `json:"ingest_seq,omitempty"`
}

// apply moves m by e and reports whether e concerns the post's document.
func (m *meta) apply(e bus.Event) bool {
	switch e.Kind {
	case bus.EventApprove, bus.EventHold, bus.EventReject, bus.EventRemove:
		m.Status, m.Reason, m.Actor, m.Rule, m.Filter, m.DecidedAt = e.Kind.Status(), e.Reason, e.Actor, e.Rule, e.Filter, e.At
		m.ShowAt = e.ShowAt
		m.Pinned, m.Featured = m.Pinned || e.Pinned, m.Featured || e.Featured
		if len(e.Tags) > 0 {
			m.Tags = e.Tags
		}
		if e.IngestSeq > 0 {
			m.IngestSeq = e.IngestSeq
		}
	case bus.EventRelease:
		m.ShowAt = time.Time{}
	case bus.EventPin, bus.EventUnpin:
		m.Pinned = e.Kind == bus.EventPin
	case bus.EventFeature, bus.EventUnfeature:
		m.Featured = e.Kind == bus.EventFeature
	case bus.EventEdit:
	case bus.EventRights:
		if e.Rights == nil {
			return false
		}
		r := *e.Rights
		m.Rights = &r
	default:
		return false
	}
	m.Seq = e.Seq
	return true
}

// Why says in one word what put a post where it stands, for the
// moderation queue's reason filter: "rule:<name>", "filter:<settings key>"
// (blocked_words, spam, sensitive, ...), "mode" (the stream's moderation
// mode, nothing else applied), "moderator" (a person or key acted), or
// "source" (deleted at its source).
func (m meta) why() string {
	switch {
	case m.Status == "":
		return ""
	case m.Rule != "":
		return "rule:" + m.Rule
	case m.Filter != "":
		return "filter:" + m.Filter
	case m.Actor == bus.ActorCuration:
		return "mode"
	case strings.HasPrefix(m.Actor, "source:"):
		return "source"
	}
	return "moderator"
}

// rightsState is the rights state, "" when never asked.
func (m meta) rightsState() string {
	if m.Rights == nil {
		return ""
	}
	return m.Rights.State
}

// doc is what the index stores for one post in one stream.
type doc struct {
	DocType string `json:"doc_type"`
	Stream  string `json:"stream"`
	PostID  string `json:"post_id"`
	Network string `json:"network"`
	Source  string `json:"source"`
	Status  string `json:"status"`
	// Rights is the rights state ("requested", "granted", "revoked"), or
	// empty when never asked.
	Rights       string   `json:"rights"`
	Reason       string   `json:"reason"`
	Actor        string   `json:"actor"`
	Rule         string   `json:"rule"`
	Why          string   `json:"why"`
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
	return doc{
		DocType:      typePost,
		Stream:       stream,
		PostID:       p.ID,
		Network:      p.Network,
		Source:       p.Source,
		Status:       m.Status,
		Rights:       m.rightsState(),
		Reason:       m.Reason,
		Actor:        m.Actor,
		Rule:         m.Rule,
		Why:          m.why(),
		Hashtags:     p.Hashtags,
		Mentions:     p.Mentions,
		Tags:         m.Tags,
		Text:         p.Text,
		AuthorName:   p.Author.Name,
		AuthorHandle: p.Author.Handle,
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

// foldedKeyword is the analyzer of keyword fields that match whatever their
// case: the whole value is one term, lowercased.
const foldedKeyword = "chorus_folded_keyword"

// foldedName is the analyzer of hashtags, mentions and handles: a folded
// keyword without the leading sign people type (#ChorusLive, @ana).
const foldedName = "chorus_folded_name"

// leadingSign is the # or @ (or their full-width forms) before a name.
const leadingSign = `^\s*[#@＃＠]+`

// nameFields are the fields foldedName analyses.
var nameFields = map[string]bool{"hashtags": true, "mentions": true, "author_handle": true}

// exactFields are the keyword fields matched as written: identifiers that
// Chorus itself writes and looks up (post ids can be case-sensitive at their
// network). Every other keyword field is folded to lower case when indexed
// and when queried.
var exactFields = map[string]bool{"doc_type": true, "stream": true, "post_id": true, "actor": true, "event": true, "why": true, "source": true}

// newMapping is the explicit mapping: keywords for ids and facets, analysed
// text with positions for what people write (so quoted phrases match), dates
// for time, and the post itself stored whole. Nothing is mapped dynamically.
// Change it only with schemaVersion.
func newMapping() (mapping.IndexMapping, error) {
	kw := func(name string, all bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		switch {
		case exactFields[name]:
			f.Analyzer = keyword.Name
		case nameFields[name]:
			f.Analyzer = foldedName
		default:
			f.Analyzer = foldedKeyword
		}
		f.IncludeInAll = all
		f.DocValues = true
		return f
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = standard.Name
		f.IncludeInAll = true
		f.IncludeTermVectors = true // phrase queries need the positions
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
		"text":        text(),
		"author_name": text(),
		"reason":      text(),
		"created_at":  date(),
		"decided_at":  date(),
		"followers":   num(),
		"sentiment":   num(),
		"seq":         num(),
		"post_json":   stored,
		"meta_json":   stored,
	} {
		m.AddFieldMappingsAt(name, f)
	}
	// Keywords: those a bare word also searches (the _all field), then the rest.
	for _, name := range []string{"tags", "hashtags", "mentions", "author_handle"} {
		m.AddFieldMappingsAt(name, kw(name, true))
	}
	for _, name := range []string{"doc_type", "stream", "post_id", "event", "actor", "rule", "why", "author_key",
		"network", "source", "status", "rights", "lang", "kind", "has_media", "pinned", "featured"} {
		m.AddFieldMappingsAt(name, kw(name, false))
	}

	im := bleve.NewIndexMapping()
	if err := im.AddCustomCharFilter("chorus_leading_sign", map[string]any{
		"type": charregexp.Name, "regexp": leadingSign, "replace": "",
	}); err != nil {
		return nil, fmt.Errorf("index: leading sign filter: %w", err)
	}
	folded := func(chars ...string) map[string]any {
		a := map[string]any{"type": custom.Name, "tokenizer": single.Name, "token_filters": []string{lowercase.Name}}
		if len(chars) > 0 { // a null list would make the stored mapping unreadable
			a["char_filters"] = chars
		}
		return a
	}
	for name, def := range map[string]map[string]any{foldedKeyword: folded(), foldedName: folded("chorus_leading_sign")} {
		if err := im.AddCustomAnalyzer(name, def); err != nil {
			return nil, fmt.Errorf("index: analyzer %s: %w", name, err)
		}
	}
	im.DefaultMapping = m
	im.DefaultAnalyzer = standard.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im, nil
}
