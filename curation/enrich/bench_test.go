package enrich

import (
	"testing"

	"github.com/chorus-wall/chorus/post"
)

// BenchmarkEnrich measures one Enrich call on realistic posts, with the
// language given by the network (as X, Mastodon and Bluesky do) and without
// (RSS, webhooks, Instagram), where it is detected.
func BenchmarkEnrich(b *testing.B) {
	e := enricher(b)
	posts := []struct{ name, lang, text string }{
		{"en", "en", "Best concert of my life, thank you @coldplay!! The queue was NOT fun though 😅 #MusicOfTheSpheres https://t.co/abc123"},
		{"es", "es", "¡Qué partidazo! No puedo creer lo buena que estuvo la remontada, vamos equipo 💪 #LaLiga @RealMadrid"},
		{"ja", "ja", "昨日のライブ最高だった！また電車が遅れてたけど、本当に楽しかったです。ありがとう 🎉 #ライブ"},
		{"ar", "ar", "مبروك للفريق على الفوز اليوم، كانت مباراة رائعة والجمهور كان مذهلا 🎉 #الهلال https://t.co/xyz"},
	}
	for _, p := range posts {
		for _, given := range []bool{true, false} {
			name := p.name + "/detected"
			in := post.Post{Text: p.text}
			if given {
				name = p.name + "/given"
				in.Lang = p.lang
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					q := in
					e.Enrich(&q)
					if q.Lang != p.lang {
						b.Fatalf("Lang = %q, want %q", q.Lang, p.lang)
					}
				}
			})
		}
	}
}
