package curation

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// WordList finds blocked words and phrases as whole words, ignoring case:
// "idiot" matches "IDIOT!" and the handle "total_idiot_42" but not
// "idiotic"; "buy followers" matches "Buy   followers".
type WordList struct {
	// byFirst maps a phrase's first word to the phrases starting with it.
	byFirst map[string][][]string
}

// NewWordList compiles words (each a word or a phrase).
func NewWordList(words []string) *WordList {
	l := &WordList{byFirst: map[string][][]string{}}
	for _, w := range words {
		toks := tokenize(w)
		if len(toks) == 0 {
			continue
		}
		l.byFirst[toks[0]] = append(l.byFirst[toks[0]], toks)
	}
	return l
}

// Empty reports whether the list has no words.
func (l *WordList) Empty() bool { return l == nil || len(l.byFirst) == 0 }

// FindIn returns the first listed word or phrase in text.
func (l *WordList) FindIn(text string) (string, bool) {
	if l.Empty() {
		return "", false
	}
	return l.find(tokenize(text))
}

func (l *WordList) find(toks []string) (string, bool) {
	for i, t := range toks {
		for _, phrase := range l.byFirst[t] {
			if i+len(phrase) > len(toks) {
				continue
			}
			if equalAt(toks[i:], phrase) {
				return strings.Join(phrase, " "), true
			}
		}
	}
	return "", false
}

func equalAt(toks, phrase []string) bool {
	for j, w := range phrase {
		if toks[j] != w {
			return false
		}
	}
	return true
}

// tokenize splits s into lowercase words: runs of letters, digits and marks.
// Underscores, dots and other punctuation separate words, so handles split
// into their parts. It is on every decision's path: a word already in
// lower case is a substring of s, and the words that change when lowered
// share one allocation.
func tokenize(s string) []string {
	spans := make([]wordSpan, 0, 64)
	var lowered []byte
	start := -1
	end := func(i int) {
		w := s[start:i]
		if !hasUpper(w) {
			spans = append(spans, wordSpan{start: start, end: i})
			return
		}
		from := len(lowered)
		for _, r := range w {
			lowered = utf8.AppendRune(lowered, unicode.ToLower(r))
		}
		spans = append(spans, wordSpan{start: from, end: len(lowered), lowered: true})
	}
	for i, r := range s {
		word := isWordRune(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			end(i)
			start = -1
		}
	}
	if start >= 0 {
		end(len(s))
	}
	if len(spans) == 0 {
		return nil
	}
	low := string(lowered)
	toks := make([]string, len(spans))
	for i, sp := range spans {
		if sp.lowered {
			toks[i] = low[sp.start:sp.end]
		} else {
			toks[i] = s[sp.start:sp.end]
		}
	}
	return toks
}

// wordSpan is where one of tokenize's words is: in the text, or in the
// words lowered.
type wordSpan struct {
	start, end int
	lowered    bool
}

// isWordRune reports whether r is part of a word: a letter, digit or mark.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// hasUpper reports whether lowering w (as strings.ToLower does) changes it.
func hasUpper(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			for _, r := range w[i:] {
				if unicode.ToLower(r) != r {
					return true
				}
			}
			return false
		}
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}
