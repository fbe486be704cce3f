package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/curation"
)

const (
	secret     = "load-harness-secret-0123456789"
	adminToken = "load-harness-admin-token"
)

// The harness's curated streams and the webhook sources that feed them.
// Sources are shared: brand feeds both streams, so a post from it is
// decided twice; social and feeds once each.
var (
	sources = []string{"social", "brand", "feeds"}
	// sourceShare is each source's share of the posts pushed.
	sourceShare = []float64{0.6, 0.2, 0.2}
	// wallSources feed the stream the screens watch.
	wallSources = []string{"social", "brand"}
)

// config is the server's configuration: an event wall with the demo's
// blocked words and every default filter (profanity in every language,
// spam with duplicate, near-duplicate and per-author rate checks), and a
// brand stream with rules, fed partly by the same source.
//
// With limits, the server's rate limits are raised out of the way: the
// webhook's default of 50 calls/s per source (an operator expecting 500
// calls/s raises it the same way) and the admin calls the harness makes.
func config(dir string, port, natsPort int, limits bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server: {addr: \"127.0.0.1:%d\"}\ndata_dir: %q\nadmin_token: %s\nlog_level: warn\n", port, filepath.Join(dir, "data"), adminToken)
	if limits {
		b.WriteString("limits: {webhook: {per_second: 1000000, burst: 1000000}, admin: {per_second: 1000, burst: 1000}}\n")
	}
	fmt.Fprintf(&b, "nats: {listen: \"127.0.0.1:%d\"}\nsources:\n", natsPort)
	for _, s := range sources {
		fmt.Fprintf(&b, "  - {id: %s, type: webhook, secret: %s, max_posts: 1000, max_body_bytes: 16777216}\n", s, secret)
	}
	words := make([]string, len(demo.BlockedWords))
	for i, w := range demo.BlockedWords {
		words[i] = strconv.Quote(w)
	}
	fmt.Fprintf(&b, `streams:
  - {id: wall, title: Wall, sources: [social, brand], blocked_words: [%s], display_limit: 60}
  - id: brand
    title: Brand
    sources: [brand, feeds]
    blocked_words: [%s]
    filters: {languages: [en, es, fr, de, pt, ja, ko, zh, ar, he, hi, el, ru], min_text_length: 3}
    rules:
      - {name: official, when: {authors: ["x:choruslive", "x:harbourhall"]}, action: pin}
      - {name: giveaway, when: {keywords: [giveaway, "win tickets"]}, action: hold}
      - {name: reach, when: {expr: "Author.Followers > 100000 and HasMedia"}, action: feature}
      - {name: stage, when: {hashtags: [MainStage, RooftopStage]}, action: tag, tags: [stage]}
`, strings.Join(words, ", "), strings.Join(words, ", "))
	return b.String()
}

// server is a chorus process started by the harness.
type server struct {
	binary  string
	cfgPath string
	base    string
	natsURL string

	cmd  *exec.Cmd
	done chan error
	// startup is how long the last start took to answer /readyz with 200.
	startup time.Duration

	nc *nats.Conn
	js jetstream.JetStream
}

func newServer(binary, dir string, limits bool) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	natsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{
		binary:  binary,
		cfgPath: filepath.Join(dir, "chorus.yaml"),
		base:    fmt.Sprintf("http://127.0.0.1:%d", port),
		natsURL: fmt.Sprintf("nats://127.0.0.1:%d", natsPort),
	}
	return s, os.WriteFile(s.cfgPath, []byte(config(dir, port, natsPort, limits)), 0o600)
}

// start runs the binary and waits until it is ready, timing it.
func (s *server) start(ctx context.Context) error {
	began := time.Now()
	cmd := exec.Command(s.binary, "serve", "--config", s.cfgPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s (run make build first): %w", s.binary, err)
	}
	s.cmd, s.done = cmd, make(chan error, 1)
	go func() { s.done <- cmd.Wait() }()
	err := waitUntil(ctx, 30*time.Minute, 20*time.Millisecond, func() bool {
		select {
		case <-s.done:
			return true
		default:
		}
		resp, err := http.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	s.startup = time.Since(began)
	select {
	case err := <-s.done:
		s.done <- err
		return fmt.Errorf("server exited while starting: %v", err)
	default:
	}
	if err != nil {
		s.stop()
		return errors.New("server did not become ready")
	}
	s.nc, err = nats.Connect(s.natsURL, nats.Name("chorus-load"))
	if err != nil {
		s.stop()
		return fmt.Errorf("connect to the server's NATS: %w", err)
	}
	s.js, err = jetstream.New(s.nc, jetstream.WithPublishAsyncMaxPending(4096))
	return err
}

// stop ends the server with SIGTERM (SIGKILL after 60 s) and reports how
// long it took.
func (s *server) stop() time.Duration {
	if s.cmd == nil {
		return 0
	}
	if s.nc != nil {
		s.nc.Close()
		s.nc = nil
	}
	began := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
	return time.Since(began)
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// metrics are the server's Prometheus samples: by full series
// (`name{labels}`) and summed by name.
type metrics map[string]float64

func (m metrics) delta(before metrics, name string) float64 { return m[name] - before[name] }

func (s *server) metrics() (metrics, error) {
	req, _ := http.NewRequest(http.MethodGet, s.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	out := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := cutLast(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		out[series] = v
		if i := strings.IndexByte(series, '{'); i >= 0 {
			out[series[:i]] += v
		}
	}
	return out, sc.Err()
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// mustMetrics reads the metrics, retrying for a few seconds: a server busy
// with a burst may be slow to answer.
func (s *server) mustMetrics(ctx context.Context) (metrics, error) {
	var m metrics
	var last error
	err := waitUntil(ctx, 20*time.Second, 100*time.Millisecond, func() bool {
		m, last = s.metrics()
		return last == nil
	})
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", errors.Join(last, err))
	}
	return m, nil
}

// proc reads the server's memory (kB fields of /proc/<pid>/status) and CPU
// time (user + system).
type procStats struct {
	rss, hwm int64 // bytes
	cpu      time.Duration
}

func (s *server) proc() (procStats, error) {
	var st procStats
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return st, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		for field, dst := range map[string]*int64{"VmRSS:": &st.rss, "VmHWM:": &st.hwm} {
			if v, ok := strings.CutPrefix(line, field); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				*dst = kb * 1024
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid()))
	if err != nil {
		return st, err
	}
	// Fields after the command name (which may hold spaces) start at state;
	// utime and stime are the 14th and 15th fields of the whole line.
	_, rest, _ := cutLast(string(stat), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return st, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	sys, _ := strconv.ParseInt(f[12], 10, 64)
	st.cpu = time.Duration(ut+sys) * time.Second / clockTicks
	return st, nil
}

// clockTicks is USER_HZ, the unit of /proc CPU times (100 on Linux).
const clockTicks = 100

// curationLag is how many ingest messages curation has not acknowledged
// (over its partitions' consumers, or the consumers of an older Chorus),
// and how many messages the ingest streams stored (the sum of their last
// sequences: CHORUS_INGEST's and, when there are, the partitions').
func (s *server) curationLag(ctx context.Context) (lag, stored uint64, err error) {
	if lag, err = curation.Behind(ctx, s.js); err != nil {
		return 0, 0, err
	}
	for _, name := range bus.IngestStreams() {
		stream, err := s.js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue // an older Chorus, without partition streams
		}
		if err != nil {
			return 0, 0, err
		}
		sinfo, err := stream.Info(ctx)
		if err != nil {
			return 0, 0, err
		}
		stored += sinfo.State.LastSeq
	}
	return lag, stored, nil
}

// eventsLast is the events stream's last sequence.
func (s *server) eventsLast(ctx context.Context) (uint64, error) {
	stream, err := s.js.Stream(ctx, "CHORUS_EVENTS")
	if err != nil {
		return 0, err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// goMemory is what the server's Go runtime holds (heap in use and
// goroutine stacks) after garbage collections, which GET
// /debug/pprof/heap?gc=1 runs (on a server without pprof, none). Two:
// what sync.Pools hold survives the first, and the pools' buffers are
// not screens' memory.
func (s *server) goMemory(ctx context.Context) (int64, error) {
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/debug/pprof/heap?gc=1", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	m, err := s.mustMetrics(ctx)
	if err != nil {
		return 0, err
	}
	return int64(m["go_memstats_heap_inuse_bytes"] + m["go_memstats_stack_inuse_bytes"]), nil
}

// profile saves a CPU profile of the next d to path, when the server
// serves /debug/pprof (it returns an error otherwise).
func (s *server) profile(ctx context.Context, d time.Duration, path string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.base, int(d.Seconds())), nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.ReadFrom(resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func waitUntil(ctx context.Context, limit, every time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(every)
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
