package curation

import (
	"github.com/chorus-wall/chorus/curation/wordlist"
)

// Lists builds the word matchers policies use: evasion-robust ones (see
// curation/wordlist) for blocked, allowed and profane words.
type Lists struct{}

// NewLists returns the matcher builder.
func NewLists() *Lists { return &Lists{} }

// Words returns a matcher for words and phrases, or nil for an empty list.
func (l *Lists) Words(words, allow []string) textFinder {
	m := wordlist.New(words, wordlist.Options{Allow: allow})
	if m.Empty() {
		return nil
	}
	return matcher{m}
}

// Profanity returns the matcher of the built-in profanity and slur lists
// of langs (every list when empty), never reporting the allow entries.
func (l *Lists) Profanity(langs, allow []string) textFinder {
	m := wordlist.New(wordlist.Profanity(langs...), wordlist.Options{Allow: allow})
	if m.Empty() {
		return nil
	}
	return matcher{m}
}

// matcher adapts a wordlist.Matcher to textFinder.
type matcher struct{ m *wordlist.Matcher }

func (m matcher) FindIn(text string) (string, bool) {
	match, ok := m.m.Find(text)
	return match.Word, ok
}
