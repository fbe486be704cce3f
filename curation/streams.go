package curation

import (
	"sync"
	"time"

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
	// revs holds the chorus_config revision last applied per stream id, so
	// a watch entry that arrives after a newer change was applied (this
	// node's own write, applied at once) cannot undo it.
	revs map[string]uint64
}

// NewStreams returns an empty set that compiles with lists.
func NewStreams(lists *Lists) *Streams {
	return &Streams{lists: lists, byID: map[string]*Policy{}, bySource: map[string][]*Policy{}, revs: map[string]uint64{}}
}

// Put compiles s and adds or replaces it.
func (s *Streams) Put(st config.Stream) error {
	return s.PutAt(st, 0)
}

// PutAt is Put for the stream as stored at a chorus_config revision; it is
// ignored when a change at that revision or a later one is already applied.
// Revision 0 means unversioned: always applied.
func (s *Streams) PutAt(st config.Stream, revision uint64) error {
	pol, err := Compile(st, s.lists, "streams."+st.ID)
	if err != nil {
		return err
	}
	s.put(pol, revision)
	return nil
}

// put adds or replaces a compiled policy stored at revision (see PutAt).
func (s *Streams) put(pol *Policy, revision uint64) {
	st := pol.Stream
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.newer(st.ID, revision) {
		return
	}
	if _, ok := s.byID[st.ID]; !ok {
		s.order = append(s.order, st.ID)
	}
	s.byID[st.ID] = pol
	s.reindex()
}

// Delete removes the stream with id.
func (s *Streams) Delete(id string) {
	s.DeleteAt(id, 0)
}

// DeleteAt is Delete for a deletion at a chorus_config revision (see PutAt).
func (s *Streams) DeleteAt(id string, revision uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.newer(id, revision) {
		return
	}
	delete(s.byID, id)
	for i, o := range s.order {
		if o == id {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
	s.reindex()
}

// newer reports whether a change at revision is to be applied, and records
// it. The caller holds mu.
func (s *Streams) newer(id string, revision uint64) bool {
	if revision == 0 {
		return true
	}
	if revision <= s.revs[id] {
		return false
	}
	s.revs[id] = revision
	return true
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

// spamWindow is the longest time any stream's spam memory looks back.
func (s *Streams) spamWindow() time.Duration {
	var w time.Duration
	for _, st := range s.All() {
		if pol, ok := s.Policy(st.ID); ok {
			w = max(w, pol.spam.memory())
		}
	}
	return w
}
