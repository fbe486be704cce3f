package post

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SafeURL returns u when it is an absolute http(s) URL or a path on this
// site ("/demo/media/1.svg"), and "" for anything else (javascript:, data:,
// protocol-relative, malformed or overlong URLs).
func SafeURL(u string) string {
	u = strings.TrimSpace(u)
	if u == "" || len(u) > MaxURLBytes || strings.ContainsFunc(u, func(r rune) bool { return isControl(r) || unicode.IsSpace(r) }) {
		return ""
	}
	if strings.HasPrefix(u, "/") {
		if strings.HasPrefix(u, "//") || strings.HasPrefix(u, "/\\") {
			return ""
		}
		if _, err := url.Parse(u); err != nil {
			return ""
		}
		return u
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" || parsed.User != nil {
		return ""
	}
	switch strings.ToLower(parsed.Scheme) {
	case "http", "https":
		return u
	}
	return ""
}

// cleanText is CleanText cut to limit runes.
func cleanText(s string, limit int) string {
	return truncate(CleanText(s), limit)
}

// CleanText returns s as Normalize leaves a post's text, but for the cut to
// MaxTextRunes: valid UTF-8, CR LF and lone CR made LF, and the Dropped
// characters (controls other than newline and tab, bidirectional overrides
// that could disguise text) removed. Adapters that compute spans on plain
// text use it, so the spans hold after Normalize.
func CleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if strings.ContainsFunc(s, Dropped) {
		s = strings.Map(func(r rune) rune {
			if r == '\r' {
				return '\n'
			}
			if Dropped(r) {
				return -1
			}
			return r
		}, s)
	}
	return s
}

// cleanLine is cleanText for one-line fields: newlines and tabs become spaces.
func cleanLine(s string, limit int) string {
	s = cleanText(s, limit)
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit {
			return s[:i]
		}
		n++
	}
	return s
}

func isControl(r rune) bool { return unicode.IsControl(r) }

// Dropped reports the characters Normalize removes from text (control
// characters other than newline and tab, and bidirectional embeddings,
// overrides and isolates), so adapters can compute spans on the text as
// Normalize will leave it. A lone '\r' is reported too, though Normalize
// turns it into '\n' rather than removing it. Zero-width joiners stay: emoji
// sequences need them.
func Dropped(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r == '\r':
		return true
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
