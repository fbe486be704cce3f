package index

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/post"
)

// BenchmarkApply applies events in batches of BatchSize, as a rebuild or a
// busy stream does; one op is one event. Besides ns/op (wall time, with
// Bleve's persister and merger running beside Apply on other cores when
// -cpu allows) it reports cpu-ns/event: the process's user and system CPU
// over the timed part, divided by the events, which is the figure that
// says how many events a core carries.
//
//   - "mix" is production's: the demo's posts (13 languages, 4% spam, 4%
//     offensive, a crowd of a million fans) from two sources, one feeding
//     two streams (1.5 decisions a post); curation approves most, holds
//     some and rejects some with the filter that decided, and moderators
//     later approve, pin or reject most held posts (an event that changes
//     a post already in the index).
//   - "approvals" is the first version of this benchmark: one short English
//     post approved per event.
func BenchmarkApply(b *testing.B) {
	b.Run("mix", func(b *testing.B) { benchApply(b, mixEvents(b.N)) })
	b.Run("approvals", func(b *testing.B) { benchApply(b, approvalEvents(b.N)) })
}

func benchApply(b *testing.B, events []bus.Event) {
	x := open(b, filepath.Join(b.TempDir(), "index"))
	defer x.Close()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for start := 0; start < len(events); start += BatchSize {
		batch := bus.Batch{Events: events[start:min(len(events), start+BatchSize)]}
		batch.LastSeq = batch.Events[len(batch.Events)-1].Seq
		if err := x.Apply(batch); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(len(events)), "cpu-ns/event")
	b.ReportMetric(float64(len(events))/b.Elapsed().Seconds(), "events/s")
}

// cpuTime is the CPU the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchAt is when the benchmarks' posts are made.
var benchAt = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// approvalEvents are n approvals of short English posts, one each.
func approvalEvents(n int) []bus.Event {
	out := make([]bus.Event, 0, n)
	for seq := uint64(1); len(out) < n; seq++ {
		p := &post.Post{ID: fmt.Sprintf("x:%d", seq), Network: "x", Kind: post.KindOriginal, Lang: "en",
			Author:   post.Author{Handle: fmt.Sprintf("Fan%d", seq%97), Name: "Ana Pérez", Followers: int64(seq)},
			Text:     fmt.Sprintf("Post %d: the crowd is huge at the main stage tonight, see you at the rooftop stage #ChorusLive", seq),
			Hashtags: []string{"ChorusLive"}, CreatedAt: benchAt.Add(time.Duration(seq) * time.Second)}
		out = append(out, bus.Event{Kind: bus.EventApprove, Stream: "wall", PostID: p.ID, Post: p,
			Seq: seq, Actor: bus.ActorCuration, At: p.CreatedAt})
	}
	return out
}

// mixEvents are n events as production writes them (see BenchmarkApply).
// A held post is acted on by a moderator about 300 events later: 60%
// approved (a fifth of those pinned too), 30% rejected, 10% left held.
func mixEvents(n int) []bus.Event {
	gens := []demo.Generator{
		{SourceID: "wall", Seed: 1, SpamShare: 0.04, OffensiveShare: 0.04, Audience: 1_000_000},
		{SourceID: "both", Seed: 1, SpamShare: 0.04, OffensiveShare: 0.04, Audience: 1_000_000},
	}
	streams := [][]string{{"wall"}, {"wall", "bench"}}
	type later struct {
		due uint64
		e   bus.Event
	}
	var pending []later
	out := make([]bus.Event, 0, n)
	var seq uint64
	add := func(e bus.Event) {
		seq++
		e.Seq = seq
		out = append(out, e)
	}
	for i := int64(0); len(out) < n; i++ {
		for len(pending) > 0 && pending[0].due <= seq && len(out) < n {
			e := pending[0].e
			pending = pending[1:]
			e.At = benchAt.Add(time.Duration(seq) * time.Millisecond)
			add(e)
		}
		g := gens[i%2]
		p := g.Post(i, benchAt.Add(time.Duration(i)*time.Millisecond))
		if p.Lang == "" {
			p.Lang = "en" // curation detects it before the event
		}
		p.Sentiment = float64(mixHash(i, 1)%200)/100 - 1
		for _, stream := range streams[i%2] {
			if len(out) == n {
				break
			}
			e := bus.Event{Stream: stream, PostID: p.ID, Post: &p, Actor: bus.ActorCuration,
				At: p.FetchedAt, IngestSeq: uint64(i + 1)}
			switch r := mixHash(i, len(stream)) % 100; {
			case r < 6:
				e.Kind, e.Filter, e.Reason = bus.EventReject, "blocked_words", "blocked word"
				if r < 3 {
					e.Filter, e.Reason = "spam", "spam: repeated text"
				}
			case r < 16:
				e.Kind, e.Reason = bus.EventHold, "held for review"
				if r < 9 {
					e.Rule, e.Reason = "links to review", "rule: links to review"
				}
				act := bus.Event{Stream: stream, PostID: p.ID, Actor: "moderator:ana@example.com"}
				switch m := mixHash(i, 7) % 10; {
				case m < 6:
					act.Kind = bus.EventApprove
					pending = append(pending, later{seq + 300, act})
					if m < 1 {
						act.Kind = bus.EventPin
						pending = append(pending, later{seq + 300, act})
					}
				case m < 9:
					act.Kind, act.Reason = bus.EventReject, "off topic"
					pending = append(pending, later{seq + 300, act})
				}
			default:
				e.Kind = bus.EventApprove
			}
			add(e)
		}
	}
	return out
}

func mixHash(i int64, salt int) uint64 {
	h := uint64(i)*0x9e3779b97f4a7c15 + uint64(salt)*0xbf58476d1ce4e5b9
	h ^= h >> 31
	h *= 0x94d049bb133111eb
	return h ^ h>>29
}
