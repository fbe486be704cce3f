package main

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Where a post's time to the screen goes. The harness runs on the same
// cores as the server and reads thousands of sockets, so it can be late
// itself: a post reaching the recording screen late may have waited in the
// harness, not the server. So a fanout run reports, beside the end-to-end
// latency:
//
//   - made → 202: the webhook call carrying the post, as the harness saw it;
//   - 202 → screen: everything after the webhook (curation, the events
//     stream, the display, the network, the recording screen's reading);
//   - the server's own display stages, from chorus_display_delay_seconds:
//     the decision to the display applying the event, the stream's send
//     window, and the write to each screen;
//   - the harness's lateness: how late its goroutines wake (a probe
//     sleeping 5 ms at a time) and how late its calls start after their
//     tick. A screen's reader is as late as the probe, so that much of
//     202 → screen is the harness's, not the server's.

// lagProbe measures the harness's scheduling lag while it runs.
type lagProbe struct {
	cancel context.CancelFunc
	done   chan struct{}
	lag    []time.Duration
}

const probeSleep = 5 * time.Millisecond

func startLagProbe(ctx context.Context) *lagProbe {
	ctx, cancel := context.WithCancel(ctx)
	p := &lagProbe{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTimer(probeSleep)
		defer t.Stop()
		for {
			began := time.Now()
			t.Reset(probeSleep)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			p.lag = append(p.lag, max(time.Since(began)-probeSleep, 0))
		}
	}()
	return p
}

// stop ends the probe and returns the sorted lags.
func (p *lagProbe) stop() []time.Duration {
	p.cancel()
	<-p.done
	return sorted(p.lag)
}

// histogram is a Prometheus histogram's change over a run: cumulative
// counts by upper bound.
type histogram struct {
	bounds []float64 // seconds, ascending, the last +Inf
	counts []float64
}

// quantile is the upper bound of the bucket holding quantile q, or the
// largest finite bound for the +Inf bucket (so "≤ X" is exact).
func (h histogram) quantile(q float64) (bound time.Duration, inf bool) {
	if len(h.counts) == 0 || h.counts[len(h.counts)-1] == 0 {
		return 0, false
	}
	want := q * h.counts[len(h.counts)-1]
	for i, c := range h.counts {
		if c >= want {
			if math.IsInf(h.bounds[i], 1) {
				return time.Duration(h.bounds[max(i-1, 0)] * float64(time.Second)), true
			}
			return time.Duration(h.bounds[i] * float64(time.Second)), false
		}
	}
	return 0, false
}

func (h histogram) count() float64 {
	if len(h.counts) == 0 {
		return 0
	}
	return h.counts[len(h.counts)-1]
}

// displayDelays reads chorus_display_delay_seconds by stage, as it changed
// from m0 to m1; empty for servers without it.
func displayDelays(m0, m1 metrics) map[string]histogram {
	const prefix = `chorus_display_delay_seconds_bucket{`
	type bucket struct{ le, n float64 }
	byStage := map[string][]bucket{}
	for series, v := range m1 {
		if !strings.HasPrefix(series, prefix) {
			continue
		}
		labels := strings.TrimSuffix(strings.TrimPrefix(series, prefix), "}")
		var stage, le string
		for _, kv := range strings.Split(labels, ",") {
			k, val, _ := strings.Cut(kv, "=")
			val = strings.Trim(val, `"`)
			switch k {
			case "stage":
				stage = val
			case "le":
				le = val
			}
		}
		bound, err := strconv.ParseFloat(le, 64)
		if err != nil || stage == "" {
			continue
		}
		byStage[stage] = append(byStage[stage], bucket{bound, v - m0[series]})
	}
	out := map[string]histogram{}
	for stage, bs := range byStage {
		sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
		var h histogram
		for _, b := range bs {
			h.bounds = append(h.bounds, b.le)
			h.counts = append(h.counts, b.n)
		}
		out[stage] = h
	}
	return out
}

// stages describes where the run's time went.
func (r *fanoutRun) stages() string {
	pct := func(d []time.Duration) string {
		if len(d) == 0 {
			return "none"
		}
		return fmt.Sprintf("p50 %s, p99 %s", ms(percentile(d, 0.5)), ms(percentile(d, 0.99)))
	}
	parts := []string{
		"made → 202 " + pct(r.hook),
		"202 → screen " + pct(r.after),
	}
	var server []string
	for _, s := range []struct{ stage, name string }{
		{"applied", "decided → display applied"},
		{"gathered", "applied → sent (window)"},
		{"written", "sent → written (per write)"},
	} {
		h, ok := r.delay[s.stage]
		if !ok || h.count() == 0 {
			continue
		}
		p50, _ := h.quantile(0.5)
		p99, inf := h.quantile(0.99)
		over := "≤ "
		if inf {
			over = "> "
		}
		server = append(server, fmt.Sprintf("%s p50 ≤ %s, p99 %s%s", s.name, ms(p50), over, ms(p99)))
	}
	if len(server) > 0 {
		parts = append(parts, "server: "+strings.Join(server, ", "))
	} else {
		parts = append(parts, "server: no display delay metric (older binary)")
	}
	parts = append(parts, fmt.Sprintf("harness: goroutines woke late by %s (max %s), calls started late by %s",
		pct(r.lag), ms(percentile(r.lag, 1)), pct(r.late)))
	return strings.Join(parts, "; ")
}
