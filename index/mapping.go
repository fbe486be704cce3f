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
	// IngestStream and IngestSeq are where the post is on the ingest side,
	// when known (bus.IngestStreamOf: empty is CHORUS_INGEST). Stored in
	// meta_json only, so the mapping does not change.
	IngestStream string `json:"ingest_stream,omitempty"`
	IngestSeq    uint64 `json:"ingest_seq,omitempty"`
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
			m.IngestStream, m.IngestSeq = e.IngestStream, e.IngestSeq
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

// doc is what the index holds for one post in one stream: the fields
// search, the queue, facets, retention and compliance query, indexed but
// not stored, and the post and its standing stored whole, not indexed, to
// be read back.
type doc struct {
	DocType      string   `json:"doc_type"`
	Stream       string   `json:"stream"`
	PostID       string   `json:"post_id"`
	Network      string   `json:"network"`
	Source       string   `json:"source"`
	Status       string   `json:"status"`
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
	// PostJSON and MetaJSON are the post and its standing, stored whole but
	// not indexed, so a document can be read back and changed.
	PostJSON string `json:"post_json"`
	MetaJSON string `json:"meta_json"`
}

// Type names doc's mapping (bleve.Classifier).
func (doc) Type() string { return typePost }

func docID(stream, postID string) string { return stream + "/" + postID }

// postIDOf is the post id in the id of a post document of stream.
func postIDOf(stream, id string) string { return strings.TrimPrefix(id, stream+"/") }

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
		PostJSON:     postJSON,
		MetaJSON:     string(metaJSON),
	}, nil
}

// auditDoc is one event, for the audit trail: the keywords the audit view
// filters by and erasure deletes by, the sequence to sort by, and the
// entry itself stored whole.
type auditDoc struct {
	DocType string `json:"doc_type"`
	Stream  string `json:"stream"`
	// Seq is the event's sequence as a keyword padded to 20 digits, so
	// that its order is the numbers' order.
	Seq    string `json:"seq"`
	Event  string `json:"event"`
	PostID string `json:"post_id"`
	Author string `json:"author_key"`
	Actor  string `json:"actor"`
	// Entry is the AuditEntry, stored, not indexed.
	Entry string `json:"entry"`
}

// Type names auditDoc's mapping (bleve.Classifier).
func (auditDoc) Type() string { return typeAudit }

func auditID(seq uint64) string { return "audit/" + strconv.FormatUint(seq, 10) }

// auditSeq is the sequence of the audit document id, 0 when id is not one.
func auditSeq(id string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimPrefix(id, "audit/"), 10, 64)
	return n
}

func newAudit(e bus.Event) (auditDoc, error) {
	entry, err := json.Marshal(AuditEntry{Seq: e.Seq, Event: string(e.Kind), PostID: e.PostID, Author: e.Author,
		Actor: e.Actor, Reason: e.Reason, Rule: e.Rule, At: e.At})
	if err != nil {
		return auditDoc{}, err
	}
	return auditDoc{DocType: typeAudit, Stream: e.Stream, Seq: fmt.Sprintf("%020d", e.Seq), Event: string(e.Kind),
		PostID: e.PostID, Author: e.Author, Actor: e.Actor, Entry: string(entry)}, nil
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
var exactFields = map[string]bool{"doc_type": true, "stream": true, "post_id": true, "actor": true, "event": true, "why": true, "source": true, "seq": true}

// textFields are the analysed text fields; every other string field is a
// keyword.
var textFields = map[string]bool{"text": true, "author_name": true, "reason": true}

// anyFields are the fields a query term without a field searches (a bare
// word or phrase): parseQuery spreads such a term over them.
var anyFields = []string{"text", "author_name", "reason", "hashtags", "mentions", "author_handle", "tags"}

// facetFields are the keyword fields counted by facets, the only ones
// with doc values besides the sorted dates and the audit's sequence.
var facetFields = map[string]bool{"network": true, "lang": true, "why": true, "has_media": true, "author_key": true}

// newMapping is the explicit mapping, one per document type (doc_type):
// keywords for ids, filters and facets, analysed text with positions for
// what people write (so quoted phrases match), numbers and dates for
// ranges, and the post itself stored whole. A field is indexed only where
// something queries it, stored only where something reads it back, and
// has doc values only where something sorts or counts by it; there is no
// composite _all field (parseQuery spreads a bare term over anyFields).
// Nothing is mapped dynamically. Change it only with schemaVersion.
func newMapping() (mapping.IndexMapping, error) {
	kw := func(name string) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		switch {
		case exactFields[name]:
			f.Analyzer = keyword.Name
		case nameFields[name]:
			f.Analyzer = foldedName
		default:
			f.Analyzer = foldedKeyword
		}
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false // one term: parseQuery makes a phrase a match
		f.DocValues = facetFields[name]
		return f
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = standard.Name
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = true // phrase queries need the positions
		f.DocValues = false
		return f
	}
	date := func() *mapping.FieldMapping { // sorted by and ranged over
		f := bleve.NewDateTimeFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		return f
	}
	num := func() *mapping.FieldMapping { // ranged over, never sorted by
		f := bleve.NewNumericFieldMapping()
		f.Store = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	stored := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Index = false
		f.Store = true
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	static := func(fields map[string]*mapping.FieldMapping, keywords ...string) *mapping.DocumentMapping {
		m := bleve.NewDocumentStaticMapping()
		// No composite _all field, not even an empty one (which costs a
		// tenth of indexing).
		m.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
		for name, f := range fields {
			m.AddFieldMappingsAt(name, f)
		}
		for _, name := range keywords {
			m.AddFieldMappingsAt(name, kw(name))
		}
		return m
	}

	fields := map[string]*mapping.FieldMapping{
		"created_at": date(),
		"decided_at": date(),
		"followers":  num(),
		"sentiment":  num(),
		"post_json":  stored(),
		"meta_json":  stored(),
	}
	for name := range textFields {
		fields[name] = text()
	}
	posts := static(fields, "doc_type", "stream", "post_id", "actor", "rule", "why", "author_key", "network", "source", "status", "lang",
		"kind", "has_media", "pinned", "featured", "tags", "hashtags", "mentions", "author_handle")
	seq := kw("seq")
	seq.DocValues = true // the audit view sorts by it
	audit := static(map[string]*mapping.FieldMapping{"seq": seq, "entry": stored()},
		"doc_type", "stream", "post_id", "event", "actor", "author_key")

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
	im.TypeField = "doc_type"
	im.AddDocumentMapping(typePost, posts)
	im.AddDocumentMapping(typeAudit, audit)
	// Anything else (compaction's scrub document) is found by its type only.
	im.DefaultMapping = static(nil, "doc_type")
	im.DefaultAnalyzer = standard.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im, nil
}
