package curation

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/curation/enrich"
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

// BenchmarkCurate measures curation's real path for one ingest message, as
// production runs it: the curator reads posts from the ingest stream of an
// embedded NATS server, decodes each, enriches it (language detection for
// posts without one, sentiment), decides it for every stream its source
// feeds (here 1.5 on average: a stream with the defaults and benchStream,
// sharing a source), encodes and stores each decision on the events stream
// with its dedupe, and acknowledges. The posts are the demo's realistic
// mix (13 languages, 4% spam, 4% offensive, a crowd of a million fans);
// "mix" has 40% without a language, "given" none, "detected" all. The
// timer runs from the curator's start until every post is acknowledged.
// Run with -cpu 1 for the per-core figure (NATS shares the core).
func BenchmarkCurate(b *testing.B) {
	for _, c := range []struct {
		name       string
		unlabelled float64
	}{{"mix", 0.4}, {"given", 0}, {"detected", 1}} {
		b.Run(c.name, func(b *testing.B) { benchCurate(b, c.unlabelled) })
	}
}

func benchCurate(b *testing.B, unlabelled float64) {
	conn := bustest.Open(b)
	streams := NewStreams(NewLists())
	bench := benchStream()
	bench.Sources = []string{"both"}
	for _, s := range []config.Stream{{ID: "wall", Sources: []string{"wall", "both"}, BlockedWords: demo.BlockedWords}, bench} {
		if err := streams.Put(s); err != nil {
			b.Fatal(err)
		}
	}
	enricher, err := benchEnricher()
	if err != nil {
		b.Fatal(err)
	}
	gens := []demo.Generator{
		{SourceID: "wall", Seed: 1, SpamShare: 0.04, OffensiveShare: 0.04, Audience: 1_000_000, UnlabelledShare: unlabelled},
		{SourceID: "both", Seed: 1, SpamShare: 0.04, OffensiveShare: 0.04, Audience: 1_000_000, UnlabelledShare: unlabelled},
	}
	now := time.Now()
	for start := 0; start < b.N; start += 1000 {
		posts := make([]post.Post, 0, 1000)
		for i := start; i < min(b.N, start+1000); i++ {
			p := gens[i%2].Post(int64(i), now)
			p.Source = gens[i%2].SourceID
			posts = append(posts, p)
		}
		if _, err := conn.PublishPosts(b.Context(), posts); err != nil {
			b.Fatal(err)
		}
	}
	c := NewCurator(conn, streams, enricher, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan struct{})
	stopProfile := profileCurate(b)
	b.ResetTimer()
	cpu0 := cpuTime(b)
	go func() { defer close(done); _ = c.Run(ctx) }()
	for !curated(ctx, conn) {
		time.Sleep(2 * time.Millisecond)
	}
	b.StopTimer()
	cpu := cpuTime(b) - cpu0
	stopProfile()
	cancel()
	<-done
	decisions, err := conn.LastEventSeq(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
	b.ReportMetric(float64(decisions)/b.Elapsed().Seconds(), "decisions/s")
	// CPU time per decision tells what a core can do even when other work
	// shares the machine: 1e6/cpu-µs/decision is decisions per core-second.
	b.ReportMetric(float64(cpu.Microseconds())/float64(decisions), "cpu-µs/decision")
}

// curateProfile names a CPU profile of BenchmarkCurate's timed part only
// (-cpuprofile also holds the setup: publishing the posts to the ingest
// stream). Each sub-benchmark writes its own file, named after it.
var curateProfile = flag.String("curateprofile", "", "write a CPU profile of BenchmarkCurate's timed part to `prefix`-<case>.prof")

// profileCurate starts the timed part's profile when asked, and returns
// what stops it.
func profileCurate(b *testing.B) func() {
	if *curateProfile == "" {
		return func() {}
	}
	name := *curateProfile + "-" + strings.ReplaceAll(strings.TrimPrefix(b.Name(), "BenchmarkCurate/"), "/", "_") + ".prof"
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}

// cpuTime is the process's CPU time so far (user and system), the
// embedded NATS server's included.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchEnricher is built once: building loads language models.
var benchEnricher = sync.OnceValues(func() (*enrich.Enricher, error) { return enrich.New(enrich.Options{}) })
