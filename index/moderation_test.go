package index

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// moderationFixture is a stream with posts held, approved, rejected and
// removed by rules, filters, the mode and people.
func moderationFixture(t *testing.T) *Index {
	t.Helper()
	x := open(t, filepath.Join(t.TempDir(), "index"))
	t.Cleanup(func() { x.Close() })
	at := func(min int) time.Time { return time.Date(2026, 11, 23, 12, min, 0, 0, time.UTC) }
	mk := func(id, network, handle, lang string, media bool, min int) *post.Post {
		p := &post.Post{ID: id, Network: network, Text: "post " + id, Lang: lang, CreatedAt: at(min),
			Author: post.Author{Handle: handle, Name: handle}}
		if media {
			p.Media = []post.Media{{Kind: post.MediaImage, URL: "https://img.example/" + id + ".jpg"}}
		}
		return p
	}
	a1 := mk("x:1", "x", "Ana", "en", true, 1)
	a2 := mk("x:2", "x", "ana", "en", false, 2)
	a3 := mk("x:3", "x", "ana", "es", false, 3)
	b1 := mk("mastodon:4", "mastodon", "bo@social.example", "ar", true, 4)
	b2 := mk("mastodon:5", "mastodon", "bo@social.example", "ar", false, 5)
	c1 := mk("x:6", "x", "cy", "en", false, 6)
	events := []bus.Event{
		{Kind: bus.EventApprove, Stream: "wall", PostID: a1.ID, Post: a1, Actor: bus.ActorCuration, Reason: "auto", At: at(1)},
		{Kind: bus.EventReject, Stream: "wall", PostID: a2.ID, Post: a2, Actor: bus.ActorCuration, Filter: "blocked_words", Reason: `blocked word "idiot" in text`, At: at(2)},
		{Kind: bus.EventHold, Stream: "wall", PostID: a3.ID, Post: a3, Actor: bus.ActorCuration, Rule: "No links", Reason: `rule "No links"`, At: at(3)},
		{Kind: bus.EventHold, Stream: "wall", PostID: b1.ID, Post: b1, Actor: bus.ActorCuration, Filter: "sensitive", Reason: "sensitive content", At: at(4)},
		{Kind: bus.EventHold, Stream: "wall", PostID: b2.ID, Post: b2, Actor: bus.ActorCuration, Reason: "manual moderation", At: at(5)},
		{Kind: bus.EventApprove, Stream: "wall", PostID: c1.ID, Post: c1, Actor: bus.ActorCuration, Reason: "auto", At: at(6)},
		{Kind: bus.EventRemove, Stream: "wall", PostID: c1.ID, Actor: "maria", Reason: "moderator", At: at(7)},
		{Kind: bus.EventApprove, Stream: "other", PostID: a2.ID, Post: a2, Actor: bus.ActorCuration, Reason: "auto", At: at(8)},
	}
	for i := range events {
		events[i].Seq = uint64(i + 1)
	}
	if err := x.Apply(bus.Batch{Events: events, LastSeq: uint64(len(events)), CaughtUp: true}); err != nil {
		t.Fatal(err)
	}
	return x
}

func ids(hits []Hit) []string {
	out := []string{}
	for _, h := range hits {
		out = append(out, h.Post.ID)
	}
	return out
}

func TestQueueFiltersAndWhy(t *testing.T) {
	x := moderationFixture(t)
	ctx := context.Background()
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"held, newest first", Query{Status: "held"}, []string{"mastodon:5", "mastodon:4", "x:3"}},
		{"held, oldest first", Query{Status: "held", Sort: "oldest"}, []string{"x:3", "mastodon:4", "mastodon:5"}},
		{"network", Query{Status: "held", Network: "Mastodon"}, []string{"mastodon:5", "mastodon:4"}},
		{"language", Query{Status: "held", Lang: "es"}, []string{"x:3"}},
		{"with media", Query{Status: "held", Media: "true"}, []string{"mastodon:4"}},
		{"without media", Query{Status: "held", Media: "false"}, []string{"mastodon:5", "x:3"}},
		{"why: a rule, case kept", Query{Why: "rule:No links"}, []string{"x:3"}},
		{"why: a filter", Query{Why: "filter:sensitive"}, []string{"mastodon:4"}},
		{"why: the mode", Query{Status: "held", Why: "mode"}, []string{"mastodon:5"}},
		{"why: a person", Query{Why: "moderator"}, []string{"x:6"}},
		{"every status", Query{}, []string{"x:6", "mastodon:5", "mastodon:4", "x:3", "x:2", "x:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Stream = "wall"
			res, err := x.Search(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(res.Hits); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if res.Seq != 8 {
				t.Fatalf("seq = %d, want 8", res.Seq)
			}
		})
	}
	res, _ := x.Search(ctx, Query{Stream: "wall", Status: "rejected"})
	if h := res.Hits[0]; h.Why != "filter:blocked_words" || h.Filter != "blocked_words" || h.Reason == "" {
		t.Fatalf("rejected hit: why %q, filter %q, reason %q", h.Why, h.Filter, h.Reason)
	}
}

func TestFacets(t *testing.T) {
	x := moderationFixture(t)
	f, err := x.Facets(context.Background(), "wall", "held")
	if err != nil {
		t.Fatal(err)
	}
	count := func(list []Facet, v string) int {
		for _, f := range list {
			if f.Value == v {
				return f.Count
			}
		}
		return 0
	}
	if f.Total != 3 || count(f.Network, "mastodon") != 2 || count(f.Network, "x") != 1 || count(f.Lang, "ar") != 2 ||
		count(f.Why, "rule:No links") != 1 || count(f.Why, "filter:sensitive") != 1 || count(f.Why, "mode") != 1 ||
		count(f.Media, "true") != 1 || count(f.Media, "false") != 2 {
		t.Fatalf("facets: %+v", f)
	}
}

func TestAuthorHistoryAndCounts(t *testing.T) {
	x := moderationFixture(t)
	ctx := context.Background()
	res, err := x.Search(ctx, Query{Stream: "wall", Status: "held"})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.AddHistory(ctx, "wall", res.Hits); err != nil {
		t.Fatal(err)
	}
	got := map[string]AuthorHistory{}
	for _, h := range res.Hits {
		if h.History == nil {
			t.Fatalf("%s has no history", h.Post.ID)
		}
		got[h.Post.ID] = *h.History
	}
	// Ana's handle differs in case between posts: one author. Her post in
	// another stream does not count here.
	if h := got["x:3"]; h.Approved != 1 || h.Rejected != 1 || h.Removed != 0 {
		t.Fatalf("ana: %+v", h)
	}
	if h := got["mastodon:4"]; h.Approved != 0 || h.Rejected != 0 {
		t.Fatalf("bo: %+v", h)
	}
	for status, want := range map[string]uint64{"held": 3, "approved": 1, "removed": 1} {
		if n, err := x.CountPosts(ctx, "wall", status, time.Time{}); err != nil || n != want {
			t.Fatalf("%s: %d, %v; want %d", status, n, err, want)
		}
	}
	// Decided since 12:01:30: only the later approval (x:1 at 12:01 is out).
	if n, _ := x.CountPosts(ctx, "other", "approved", time.Date(2026, 11, 23, 12, 1, 30, 0, time.UTC)); n != 1 {
		t.Fatalf("approved since: %d", n)
	}
	if n, _ := x.CountPosts(ctx, "wall", "approved", time.Date(2026, 11, 23, 12, 1, 30, 0, time.UTC)); n != 0 {
		t.Fatalf("wall approved since: %d", n)
	}
}

func TestOnApplyReportsEachChange(t *testing.T) {
	x := open(t, filepath.Join(t.TempDir(), "index"))
	defer x.Close()
	var got []Applied
	x.OnApply = func(a Applied) { got = append(got, a) }
	p := &post.Post{ID: "x:1", Network: "x", Text: "hi", Author: post.Author{Handle: "ana"}}
	q := &post.Post{ID: "x:2", Network: "x", Text: "yo", Author: post.Author{Handle: "bo"}}
	batch := bus.Batch{LastSeq: 4, Events: []bus.Event{
		{Kind: bus.EventHold, Stream: "wall", PostID: q.ID, Post: q, Seq: 1, Actor: bus.ActorCuration},
		{Kind: bus.EventHold, Stream: "wall", PostID: p.ID, Post: p, Seq: 2, Actor: bus.ActorCuration},
		{Kind: bus.EventApprove, Stream: "wall", PostID: q.ID, Seq: 3, Actor: "maria"},
		{Kind: bus.EventPause, Stream: "quiet", Seq: 4, Actor: "maria"},
	}}
	if err := x.Apply(batch); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Seq != 4 || !slices.Equal(got[0].Streams, []string{"wall", "quiet"}) {
		t.Fatalf("applied: %+v", got)
	}
	ch := got[0].Changes
	// In the order of each post's last event: x:1 held (2), x:2 approved (3).
	if len(ch) != 2 || ch[0].Post.ID != "x:1" || ch[0].Status != "held" || ch[1].Post.ID != "x:2" ||
		ch[1].Status != "approved" || ch[1].Actor != "maria" || ch[1].Why != "moderator" || ch[1].Stream != "wall" {
		t.Fatalf("changes: %+v", ch)
	}
}
