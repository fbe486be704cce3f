package curation

// Lists builds the word matchers policies use.
type Lists struct{}

// NewLists returns the matcher builder.
func NewLists() *Lists { return &Lists{} }

// Words returns a matcher for words and phrases, or nil for an empty list.
func (l *Lists) Words(words, allow []string) textFinder {
	w := NewWordList(words)
	if w.Empty() {
		return nil
	}
	return w
}

// Profanity returns the profanity matcher for langs.
func (l *Lists) Profanity(langs, allow []string) textFinder {
	return nil
}
