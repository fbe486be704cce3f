package index

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// BenchmarkApply indexes approvals in batches of BatchSize, as a rebuild
// or a busy stream does; one op is one event.
func BenchmarkApply(b *testing.B) {
	x := open(b, filepath.Join(b.TempDir(), "index"))
	defer x.Close()
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var seq uint64
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		batch := bus.Batch{}
		for i := 0; i < BatchSize && done < b.N; i, done = i+1, done+1 {
			seq++
			p := &post.Post{ID: fmt.Sprintf("x:%d", seq), Network: "x", Kind: post.KindOriginal, Lang: "en",
				Author:   post.Author{Handle: fmt.Sprintf("Fan%d", seq%97), Name: "Ana Pérez", Followers: int64(seq)},
				Text:     fmt.Sprintf("Post %d: the crowd is huge at the main stage tonight, see you at the rooftop stage #ChorusLive", seq),
				Hashtags: []string{"ChorusLive"}, CreatedAt: at.Add(time.Duration(seq) * time.Second)}
			batch.Events = append(batch.Events, bus.Event{Kind: bus.EventApprove, Stream: "wall", PostID: p.ID, Post: p,
				Seq: seq, Actor: bus.ActorCuration, At: p.CreatedAt})
		}
		batch.LastSeq = seq
		if err := x.Apply(batch); err != nil {
			b.Fatal(err)
		}
	}
}
