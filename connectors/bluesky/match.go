package bluesky

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// matcher decides locally which posts of the firehose a source gathers:
// Jetstream filters by collection and author only.
type matcher struct {
	tags     map[string]bool // lowercase, without '#'
	keywords []string        // lowercase
	dids     map[string]bool
}

func newMatcher(tags, keywords, dids []string) *matcher {
	m := &matcher{tags: map[string]bool{}, dids: map[string]bool{}}
	for _, t := range tags {
		m.tags[strings.ToLower(t)] = true
	}
	for _, k := range keywords {
		m.keywords = append(m.keywords, strings.ToLower(k))
	}
	for _, d := range dids {
		m.dids[d] = true
	}
	return m
}

// match reports whether the post by did with rec is wanted: by one of the
// accounts, or carrying one of the hashtags (as a tag facet, in the
// record's tags, or written in the text), or one of the keywords as a
// whole word (case-insensitive).
func (m *matcher) match(did string, rec *PostRecord) bool {
	if m.dids[did] {
		return true
	}
	if len(m.tags) > 0 {
		for _, f := range rec.Facets {
			for _, feat := range f.Features {
				if feat.Type == featureTag && m.tags[strings.ToLower(strings.TrimPrefix(feat.Tag, "#"))] {
					return true
				}
			}
		}
		for _, t := range rec.Tags {
			if m.tags[strings.ToLower(strings.TrimPrefix(t, "#"))] {
				return true
			}
		}
		if m.textTags(rec.Text) {
			return true
		}
	}
	if len(m.keywords) > 0 {
		lower := strings.ToLower(rec.Text)
		for _, k := range m.keywords {
			if containsWord(lower, k) {
				return true
			}
		}
	}
	return false
}

// textTags finds "#tag" (or the fullwidth "＃tag") written in text.
func (m *matcher) textTags(text string) bool {
	for i := 0; i < len(text); {
		j := strings.IndexAny(text[i:], "#＃")
		if j < 0 {
			return false
		}
		i += j
		_, w := utf8.DecodeRuneInString(text[i:])
		i += w
		end := i
		for end < len(text) {
			r, w := utf8.DecodeRuneInString(text[end:])
			if !isWordRune(r) {
				break
			}
			end += w
		}
		if end > i && m.tags[strings.ToLower(text[i:end])] {
			return true
		}
	}
	return false
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_'
}

// containsWord reports whether word occurs in text not glued to other
// letters or digits; scripts written without spaces (Han, kana, Thai...)
// match anywhere.
func containsWord(text, word string) bool {
	if word == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(word)
	last, _ := utf8.DecodeLastRuneInString(word)
	for i := 0; i <= len(text)-len(word); {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		okBefore := start == 0 || !isWordRune(before) || !spaced(first)
		okAfter := end == len(text) || !isWordRune(after) || !spaced(last)
		if okBefore && okAfter {
			return true
		}
		_, w := utf8.DecodeRuneInString(text[start:])
		i = start + w
	}
	return false
}

// spaced reports whether r's script separates words with spaces.
func spaced(r rune) bool {
	return !unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar, unicode.Tibetan)
}
