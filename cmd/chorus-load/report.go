package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// report is everything one run measured; print writes it as one table
// with a row per goal.
type report struct {
	o options

	bench                                      map[string]benchResult
	binary                                     int64
	startEmpty                                 time.Duration
	idleFresh, idleHistory, idleHistorySettled int64
	fanBase, fanAll                            *fanoutRun
	perSocket                                  float64 // bytes of RSS
	perSocketGo                                float64 // bytes of Go heap and stacks, after a GC
	hook                                       *pushed
	tput                                       *throughputRun
	historyEvents                              uint64
	catchUp                                    float64 // events/s applied after seeding
	stopTime, startHistory                     time.Duration
}

const notMeasured = "not measured (phase skipped)"

func (r *report) print(w io.Writer) {
	rows := [][3]string{
		{"ingest → curate → index, sustained", "20,000 posts/s", r.throughputRow()},
		{"curation decisions, full path, one core (`go test -bench -cpu 1`)", "≥ 50,000/s per core", r.benchRow()},
		{fmt.Sprintf("signed webhook (%d posts per call, %d callers)", r.o.hookPosts, r.o.hookCallers), "≥ 5,000 posts/s from ≥ 500 calls/s", r.hookRow()},
		{r.latencyLabel(), "p99 ≤ 100 ms at 200 posts/s to 5,000 screens", r.latencyRow()},
		{"CPU per websocket delivery", "≤ 5 µs", r.cpuRow()},
		{"memory per idle websocket", "≤ 10 KB", r.socketRow()},
		{fmt.Sprintf("start-up to ready with %s events retained", thousands(float64(r.o.history))), "≤ 2 s, not growing with history", r.startupRow()},
		{"binary size", "≤ 60 MB", fmt.Sprintf("%.0f MB", float64(r.binary)/1e6)},
		{"idle memory", "≤ 60 MiB", r.idleRow()},
	}
	fmt.Fprintf(w, "\n| what | goal | measured |\n| --- | --- | --- |\n")
	for _, row := range rows {
		fmt.Fprintf(w, "| %s | %s | %s |\n", row[0], row[1], row[2])
	}
}

func (r *report) throughputRow() string {
	t := r.tput
	if t == nil {
		return notMeasured
	}
	s := t.pushed.elapsed.Seconds()
	out := fmt.Sprintf("offered %s posts/s for %s in calls of %d: accepted %s/s; while offered: curated %s posts/s (%s decisions/s), indexed %s events/s; behind at the end: curation %s posts, index %s events; ",
		thousands(float64(t.pushed.offered)/s), r.o.duration, r.o.batch, thousands(t.pushed.rate(t.pushed.accepted)),
		thousands(float64(t.curated)/s), thousands(t.decided/s), thousands(t.indexed/s),
		thousands(float64(t.curationLag)), thousands(float64(t.indexLag)))
	if t.drained {
		out += fmt.Sprintf("drained %s later", t.drain.Round(100*time.Millisecond))
		if t.pushed.accepted > 0 {
			// CPU per post holds on a busy machine, where rates do not: two
			// cores of the server's own would sustain about 2 s / CPU per post.
			per := t.cpu / time.Duration(t.pushed.accepted)
			out += fmt.Sprintf("; server CPU %s per post accepted, curated and indexed (two cores' worth: %s posts/s)",
				ms(per), thousands(2*float64(time.Second)/float64(per)))
		}
	} else {
		out += fmt.Sprintf("NOT drained %s later", t.drain.Round(time.Second))
	}
	if t.pushed.skipped > 0 || t.pushed.failed > 0 {
		out += fmt.Sprintf("; %s posts not sent (every caller waiting), %s in failed calls", thousands(float64(t.pushed.skipped)), thousands(float64(t.pushed.failed)))
	}
	if len(t.lat) > 0 {
		out += fmt.Sprintf("; ingest → screen p50 %s, p99 %s", ms(percentile(t.lat, 0.5)), ms(percentile(t.lat, 0.99)))
	}
	return out
}

func (r *report) benchRow() string {
	if r.bench == nil {
		return notMeasured
	}
	var parts []string
	for _, name := range []string{"BenchmarkCurate/mix", "BenchmarkCurate/given", "BenchmarkCurate/detected", "BenchmarkDecide"} {
		b, ok := r.bench[name]
		if !ok {
			continue
		}
		part := fmt.Sprintf("`%s` %s decisions/s", strings.TrimPrefix(name, "Benchmark"), thousands(b["decisions/s"]))
		if p := b["posts/s"]; p > 0 {
			part += fmt.Sprintf(" (%s posts/s)", thousands(p))
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "no curation benchmark reported decisions/s"
	}
	return strings.Join(parts, "; ")
}

func (r *report) hookRow() string {
	h := r.hook
	if h == nil {
		return notMeasured
	}
	lat := sorted(h.callLat)
	out := fmt.Sprintf("%s posts/s from %s calls/s (call p50 %s, p99 %s)", thousands(h.rate(h.accepted)), thousands(h.rate(h.calls)),
		ms(percentile(lat, 0.5)), ms(percentile(lat, 0.99)))
	if h.failed > 0 {
		out += fmt.Sprintf("; %s posts in failed calls", thousands(float64(h.failed)))
	}
	return out
}

func (r *report) latencyLabel() string {
	label := fmt.Sprintf("ingest → screen, %s screens", thousands(float64(r.o.screens)))
	if a := r.fanAll; a != nil {
		label += fmt.Sprintf(", %.0f posts/s on screen (%d offered)", a.approved/a.pushed.elapsed.Seconds(), r.o.fanoutRate)
	}
	return label
}

func (r *report) latencyRow() string {
	a := r.fanAll
	if a == nil {
		return notMeasured
	}
	out := fmt.Sprintf("p50 %s, p99 %s, p999 %s, max %s; the recording screen showed %s of %s approved posts; all screens received %.1f%% of the adds they were due",
		ms(percentile(a.lat, 0.5)), ms(percentile(a.lat, 0.99)), ms(percentile(a.lat, 0.999)), ms(percentile(a.lat, 1)),
		thousands(float64(a.shown)), thousands(a.approved), 100*float64(a.adds)/max(1, a.approved*float64(a.screens)))
	if a.dropped > 0 {
		out += fmt.Sprintf("; %.0f screens dropped as slow (they resumed with since)", a.dropped)
	}
	if a.snapshots > 0 {
		out += fmt.Sprintf("; %.0f reconnects started from a snapshot (their since was no longer in the history)", a.snapshots)
	}
	if !a.drained {
		out += "; NOT drained"
	}
	if b := r.fanBase; b != nil {
		out += fmt.Sprintf(" (one screen: p50 %s, p99 %s)", ms(percentile(b.lat, 0.5)), ms(percentile(b.lat, 0.99)))
	}
	out += ". Stages with every screen: " + a.stages()
	return out
}

func (r *report) cpuRow() string {
	a, b := r.fanAll, r.fanBase
	if a == nil || b == nil || a.messages <= b.messages {
		return notMeasured
	}
	per := (a.cpu - b.cpu) / time.Duration(a.messages-b.messages)
	s := a.pushed.elapsed.Seconds()
	if per <= 0 {
		return fmt.Sprintf("n/a: server CPU %s with %s screens, %s with one; too few deliveries (%s) to tell from the pipeline's own CPU",
			a.cpu.Round(10*time.Millisecond), thousands(float64(a.screens)), b.cpu.Round(10*time.Millisecond), thousands(float64(a.messages)))
	}
	return fmt.Sprintf("%.1f µs: server CPU %s with %s screens less %s with one, over %s messages delivered (%s/s in %s frames/s)",
		float64(per)/float64(time.Microsecond), a.cpu.Round(10*time.Millisecond), thousands(float64(a.screens)), b.cpu.Round(10*time.Millisecond),
		thousands(float64(a.messages)), thousands(float64(a.messages)/s), thousands(float64(a.frames)/s))
}

func (r *report) socketRow() string {
	if r.perSocket == 0 {
		return notMeasured
	}
	// RSS alone misleads: a server whose heap has room left from an earlier
	// burst takes thousands of screens without growing, and one that does
	// grow keeps the handshakes' garbage. What the Go runtime holds after a
	// collection (heap in use and goroutine stacks) is what the screens cost.
	return fmt.Sprintf("%.1f KB of heap and goroutine stacks after a GC (%.1f KB of RSS growth) for %s idle screens",
		r.perSocketGo/1000, r.perSocket/1000, thousands(float64(r.o.screens-1)))
}

func (r *report) startupRow() string {
	if r.startHistory == 0 {
		return fmt.Sprintf("%s with an empty history; with history: %s", r.startEmpty.Round(10*time.Millisecond), notMeasured)
	}
	return fmt.Sprintf("%s with %s events (%s with none; stop took %s; before the restart the index and display applied the written history at %s events/s)",
		r.startHistory.Round(10*time.Millisecond), thousands(float64(r.historyEvents)), r.startEmpty.Round(10*time.Millisecond),
		r.stopTime.Round(10*time.Millisecond), thousands(r.catchUp))
}

func (r *report) idleRow() string {
	out := notMeasured
	if r.idleFresh > 0 {
		out = mib(r.idleFresh) + " fresh"
	}
	if r.idleHistory > 0 {
		out += fmt.Sprintf("; %s 5 s after restarting with %s events", mib(r.idleHistory), thousands(float64(r.historyEvents)))
		if r.idleHistorySettled > 0 {
			out += fmt.Sprintf(" and %s 30 s after", mib(r.idleHistorySettled))
		}
	}
	if r.tput != nil && r.tput.peak > 0 {
		out += fmt.Sprintf("; peak %s under load", mib(r.tput.peak))
	}
	return out
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	if d >= time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// thousands formats a count with thousands separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
