// Package curation decides, for every curated stream a post's source feeds,
// whether the post goes on screen, waits for a moderator or is rejected, and
// writes each decision (and each moderator action) to the events stream.
package curation

import (
	"fmt"
	"sync"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Policy is one curated stream's compiled curation settings.
type Policy struct {
	Stream  config.Stream
	blocked *WordList
}

// NewPolicy compiles a stream's settings.
func NewPolicy(s config.Stream) *Policy {
	return &Policy{Stream: s, blocked: NewWordList(s.BlockedWords)}
}

// Decide says what happens to p in this stream and why. It is pure: the same
// post and settings always give the same decision.
func (pol *Policy) Decide(p *post.Post) (bus.EventKind, string) {
	if m, ok := pol.blocked.Find(p); ok {
		return bus.EventReject, fmt.Sprintf("blocked word %q in %s", m.Word, m.Field)
	}
	if pol.Stream.Moderation == config.ModerationManual {
		return bus.EventHold, "manual moderation"
	}
	return bus.EventApprove, "auto"
}

// Streams is the set of curated streams, looked up by id or by the source
// that feeds them. It is safe for concurrent use and can be replaced whole.
type Streams struct {
	mu       sync.RWMutex
	byID     map[string]*Policy
	bySource map[string][]*Policy
	ordered  []config.Stream
}

// NewStreams compiles streams.
func NewStreams(streams []config.Stream) *Streams {
	s := &Streams{}
	s.Set(streams)
	return s
}

// Set replaces every stream.
func (s *Streams) Set(streams []config.Stream) {
	byID := map[string]*Policy{}
	bySource := map[string][]*Policy{}
	for _, st := range streams {
		p := NewPolicy(st)
		byID[st.ID] = p
		for _, src := range st.Sources {
			bySource[src] = append(bySource[src], p)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID, s.bySource, s.ordered = byID, bySource, append([]config.Stream(nil), streams...)
}

// Get returns the stream with id.
func (s *Streams) Get(id string) (config.Stream, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.byID[id]
	if !ok {
		return config.Stream{}, false
	}
	return p.Stream, true
}

// All returns every stream in config order.
func (s *Streams) All() []config.Stream {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]config.Stream(nil), s.ordered...)
}

// Fed returns the policies of the streams that source feeds.
func (s *Streams) Fed(source string) []*Policy {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.bySource[source]
}
