package post

import (
	"testing"
	"time"
)

func BenchmarkNormalize(b *testing.B) {
	src := Post{ID: "123", Network: "mastodon", Text: "Hello from the summit 🎉 #ChorusLive @ana https://x.example/a",
		Author:   Author{Name: "Zoë Müller", Handle: "zoe@social.example", AvatarURL: "https://social.example/a.png"},
		Hashtags: []string{"#ChorusLive"}, Mentions: []string{"@ana"},
		Links: []Link{{URL: "https://x.example/a", Start: 40, End: 59}},
		Media: []Media{{Kind: MediaImage, URL: "https://social.example/m.jpg", Alt: "A stage"}}}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		p := src
		if err := p.Normalize("webhook", now); err != nil {
			b.Fatal(err)
		}
	}
}
