package enrich

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxRunes caps how much of a post is looked at: the first 500 runes decide
// its language and tone as well as the whole would, at a bounded cost.
const maxRunes = 500

// script is a writing system, as far as it helps to tell languages apart.
type script uint8

const (
	scriptOther script = iota
	scriptLatin
	scriptCyrillic
	scriptArabic
	scriptDevanagari
	scriptHan
	scriptKana // Hiragana and Katakana
	scriptHangul
	scriptThai
	scriptHebrew
	scriptGreek
	scriptArmenian
	scriptGeorgian
	scriptBengali
	scriptGujarati
	scriptGurmukhi
	scriptTamil
	scriptTelugu
	numScripts
)

// scriptTables are the Unicode scripts behind each script but Latin (which
// has an ASCII fast path) and Other, most used first.
var scriptTables = [...]struct {
	s     script
	table *unicode.RangeTable
}{
	{scriptLatin, unicode.Latin},
	{scriptCyrillic, unicode.Cyrillic},
	{scriptArabic, unicode.Arabic},
	{scriptHan, unicode.Han},
	{scriptKana, unicode.Hiragana},
	{scriptKana, unicode.Katakana},
	{scriptHangul, unicode.Hangul},
	{scriptThai, unicode.Thai},
	{scriptDevanagari, unicode.Devanagari},
	{scriptHebrew, unicode.Hebrew},
	{scriptGreek, unicode.Greek},
	{scriptBengali, unicode.Bengali},
	{scriptArmenian, unicode.Armenian},
	{scriptGeorgian, unicode.Georgian},
	{scriptGujarati, unicode.Gujarati},
	{scriptGurmukhi, unicode.Gurmukhi},
	{scriptTamil, unicode.Tamil},
	{scriptTelugu, unicode.Telugu},
}

func scriptOf(r rune) script {
	if r < utf8.RuneSelf {
		return scriptLatin // only called for letters
	}
	for _, st := range scriptTables {
		if unicode.Is(st.table, r) {
			return st.s
		}
	}
	return scriptOther
}

// scan is what language detection needs to know about a text.
type scan struct {
	words   string          // the words, without links, mentions, hashtags, emoji or digits
	letters [numScripts]int // letters per script in words
	total   int             // letters in words
}

// scanText reads at most maxRunes of text. It drops links, @mentions,
// #hashtags and $cashtags whole (they name things rather than speak a
// language), turns every rune that is not a letter or a combining mark into
// a word break, and counts letters per script.
func scanText(text string) scan {
	var sc scan
	var b strings.Builder
	text = head(text)
	b.Grow(len(text))
	for tok := range strings.FieldsSeq(text) {
		if skipToken(tok) {
			continue
		}
		brk := true // a word break is due before the next letter
		for _, r := range tok {
			switch {
			case unicode.IsLetter(r):
				if brk && b.Len() > 0 {
					b.WriteByte(' ')
				}
				brk = false
				b.WriteRune(r)
				sc.letters[scriptOf(r)]++
				sc.total++
			case brk:
			case r == '\'' || r == '’' || unicode.In(r, unicode.Mn, unicode.Mc) && !isSelector(r):
				b.WriteRune(r) // vowel signs, diacritics and apostrophes belong to their word
			default:
				brk = true
			}
		}
	}
	sc.words = b.String()
	return sc
}

// head is the first maxRunes runes of text.
func head(text string) string {
	n := 0
	for i := range text {
		if n == maxRunes {
			return text[:i]
		}
		n++
	}
	return text
}

// isSelector reports whether r is a variation selector, which picks how the
// rune before it is drawn (as text or as an emoji).
func isSelector(r rune) bool {
	return r >= '\ufe00' && r <= '\ufe0f' || r >= 0xe0100 && r <= 0xe01ef
}

// skipToken reports whether a whitespace-separated token is a link, a
// mention, a hashtag or a cashtag.
func skipToken(tok string) bool {
	switch tok[0] {
	case '@', '#', '$':
		return len(tok) > 1
	}
	return strings.HasPrefix(tok, "＃") || isLink(tok)
}

func isLink(tok string) bool {
	if strings.Contains(tok, "://") {
		return true
	}
	return len(tok) > 4 && strings.EqualFold(tok[:4], "www.")
}
