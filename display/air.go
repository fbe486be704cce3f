package display

import (
	"slices"
	"time"

	"github.com/chorus-wall/chorus/bus"
)

// maxAired bounds the posts a stream remembers as aired in the current
// round of the on-air queue.
const maxAired = 1000

// air is a stream's on-air state: what broadcast overlays show.
type air struct {
	id      string        // the post on air; "" when off air
	at      time.Time     // when it went on air
	advance time.Duration // the auto-advance interval, 0 for none
	// aired are the posts that went on air since the queue last went
	// round, oldest first; next skips them.
	aired []string
}

// applyAir applies an air, air_next or air_clear event. The caller holds mu.
func (s *state) applyAir(e bus.Event) *Message {
	at := e.At
	if at.IsZero() {
		at = e.Stored // a schedule's air_next: the stream's clock, the same on every node
	}
	switch e.Kind {
	case bus.EventAir:
		i := s.find(e.PostID)
		if i < 0 || !s.shown(s.posts[i]) {
			return nil // not on screen (the API refuses it; an old event is skipped)
		}
		s.putOnAir(e.PostID, at, e.Advance)
	case bus.EventAirNext:
		advance := e.Advance
		if e.Actor == bus.ActorSchedule {
			if s.air.advance == 0 {
				return nil // a schedule that was stopped
			}
			advance = s.air.advance
		}
		id := s.nextOnAir()
		if id == "" {
			return s.offAir(e.Seq)
		}
		s.putOnAir(id, at, advance)
	case bus.EventAirClear:
		return s.offAir(e.Seq)
	default:
		return nil
	}
	return &Message{Type: TypeAir, Seq: e.Seq, OnAir: s.onAir()}
}

func (s *state) putOnAir(id string, at time.Time, advance time.Duration) {
	s.air.id, s.air.at, s.air.advance = id, at, advance
	s.air.aired = slices.DeleteFunc(s.air.aired, func(x string) bool { return x == id })
	s.air.aired = append(s.air.aired, id)
	if len(s.air.aired) > maxAired {
		s.air.aired = slices.Delete(s.air.aired, 0, len(s.air.aired)-maxAired)
	}
}

// offAir takes the post off air and stops auto-advance.
func (s *state) offAir(seq uint64) *Message {
	was := s.air.id != "" || s.air.advance != 0
	s.air.id, s.air.advance, s.air.at = "", 0, time.Time{}
	if !was {
		return nil
	}
	return &Message{Type: TypeAir, Seq: seq}
}

// dropOnAir takes id off air when it leaves the screens (held, rejected,
// removed, its author hidden or banned). Screens learn it from the same
// message that takes the post off them.
func (s *state) dropOnAir(id string) {
	if id != "" && s.air.id == id {
		s.air.id, s.air.at = "", time.Time{}
	}
}

// onAir is what overlays show now, nil when nothing. The caller holds mu.
func (s *state) onAir() *OnAir {
	if s.air.id == "" {
		return nil
	}
	i := s.find(s.air.id)
	if i < 0 || !s.shown(s.posts[i]) {
		return nil
	}
	return &OnAir{Post: s.posts[i], At: s.air.at, AdvanceMS: s.air.advance.Milliseconds()}
}

// onAirQueue is the order in which next puts posts on air: the pinned
// posts in pin order, then the featured ones, then the others, newest
// first; hidden authors' posts left out.
func (s *state) onAirQueue() []string {
	var out []string
	for _, it := range s.pinned() {
		out = append(out, it.ID)
	}
	for _, featured := range []bool{true, false} {
		for _, it := range s.posts {
			if !it.Pinned && it.Featured == featured && s.shown(it) {
				out = append(out, it.ID)
			}
		}
	}
	return out
}

// nextOnAir picks the next post of the queue that has not been on air in
// this round (the round starts again when every post has been), or ""
// when there is none besides the one on air.
func (s *state) nextOnAir() string {
	queue := s.onAirQueue()
	for round := 0; round < 2; round++ {
		for _, id := range queue {
			if id != s.air.id && !slices.Contains(s.air.aired, id) {
				return id
			}
		}
		s.air.aired = nil // every post has been on air: a new round
	}
	return ""
}

// older returns up to limit posts shown after before (not pinned, newest
// first), whether more follow, and whether before was found.
func (s *state) older(before string, limit int) ([]*Item, bool, bool) {
	if before != "" && slices.Contains(s.pins, before) {
		// A pinned post: what follows it is every other post.
		return s.older("", limit)
	}
	out := []*Item{}
	found := before == ""
	for _, it := range s.posts {
		if !found {
			found = it.ID == before
			continue
		}
		if it.Pinned || !s.shown(it) {
			continue
		}
		if len(out) == limit {
			return out, true, true
		}
		out = append(out, it)
	}
	return out, false, found
}
