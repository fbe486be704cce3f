package display

import (
	"maps"
	"slices"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
)

// A stream whose posts need their authors' consent (rights: required) has
// a second state beside its own: its licensed view, which shows only the
// posts whose rights were granted, to every surface the stream does not
// exempt (widgets, embeds, cards, feeds, the posts API). It is made from
// the stream's state the first time it is needed, then follows the same
// events; an approved post without rights waits in it (unrighted) until a
// rights event grants them, and leaves screens again when they are
// revoked. Like every state it encodes each message once for all its
// clients. It is not checkpointed: a restart makes it again from the
// stream's state, whose checkpoint keeps the grants.

// rights applies a rights event: every state remembers the grants; the
// licensed view shows or takes off the post. The caller holds mu.
func (s *state) rights(e bus.Event) *Message {
	if e.Rights == nil || e.PostID == "" {
		return nil
	}
	switch e.Rights.State {
	case bus.RightsGranted:
		s.granted[e.PostID] = true
		if !s.licensed {
			return nil
		}
		if it, ok := s.unrighted[e.PostID]; ok {
			delete(s.unrighted, e.PostID)
			return s.show(e.Seq, it)
		}
	case bus.RightsRevoked:
		delete(s.granted, e.PostID)
		if !s.licensed {
			return nil
		}
		if it, ok := s.pending[e.PostID]; ok {
			delete(s.pending, e.PostID)
			s.unrighted[e.PostID] = it
		}
		i := s.find(e.PostID)
		if i < 0 {
			return nil
		}
		it := s.posts[i]
		s.removeAt(i)
		s.dropOnAir(e.PostID)
		pinsChanged := s.dropPin(e.PostID)
		s.unrighted[e.PostID] = it
		if s.hidden[it.AuthorKey()] {
			return nil
		}
		return s.withPins(&Message{Type: TypeRemove, Seq: e.Seq, ID: e.PostID}, pinsChanged)
	}
	return nil
}

// waitsForRights keeps item back when the state is a licensed view and
// the post's rights are not granted; it reports whether it did.
func (s *state) waitsForRights(item *Item) bool {
	if !s.licensed || s.granted[item.ID] {
		return false
	}
	s.unrighted[item.ID] = item
	return true
}

// dropRights forgets what the state knows of id's rights (the post left
// for good: purged, erased).
func (s *state) dropRights(id string) {
	delete(s.granted, id)
	delete(s.unrighted, id)
}

// licensedView makes the licensed view of s: its posts with rights, the
// others waiting. The caller holds s.mu.
func (s *state) licensedView() *state {
	v := newState(s.seq)
	v.licensed = true
	v.limit = s.limit
	v.paused = s.paused
	maps.Copy(v.hidden, s.hidden)
	maps.Copy(v.gone, s.gone)
	maps.Copy(v.granted, s.granted)
	maps.Copy(v.pending, s.pending)
	for _, it := range s.posts {
		if s.granted[it.ID] {
			v.posts = append(v.posts, it)
			v.held[it.ID] = struct{}{}
		} else {
			v.unrighted[it.ID] = it
		}
	}
	v.pins = slices.DeleteFunc(slices.Clone(s.pins), func(id string) bool { return !s.granted[id] })
	v.air = s.air
	v.air.aired = slices.Clone(s.air.aired)
	if v.air.id != "" && !s.granted[v.air.id] {
		v.air.id = ""
	}
	return v
}

// view returns the state that surface of stream shows: the licensed view
// when the stream needs rights and does not exempt the surface, else the
// stream's own state.
func (h *Hub) view(stream config.Stream, surface string) *state {
	if stream.Rights.Shows(surface) {
		return h.state(stream.ID)
	}
	return h.licensedState(stream.ID)
}

// licensedState returns the stream's licensed view, making it from the
// stream's state the first time. Both locks are held while it is made and
// stored (st.mu before h.mu, as register takes them), so it misses no
// event the stream's state gets.
func (h *Hub) licensedState(stream string) *state {
	h.mu.Lock()
	v := h.licensedViews[stream]
	h.mu.Unlock()
	if v != nil {
		return v
	}
	st := h.state(stream)
	st.mu.Lock()
	defer st.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if v := h.licensedViews[stream]; v != nil {
		return v
	}
	v = st.licensedView()
	h.licensedViews[stream] = v
	return v
}

// licensed returns the stream's licensed view, nil when none was made.
func (h *Hub) licensed(stream string) *state {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.licensedViews[stream]
}
