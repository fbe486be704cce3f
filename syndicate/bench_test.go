package syndicate

import (
	"fmt"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/display"
	"github.com/chorus-wall/chorus/post"
)

func benchItems(n int) []*display.Item {
	items := make([]*display.Item, n)
	for i := range items {
		items[i] = &display.Item{Post: post.Post{
			ID: fmt.Sprintf("x:%d", i), Network: "x", URL: "https://x.example/p/" + fmt.Sprint(i),
			Author:    post.Author{Name: "Ana Lima", Handle: "ana", AvatarURL: "https://cdn.example/a.jpg"},
			Text:      "A post about the keynote with a #hashtag and some words that make it a typical length for a wall.",
			Media:     []post.Media{{Kind: post.MediaImage, URL: "https://cdn.example/p.jpg", Alt: "The stage"}},
			CreatedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		}}
	}
	return items
}

// BenchmarkCards renders 50 email cards (the largest page), CSP included.
func BenchmarkCards(b *testing.B) {
	_, _, e := newHandlers(b, benchItems(50))
	b.ReportAllocs()
	for b.Loop() {
		if rec := get(e, "/api/v1/streams/summit/cards.html?limit=50"); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkFeed renders a 50-item Atom feed.
func BenchmarkFeed(b *testing.B) {
	_, _, e := newHandlers(b, benchItems(50))
	b.ReportAllocs()
	for b.Loop() {
		if rec := get(e, "/feeds/summit.atom?limit=50"); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
