package wordlist

import "testing"

// A post as a wall sees them: a mention, hashtags, a link, emoji, a few
// languages, nothing to find (the common case, which reads every word).
var benchPosts = map[string]string{
	"en": "What a night at the stadium!!! @ChorusLive the second half was unreal, " +
		"that free kick in the 89th minute 🔥⚽ Can't believe we came back from 2-0 down. " +
		"#MatchDay #YouNeverWalkAlone #Champions2026 https://example.com/highlights?id=42 " +
		"Thanks to everyone who made the trip, see you next week xoxo",
	"ja": "今日の試合、最高でした！後半のフリーキックは本当に素晴らしかった🔥 " +
		"来週もスタジアムで会いましょう #マッチデー #サッカー",
	"mixed": "Gran partido hoy 🎉 ¡Qué golazo! Das war ein tolles Spiel, merci à tous " +
		"les supporters. Отличная игра! مباراة رائعة 👏 शानदार मैच #VamosEquipo",
}

func BenchmarkFind(b *testing.B) {
	m := New(append(Profanity(), extra...), Options{Allow: []string{"Dick Smith"}})
	for _, name := range []string{"en", "ja", "mixed"} {
		text := benchPosts[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if _, ok := m.Find(text); ok {
					b.Fatal("unexpected match")
				}
			}
		})
	}
	// One curation decision: text, author name, handle, hashtags, link
	// title of a post.
	fields := []string{benchPosts["en"], "Sam Fan Account ⚽", "sam_fan_1998", "MatchDay YouNeverWalkAlone Champions2026",
		"Match highlights: all the goals"}
	b.Run("decision", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range fields {
				if _, ok := m.Find(f); ok {
					b.Fatal("unexpected match")
				}
			}
		}
	})
}

func BenchmarkNew(b *testing.B) {
	words := Profanity()
	b.ReportAllocs()
	for b.Loop() {
		New(words, Options{})
	}
}
