package display

import (
	"slices"
	"time"
)

// What each stream keeps for clients resuming with ?since=: every message
// of the last HistoryWindow, unless they take more than HistoryBytes, in
// which case the oldest go first.
const (
	HistoryWindow = 10 * time.Minute
	HistoryBytes  = 64 << 20
)

// entry is one past message, encoded once.
type entry struct {
	at  time.Time
	msg *encoded
}

// size is about what an entry holds in memory.
func (e entry) size() int { return len(e.msg.frame) + 96 }

// history is one stream's past messages, oldest first. It is guarded by
// its state's mu.
type history struct {
	entries []entry
	bytes   int
	// coveredFrom: entries hold every message of the events after it.
	coveredFrom uint64
}

// wants reports whether a message of an event stored at `at` is recent
// enough to keep; a zero time is now.
func (h *history) wants(at, now time.Time) bool {
	return at.IsZero() || now.Sub(at) < HistoryWindow
}

// record keeps a message and lets the oldest go by age and size.
func (h *history) record(msg *encoded, at, now time.Time) {
	if at.IsZero() {
		at = now
	}
	e := entry{at: at, msg: msg}
	h.entries = append(h.entries, e)
	h.bytes += e.size()
	old := now.Add(-HistoryWindow)
	n := 0
	for n < len(h.entries)-1 && (h.entries[n].at.Before(old) || h.bytes > HistoryBytes) {
		h.bytes -= h.entries[n].size()
		h.coveredFrom = h.entries[n].msg.seq
		h.entries[n] = entry{} // let the message go
		n++
	}
	if n > 0 {
		h.entries = h.entries[n:]
	}
}

// reset forgets every message: from the event at seq on, the history
// starts afresh (a client resuming from before it gets a snapshot).
func (h *history) reset(seq uint64) {
	clear(h.entries)
	h.entries, h.bytes = h.entries[:0], 0
	h.coveredFrom = max(h.coveredFrom, seq-1)
}

// skip notes that the message of the event at seq is not kept.
func (h *history) skip(seq uint64) {
	h.coveredFrom = max(h.coveredFrom, seq)
}

// since returns the messages after seq, or false when some are no longer
// kept or seq is past upTo (the state's seq).
func (h *history) since(seq, upTo uint64) ([]*encoded, bool) {
	if seq < h.coveredFrom || seq > upTo {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(h.entries, seq+1, func(e entry, target uint64) int {
		switch {
		case e.msg.seq < target:
			return -1
		case e.msg.seq > target:
			return 1
		}
		return 0
	})
	out := make([]*encoded, 0, len(h.entries)-i)
	for _, e := range h.entries[i:] {
		out = append(out, e.msg)
	}
	return out, true
}
