package display

import (
	"encoding/json"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// keep is how many posts besides the pinned ones a stream's state holds:
// the largest display limit, plus room so a removal does not leave a gap a
// later snapshot cannot fill.
const keep = 520

// maxPins bounds a stream's pinned posts. Pinning one more unpins the last
// in pin order (it stays among the other posts), so a rule that pins every
// post cannot grow the state without end.
const maxPins = bus.MaxPins

// goneSize is about how many taken-off posts a state remembers (held,
// rejected, removed or banned), so a pin written just after a removal can
// never bring the post back.
const goneSize = 4096

// state is one curated stream's screen state. Every field is guarded by mu.
// Items are never changed once stored: a change stores a changed copy, so
// a snapshot or checkpoint can share them.
type state struct {
	mu sync.Mutex
	// posts are the approved posts, newest first, pinned ones and hidden
	// authors' included. Every id in pins is here, with Pinned set; no
	// other post has Pinned set.
	posts []*Item
	// held is the set of ids in posts, so most lookups need no scan.
	held map[string]struct{}
	// pins are the pinned posts' ids, first shown first.
	pins []string
	// pending holds delayed approvals until their release event.
	pending map[string]*Item
	// hidden are the author keys whose posts screens do not show.
	hidden map[string]bool
	// gone maps taken-off post ids to the seq that took them off.
	gone   map[string]uint64
	paused bool
	seq    uint64 // every event up to seq is applied
	// limit is the stream's display limit, set by the hub before apply.
	limit   int
	history history
	clients map[*client]struct{}
	// dirty is set by every event for the stream since the last checkpoint.
	dirty bool
	// evictedPins counts pins dropped by maxPins.
	evictedPins int
	// air is what broadcast overlays show.
	air air
	// granted are the posts whose rights were granted (rights.go).
	granted map[string]bool
	// licensed marks a stream's licensed view; unrighted are its approved
	// posts waiting for their rights.
	licensed  bool
	unrighted map[string]*Item

	// snap is the last encoded snapshot, of snapLimit posts.
	snap      *encoded
	snapLimit int

	// outbox gathers live messages for the clients until they are sent
	// (see sendOutbox), outboxAt when each was gathered; pace says when the
	// next send is due, and sendArmed that a timer will send at armedFor.
	outbox    []*encoded
	outboxAt  []time.Time
	pace      pacer
	sendArmed bool
	armedFor  time.Time
}

func newState(seq uint64) *state {
	return &state{
		clients: map[*client]struct{}{}, pending: map[string]*Item{}, hidden: map[string]bool{},
		gone: map[string]uint64{}, held: map[string]struct{}{}, seq: seq, history: history{coveredFrom: seq},
		granted: map[string]bool{}, unrighted: map[string]*Item{},
	}
}

// resnapshot is returned by apply when a change touches many posts at once
// (an author hidden, shown or banned): screens get a fresh snapshot.
var resnapshot = &Message{Type: TypeSnapshot}

// apply changes the state for e and returns the message screens need: nil
// for none, resnapshot for a whole new snapshot. The caller holds mu.
func (s *state) apply(e bus.Event) *Message {
	s.seq = max(s.seq, e.Seq)
	s.dirty = true
	switch e.Kind {
	case bus.EventApprove:
		if e.Post == nil {
			return nil
		}
		delete(s.gone, e.PostID)
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
		delete(s.unrighted, e.PostID)
		s.forget(e.PostID, e.Seq)
		i := s.find(e.PostID)
		if i < 0 {
			return nil
		}
		gone := s.posts[i]
		s.removeAt(i)
		s.dropOnAir(e.PostID)
		pinsChanged := s.dropPin(e.PostID)
		if s.hidden[gone.AuthorKey()] {
			return nil
		}
		return s.withPins(&Message{Type: TypeRemove, Seq: e.Seq, ID: e.PostID}, pinsChanged)
	case bus.EventPin:
		return s.pin(e)
	case bus.EventUnpin:
		return s.unpin(e)
	case bus.EventOrderPins:
		return s.orderPins(e)
	case bus.EventFeature, bus.EventUnfeature, bus.EventEdit:
		return s.change(e)
	case bus.EventHideAuthor, bus.EventShowAuthor:
		hide := e.Kind == bus.EventHideAuthor
		if s.hidden[e.Author] == hide {
			return nil
		}
		if hide {
			s.hidden[e.Author] = true
			if i := s.find(s.air.id); i >= 0 && s.posts[i].AuthorKey() == e.Author {
				s.dropOnAir(s.air.id)
			}
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
				s.forget(id, e.Seq)
			}
		}
		for id, item := range s.unrighted {
			if item.AuthorKey() == e.Author {
				delete(s.unrighted, id)
				s.forget(id, e.Seq)
			}
		}
		if s.byAuthor(e.Author) == 0 {
			return nil
		}
		s.posts = slices.DeleteFunc(s.posts, func(it *Item) bool {
			if it.AuthorKey() != e.Author {
				return false
			}
			s.dropPin(it.ID)
			s.dropOnAir(it.ID)
			s.forget(it.ID, e.Seq)
			delete(s.held, it.ID)
			return true
		})
		return resnapshot
	case bus.EventPause, bus.EventResume:
		s.paused = e.Kind == bus.EventPause
		return &Message{Type: TypeControl, Seq: e.Seq, Action: string(e.Kind)}
	case bus.EventAir, bus.EventAirNext, bus.EventAirClear:
		return s.applyAir(e)
	case bus.EventPurge:
		return s.purge(e)
	case bus.EventRights:
		return s.rights(e)
	}
	return nil
}

// erase drops every post (on screen or pending) of an author erase event e
// names, as erased recognises them, and their hidden mark; and since past
// messages may carry their posts, it forgets every message recorded for
// resuming clients (they get a snapshot). Screens get a fresh snapshot.
// The caller holds mu.
func (s *state) erase(e bus.Event, erased func(*post.Post) bool, hash func(string) string) *Message {
	s.seq = max(s.seq, e.Seq)
	s.dirty = true
	for id, it := range s.pending {
		if erased(&it.Post) {
			delete(s.pending, id)
			s.forget(id, e.Seq)
		}
	}
	for id, it := range s.unrighted {
		if erased(&it.Post) {
			s.dropRights(id)
			s.forget(id, e.Seq)
		}
	}
	s.posts = slices.DeleteFunc(s.posts, func(it *Item) bool {
		if !erased(&it.Post) {
			return false
		}
		s.dropPin(it.ID)
		s.forget(it.ID, e.Seq)
		s.dropRights(it.ID)
		delete(s.held, it.ID)
		return true
	})
	for author := range s.hidden {
		if slices.Contains(e.Erased, hash(author)) || hash(author) == e.Author {
			delete(s.hidden, author)
		}
	}
	s.history.reset(e.Seq)
	s.snap = nil
	return resnapshot
}

// purge takes the posts a purge event lists off screens: their retention
// ran out.
func (s *state) purge(e bus.Event) *Message {
	changed := false
	for _, id := range e.Posts {
		delete(s.pending, id)
		s.dropRights(id)
		if i := s.find(id); i >= 0 {
			s.removeAt(i)
			s.dropPin(id)
			changed = true
		}
		s.forget(id, e.Seq)
	}
	if !changed {
		return nil
	}
	return resnapshot
}

// show puts item on screen (or updates it there); in a licensed view, a
// post without rights waits for them instead.
func (s *state) show(seq uint64, item *Item) *Message {
	if s.find(item.ID) < 0 && s.waitsForRights(item) {
		return nil
	}
	hidden := s.hidden[item.AuthorKey()]
	if i := s.find(item.ID); i >= 0 {
		old := s.posts[i]
		item.Pinned, item.Featured = item.Pinned || old.Pinned, item.Featured || old.Featured
		s.posts[i] = item
		pinsChanged := item.Pinned && !old.Pinned && s.addPin(item.ID)
		if hidden {
			return nil
		}
		return s.withPins(&Message{Type: TypeUpdate, Seq: seq, Post: item}, pinsChanged)
	}
	s.posts = slices.Insert(s.posts, 0, item)
	s.held[item.ID] = struct{}{}
	pinsChanged := item.Pinned && s.addPin(item.ID)
	s.trim()
	if hidden {
		return nil
	}
	return s.withPins(&Message{Type: TypeAdd, Seq: seq, Post: item}, pinsChanged)
}

// pin pins a post on screen or pending. A post the state no longer holds
// comes back on screen when the event carries it, unless it was taken off.
func (s *state) pin(e bus.Event) *Message {
	if i := s.find(e.PostID); i >= 0 {
		if s.posts[i].Pinned {
			return nil
		}
		item := *s.posts[i]
		item.Pinned = true
		s.posts[i] = &item
		s.addPin(item.ID)
		if s.hidden[item.AuthorKey()] {
			return nil
		}
		return s.withPins(&Message{Type: TypeUpdate, Seq: e.Seq, Post: &item}, true)
	}
	if p := s.pending[e.PostID]; p != nil {
		item := *p
		item.Pinned = true
		s.pending[e.PostID] = &item
		return nil
	}
	if p := s.unrighted[e.PostID]; p != nil {
		item := *p
		item.Pinned = true
		s.unrighted[e.PostID] = &item
		return nil
	}
	if _, gone := s.gone[e.PostID]; gone || e.Post == nil {
		return nil
	}
	return s.show(e.Seq, &Item{Post: *e.Post, Pinned: true})
}

// unpin unpins a post. It stays among the other posts where it was; when
// that is past what screens show, screens are told to remove it.
func (s *state) unpin(e bus.Event) *Message {
	if p := s.pending[e.PostID]; p != nil {
		item := *p
		item.Pinned = false
		s.pending[e.PostID] = &item
		return nil
	}
	if p := s.unrighted[e.PostID]; p != nil {
		item := *p
		item.Pinned = false
		s.unrighted[e.PostID] = &item
		return nil
	}
	i := s.find(e.PostID)
	if i < 0 || !s.posts[i].Pinned {
		return nil
	}
	item := *s.posts[i]
	item.Pinned = false
	s.posts[i] = &item
	s.dropPin(item.ID)
	s.trim()
	if s.hidden[item.AuthorKey()] {
		return nil
	}
	if !slices.ContainsFunc(s.visible(s.displayLimit()), func(it *Item) bool { return it.ID == item.ID }) {
		return s.withPins(&Message{Type: TypeRemove, Seq: e.Seq, ID: item.ID}, true)
	}
	return s.withPins(&Message{Type: TypeUpdate, Seq: e.Seq, Post: &item}, true)
}

// orderPins puts the listed pinned posts first, in the listed order; pinned
// posts not listed follow in their current order, and listed ids that are
// not pinned are ignored.
func (s *state) orderPins(e bus.Event) *Message {
	order := make([]string, 0, len(s.pins))
	for _, id := range e.Pins {
		if slices.Contains(s.pins, id) && !slices.Contains(order, id) {
			order = append(order, id)
		}
	}
	for _, id := range s.pins {
		if !slices.Contains(order, id) {
			order = append(order, id)
		}
	}
	if slices.Equal(order, s.pins) {
		return nil
	}
	s.pins = order
	return &Message{Type: TypePins, Seq: e.Seq, Pins: s.visiblePins()}
}

// addPin puts id first in the pin order (unpinning the last one past
// maxPins) and reports that the order changed. The post is on screen.
func (s *state) addPin(id string) bool {
	if slices.Contains(s.pins, id) {
		return false
	}
	s.pins = slices.Insert(s.pins, 0, id)
	for len(s.pins) > maxPins {
		last := s.pins[len(s.pins)-1]
		s.pins = s.pins[:len(s.pins)-1]
		if i := s.find(last); i >= 0 {
			item := *s.posts[i]
			item.Pinned = false
			s.posts[i] = &item
		}
		s.evictedPins++
	}
	return true
}

// dropPin takes id out of the pin order and reports whether it was there.
func (s *state) dropPin(id string) bool {
	i := slices.Index(s.pins, id)
	if i < 0 {
		return false
	}
	s.pins = slices.Delete(s.pins, i, i+1)
	return true
}

// withPins adds the pin order to m when it changed.
func (s *state) withPins(m *Message, changed bool) *Message {
	if changed {
		m.Pins = s.visiblePins()
	}
	return m
}

// forget remembers that id was taken off at seq, keeping about goneSize of
// the latest.
func (s *state) forget(id string, seq uint64) {
	s.gone[id] = seq
	if len(s.gone) <= 2*goneSize {
		return
	}
	seqs := make([]uint64, 0, len(s.gone))
	for _, q := range s.gone {
		seqs = append(seqs, q)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] > seqs[j] })
	cut := seqs[goneSize-1]
	for k, q := range s.gone {
		if q < cut {
			delete(s.gone, k)
		}
	}
}

// trim drops the oldest posts that are not pinned beyond keep.
func (s *state) trim() {
	n := len(s.posts) - len(s.pins)
	for i := len(s.posts) - 1; n > keep && i >= 0; i-- {
		if !s.posts[i].Pinned {
			s.removeAt(i)
			n--
		}
	}
}

// change applies a feature or edit to a post on screen or pending.
func (s *state) change(e bus.Event) *Message {
	i := s.find(e.PostID)
	var item Item
	switch {
	case i >= 0:
		item = *s.posts[i]
	case s.pending[e.PostID] != nil:
		item = *s.pending[e.PostID]
	case s.unrighted[e.PostID] != nil:
		item = *s.unrighted[e.PostID]
	default:
		return nil
	}
	switch e.Kind {
	case bus.EventFeature, bus.EventUnfeature:
		item.Featured = e.Kind == bus.EventFeature
	case bus.EventEdit:
		if e.Post == nil {
			return nil
		}
		item.Post = *e.Post
	}
	if i < 0 {
		if s.unrighted[e.PostID] != nil {
			s.unrighted[e.PostID] = &item
		} else {
			s.pending[e.PostID] = &item
		}
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

func (s *state) displayLimit() int {
	if s.limit > 0 {
		return s.limit
	}
	return keep
}

// shown reports whether screens show it (its author is not hidden).
func (s *state) shown(it *Item) bool {
	return len(s.hidden) == 0 || !s.hidden[it.AuthorKey()]
}

// pinned returns the pinned posts screens show, in pin order.
func (s *state) pinned() []*Item {
	if len(s.pins) == 0 {
		return nil
	}
	byID := make(map[string]*Item, len(s.pins))
	for _, it := range s.posts {
		if it.Pinned {
			byID[it.ID] = it
		}
	}
	out := make([]*Item, 0, len(s.pins))
	for _, id := range s.pins {
		if it := byID[id]; it != nil && s.shown(it) {
			out = append(out, it)
		}
	}
	return out
}

// visiblePins is the pin order screens get: the shown pinned posts' ids,
// at most the display limit.
func (s *state) visiblePins() []string {
	out := []string{}
	for _, it := range s.pinned() {
		if len(out) == s.displayLimit() {
			break
		}
		out = append(out, it.ID)
	}
	return out
}

// visible returns what screens show, at most limit posts: the pinned ones
// in pin order, then the newest others.
func (s *state) visible(limit int) []*Item {
	out := make([]*Item, 0, min(limit, len(s.posts)))
	for _, it := range s.pinned() {
		if len(out) == limit {
			return out
		}
		out = append(out, it)
	}
	for _, it := range s.posts {
		if len(out) == limit {
			break
		}
		if !it.Pinned && s.shown(it) {
			out = append(out, it)
		}
	}
	return out
}

// removeAt takes the post at i out of posts.
func (s *state) removeAt(i int) {
	delete(s.held, s.posts[i].ID)
	s.posts = slices.Delete(s.posts, i, i+1)
}

func (s *state) find(id string) int {
	if _, ok := s.held[id]; !ok {
		return -1
	}
	for i, p := range s.posts {
		if p.ID == id {
			return i
		}
	}
	return -1
}

// snapshotOf returns the stream's snapshot of at most limit posts. The
// caller holds mu.
func (s *state) snapshotOf(limit int) Snapshot {
	posts := s.visible(limit)
	pins := []string{}
	for _, it := range posts {
		if it.Pinned {
			pins = append(pins, it.ID)
		}
	}
	return Snapshot{Type: TypeSnapshot, Seq: s.seq, Posts: posts, Pins: pins, Paused: s.paused, OnAir: s.onAir()}
}

// snapshot returns the encoded snapshot of at most limit posts, cached
// until the state changes. The caller holds mu.
func (s *state) snapshot(limit int) (*encoded, error) {
	if s.snap != nil && s.snap.seq == s.seq && s.snapLimit == limit {
		return s.snap, nil
	}
	data, err := json.Marshal(s.snapshotOf(limit))
	if err != nil {
		return nil, err
	}
	s.snap, s.snapLimit = newEncoded(s.seq, data), limit
	return s.snap, nil
}
