package bus

import (
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/post"
)

// Events and posts are encoded by hand, byte for byte as encoding/json
// encodes them (field order, omitempty and omitzero, HTML-safe string
// escapes, float and time formats): every decision curation takes and
// every post ingested is encoded once, and encoding/json's reflection was
// 8% of curation's full path. TestEncodeMatchesEncodingJSON fills every
// field of every type here and compares, so a field added to Event or
// post.Post without its line below fails the test.

// errNotFinite is encoding/json's refusal of NaN and infinities.
var errNotFinite = errors.New("json: unsupported value: NaN or infinite float")

// encodeEvent returns e as encoding/json.Marshal does.
func encodeEvent(e *Event) ([]byte, error) {
	size := 256 + len(e.Reason)
	if e.Post != nil {
		size += postSize(e.Post)
	}
	w := jsonWriter{b: make([]byte, 0, size)}
	w.open()
	w.str("kind", string(e.Kind))
	w.str("stream", e.Stream)
	w.strOmit("post_id", e.PostID)
	if e.Post != nil {
		w.key("post")
		w.post(e.Post)
	}
	w.strOmit("reason", e.Reason)
	w.strOmit("rule", e.Rule)
	w.strOmit("filter", e.Filter)
	w.strsOmit("tags", e.Tags)
	w.boolOmit("pinned", e.Pinned)
	w.boolOmit("featured", e.Featured)
	w.timeOmit("show_at", e.ShowAt)
	w.strOmit("author", e.Author)
	w.strsOmit("pins", e.Pins)
	w.intOmit("advance", int64(e.Advance))
	w.strsOmit("erased", e.Erased)
	w.strsOmit("posts", e.Posts)
	if r := e.Rights; r != nil {
		w.key("rights")
		w.open()
		w.str("state", r.State)
		w.strOmit("text", r.Text)
		w.strOmit("hashtag", r.Hashtag)
		w.strOmit("request_url", r.RequestURL)
		if pr := r.Proof; pr != nil {
			w.key("proof")
			w.open()
			w.strOmit("post_id", pr.PostID)
			w.strOmit("url", pr.URL)
			w.strOmit("text", pr.Text)
			w.timeOmit("at", pr.At)
			w.strOmit("note", pr.Note)
			w.close()
		}
		w.close()
	}
	w.strOmit("ingest_stream", e.IngestStream)
	if e.IngestSeq != 0 {
		w.key("ingest_seq")
		w.b = strconv.AppendUint(w.b, e.IngestSeq, 10)
	}
	w.boolOmit("source_edit", e.SourceEdit)
	w.str("actor", e.Actor)
	w.time("at", e.At)
	w.close()
	return w.b, w.err
}

// encodePost returns p as encoding/json.Marshal does.
func encodePost(p *post.Post) ([]byte, error) {
	w := jsonWriter{b: make([]byte, 0, postSize(p))}
	w.post(p)
	return w.b, w.err
}

// postSize is about how long p's encoding is, so that it is written into
// one allocation.
func postSize(p *post.Post) int {
	n := 512 + len(p.URL) + len(p.Text) + len(p.ContentWarning)
	a := &p.Author
	n += len(a.ID) + len(a.Handle) + len(a.Name) + len(a.AvatarURL) + len(a.ProfileURL)
	for _, l := range p.Links {
		n += 48 + len(l.URL) + len(l.Title)
	}
	for _, m := range p.Media {
		n += 64 + len(m.URL) + len(m.PreviewURL) + len(m.Alt)
	}
	for _, h := range p.Hashtags {
		n += 3 + len(h)
	}
	for _, h := range p.Mentions {
		n += 3 + len(h)
	}
	return n
}

// jsonWriter appends one JSON object's members, each after a comma but
// the first of its object. The first error is kept and reported at the end.
type jsonWriter struct {
	b     []byte
	first bool // the next member is its object's first
	err   error
}

func (w *jsonWriter) open()  { w.b = append(w.b, '{'); w.first = true }
func (w *jsonWriter) close() { w.b = append(w.b, '}'); w.first = false }

// key writes a member's name (a plain ASCII name, never escaped).
func (w *jsonWriter) key(name string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
}

func (w *jsonWriter) str(name, v string) {
	w.key(name)
	w.b = appendString(w.b, v)
}

func (w *jsonWriter) strOmit(name, v string) {
	if v != "" {
		w.str(name, v)
	}
}

func (w *jsonWriter) strsOmit(name string, vs []string) {
	if len(vs) == 0 {
		return
	}
	w.key(name)
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendString(w.b, v)
	}
	w.b = append(w.b, ']')
}

func (w *jsonWriter) intOmit(name string, v int64) {
	if v != 0 {
		w.key(name)
		w.b = strconv.AppendInt(w.b, v, 10)
	}
}

func (w *jsonWriter) boolOmit(name string, v bool) {
	if v {
		w.key(name)
		w.b = append(w.b, "true"...)
	}
}

// floatOmit writes v as encoding/json writes a float64: plain decimals
// between 1e-6 and 1e21, exponents outside, the shortest that reads back.
func (w *jsonWriter) floatOmit(name string, v float64) {
	if v == 0 {
		return
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		w.fail(errNotFinite)
		return
	}
	w.key(name)
	format := byte('f')
	if abs := math.Abs(v); abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	w.b = strconv.AppendFloat(w.b, v, format, -1, 64)
	if format == 'e' {
		// e-07 becomes e-7, as encoding/json writes it.
		if n := len(w.b); n >= 4 && w.b[n-4] == 'e' && w.b[n-3] == '-' && w.b[n-2] == '0' {
			w.b[n-2] = w.b[n-1]
			w.b = w.b[:n-1]
		}
	}
}

// time writes t as time.Time.MarshalJSON does (RFC 3339 with nanoseconds,
// an error for a year outside 0-9999).
func (w *jsonWriter) time(name string, t time.Time) {
	w.key(name)
	b, err := t.AppendText(append(w.b, '"'))
	if err != nil {
		w.fail(errors.New("json: error calling MarshalJSON for type time.Time: " + err.Error()))
		return
	}
	w.b = append(b, '"')
}

func (w *jsonWriter) timeOmit(name string, t time.Time) {
	if !t.IsZero() {
		w.time(name, t)
	}
}

func (w *jsonWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// post writes p, a post.Post, as an object.
func (w *jsonWriter) post(p *post.Post) {
	w.open()
	w.str("id", p.ID)
	w.str("network", p.Network)
	w.strOmit("url", p.URL)
	w.key("author")
	w.open()
	a := &p.Author
	w.strOmit("id", a.ID)
	w.strOmit("handle", a.Handle)
	w.strOmit("name", a.Name)
	w.strOmit("avatar_url", a.AvatarURL)
	w.strOmit("profile_url", a.ProfileURL)
	w.intOmit("followers", a.Followers)
	w.boolOmit("verified", a.Verified)
	w.close()
	w.str("text", p.Text)
	w.strsOmit("hashtags", p.Hashtags)
	w.strsOmit("mentions", p.Mentions)
	if len(p.Links) > 0 {
		w.key("links")
		w.b = append(w.b, '[')
		for i, l := range p.Links {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.open()
			w.str("url", l.URL)
			w.strOmit("title", l.Title)
			w.intOmit("start", int64(l.Start))
			w.intOmit("end", int64(l.End))
			w.close()
		}
		w.b = append(w.b, ']')
	}
	if len(p.Media) > 0 {
		w.key("media")
		w.b = append(w.b, '[')
		for i, m := range p.Media {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.open()
			w.str("kind", string(m.Kind))
			w.str("url", m.URL)
			w.strOmit("preview_url", m.PreviewURL)
			w.intOmit("width", int64(m.Width))
			w.intOmit("height", int64(m.Height))
			w.strOmit("alt", m.Alt)
			w.close()
		}
		w.b = append(w.b, ']')
	}
	w.str("kind", string(p.Kind))
	w.strOmit("reply_to", p.ReplyTo)
	w.strOmit("lang", p.Lang)
	w.floatOmit("sentiment", p.Sentiment)
	w.boolOmit("sensitive", p.Sensitive)
	w.strOmit("content_warning", p.ContentWarning)
	w.key("counts")
	w.open()
	w.intOmit("likes", p.Counts.Likes)
	w.intOmit("reposts", p.Counts.Reposts)
	w.intOmit("replies", p.Counts.Replies)
	w.close()
	w.time("created_at", p.CreatedAt)
	w.time("fetched_at", p.FetchedAt)
	w.timeOmit("edited_at", p.EditedAt)
	w.str("source", p.Source)
	w.boolOmit("deleted", p.Deleted)
	w.strOmit("gone", p.Gone)
	w.close()
}

const hexDigits = "0123456789abcdef"

// plainASCII are the ASCII bytes a string holds as they are: all but
// control characters, the quote, the backslash and HTML's <, > and &.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s quoted as encoding/json quotes it: HTML-safe
// (<, > and & escaped), U+2028 and U+2029 escaped, invalid UTF-8 replaced
// by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
