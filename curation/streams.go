package curation

import (
	"sync"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Streams is the set of curated streams with their compiled policies,
// looked up by id or by the source that feeds them. It is safe for
// concurrent use; streams change live as their settings change.
type Streams struct {
	lists *Lists

	mu       sync.RWMutex
	byID     map[string]*Policy
	bySource map[string][]*Policy
	order    []string
}

// NewStreams returns an empty set that compiles with lists.
func NewStreams(lists *Lists) *Streams {
	return &Streams{lists: lists, byID: map[string]*Policy{}, bySource: map[string][]*Policy{}}
}

// Put compiles s and adds or replaces it.
func (s *Streams) Put(st config.Stream) error {
	pol, err := Compile(st, s.lists, "streams."+st.ID)
	if err != nil {
		return err
	}
	s.put(pol)
	return nil
}

// put adds or replaces a compiled policy.
func (s *Streams) put(pol *Policy) {
	st := pol.Stream
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[st.ID]; !ok {
		s.order = append(s.order, st.ID)
	}
	s.byID[st.ID] = pol
	s.reindex()
}

// Delete removes the stream with id.
func (s *Streams) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
	for i, o := range s.order {
		if o == id {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
	s.reindex()
}

// reindex rebuilds the by-source index. The caller holds mu.
func (s *Streams) reindex() {
	s.bySource = map[string][]*Policy{}
	for _, id := range s.order {
		pol := s.byID[id]
		for _, src := range pol.Stream.Sources {
			s.bySource[src] = append(s.bySource[src], pol)
		}
	}
}

// Get returns the stream with id.
func (s *Streams) Get(id string) (config.Stream, bool) {
	pol, ok := s.Policy(id)
	if !ok {
		return config.Stream{}, false
	}
	return pol.Stream, true
}

// Policy returns the compiled policy of the stream with id.
func (s *Streams) Policy(id string) (*Policy, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	pol, ok := s.byID[id]
	return pol, ok
}

// All returns every stream, in the order they were first added.
func (s *Streams) All() []config.Stream {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]config.Stream, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.byID[id].Stream)
	}
	return out
}

// Fed returns the policies of the streams that source feeds.
func (s *Streams) Fed(source string) []*Policy {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.bySource[source]
}

// BannedIn lists the streams whose blocked authors include p's author, in
// the order they were added: a moderator judging a post sees whether its
// author is banned elsewhere.
func (s *Streams) BannedIn(p *post.Post) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []string{}
	for _, id := range s.order {
		if s.byID[id].blockedAuthors.has(p) {
			out = append(out, id)
		}
	}
	return out
}
