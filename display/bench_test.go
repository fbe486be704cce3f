package display

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// BenchmarkApply measures applying an approval to a full stream state and
// encoding its message once (no clients: the per-client cost is a queue send).
func BenchmarkApply(b *testing.B) {
	hub := NewHub(Options{Streams: streams{"s": {ID: "s", DisplayLimit: 60}}, Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()})
	hub.markReady(0)
	p := post.Post{Text: "Hello from the summit 🎉 #ChorusLive", Author: post.Author{Name: "Ana"}}
	b.ReportAllocs()
	var seq uint64
	for b.Loop() {
		seq++
		pp := p
		pp.ID = fmt.Sprint(seq)
		hub.Apply(bus.Batch{Events: []bus.Event{{Kind: bus.EventApprove, Stream: "s", PostID: pp.ID, Post: &pp, Seq: seq}}, LastSeq: seq})
	}
}
