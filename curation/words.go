package curation

import (
	"strings"
	"unicode"
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
// into their parts.
func tokenize(s string) []string {
	var toks []string
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			toks = append(toks, strings.ToLower(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, strings.ToLower(s[start:]))
	}
	return toks
}
