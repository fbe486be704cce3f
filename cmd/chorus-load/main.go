// Command chorus-load is Chorus's load harness: `make bench` runs it. It
// starts a chorus binary on a temporary data directory and measures, in
// one run, every figure of the throughput goals, printing one table:
//
//   - idle: start-up time and memory of a fresh server, and the binary size;
//   - fanout: ingest-to-screen latency (p50/p99/p999, from a timestamp
//     inside each post) at -fanout-rate posts/s with one screen and with
//     -screens screens, the CPU the server spends per websocket delivery
//     (the difference between the two, per message delivered) and the
//     memory each idle screen costs;
//   - webhook: how many posts/s and calls/s the signed webhook takes from
//     back-to-back callers;
//   - throughput: -rate posts/s offered for -duration: how much of it is
//     curated and indexed while it arrives, how far behind each stage is
//     when it stops, and how long they take to drain;
//   - history: the events stream is filled to -history events, the server
//     restarted, and start-up to ready timed;
//   - gobench: the curation benchmarks on one core (go test -bench -cpu 1).
//
// Posts are a realistic mix (see posts.go): 13 languages, 40% without a
// language from the network, 4% spam and 4% offensive, three sources of
// which one feeds both of two curated streams. Everything stays on this
// machine's loopback; progress goes to stderr and the table to stdout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	binary string
	seed   int64

	rate, batch, callers int
	duration             time.Duration

	screens    int
	fanoutRate int
	fanoutFor  time.Duration

	hookPosts, hookCallers int
	hookFor                time.Duration

	history   uint64
	drain     time.Duration
	benchtime string
	phases    string
	pprofDir  string
	keep      bool
	limits    bool
	compress  bool
}

var allPhases = []string{"idle", "fanout", "webhook", "throughput", "history", "gobench"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chorus-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out, progress io.Writer) error {
	var o options
	fs := flag.NewFlagSet("chorus-load", flag.ContinueOnError)
	fs.StringVar(&o.binary, "binary", "bin/chorus", "chorus binary to start")
	fs.Int64Var(&o.seed, "seed", time.Now().UnixNano(), "varies the generated posts")
	fs.IntVar(&o.rate, "rate", 20000, "throughput: posts per second offered")
	fs.IntVar(&o.batch, "batch", 250, "throughput: posts per webhook call")
	fs.IntVar(&o.callers, "callers", 32, "throughput: webhook calls waiting at most at once")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "throughput: how long to offer posts")
	fs.IntVar(&o.screens, "screens", 5000, "fanout: websocket screens on the wall")
	fs.IntVar(&o.fanoutRate, "fanout-rate", 330, "fanout: posts per second offered to the wall's sources (about 60% reach its screens: the rest are held or rejected)")
	fs.DurationVar(&o.fanoutFor, "fanout-duration", 20*time.Second, "fanout: how long to push, with one screen and with all")
	fs.IntVar(&o.hookPosts, "webhook-posts", 10, "webhook: posts per call")
	fs.IntVar(&o.hookCallers, "webhook-callers", 64, "webhook: callers sending back to back")
	fs.DurationVar(&o.hookFor, "webhook-duration", 10*time.Second, "webhook: how long to call")
	fs.Uint64Var(&o.history, "history", 1_000_000, "history: events retained when the server restarts")
	fs.DurationVar(&o.drain, "drain", 3*time.Minute, "how long to wait at most for the pipeline to drain after a push")
	fs.StringVar(&o.benchtime, "benchtime", "3s", "gobench: -benchtime of the curation benchmarks")
	fs.StringVar(&o.phases, "phases", strings.Join(allPhases, ","), "phases to run, comma-separated: "+strings.Join(allPhases, ","))
	fs.StringVar(&o.pprofDir, "pprof", "", "save the server's CPU profiles of the fanout, webhook and throughput phases here (needs /debug/pprof)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data directory")
	fs.BoolVar(&o.limits, "limits", true, "raise the server's rate limits out of the way (false for binaries older than the limits option)")
	fs.BoolVar(&o.compress, "compress", true, "fanout: screens offer permessage-deflate, as browsers do (servers that support it then send compressed frames)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dialer.EnableCompression = o.compress
	phases := map[string]bool{}
	for _, p := range strings.Split(o.phases, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if !slices.Contains(allPhases, p) {
				return fmt.Errorf("-phases: unknown phase %q (phases: %s)", p, strings.Join(allPhases, ", "))
			}
			phases[p] = true
		}
	}
	if o.rate < 1 || o.batch < 1 || o.callers < 1 || o.screens < 2 || o.fanoutRate < 1 || o.hookPosts < 1 || o.hookCallers < 1 {
		return errors.New("rates, batches, callers and screens must be positive (at least 2 screens)")
	}
	h := &harness{o: o, log: progress, rep: &report{o: o}, mix: newMix(o.seed)}
	err := h.run(ctx, phases)
	h.rep.print(out)
	return err
}

// harness runs the phases against one server and fills the report.
type harness struct {
	o   options
	log io.Writer
	rep *report
	mix *mix
	srv *server
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "chorus-load: "+format+"\n", args...)
}

func (h *harness) run(ctx context.Context, phases map[string]bool) error {
	if phases["gobench"] {
		// First, while the machine is quiet: the benchmark runs on one core.
		h.logf("curation benchmarks (go test -bench -cpu 1 ./curation)")
		res, err := goBench(ctx, ".", "^Benchmark(Decide|Curate)$", h.o.benchtime)
		if err != nil {
			return err
		}
		h.rep.bench = res
	}
	if fi, err := os.Stat(h.o.binary); err == nil {
		h.rep.binary = fi.Size()
	} else {
		return fmt.Errorf("binary: %w (run make build first)", err)
	}
	dir, err := os.MkdirTemp("", "chorus-load-")
	if err != nil {
		return err
	}
	if h.o.keep {
		h.logf("data directory %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if h.o.pprofDir != "" {
		if err := os.MkdirAll(h.o.pprofDir, 0o755); err != nil {
			return err
		}
	}
	h.srv, err = newServer(h.o.binary, dir, h.o.limits)
	if err != nil {
		return err
	}
	if err := h.srv.start(ctx); err != nil {
		return err
	}
	defer h.srv.stop()
	h.rep.startEmpty = h.srv.startup
	h.logf("server %s (pid %d) ready in %s", h.srv.base, h.srv.pid(), h.srv.startup.Round(time.Millisecond))
	if phases["idle"] {
		if err := h.idle(ctx); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		name string
		fn   func(context.Context) error
	}{{"fanout", h.fanout}, {"webhook", h.webhook}, {"throughput", h.throughput}, {"history", h.historyPhase}} {
		if !phases[p.name] {
			continue
		}
		if err := p.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

// idle measures a fresh server's memory once it has settled.
func (h *harness) idle(ctx context.Context) error {
	if !sleep(ctx, 5*time.Second) {
		return ctx.Err()
	}
	st, err := h.srv.proc()
	if err != nil {
		return err
	}
	h.rep.idleFresh = st.rss
	h.logf("idle: %s", mib(st.rss))
	return nil
}

// waitDrained waits until curation has acknowledged every ingest message and
// the index and display have applied every event, at most o.drain.
func (h *harness) waitDrained(ctx context.Context, extra func() bool) (time.Duration, bool) {
	began := time.Now()
	err := waitUntil(ctx, h.o.drain, 100*time.Millisecond, func() bool {
		return h.drained(ctx) && (extra == nil || extra())
	})
	return time.Since(began), err == nil
}

func (h *harness) drained(ctx context.Context) bool {
	lag, _, err := h.srv.curationLag(ctx)
	if err != nil || lag > 0 {
		return false
	}
	last, err := h.srv.eventsLast(ctx)
	if err != nil {
		return false
	}
	m, err := h.srv.metrics()
	return err == nil && uint64(m["chorus_index_applied_seq"]) >= last && uint64(m["chorus_display_applied_seq"]) >= last
}

// approvedOnWall is how many approvals the wall stream has decided.
func approvedOnWall(m metrics) float64 {
	return m[`chorus_posts_decided_total{outcome="approve",stream="wall"}`]
}

// profileDuring saves a CPU profile of the next d as name, when asked to.
func (h *harness) profileDuring(ctx context.Context, d time.Duration, name string) func() {
	if h.o.pprofDir == "" || d < 2*time.Second {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		path := filepath.Join(h.o.pprofDir, name+".pprof")
		if err := h.srv.profile(ctx, d-time.Second, path); err != nil {
			h.logf("no CPU profile for %s: %v", name, err)
		} else {
			h.logf("CPU profile: %s", path)
		}
	}()
	return func() { <-done }
}
