package curation

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// benchStream has every filter on and 20 rules, none of which match the
// benchmark's ordinary posts, so each decision runs through all of them.
func benchStream() config.Stream {
	s := config.Stream{
		ID: "bench", Moderation: config.ModerationAuto,
		BlockedWords: []string{"idiot", "stupid", "buy followers", "free crypto", "click here"},
		Filters: config.Filters{
			BlockedHashtags: []string{"spam", "nsfw"},
			BlockedAuthors:  []string{"x:troll", "mastodon:bot@spam.example"},
			TrustedAuthors:  []string{"x:brand"},
			ExcludeKinds:    []string{"repost"},
			MinTextLength:   3,
			MinFollowers:    1,
			Languages:       []string{"en", "es", "fr", "de", "pt", "ja", "ar"},
			Sensitive:       "hold",
		},
	}
	for i := range 20 {
		r := config.Rule{Name: fmt.Sprintf("rule %d", i), Action: "hold"}
		switch i % 5 {
		case 0:
			r.When.Keywords = []string{fmt.Sprintf("keyword%d", i), "giveaway now"}
		case 1:
			r.When.Hashtags = []string{fmt.Sprintf("tag%d", i)}
		case 2:
			r.When.Authors = []string{fmt.Sprintf("x:user%d", i)}
		case 3:
			r.When.Expr = fmt.Sprintf(`Author.Followers > %d and len(Links) > 2`, 100000+i)
		case 4:
			r.When.Networks, r.When.Kinds = []string{"youtube"}, []string{"quote"}
		}
		s.Rules = append(s.Rules, r)
	}
	return s
}

// benchPosts makes n varied posts in several languages: every text is a
// different draw of words, as in a real stream.
func benchPosts(n int) []post.Post {
	vocab := [][]string{
		strings.Fields("great keynote today amazing acoustics food court stage music friends venue talk panel speaker coffee queue crowd sunset lights encore band"),
		strings.Fields("qué concierto increíble anoche escenario principal volveré año gente música amigos comida charla sala luces ambiente fiesta grupo noche"),
		strings.Fields("stimmung fantastisch tolle vorträge gespräche foyer bühne musik freunde essen kaffee abend licht publikum band zugabe saal halle"),
		strings.Fields("素晴らしい 基調講演 会場 音響 最高 音楽 友達 食事 ステージ 照明 観客 夜 コーヒー 話 パネル"),
		strings.Fields("مرحبا المؤتمر الأجواء رائعة اليوم الموسيقى الأصدقاء المسرح الجمهور الليلة القهوة الحديث القاعة الأضواء"),
	}
	langs := []string{"en", "es", "de", "ja", "ar"}
	rng := rand.New(rand.NewPCG(1, 2))
	posts := make([]post.Post, n)
	for i := range posts {
		words := vocab[i%len(vocab)]
		var b strings.Builder
		for range 16 {
			// A word and a variant number stand for a realistic vocabulary.
			fmt.Fprintf(&b, "%s%d ", words[rng.IntN(len(words))], rng.IntN(20))
		}
		b.WriteString("#ChorusLive 🎉")
		posts[i] = post.Post{
			ID: fmt.Sprintf("x:%d", i), Network: "x", Kind: post.KindOriginal, Text: b.String(), Lang: langs[i%len(langs)],
			Author:   post.Author{Handle: fmt.Sprintf("fan%d", i), Name: "Ana Pérez", Followers: 250},
			Hashtags: []string{"ChorusLive"}, Links: []post.Link{{URL: "https://x.example/a", Title: "A link"}},
		}
	}
	return posts
}

// BenchmarkDecide measures one stream's decision with every filter on and
// 20 rules (posts are enriched before, once per post, not per stream).
// Run with -cpu 1 for the per-core figure.
func BenchmarkDecide(b *testing.B) {
	pol, err := Compile(benchStream(), NewLists(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	posts := benchPosts(1 << 16)
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := &posts[i%len(posts)]
		// Distinct authors and texts: the spam memory sees a realistic stream.
		now = now.Add(10 * time.Millisecond)
		if d := pol.Decide(p, now); d.Kind != "approve" {
			b.Fatalf("post %d: %+v", i, d)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
