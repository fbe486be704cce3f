package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/chorus-wall/chorus/connectors/webhook"
)

// pushed is what a push phase did, counted in posts and calls.
type pushed struct {
	mu       sync.Mutex
	offered  int // posts the schedule asked for
	accepted int // posts in calls answered 202
	failed   int // posts in calls answered otherwise or not at all
	skipped  int // posts not sent: every caller was still waiting
	calls    int // calls answered 202
	callLat  []time.Duration
	// late is how late each call started after its tick: the harness's
	// own lateness, not the server's.
	late    []time.Duration
	elapsed time.Duration
	// acceptedAt is when the call carrying each post id was answered 202.
	acceptedAt map[string]time.Time
}

func (p *pushed) record(n int, ok bool, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recordLocked(n, ok, took)
}

// recordAccepted records an open-loop call: when it was answered and how
// late it started.
func (p *pushed) recordAccepted(ids []string, ok bool, took, late time.Duration, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recordLocked(len(ids), ok, took)
	p.late = append(p.late, late)
	if ok {
		for _, id := range ids {
			p.acceptedAt[id] = at
		}
	}
}

// accepted202 returns when the post id was answered 202.
func (p *pushed) accepted202(id string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.acceptedAt[id]
	return t, ok
}

func (p *pushed) recordLocked(n int, ok bool, took time.Duration) {
	if ok {
		p.accepted += n
		p.calls++
		p.callLat = append(p.callLat, took)
	} else {
		p.failed += n
	}
}

func (p *pushed) rate(n int) float64 { return float64(n) / p.elapsed.Seconds() }

// client is the harness's HTTP client: enough idle connections for every
// caller, so calls do not pay for new connections.
var client = &http.Client{
	Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute},
	Timeout:   2 * time.Minute,
}

// openLoop offers rate posts/s in calls of batch posts from sources from,
// for d, as a busy network would: on schedule whether or not the server
// keeps up. At most inflight calls wait at once; a call due while all of
// them wait is skipped and counted, since the server is not keeping up.
func openLoop(ctx context.Context, base string, m *mix, from []string, rate, batch, inflight int, d time.Duration) *pushed {
	res := &pushed{acceptedAt: map[string]time.Time{}}
	return openLoopInto(ctx, res, base, m, from, rate, batch, inflight, d)
}

// openLoopInto is openLoop recording into res, which a screen may read
// meanwhile.
func openLoopInto(ctx context.Context, res *pushed, base string, m *mix, from []string, rate, batch, inflight int, d time.Duration) *pushed {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	interval := time.Duration(float64(time.Second) * float64(batch) / float64(rate))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	start := time.Now()
	defer func() { wg.Wait(); res.elapsed = time.Since(start) }()
	for {
		var due time.Time
		select {
		case <-ctx.Done():
			return res
		case due = <-tick.C:
		}
		res.mu.Lock()
		res.offered += batch
		res.mu.Unlock()
		select {
		case sem <- struct{}{}:
		default:
			res.mu.Lock()
			res.skipped += batch
			res.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			source, body, ids := m.call(batch, from)
			began := time.Now()
			ok := call(base, source, body)
			end := time.Now()
			res.recordAccepted(ids, ok, end.Sub(began), began.Sub(due), end)
		}()
	}
}

// closedLoop runs callers that each send calls of batch posts back to back
// for d: the most the webhook takes.
func closedLoop(ctx context.Context, base string, m *mix, callers, batch int, d time.Duration) *pushed {
	res := &pushed{}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				source, body, _ := m.call(batch, nil)
				began := time.Now()
				ok := call(base, source, body)
				res.record(batch, ok, time.Since(began))
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.offered = res.accepted + res.failed
	return res
}

// call sends one signed webhook call and reports whether it was accepted.
func call(base, source string, body []byte) bool {
	now := time.Now()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/ingest/"+source, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), now, body))
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusAccepted
}

// percentile of sorted durations (p in [0, 1]); 0 when there are none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p)]
}

func sorted(d []time.Duration) []time.Duration {
	out := append([]time.Duration(nil), d...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
