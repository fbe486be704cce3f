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
	mu    sync.Mutex
	posts []*Item // approved, newest first; hidden authors' posts included
	// pending holds delayed approvals until their release event.
	pending map[string]*Item
	// hidden are the author keys whose posts screens do not show.
	hidden  map[string]bool
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
	return &state{
		clients: map[*client]struct{}{}, pending: map[string]*Item{}, hidden: map[string]bool{},
		coveredFrom: coveredFrom, seq: coveredFrom,
	}
}

// resnapshot is returned by apply when a change touches many posts at once
// (an author hidden, shown or banned): screens get a fresh snapshot.
var resnapshot = &Message{Type: TypeSnapshot}

// apply changes the state for e and returns the message screens need: nil
// for none, resnapshot for a whole new snapshot. The caller holds mu.
func (s *state) apply(e bus.Event) *Message {
	s.seq = max(s.seq, e.Seq)
	switch e.Kind {
	case bus.EventApprove:
		if e.Post == nil {
			return nil
		}
		item := &Item{Post: *e.Post, Pinned: e.Pinned, Featured: e.Featured, Tags: e.Tags}
		if !e.ShowAt.IsZero() && s.find(e.PostID) < 0 {
			s.pending[e.PostID] = item
			return nil
		}
		return s.show(e.Seq, item)
	case bus.EventRelease:
		item, ok := s.pending[e.PostID]
		if !ok {
			return nil // pulled during its delay
		}
		delete(s.pending, e.PostID)
		return s.show(e.Seq, item)
	case bus.EventHold, bus.EventReject, bus.EventRemove:
		delete(s.pending, e.PostID)
		i := s.find(e.PostID)
		if i < 0 {
			return nil
		}
		gone := s.posts[i]
		s.posts = slices.Delete(s.posts, i, i+1)
		if s.hidden[gone.AuthorKey()] {
			return nil
		}
		return &Message{Type: TypeRemove, Seq: e.Seq, ID: e.PostID}
	case bus.EventPin, bus.EventUnpin, bus.EventFeature, bus.EventUnfeature, bus.EventEdit:
		return s.change(e)
	case bus.EventHideAuthor, bus.EventShowAuthor:
		hide := e.Kind == bus.EventHideAuthor
		if s.hidden[e.Author] == hide {
			return nil
		}
		if hide {
			s.hidden[e.Author] = true
		} else {
			delete(s.hidden, e.Author)
		}
		if s.byAuthor(e.Author) == 0 {
			return nil
		}
		return resnapshot
	case bus.EventBanAuthor:
		for id, item := range s.pending {
			if item.AuthorKey() == e.Author {
				delete(s.pending, id)
			}
		}
		if s.byAuthor(e.Author) == 0 {
			return nil
		}
		s.posts = slices.DeleteFunc(s.posts, func(it *Item) bool { return it.AuthorKey() == e.Author })
		return resnapshot
	case bus.EventPause, bus.EventResume:
		s.paused = e.Kind == bus.EventPause
		return &Message{Type: TypeControl, Seq: e.Seq, Action: string(e.Kind)}
	}
	return nil
}

// show puts item on screen (or updates it there).
func (s *state) show(seq uint64, item *Item) *Message {
	hidden := s.hidden[item.AuthorKey()]
	if i := s.find(item.ID); i >= 0 {
		old := s.posts[i]
		item.Pinned, item.Featured = item.Pinned || old.Pinned, item.Featured || old.Featured
		s.posts[i] = item
		if hidden {
			return nil
		}
		return &Message{Type: TypeUpdate, Seq: seq, Post: item}
	}
	s.posts = slices.Insert(s.posts, 0, item)
	if len(s.posts) > keep {
		s.posts = s.posts[:keep]
	}
	if hidden {
		return nil
	}
	return &Message{Type: TypeAdd, Seq: seq, Post: item}
}

// change applies a pin, feature or edit to a post on screen or pending.
func (s *state) change(e bus.Event) *Message {
	i := s.find(e.PostID)
	var item Item
	switch {
	case i >= 0:
		item = *s.posts[i]
	case s.pending[e.PostID] != nil:
		item = *s.pending[e.PostID]
	default:
		return nil
	}
	switch e.Kind {
	case bus.EventPin, bus.EventUnpin:
		item.Pinned = e.Kind == bus.EventPin
	case bus.EventFeature, bus.EventUnfeature:
		item.Featured = e.Kind == bus.EventFeature
	case bus.EventEdit:
		if e.Post == nil {
			return nil
		}
		item.Post = *e.Post
	}
	if i < 0 {
		s.pending[e.PostID] = &item
		return nil
	}
	s.posts[i] = &item
	if s.hidden[item.AuthorKey()] {
		return nil
	}
	return &Message{Type: TypeUpdate, Seq: e.Seq, Post: &item}
}

// byAuthor counts the posts on screen (hidden or not) by author.
func (s *state) byAuthor(author string) int {
	n := 0
	for _, it := range s.posts {
		if it.AuthorKey() == author {
			n++
		}
	}
	return n
}

// visible returns the newest limit posts screens show.
func (s *state) visible(limit int) []*Item {
	out := make([]*Item, 0, min(limit, len(s.posts)))
	for _, it := range s.posts {
		if len(out) == limit {
			break
		}
		if len(s.hidden) == 0 || !s.hidden[it.AuthorKey()] {
			out = append(out, it)
		}
	}
	return out
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
	data, err := json.Marshal(Snapshot{Type: TypeSnapshot, Seq: s.seq, Posts: s.visible(limit), Paused: s.paused})
	if err != nil {
		return nil, err
	}
	s.snapSeq, s.snapLimit, s.snapData = s.seq, limit, data
	return data, nil
}
