package display

import (
	"encoding/json"
	"slices"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/bus"
)

// keep is how many posts a stream's state holds: the largest display limit,
// plus room so a removal does not leave a gap a later snapshot cannot fill.
const keep = 520

// historySize is how many past messages a stream keeps for clients resuming
// with ?since=.
const historySize = 1024

// entry is one past message, encoded once.
type entry struct {
	seq uint64
	msg *websocket.PreparedMessage
}

// state is one curated stream's screen state. Every field is guarded by mu.
type state struct {
	mu      sync.Mutex
	posts   []*Item // newest first
	paused  bool
	seq     uint64 // every event up to seq is applied
	history []entry
	// coveredFrom: history holds every message of the events after it.
	coveredFrom uint64
	clients     map[*client]struct{}

	snapSeq   uint64
	snapLimit int
	snapData  []byte
}

func newState(coveredFrom uint64) *state {
	return &state{clients: map[*client]struct{}{}, coveredFrom: coveredFrom, seq: coveredFrom}
}

// apply changes the state for e and returns the message screens need, if
// any. The caller holds mu.
func (s *state) apply(e bus.Event) *Message {
	s.seq = max(s.seq, e.Seq)
	switch e.Kind {
	case bus.EventApprove:
		if e.Post == nil {
			return nil
		}
		item := &Item{Post: *e.Post}
		if i := s.find(e.PostID); i >= 0 {
			item.Pinned, item.Featured = s.posts[i].Pinned, s.posts[i].Featured
			s.posts[i] = item
			return &Message{Type: TypeUpdate, Seq: e.Seq, Post: item}
		}
		s.posts = slices.Insert(s.posts, 0, item)
		if len(s.posts) > keep {
			s.posts = s.posts[:keep]
		}
		return &Message{Type: TypeAdd, Seq: e.Seq, Post: item}
	case bus.EventHold, bus.EventReject, bus.EventRemove:
		i := s.find(e.PostID)
		if i < 0 {
			return nil
		}
		s.posts = slices.Delete(s.posts, i, i+1)
		return &Message{Type: TypeRemove, Seq: e.Seq, ID: e.PostID}
	case bus.EventPause, bus.EventResume:
		s.paused = e.Kind == bus.EventPause
		return &Message{Type: TypeControl, Seq: e.Seq, Action: string(e.Kind)}
	}
	return nil
}

func (s *state) find(id string) int {
	for i, p := range s.posts {
		if p.ID == id {
			return i
		}
	}
	return -1
}

// record keeps an encoded message for resuming clients. The caller holds mu.
func (s *state) record(seq uint64, pm *websocket.PreparedMessage) {
	if len(s.history) == historySize {
		s.coveredFrom = s.history[0].seq
		s.history = slices.Delete(s.history, 0, 1)
	}
	s.history = append(s.history, entry{seq: seq, msg: pm})
}

// since returns the messages after seq, or false when some are no longer
// kept (or seq is from a future this node has not reached). The caller
// holds mu.
func (s *state) since(seq uint64) ([]*websocket.PreparedMessage, bool) {
	if seq < s.coveredFrom || seq > s.seq {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(s.history, seq+1, func(e entry, target uint64) int {
		switch {
		case e.seq < target:
			return -1
		case e.seq > target:
			return 1
		}
		return 0
	})
	out := make([]*websocket.PreparedMessage, 0, len(s.history)-i)
	for _, e := range s.history[i:] {
		out = append(out, e.msg)
	}
	return out, true
}

// snapshot returns the encoded snapshot of the newest limit posts, cached
// until the state changes. The caller holds mu.
func (s *state) snapshot(limit int) ([]byte, error) {
	if s.snapData != nil && s.snapSeq == s.seq && s.snapLimit == limit {
		return s.snapData, nil
	}
	posts := s.posts[:min(limit, len(s.posts))]
	data, err := json.Marshal(Snapshot{Type: TypeSnapshot, Seq: s.seq, Posts: posts, Paused: s.paused})
	if err != nil {
		return nil, err
	}
	s.snapSeq, s.snapLimit, s.snapData = s.seq, limit, data
	return data, nil
}
