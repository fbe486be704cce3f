package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/post"
)

// BenchmarkParseBody decodes and normalizes a call of 10 of the demo's
// realistic posts, as the load harness sends them; one op is one call.
func BenchmarkParseBody(b *testing.B) {
	g := demo.Generator{SourceID: "hook", Seed: 1, SpamShare: 0.04, OffensiveShare: 0.04, Audience: 1_000_000, UnlabelledShare: 0.4}
	now := time.Now()
	var bodies [][]byte
	for c := range 100 {
		posts := make([]post.Post, 10)
		for i := range posts {
			posts[i] = g.Post(int64(c*10+i), now)
		}
		body, err := json.Marshal(posts)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ParseBody(bodies[i%len(bodies)], "webhook", "hook", 1000, now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkWebhook measures the webhook's real path, alone: callers send
// signed calls of 10 demo posts back to back over HTTP (a real listener),
// and each call is verified, parsed, batched with the others by the
// runner, stored on the ingest stream of an embedded NATS server and
// answered 202. Nothing reads the stream, so curation and the index take no
// CPU. One op is one call; it reports calls/s, posts/s and the process's
// CPU per call (the callers' included: run it with -cpu 2 as the machine
// has).
func BenchmarkWebhook(b *testing.B) {
	for _, callers := range []int{8, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) { benchWebhook(b, callers) })
	}
}

func benchWebhook(b *testing.B, callers int) {
	conn := bustest.Open(b)
	cfg, err := config.Parse([]byte("sources: [{id: hook, type: webhook, secret: " + secret + "}]"))
	if err != nil {
		b.Fatal(err)
	}
	src, err := New(cfg.Sources[0], connectors.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	r := connectors.NewRunner(map[string]connectors.Source{"hook": src}, conn, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	e := echo.New()
	e.POST("/api/v1/ingest/:source", src.(*Source).Handle)
	srv := httptest.NewServer(e)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: callers}}

	g := demo.Generator{SourceID: "hook", Seed: 1, SpamShare: 0.04, OffensiveShare: 0.04, Audience: 1_000_000, UnlabelledShare: 0.4}
	bodies := make([][]byte, 1000)
	start := time.Now()
	for c := range bodies {
		posts := make([]post.Post, 10)
		for i := range posts {
			posts[i] = g.Post(int64(c*10+i), start)
		}
		if bodies[c], err = json.Marshal(posts); err != nil {
			b.Fatal(err)
		}
	}
	call := func(n int) error {
		body := bodies[n%len(bodies)]
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/ingest/hook", bytes.NewReader(body))
		if err != nil {
			return err
		}
		at := time.Now()
		req.Header.Set(TimestampHeader, strconv.FormatInt(at.Unix(), 10))
		req.Header.Set(SignatureHeader, Sign([]byte(secret), at, body))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("call %d: %s", n, resp.Status)
		}
		return nil
	}
	waitFor(b, func() bool { return call(0) == nil }) // the source is running
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1))
				if n > b.N {
					return
				}
				if err := call(n); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	cpu := cpuTime(b) - cpu0
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(float64(10*b.N)/b.Elapsed().Seconds(), "posts/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/call")
}

// waitFor waits up to 10 seconds for cond.
func waitFor(b *testing.B, cond func() bool) {
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatal("the webhook did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
