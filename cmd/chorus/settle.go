package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/chorus-wall/chorus/config"
)

// settleWait bounds how long settle waits for the node to start.
const settleWait = 2 * time.Minute

// settle hands the memory the start-up used and no longer holds back to
// the operating system once the node has started (ready, and curation
// reading every partition it holds): JetStream recovering its streams,
// curation warming its spam memory and the language models being read
// leave hundreds of megabytes of garbage after a restart with a busy
// history, which the Go runtime would otherwise return only over minutes.
// It does so once; it costs one collection.
func (a *App) settle(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(settleWait)
	defer deadline.Stop()
wait:
	for !a.started() {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline.C:
			a.log.Debug("not started after " + settleWait.String() + "; returning the start-up's memory anyway")
			break wait
		case <-tick.C:
		}
	}
	// Twice: buffers pooled (sync.Pool) during the start-up outlive the
	// first collection.
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	a.log.Debug("start-up memory returned to the system", "heap_in_use_mib", m.HeapInuse>>20, "released_mib", m.HeapReleased>>20)
	return nil
}

// started says whether the node is ready and, on a curation node, curation
// reads every partition it holds.
func (a *App) started() bool {
	if len(a.notReady()) > 0 {
		return false
	}
	if !a.has(config.RoleCuration) {
		return true
	}
	c := a.curator.Load()
	return c != nil && c.Started()
}
