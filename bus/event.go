package bus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/post"
)

// EventKind names what happened to a post (or a stream).
type EventKind string

// The kinds of event on CHORUS_EVENTS. approve, hold and reject come from
// curation's decisions and from moderators; the rest from moderators only.
const (
	EventApprove EventKind = "approve"
	EventHold    EventKind = "hold"
	EventReject  EventKind = "reject"
	EventRemove  EventKind = "remove"
	EventPause   EventKind = "pause"
	EventResume  EventKind = "resume"
)

// Status is where a post stands in one curated stream after an event.
func (k EventKind) Status() string {
	switch k {
	case EventApprove:
		return "approved"
	case EventHold:
		return "held"
	case EventReject:
		return "rejected"
	case EventRemove:
		return "removed"
	}
	return ""
}

// Event is one message on the events stream: a decision about a post in a
// curated stream, or a change to the stream itself. Events that introduce a
// post carry it whole, so the index and the display can be rebuilt from the
// events stream alone.
type Event struct {
	Kind   EventKind  `json:"kind"`
	Stream string     `json:"stream"`
	PostID string     `json:"post_id,omitempty"`
	Post   *post.Post `json:"post,omitempty"`
	Reason string     `json:"reason,omitempty"`
	// Actor is "curation" for automatic decisions, else who acted.
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`

	// Seq is the event's sequence on the events stream, set when read.
	Seq uint64 `json:"-"`
}

// ActorCuration marks decisions made by the curation pipeline itself.
const ActorCuration = "curation"

// Msg encodes e for publishing. A non-empty id makes the publish idempotent
// within the dedupe window.
func (e Event) Msg(id string) (*nats.Msg, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("bus: encode event: %w", err)
	}
	m := &nats.Msg{Subject: EventSubject(e.Stream, string(e.Kind)), Data: data, Header: nats.Header{}}
	if id != "" {
		m.Header.Set(jetstream.MsgIDHeader, id)
	}
	return m, nil
}

// DecodeEvent decodes an event read from the events stream at seq.
func DecodeEvent(data []byte, seq uint64) (Event, error) {
	var e Event
	if err := json.Unmarshal(data, &e); err != nil {
		return Event{}, fmt.Errorf("bus: event %d: %w", seq, err)
	}
	if e.Stream == "" || e.Kind == "" {
		return Event{}, fmt.Errorf("bus: event %d: missing stream or kind", seq)
	}
	if e.Post != nil && e.PostID == "" {
		e.PostID = e.Post.ID
	}
	e.Seq = seq
	return e, nil
}
