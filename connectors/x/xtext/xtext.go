// Package xtext renders the text of X posts: X sends text with '&', '<' and
// '>' escaped as HTML entities, and entities (hashtags, mentions, links,
// media links) as spans counted in Unicode code points. Render turns both
// into plain text with t.co links replaced by their display text, media
// links removed and link spans that stay consistent with the new text. It
// serves the API v2 source (connectors/x) and the v1.1 native-format source
// (connectors/twitter_native).
package xtext

import (
	"html"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/post"
)

// Kind is what an entity is.
type Kind int

// The kinds of entity X marks in a post's text.
const (
	Hashtag Kind = iota
	Mention
	Cashtag
	// URL is a t.co link; Render shows its display text.
	URL
	// Media is the t.co link of attached media; Render removes it, since the
	// media travels with the post.
	Media
)

// Entity is one span X reported in a post's text.
type Entity struct {
	Kind Kind
	// Start and End are X's offsets in code points (End exclusive).
	Start, End int
	// Text is the hashtag or cashtag without its sigil, the mentioned
	// username, or the t.co URL as it stands in the text.
	Text string
	// Display is how to show a URL ("example.com/page…"); Target is where it
	// leads (expanded or unwound URL); Title is the page's title if known.
	Display, Target, Title string
}

// Range is a display range in code points (X's display_text_range): the
// part of the text a client shows. Leading @mentions of a reply and a
// trailing media link lie outside it.
type Range struct{ Start, End int }

// Render returns the plain text of escaped (X's text field) and the links in
// it, with spans in code points of the returned text. Entities are located
// where X says they are; where the offsets do not match the text (X has
// counted on the unescaped text, or sent stale offsets) each is looked for
// after the previous one. Entities that cannot be found leave the text as
// it is; a URL among them is still returned as a link, without a span. A
// nil display shows the whole text.
func Render(escaped string, ents []Entity, display *Range) (string, []post.Link) {
	r := []rune(escaped)
	lo, hi := 0, len(r)
	if display != nil && display.Start >= 0 && display.End > display.Start {
		lo, hi = min(display.Start, len(r)), min(display.End, len(r))
	}
	ents = sorted(ents)
	var placed []span
	var links []post.Link
	from := 0
	for _, e := range ents {
		s, end, ok := locate(r, e, from)
		if !ok {
			if e.Kind == URL {
				links = append(links, post.Link{URL: target(e), Title: e.Title})
			}
			continue
		}
		placed = append(placed, span{e: e, start: s, end: end})
		from = end
	}
	// An entity straddling an end of the display range is shown whole.
	for _, p := range placed {
		if p.start < lo && p.end > lo {
			lo = p.start
		}
		if p.start < hi && p.end > hi {
			hi = p.end
		}
	}
	var b strings.Builder
	b.Grow(len(escaped))
	pos := 0 // code points written
	write := func(s string) {
		if strings.ContainsFunc(s, post.Dropped) {
			s = strings.Map(func(r rune) rune {
				if post.Dropped(r) {
					return -1
				}
				return r
			}, s)
		}
		b.WriteString(s)
		pos += utf8.RuneCountInString(s)
	}
	// afterMedia is set where a media link was removed, so that the space
	// after it goes too.
	afterMedia := false
	segment := func(seg []rune) {
		s := unescape(seg)
		if afterMedia && strings.HasPrefix(s, " ") && (b.Len() == 0 || strings.HasSuffix(b.String(), " ")) {
			s = s[1:]
		}
		write(s)
	}
	cur := lo
	for _, p := range placed {
		if p.end <= lo || p.start >= hi {
			// Outside the shown text: a hidden link still counts as a link.
			if p.e.Kind == URL {
				links = append(links, post.Link{URL: target(p.e), Title: p.e.Title})
			}
			continue
		}
		segment(r[cur:p.start])
		afterMedia = p.e.Kind == Media
		switch p.e.Kind {
		case Media:
		case URL:
			shown := shownAs(p.e)
			start := pos
			write(shown)
			links = append(links, post.Link{URL: target(p.e), Title: p.e.Title, Start: start, End: pos})
		default:
			write(string(r[p.start:p.end]))
		}
		cur = p.end
	}
	if cur < hi {
		segment(r[cur:hi])
	}
	return trim(b.String(), links)
}

type span struct {
	e          Entity
	start, end int
}

// sorted orders entities by their start as X gave it (X lists each kind on
// its own), keeping X's order for equal starts.
func sorted(ents []Entity) []Entity {
	if sort.SliceIsSorted(ents, func(i, j int) bool { return ents[i].Start < ents[j].Start }) {
		return ents
	}
	out := append([]Entity(nil), ents...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// token is how the entity reads in the text.
func token(e Entity) []rune {
	switch e.Kind {
	case Hashtag:
		return []rune("#" + e.Text)
	case Mention:
		return []rune("@" + e.Text)
	case Cashtag:
		return []rune("$" + e.Text)
	}
	return []rune(e.Text)
}

// locate finds e in r at or after from (so spans never overlap): at X's
// offsets when the text there reads as the entity, else at its first
// occurrence.
func locate(r []rune, e Entity, from int) (int, int, bool) {
	tok := token(e)
	if len(tok) == 0 || (e.Kind != URL && e.Kind != Media && len(tok) < 2) {
		return 0, 0, false
	}
	from = max(from, 0)
	if e.Start >= from && e.Start <= len(r)-len(tok) && matchAt(r, e.Start, tok, e.Kind) {
		return e.Start, e.Start + len(tok), true
	}
	for i := from; i <= len(r)-len(tok); i++ {
		if matchAt(r, i, tok, e.Kind) && wordEnds(r, i+len(tok), e.Kind) {
			return i, i + len(tok), true
		}
	}
	return 0, 0, false
}

func matchAt(r []rune, i int, tok []rune, k Kind) bool {
	switch k {
	case URL, Media:
		for j, c := range tok {
			if r[i+j] != c {
				return false
			}
		}
		return true
	}
	if !sigil(r[i], k) {
		return false
	}
	for j := 1; j < len(tok); j++ {
		if !foldEqual(r[i+j], tok[j]) {
			return false
		}
	}
	return true
}

// sigil accepts the ASCII and full-width forms X recognises.
func sigil(c rune, k Kind) bool {
	switch k {
	case Hashtag:
		return c == '#' || c == '＃'
	case Mention:
		return c == '@' || c == '＠'
	case Cashtag:
		return c == '$'
	}
	return false
}

func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// wordEnds reports whether a tag or mention found by searching ends at a
// word boundary ("#tag" is not found inside "#tagline").
func wordEnds(r []rune, i int, k Kind) bool {
	if k == URL || k == Media || i >= len(r) {
		return true
	}
	c := r[i]
	return !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || unicode.Is(unicode.Mn, c))
}

func unescape(r []rune) string {
	s := string(r)
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	return html.UnescapeString(s)
}

func shownAs(e Entity) string {
	switch {
	case strings.TrimSpace(e.Display) != "":
		return strings.TrimSpace(e.Display)
	case e.Target != "":
		return e.Target
	}
	return e.Text
}

func target(e Entity) string {
	if e.Target != "" {
		return e.Target
	}
	return e.Text
}

// trim removes surrounding white space, moving the link spans with the text.
func trim(s string, links []post.Link) (string, []post.Link) {
	left := strings.TrimLeftFunc(s, unicode.IsSpace)
	cut := utf8.RuneCountInString(s) - utf8.RuneCountInString(left)
	out := strings.TrimRightFunc(left, unicode.IsSpace)
	n := utf8.RuneCountInString(out)
	for i := range links {
		if links[i].End == 0 {
			continue
		}
		links[i].Start = max(links[i].Start-cut, 0)
		links[i].End = min(links[i].End-cut, n)
		if links[i].End <= links[i].Start {
			links[i].Start, links[i].End = 0, 0
		}
	}
	return out, links
}

// FitLinks drops the spans of links that end beyond p's text, as they can
// once post.Normalize has cut an overlong text.
func FitLinks(p *post.Post) {
	n := -1
	for i := range p.Links {
		if p.Links[i].End == 0 {
			continue
		}
		if n < 0 {
			n = utf8.RuneCountInString(p.Text)
		}
		if p.Links[i].End > n {
			p.Links[i].Start, p.Links[i].End = 0, 0
		}
	}
}

// Prefix puts line before text (on a line of its own when text is not
// empty), moving the link spans along: the "🔁 @reposter" line of a repost.
func Prefix(line, text string, links []post.Link) (string, []post.Link) {
	if text != "" {
		line += "\n"
	}
	shift := utf8.RuneCountInString(line)
	for i := range links {
		if links[i].End > 0 {
			links[i].Start += shift
			links[i].End += shift
		}
	}
	return line + text, links
}

// Lang returns X's language tag, or "" for X's codes that name no language:
// "und" (undetermined), "zxx" (no linguistic content) and the "q" codes
// (qme: media links only, qam: mentions only, qct: cashtags only, qht:
// hashtags only, qst: very short text).
func Lang(code string) string {
	code = strings.TrimSpace(code)
	switch {
	case code == "und", code == "zxx":
		return ""
	case len(code) == 3 && code[0] == 'q':
		return ""
	}
	return code
}

// Avatar returns a larger rendition of a profile image URL: X serves 48px
// images under "_normal" and 400px ones under "_400x400".
func Avatar(u string) string {
	if i := strings.LastIndex(u, "_normal."); i >= 0 && !strings.Contains(u[i:], "/") {
		return u[:i] + "_400x400." + u[i+len("_normal."):]
	}
	return u
}

// ProfileURL is the web page of the account with handle.
func ProfileURL(handle string) string {
	if handle == "" {
		return ""
	}
	return "https://x.com/" + handle
}

// PostURL is the web page of post id by handle.
func PostURL(handle, id string) string {
	if handle == "" {
		return "https://x.com/i/web/status/" + id
	}
	return "https://x.com/" + handle + "/status/" + id
}

// LinksTo reports whether one of links already leads to post id (a quoted
// post the text links to), so that its PostURL is not added twice.
func LinksTo(links []post.Link, id string) bool {
	for _, l := range links {
		if strings.Contains(l.URL, "/status/"+id) {
			return true
		}
	}
	return false
}

// IsID reports whether s can be an X post or user id: 1 to 20 decimal
// digits without leading zeros, so that ids compare like numbers by length,
// then bytes (see Less).
func IsID(s string) bool {
	if s == "" || len(s) > 20 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Less reports whether id a is older than id b. X ids grow with time, so
// this orders posts; both must pass IsID.
func Less(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Words are the texts a post's entities name, without sigils, each once
// (ignoring case), in order.
func Words(ents []Entity, k Kind) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range ents {
		w := strings.TrimSpace(e.Text)
		if e.Kind != k || w == "" {
			continue
		}
		if key := strings.ToLower(w); !seen[key] {
			seen[key] = true
			out = append(out, w)
		}
	}
	return out
}
