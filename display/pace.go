package display

import (
	"sync/atomic"
	"time"
)

// Pacing of a stream's sends. Every write to a screen is a system call,
// and with thousands of screens on a node the writes of one send take
// tens of milliseconds of CPU: sent every batch window regardless, they
// would take every core and starve the webhook, curation and the display's
// own reader upstream, so posts would wait there instead. So a stream
// measures how long its last send took to be written to (nearly) all its
// clients and waits writeShare of the time for writing: the window grows
// with screens × the CPU a write costs, from Timing.BatchWindow up to
// Timing.MaxBatchWindow, and shrinks again when writing gets cheap. A send
// whose writes are not done yet holds the next one back, up to
// MaxBatchWindow after it began, so a few clients whose network does not
// take their writes never hold a stream's screens back for longer.

// writeShare is the share of a stream's time its writes may take: the
// window is the last send's write time / writeShare.
const writeShare = 0.5

// stragglers is the share of a send's clients still writing that no
// longer holds the next send back (at least one client).
const stragglers = 0.01

// pacer decides when a stream sends next. The caller holds the stream's
// lock.
type pacer struct {
	// window is the wait between the starts of two sends.
	window time.Duration
	// last is when the last send began; round counts its writes, and
	// writing is set until finish has taken their time.
	last    time.Time
	round   *round
	writing bool
}

// round counts the writes of one send not yet done; done runs once when
// no more than its stragglers are left.
type round struct {
	began     time.Time
	pending   atomic.Int64
	threshold int64
	done      func(r *round)
	finished  atomic.Bool
}

// due returns when the stream may send next.
func (p *pacer) due(t Timing) time.Time {
	if p.writing {
		return p.last.Add(t.MaxBatchWindow)
	}
	return p.last.Add(p.window)
}

// begin starts a send at now to n clients; done runs in a goroutine of
// its own once the send's writes are done. release must be called n+1
// times: once for each client, when its write is done or abandoned (or at
// once when the client does not take the send), and once by the sender
// when it has handed the send to every client.
func (p *pacer) begin(now time.Time, n int, done func(r *round)) *round {
	r := &round{began: now, threshold: max(1, int64(float64(n)*stragglers)), done: done}
	r.pending.Store(int64(n) + 1)
	p.last, p.round, p.writing = now, r, true
	return r
}

// finish records that r's writes are done at now and sets the window from
// how long they took. It is false when r is no longer the last send.
func (p *pacer) finish(r *round, now time.Time, t Timing) bool {
	if p.round != r {
		return false
	}
	p.window, p.writing = windowFor(now.Sub(r.began), t), false
	return true
}

// windowFor is the window after a send whose writes took took.
func windowFor(took time.Duration, t Timing) time.Duration {
	w := time.Duration(float64(took) / writeShare)
	return min(max(w, t.BatchWindow), t.MaxBatchWindow)
}

// release counts one write done (or abandoned).
func (r *round) release() {
	if r.pending.Add(-1) <= r.threshold && r.finished.CompareAndSwap(false, true) {
		go r.done(r)
	}
}
