package display

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// BenchmarkStartup measures what a restart costs the display with a large
// retained history: loading every stream's checkpoint and replaying the
// events after it. CHORUS_BENCH_EVENTS sets the history (100,000 by
// default; the README's figure uses 1,000,000), spread over 10 streams.
//
//   - clean: after a clean stop, checkpoints are at the end: nothing to replay;
//   - crash-tail=N: after a kill -9, the N events written since the last
//     checkpoints are replayed (one checkpoint interval, 1 s, at N events/s);
//   - no-checkpoints: the first start after an upgrade replays everything.
func BenchmarkStartup(b *testing.B) {
	total := 100_000
	if v, err := strconv.Atoi(os.Getenv("CHORUS_BENCH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	const tail = 20_000
	ss := streams{}
	for i := range 10 {
		id := fmt.Sprintf("s%d", i)
		ss[id] = config.Stream{ID: id, DisplayLimit: 60}
	}
	conn := bustest.Open(b)
	ctx := context.Background()
	start := time.Now()
	fillStreams(b, conn, ss, total-tail)
	b.Logf("%d events written in %s", total-tail, time.Since(start).Round(time.Millisecond))

	// Checkpoints as of total-tail, then the tail after them.
	saveAll := func() {
		h := NewHub(Options{Streams: ss})
		cs := newCheckpoints(conn.Display, int(conn.NC.MaxPayload()), h.log)
		t0 := time.Now()
		if _, err := h.load(ctx, conn, cs); err != nil {
			b.Fatal(err)
		}
		b.Logf("loaded in %s", time.Since(t0).Round(time.Millisecond))
		h.saveCheckpoints(ctx, cs)
	}
	saveAll()
	fillStreams(b, conn, ss, tail)

	load := func(b *testing.B, kv jetstream.KeyValue, wantReplayed int) {
		cpu0 := cpuTime()
		for b.Loop() {
			h := NewHub(Options{Streams: ss})
			if _, err := h.load(ctx, conn, newCheckpoints(kv, int(conn.NC.MaxPayload()), h.log)); err != nil {
				b.Fatal(err)
			}
			if got := int(testutilCountOf(h.replayed)); got != wantReplayed {
				b.Fatalf("replayed %d, want %d", got, wantReplayed)
			}
		}
		b.ReportMetric(float64(wantReplayed), "replayed-events")
		// CPU time (server and display together) says more than wall time on
		// a shared machine.
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
	b.Run(fmt.Sprintf("events=%d/crash-tail=%d", total, tail), func(b *testing.B) { load(b, conn.Display, tail) })
	saveAll()
	b.Run(fmt.Sprintf("events=%d/clean", total), func(b *testing.B) { load(b, conn.Display, 0) })
	empty, err := conn.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "bench_no_checkpoints"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("events=%d/no-checkpoints", total), func(b *testing.B) { load(b, empty, total) })
}

// fillStreams writes n approvals spread over the streams.
func fillStreams(b *testing.B, conn *bus.Conn, ss streams, n int) {
	b.Helper()
	ids := ss.All()
	msgs := make([]*nats.Msg, 0, 1000)
	flush := func() {
		if _, err := conn.PublishAll(context.Background(), msgs); err != nil {
			b.Fatal(err)
		}
		msgs = msgs[:0]
	}
	now := time.Now()
	for i := range n {
		id := fmt.Sprintf("webhook:%d-%d", now.UnixNano(), i)
		e := bus.Event{Kind: bus.EventApprove, Stream: ids[i%len(ids)].ID, PostID: id, Actor: bus.ActorCuration, At: now,
			Post: &post.Post{ID: id, Network: "webhook", Text: "Hello from the summit, what a keynote! #ChorusLive " + id,
				Lang: "en", Author: post.Author{Handle: "ana", Name: "Ana", ID: "42"}, CreatedAt: now, FetchedAt: now}}
		m, err := e.Msg("")
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, m)
		if len(msgs) == cap(msgs) {
			flush()
		}
	}
	if len(msgs) > 0 {
		flush()
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
