package display

import (
	"slices"
	"time"

	"github.com/gorilla/websocket"
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
	seq  uint64
	at   time.Time
	size int
	msg  *websocket.PreparedMessage
}

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

// record keeps a message (of dataLen bytes) and lets the oldest go by age
// and size.
func (h *history) record(seq uint64, at time.Time, pm *websocket.PreparedMessage, dataLen int, now time.Time) {
	if at.IsZero() {
		at = now
	}
	// A prepared message keeps its data inside its frame, plus a little.
	size := dataLen + 256
	h.entries = append(h.entries, entry{seq: seq, at: at, size: size, msg: pm})
	h.bytes += size
	old := now.Add(-HistoryWindow)
	n := 0
	for n < len(h.entries)-1 && (h.entries[n].at.Before(old) || h.bytes > HistoryBytes) {
		h.bytes -= h.entries[n].size
		h.coveredFrom = h.entries[n].seq
		h.entries[n] = entry{} // let the message go
		n++
	}
	if n > 0 {
		h.entries = h.entries[n:]
	}
}

// skip notes that the message of the event at seq is not kept.
func (h *history) skip(seq uint64) {
	h.coveredFrom = max(h.coveredFrom, seq)
}

// since returns the messages after seq, or false when some are no longer
// kept or seq is past upTo (the state's seq).
func (h *history) since(seq, upTo uint64) ([]*websocket.PreparedMessage, bool) {
	if seq < h.coveredFrom || seq > upTo {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(h.entries, seq+1, func(e entry, target uint64) int {
		switch {
		case e.seq < target:
			return -1
		case e.seq > target:
			return 1
		}
		return 0
	})
	out := make([]*websocket.PreparedMessage, 0, len(h.entries)-i)
	for _, e := range h.entries[i:] {
		out = append(out, e.msg)
	}
	return out, true
}
