// Command chorus-load is Chorus's load harness. It starts a chorus binary on
// a temporary data directory, holds N websocket clients on a stream, pushes
// signed synthetic posts at a target rate through the webhook, and prints
// throughput (ingested, decided, indexed), ingest-to-screen latency and the
// server's peak memory. Everything stays on this machine's loopback.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/connectors/webhook"
)

const secret = "load-harness-secret-0123456789"

type options struct {
	binary   string
	rate     int
	batch    int
	clients  int
	duration time.Duration
	settle   time.Duration
	keep     bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chorus-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("chorus-load", flag.ContinueOnError)
	fs.StringVar(&o.binary, "binary", "bin/chorus", "chorus binary to start")
	fs.IntVar(&o.rate, "rate", 1000, "posts per second to push")
	fs.IntVar(&o.batch, "batch", 50, "posts per webhook call")
	fs.IntVar(&o.clients, "clients", 500, "websocket clients to hold")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long to push")
	fs.DurationVar(&o.settle, "settle", 20*time.Second, "how long to wait for the pipeline to drain after pushing")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.rate < 1 || o.batch < 1 || o.clients < 1 || o.duration <= 0 {
		return errors.New("rate, batch, clients and duration must be positive")
	}
	dir, err := os.MkdirTemp("", "chorus-load-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	srv, err := startServer(ctx, o.binary, dir)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(out, "chorus-load: server %s (pid %d), %d clients, %d posts/s in calls of %d, for %s\n",
		srv.base, srv.cmd.Process.Pid, o.clients, o.rate, o.batch, o.duration)

	rec := newRecorder()
	clientsCtx, closeClients := context.WithCancel(ctx)
	defer closeClients()
	var wg sync.WaitGroup
	var connected, dropped atomic.Int64
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hold(clientsCtx, srv.base, i == 0, rec, &connected, &dropped)
		}()
	}
	if err := waitUntil(ctx, 60*time.Second, func() bool { return connected.Load() == int64(o.clients) }); err != nil {
		return fmt.Errorf("only %d of %d clients connected", connected.Load(), o.clients)
	}
	before, err := srv.metrics()
	if err != nil {
		return err
	}
	start := time.Now()
	sent, visible, failed := push(ctx, srv.base, o, rec)
	pushTime := time.Since(start)

	// Let the pipeline drain: wait until the index has an event for every
	// accepted post and the recording screen has every approved one, or the
	// settle time passes. Rates are over the time from the first push until
	// then.
	drained := waitUntil(ctx, o.settle, func() bool {
		m, err := srv.metrics()
		return err == nil && m["chorus_index_events_total"]-before["chorus_index_events_total"] >= float64(sent) &&
			rec.count() >= visible
	}) == nil
	after, err := srv.metrics()
	if err != nil {
		return err
	}
	drainTime := time.Since(start)
	if !drained {
		fmt.Fprintf(out, "warning: the pipeline had not drained %s after pushing stopped\n", o.settle)
	}
	closeClients()
	wg.Wait()

	peak, _ := srv.peakRSS()
	lat := rec.latencies()
	perSec := func(name string) float64 {
		return (after[name] - before[name]) / drainTime.Seconds()
	}
	fmt.Fprintf(out, "\n| measure | value |\n| --- | --- |\n")
	fmt.Fprintf(out, "| posts pushed (accepted / failed calls) | %d / %d |\n", sent, failed)
	fmt.Fprintf(out, "| push rate achieved | %.0f posts/s |\n", float64(sent)/pushTime.Seconds())
	fmt.Fprintf(out, "| ingested | %.0f posts/s |\n", perSec("chorus_posts_ingested_total"))
	fmt.Fprintf(out, "| decided | %.0f posts/s |\n", perSec("chorus_posts_decided_total"))
	fmt.Fprintf(out, "| indexed | %.0f events/s |\n", perSec("chorus_index_events_total"))
	fmt.Fprintf(out, "| websocket messages sent | %.0f /s |\n", perSec("chorus_ws_messages_sent_total"))
	fmt.Fprintf(out, "| posts seen on screen by one client | %d of %d approved |\n", rec.count(), visible)
	fmt.Fprintf(out, "| ingest-to-screen latency p50 / p99 / max | %s / %s / %s |\n", pct(lat, 0.50), pct(lat, 0.99), pct(lat, 1))
	fmt.Fprintf(out, "| time from first push to drained | %s (pushing took %s) |\n", drainTime.Round(time.Millisecond), pushTime.Round(time.Millisecond))
	fmt.Fprintf(out, "| clients dropped as slow (each reconnected with since) | %.0f (harness saw %d disconnects) |\n",
		after["chorus_ws_clients_dropped_total"]-before["chorus_ws_clients_dropped_total"], dropped.Load())
	fmt.Fprintf(out, "| server peak memory (VmHWM) | %.0f MiB |\n", float64(peak)/(1<<20))
	return nil
}

// server is a chorus process started by the harness.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

func startServer(ctx context.Context, binary, dir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`server: {addr: "127.0.0.1:%d"}
data_dir: %q
admin_token: load-harness-admin-token
log_level: warn
sources:
  - {id: load, type: webhook, secret: %s, max_posts: 1000, max_body_bytes: 16777216}
streams:
  - {id: load, title: Load, sources: [load], blocked_words: [blocked], display_limit: 60,
     filters: {spam: {disabled: true}}}
`, port, filepath.Join(dir, "data"), secret)
	cfgPath := filepath.Join(dir, "chorus.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, binary, "serve", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (run make build first): %w", binary, err)
	}
	s := &server{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	err = waitUntil(ctx, 60*time.Second, func() bool {
		resp, err := http.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		s.stop()
		return nil, errors.New("server did not become ready")
	}
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

// metrics reads the server's counters, summing over labels.
func (s *server) metrics() (map[string]float64, error) {
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err == nil {
			out[name] += v
		}
	}
	return out, sc.Err()
}

// peakRSS reads the server's high-water resident memory from /proc.
func (s *server) peakRSS() (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM")
}

// push sends signed batches at the target rate until the duration ends. It
// returns how many posts were accepted, how many of those should reach the
// screen (every 20th carries a blocked word), and how many calls failed.
func push(ctx context.Context, base string, o options, rec *recorder) (sent, visible, failed int) {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	calls := max(1, o.rate/o.batch)
	interval := time.Second / time.Duration(calls)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	n := 0
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return sent, visible, failed
		case <-tick.C:
		}
		posts := make([]map[string]any, o.batch)
		for i := range posts {
			n++
			text := fmt.Sprintf("Load post %d #load with some words to index and show", n)
			if n%20 == 0 {
				text += " blocked"
			}
			posts[i] = map[string]any{"id": strconv.Itoa(n), "text": text,
				"author": map[string]any{"handle": fmt.Sprintf("user%d", n%500), "name": "Load User"}}
		}
		body, _ := json.Marshal(posts)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Add(1)
		go func(first, count int) {
			defer wg.Done()
			defer func() { <-sem }()
			sentAt := time.Now()
			for i := range count {
				rec.sent(fmt.Sprintf("webhook:%d", first+i), sentAt)
			}
			ok := call(base, body)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				sent += count
				for i := range count {
					if (first+i)%20 != 0 {
						visible++
					}
				}
			} else {
				failed++
			}
		}(n-o.batch+1, o.batch)
	}
}

func call(base string, body []byte) bool {
	now := time.Now()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/ingest/load", bytes.NewReader(body))
	req.Header.Set(webhook.TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(secret), now, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusAccepted
}

// hold keeps one websocket client connected the way a wall does: when the
// server drops it (too slow) it reconnects with ?since= and carries on. The
// recording client measures latency; the others only read.
func hold(ctx context.Context, base string, recording bool, rec *recorder, connected, dropped *atomic.Int64) {
	var seq uint64
	first := true
	for ctx.Err() == nil {
		url := "ws" + strings.TrimPrefix(base, "http") + "/ws/streams/load"
		if seq > 0 {
			url += "?since=" + strconv.FormatUint(seq, 10)
		}
		c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
		if err != nil {
			if !pause(ctx, 200*time.Millisecond) {
				return
			}
			continue
		}
		if first {
			connected.Add(1)
			first = false
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		seq = read(c, seq, recording, rec)
		stop()
		c.Close()
		if ctx.Err() == nil {
			dropped.Add(1)
		}
	}
}

// read reads until the connection fails and returns the last seq seen.
func read(c *websocket.Conn, seq uint64, recording bool, rec *recorder) uint64 {
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return seq
		}
		if !recording {
			// Screens other than the recording one only track seq; a cheap
			// scan keeps the harness from eating the CPU it measures.
			seq = max(seq, scanSeq(data))
			continue
		}
		var m struct {
			Type string `json:"type"`
			Seq  uint64 `json:"seq"`
			Post struct {
				ID string `json:"id"`
			} `json:"post"`
		}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		seq = max(seq, m.Seq)
		if m.Type == "add" {
			rec.seen(m.Post.ID, time.Now())
		}
	}
}

// scanSeq finds "seq":N in a message without decoding it.
func scanSeq(data []byte) uint64 {
	i := bytes.Index(data, []byte(`"seq":`))
	if i < 0 {
		return 0
	}
	var n uint64
	for _, b := range data[i+6:] {
		if b < '0' || b > '9' {
			break
		}
		n = n*10 + uint64(b-'0')
	}
	return n
}

func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// recorder matches sends with arrivals on screen.
type recorder struct {
	mu     sync.Mutex
	sentAt map[string]time.Time
	lat    []time.Duration
}

func newRecorder() *recorder { return &recorder{sentAt: map[string]time.Time{}} }

func (r *recorder) sent(id string, at time.Time) {
	r.mu.Lock()
	r.sentAt[id] = at
	r.mu.Unlock()
}

func (r *recorder) seen(id string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sentAt[id]; ok {
		r.lat = append(r.lat, at.Sub(s))
		delete(r.sentAt, id)
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lat)
}

func (r *recorder) latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]time.Duration(nil), r.lat...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func pct(sorted []time.Duration, p float64) string {
	if len(sorted) == 0 {
		return "n/a"
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i].Round(100 * time.Microsecond).String()
}

func waitUntil(ctx context.Context, limit time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
