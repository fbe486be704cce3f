package graph

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/chorus-wall/chorus/post"
)

// Clean returns s cleaned exactly as post.Normalize cleans a post's text
// (valid UTF-8, CR LF and CR to LF, control characters other than newline
// and tab and bidirectional overrides removed), without the length cut.
// Spans computed on Clean(s) stay right after Normalize.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsFunc(s, post.Dropped) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if out, keep := step(r, s[i+utf8.RuneLen(r):]); keep {
			b.WriteRune(out)
		}
	}
	return b.String()
}

// step is Clean for one rune followed by rest.
func step(r rune, rest string) (rune, bool) {
	switch {
	case r == '\r' && strings.HasPrefix(rest, "\n"):
		return 0, false
	case r == '\r':
		return '\n', true
	case post.Dropped(r):
		return 0, false
	}
	return r, true
}

// Offsets converts offsets in UTF-16 code units into a raw text, as the
// Graph API gives them (message_tags), into code-point offsets into
// Clean(raw).
type Offsets struct {
	// at[u] is the code-point offset in the clean text of the character
	// that starts at UTF-16 unit u, -1 inside a surrogate pair; the last
	// entry is the clean text's length.
	at []int
}

// NewOffsets indexes raw.
func NewOffsets(raw string) *Offsets {
	raw = strings.ToValidUTF8(raw, "\uFFFD")
	at := make([]int, 0, len(raw)+1)
	n := 0
	for i, r := range raw {
		at = append(at, n)
		if utf16.RuneLen(r) == 2 {
			at = append(at, -1)
		}
		if _, keep := step(r, raw[i+utf8.RuneLen(r):]); keep {
			n++
		}
	}
	return &Offsets{at: append(at, n)}
}

// Span converts the UTF-16 range [offset, offset+length) into a code-point
// range [start, end) of the clean text; ok is false when the range is
// outside the text, empty or cuts a surrogate pair.
func (o *Offsets) Span(offset, length int) (start, end int, ok bool) {
	if offset < 0 || length <= 0 || offset > len(o.at)-1 || length > len(o.at)-1-offset {
		return 0, 0, false
	}
	start, end = o.at[offset], o.at[offset+length]
	if start < 0 || end < 0 || end <= start {
		return 0, 0, false
	}
	return start, end, true
}

// Span is an entity found in a text: [Start, End) in code points, and its
// value (the tag without '#', the username without '@', the URL).
type Span struct {
	Start, End int
	Value      string
}

// Entities are the hashtags, mentions and links of a plain text.
type Entities struct {
	Hashtags []Span
	Mentions []Span
	URLs     []Span
}

// AppendUnique appends v to list unless list holds it already, in any
// case: the hashtags and mentions of a post, once each.
func AppendUnique(list []string, v string) []string {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return list
		}
	}
	return append(list, v)
}

// Scan finds the links (http and https), hashtags and, when mentions is
// set, Instagram-style @username mentions in text, with code-point spans.
// Hashtags are letters, marks, digits and '_' (at least one letter) after
// a '#' that does not follow a word character; mentions are 1 to 30 of
// ASCII letters, digits, '.' and '_' after an '@' that does not follow a
// word character (so e-mail addresses are not mentions).
func Scan(text string, mentions bool) Entities {
	var e Entities
	if !strings.ContainsAny(text, "#＃@＠:") {
		return e
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		if i > 0 && isWord(rs[i-1]) {
			continue
		}
		switch r := rs[i]; {
		case r == 'h' || r == 'H':
			if end := urlEnd(rs, i); end > i {
				e.URLs = append(e.URLs, Span{Start: i, End: end, Value: string(rs[i:end])})
				i = end - 1
			}
		case r == '#' || r == '＃':
			if i > 0 && rs[i-1] == '&' {
				continue
			}
			end, letter := i+1, false
			for end < len(rs) && (isWord(rs[end]) || end > i+1 && (rs[end] == '\u200c' || rs[end] == '\u200d')) && end-i <= 100 {
				letter = letter || unicode.IsLetter(rs[end])
				end++
			}
			if letter {
				e.Hashtags = append(e.Hashtags, Span{Start: i, End: end, Value: string(rs[i+1 : end])})
				i = end - 1
			}
		case mentions && (r == '@' || r == '＠'):
			if i > 0 && (rs[i-1] == '.' || rs[i-1] == '@') {
				continue
			}
			end := i + 1
			for end < len(rs) && end-i <= 30 && isUsername(rs[end]) {
				end++
			}
			for end > i+1 && rs[end-1] == '.' {
				end--
			}
			if end > i+1 && (end == len(rs) || !isUsername(rs[end])) {
				e.Mentions = append(e.Mentions, Span{Start: i, End: end, Value: string(rs[i+1 : end])})
				i = end - 1
			}
		}
	}
	return e
}

func isWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r)
}

func isUsername(r rune) bool {
	return r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// urlEnd returns the end of an http(s) URL starting at i, or i when none
// starts there. Trailing punctuation is left out, and a closing
// parenthesis too unless the URL opened one.
func urlEnd(rs []rune, i int) int {
	rest := rs[i:]
	var n int
	switch {
	case hasPrefixFold(rest, "https://"):
		n = len("https://")
	case hasPrefixFold(rest, "http://"):
		n = len("http://")
	default:
		return i
	}
	end := i + n
	for end < len(rs) && !unicode.IsSpace(rs[end]) && !strings.ContainsRune("<>\"「」", rs[end]) {
		end++
	}
	for end > i+n {
		last := rs[end-1]
		if strings.ContainsRune(".,;:!?'\"”’»]}…", last) {
			end--
			continue
		}
		if last == ')' && count(rs[i:end], '(') < count(rs[i:end], ')') {
			end--
			continue
		}
		break
	}
	if end == i+n {
		return i
	}
	return end
}

func hasPrefixFold(rs []rune, prefix string) bool {
	if len(rs) < len(prefix) {
		return false
	}
	return strings.EqualFold(string(rs[:len(prefix)]), prefix)
}

func count(rs []rune, r rune) int {
	n := 0
	for _, x := range rs {
		if x == r {
			n++
		}
	}
	return n
}
