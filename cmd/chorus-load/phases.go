package main

import (
	"context"
	"time"
)

// fanoutRun is one push of posts to the wall and what its screens saw.
type fanoutRun struct {
	screens  int
	pushed   *pushed
	approved float64 // approvals on the wall during the run
	shown    int     // of those, shown by the recording screen
	lat      []time.Duration
	adds     int64 // add messages received by every screen
	messages int64 // messages received by every screen
	frames   int64
	bytes    int64         // of the frames' payloads
	cpu      time.Duration // server CPU time
	dropped  float64       // screens the server dropped as slow
	// snapshots counts connects that started from a snapshot: a dropped
	// screen whose since the history no longer held (its adds meanwhile
	// came in the snapshot, not as adds).
	snapshots float64
	drained   bool
	// Where the time went (stages.go): made → 202 and 202 → screen per
	// post shown, the server's display stages, and the harness's own
	// lateness: its goroutines' scheduling lag and its calls' late starts.
	hook, after []time.Duration
	delay       map[string]histogram
	lag, late   []time.Duration
}

// fanout pushes fanoutRate posts/s to the wall for fanoutFor, first with
// one (recording) screen, then with every screen, and measures each idle
// screen's memory in between.
func (h *harness) fanout(ctx context.Context) error {
	sc := newScreens(h.srv.base, "wall")
	defer sc.close()
	if err := sc.open(ctx, 1, true); err != nil {
		return err
	}
	h.logf("fanout: %d posts/s with 1 screen for %s", h.o.fanoutRate, h.o.fanoutFor)
	base, err := h.pushToScreens(ctx, sc, 1, "fanout-1")
	if err != nil {
		return err
	}
	h.rep.fanBase = base

	before, err := h.srv.proc()
	if err != nil {
		return err
	}
	goBefore, err := h.srv.goMemory(ctx)
	if err != nil {
		return err
	}
	h.logf("fanout: connecting %d more screens", h.o.screens-1)
	if err := sc.open(ctx, h.o.screens-1, false); err != nil {
		return err
	}
	if !sleep(ctx, 5*time.Second) {
		return ctx.Err()
	}
	after, err := h.srv.proc()
	if err != nil {
		return err
	}
	goAfter, err := h.srv.goMemory(ctx)
	if err != nil {
		return err
	}
	idle := float64(h.o.screens - 1)
	h.rep.perSocket = float64(after.rss-before.rss) / idle
	h.rep.perSocketGo = float64(goAfter-goBefore) / idle
	h.logf("fanout: %.1f KB per idle screen held by Go (heap and stacks after a GC: %s -> %s), %.1f KB of RSS (%s -> %s)",
		h.rep.perSocketGo/1000, mib(goBefore), mib(goAfter), h.rep.perSocket/1000, mib(before.rss), mib(after.rss))

	h.logf("fanout: %d posts/s with %d screens for %s", h.o.fanoutRate, h.o.screens, h.o.fanoutFor)
	all, err := h.pushToScreens(ctx, sc, h.o.screens, "fanout")
	if err != nil {
		return err
	}
	h.rep.fanAll = all
	return nil
}

// pushToScreens pushes to the wall's sources and waits until the recording
// screen has shown every approval (or the drain time passes).
func (h *harness) pushToScreens(ctx context.Context, sc *screens, n int, name string) (*fanoutRun, error) {
	m0, err := h.srv.mustMetrics(ctx)
	if err != nil {
		return nil, err
	}
	p0, err := h.srv.proc()
	if err != nil {
		return nil, err
	}
	msgs0, frames0, bytes0, adds0 := sc.messages.Load(), sc.frames.Load(), sc.bytes.Load(), sc.rec.adds.Load()
	pushed := &pushed{acceptedAt: map[string]time.Time{}}
	sc.rec.begin(pushed.accepted202)
	wait := h.profileDuring(ctx, h.o.fanoutFor, name)
	probe := startLagProbe(ctx)
	openLoopInto(ctx, pushed, h.srv.base, h.mix, wallSources, h.o.fanoutRate, 10, 64, h.o.fanoutFor)
	lag := probe.stop()
	wait()
	var approved float64
	_, drained := h.waitDrained(ctx, func() bool {
		m, err := h.srv.metrics()
		if err != nil {
			return false
		}
		approved = approvedOnWall(m) - approvedOnWall(m0)
		return float64(sc.rec.posts()) >= approved
	})
	// Screens the server dropped may still be resuming: give them a while
	// to catch up, so a shortfall in the adds they got is a loss, not a
	// screen still on its way.
	_ = waitUntil(ctx, 30*time.Second, 100*time.Millisecond, func() bool {
		return float64(sc.rec.adds.Load()-adds0) >= approved*float64(n)
	})
	m1, err := h.srv.mustMetrics(ctx)
	if err != nil {
		return nil, err
	}
	p1, err := h.srv.proc()
	if err != nil {
		return nil, err
	}
	r := &fanoutRun{
		screens: n, pushed: pushed, approved: approvedOnWall(m1) - approvedOnWall(m0), shown: sc.rec.posts(),
		lat: sc.rec.latencies(), adds: sc.rec.adds.Load() - adds0,
		messages: sc.messages.Load() - msgs0, frames: sc.frames.Load() - frames0, bytes: sc.bytes.Load() - bytes0,
		cpu: p1.cpu - p0.cpu, dropped: m1.delta(m0, "chorus_ws_clients_dropped_total"), drained: drained,
		lag: lag, late: sorted(pushed.late), delay: displayDelays(m0, m1),
		snapshots: m1.delta(m0, `chorus_ws_connects_total{start="snapshot"}`),
	}
	r.hook, r.after = sc.rec.stages()
	h.logf("%s: %d approved, %d shown, p99 %s, %d messages in %d frames (%.0f MB, %.0f bytes a message), CPU %s, %0.f dropped",
		name, int(r.approved), r.shown, ms(percentile(r.lat, 0.99)), r.messages, r.frames, float64(r.bytes)/1e6,
		float64(r.bytes)/float64(max(r.messages, 1)), r.cpu, r.dropped)
	h.logf("%s: stages: %s", name, r.stages())
	return r, nil
}

// webhook calls the webhook back to back from many callers.
func (h *harness) webhook(ctx context.Context) error {
	h.logf("webhook: %d callers, %d posts per call, for %s", h.o.hookCallers, h.o.hookPosts, h.o.hookFor)
	wait := h.profileDuring(ctx, h.o.hookFor, "webhook")
	res := closedLoop(ctx, h.srv.base, h.mix, h.o.hookCallers, h.o.hookPosts, h.o.hookFor)
	wait()
	h.rep.hook = res
	h.logf("webhook: %.0f posts/s from %.0f calls/s, %d posts failed", res.rate(res.accepted), res.rate(res.calls), res.failed)
	d, ok := h.waitDrained(ctx, nil)
	if !ok {
		h.logf("webhook: the pipeline had not drained %s later", d.Round(time.Second))
	}
	return nil
}

// throughputRun is what the open-loop push of the throughput phase did.
type throughputRun struct {
	pushed                *pushed
	curated               uint64  // ingest messages curation acknowledged during the push
	decided, indexed      float64 // during the push
	curationLag, indexLag uint64  // at the end of the push
	drain                 time.Duration
	drained               bool
	lat                   []time.Duration
	peak                  int64
	cpu                   time.Duration // server CPU from the first push until drained
}

// throughput offers rate posts/s for duration and measures what keeps up.
func (h *harness) throughput(ctx context.Context) error {
	sc := newScreens(h.srv.base, "wall")
	defer sc.close()
	if err := sc.open(ctx, 1, true); err != nil {
		return err
	}
	m0, err := h.srv.mustMetrics(ctx)
	if err != nil {
		return err
	}
	lag0, last0, err := h.srv.curationLag(ctx)
	if err != nil {
		return err
	}
	p0, err := h.srv.proc()
	if err != nil {
		return err
	}
	h.logf("throughput: offering %d posts/s in calls of %d for %s", h.o.rate, h.o.batch, h.o.duration)
	sc.rec.begin(nil)
	wait := h.profileDuring(ctx, h.o.duration, "throughput")
	pushed := openLoop(ctx, h.srv.base, h.mix, nil, h.o.rate, h.o.batch, h.o.callers, h.o.duration)
	wait()
	m1, err := h.srv.mustMetrics(ctx)
	if err != nil {
		return err
	}
	lag1, last1, err := h.srv.curationLag(ctx)
	if err != nil {
		return err
	}
	events, err := h.srv.eventsLast(ctx)
	if err != nil {
		return err
	}
	r := &throughputRun{
		pushed:      pushed,
		curated:     (last1 - lag1) - (last0 - lag0),
		decided:     m1.delta(m0, "chorus_posts_decided_total"),
		indexed:     m1.delta(m0, "chorus_index_events_total"),
		curationLag: lag1,
		indexLag:    events - min(events, uint64(m1["chorus_index_applied_seq"])),
	}
	h.logf("throughput: accepted %.0f posts/s, curated %.0f posts/s, indexed %.0f events/s; behind: curation %d, index %d",
		pushed.rate(pushed.accepted), float64(r.curated)/pushed.elapsed.Seconds(), r.indexed/pushed.elapsed.Seconds(), r.curationLag, r.indexLag)
	r.drain, r.drained = h.waitDrained(ctx, nil)
	r.lat = sc.rec.latencies()
	if st, err := h.srv.proc(); err == nil {
		r.peak = st.hwm
		r.cpu = st.cpu - p0.cpu
	}
	h.rep.tput = r
	h.logf("throughput: drained %t after %s", r.drained, r.drain.Round(time.Millisecond))
	return nil
}

// historyPhase fills the events stream to o.history events, lets the
// server apply them, restarts it and times its start-up.
func (h *harness) historyPhase(ctx context.Context) error {
	h.logf("history: writing events until the stream holds %d", h.o.history)
	began := time.Now()
	n, err := seedHistory(ctx, h.srv, h.mix, h.o.history)
	if err != nil {
		return err
	}
	written := time.Since(began)
	h.logf("history: wrote %d events in %s; waiting for the index and display", n, written.Round(time.Millisecond))
	last, err := h.srv.eventsLast(ctx)
	if err != nil {
		return err
	}
	err = waitUntil(ctx, 2*time.Hour, time.Second, func() bool {
		m, err := h.srv.metrics()
		if err != nil {
			return false
		}
		idx := uint64(m["chorus_index_applied_seq"])
		if time.Since(began)%(30*time.Second) < time.Second {
			h.logf("history: index at %d of %d", idx, last)
		}
		return idx >= last && uint64(m["chorus_display_applied_seq"]) >= last
	})
	if err != nil {
		return err
	}
	h.rep.historyEvents = last
	h.rep.catchUp = float64(n) / time.Since(began).Seconds()
	h.rep.stopTime = h.srv.stop()
	h.logf("history: stopped in %s; starting again", h.rep.stopTime.Round(time.Millisecond))
	if err := h.srv.start(ctx); err != nil {
		return err
	}
	h.rep.startHistory = h.srv.startup
	h.logf("history: ready in %s with %d events retained", h.srv.startup.Round(time.Millisecond), last)
	if !sleep(ctx, 5*time.Second) {
		return ctx.Err()
	}
	st, err := h.srv.proc()
	if err != nil {
		return err
	}
	h.rep.idleHistory = st.rss
	// And once it has settled: curation warms its spam memory after the
	// node is ready, and the start's garbage is returned after that.
	if !sleep(ctx, 25*time.Second) {
		return ctx.Err()
	}
	if st, err = h.srv.proc(); err != nil {
		return err
	}
	h.rep.idleHistorySettled = st.rss
	return nil
}
