package curation

import (
	"fmt"
	"testing"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// BenchmarkDecide measures one stream's decision on a typical post with a
// 50-entry blocked list.
func BenchmarkDecide(b *testing.B) {
	words := make([]string, 50)
	for i := range words {
		words[i] = fmt.Sprintf("blocked%d", i)
	}
	words = append(words, "buy followers")
	pol := NewPolicy(config.Stream{ID: "s", Moderation: config.ModerationAuto, BlockedWords: words})
	p := &post.Post{
		Text:     "Great keynote at #ChorusLive today! The acoustics are amazing and the food court is even better 🎉 https://x.example/a",
		Author:   post.Author{Name: "Ana Pérez", Handle: "ana_perez"},
		Hashtags: []string{"ChorusLive"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if kind, _ := pol.Decide(p); kind != "approve" {
			b.Fatal(kind)
		}
	}
}
