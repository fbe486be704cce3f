package enrich

import "strings"

// sentimentText prepares text for VADER: at most maxRunes, links and
// @mentions dropped but for their trailing '!' and '?' (a handle like
// @happyhour is not a feeling, "@coldplay!!" is still loud), words
// separated by single spaces (VADER splits on spaces only), and the runes
// that only change how an emoji looks (variation selectors, skin tones,
// joiners) removed, so "❤️" and "👍🏽" reach VADER's emoji lexicon as the
// bare emoji it knows. Hashtags stay: VADER reads "#fail" as "fail".
func sentimentText(text string) string {
	var b strings.Builder
	for tok := range strings.FieldsSeq(head(text)) {
		if tok[0] == '@' && len(tok) > 1 || isLink(tok) {
			// "@coldplay!!" still shouts: keep the marks VADER counts.
			tok = tok[len(strings.TrimRight(tok, "!?")):]
			if tok == "" {
				continue
			}
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if !strings.ContainsFunc(tok, isEmojiModifier) {
			b.WriteString(tok)
			continue
		}
		for _, r := range tok {
			if !isEmojiModifier(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// isEmojiModifier reports whether r only changes how the emoji before it
// looks, or joins emoji into one picture.
func isEmojiModifier(r rune) bool {
	return isSelector(r) || r == '\u200d' || r >= 0x1f3fb && r <= 0x1f3ff
}
