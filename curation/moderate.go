package curation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// Finder finds a post of a stream and its current status (the index), and
// waits until an event is reflected there.
type Finder interface {
	Find(ctx context.Context, stream, postID string) (post.Post, string, error)
	WaitApplied(ctx context.Context, seq uint64) error
}

// Errors of moderator actions.
var (
	ErrUnknownStream = errors.New("no stream with that id")
	ErrUnknownAction = errors.New("unknown action")
)

// Moderator writes moderators' decisions as events.
type Moderator struct {
	conn    *bus.Conn
	streams *Streams
	finder  Finder
	now     func() time.Time
}

// NewModerator returns a moderator writing to conn.
func NewModerator(conn *bus.Conn, streams *Streams, finder Finder) *Moderator {
	return &Moderator{conn: conn, streams: streams, finder: finder, now: time.Now}
}

// Outcome is what an action did.
type Outcome struct {
	Stream  string `json:"stream"`
	PostID  string `json:"post_id"`
	Status  string `json:"status"`
	Changed bool   `json:"changed"`
	Seq     uint64 `json:"seq,omitempty"`
}

// postActions are the actions on one post and the event each writes.
var postActions = map[string]bus.EventKind{
	"approve": bus.EventApprove,
	"reject":  bus.EventReject,
	"remove":  bus.EventRemove,
}

// Act applies a moderator's action ("approve", "reject" or "remove") to a
// post of a stream. An action that would not change the post's status
// writes nothing and reports Changed false. Act returns once the finder
// reflects the action, so the queue a moderator reloads is up to date.
func (m *Moderator) Act(ctx context.Context, stream, postID, action, actor, reason string) (Outcome, error) {
	kind, ok := postActions[action]
	if !ok {
		return Outcome{}, fmt.Errorf("%w %q (approve, reject or remove)", ErrUnknownAction, action)
	}
	if _, ok := m.streams.Get(stream); !ok {
		return Outcome{}, ErrUnknownStream
	}
	p, status, err := m.finder.Find(ctx, stream, postID)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Stream: stream, PostID: p.ID, Status: kind.Status()}
	if status == kind.Status() {
		return out, nil
	}
	if reason == "" {
		reason = "moderator"
	}
	e := bus.Event{Kind: kind, Stream: stream, PostID: p.ID, Post: &p, Reason: reason, Actor: actor, At: m.now().UTC()}
	if out.Seq, err = m.publish(ctx, e); err != nil {
		return Outcome{}, err
	}
	out.Changed = true
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// The action is stored either way; the wait only makes the caller's next
	// read consistent, so giving up on it is not an error.
	_ = m.finder.WaitApplied(waitCtx, out.Seq)
	return out, nil
}

// streamActions are the actions on a whole stream.
var streamActions = map[string]bus.EventKind{
	"pause":  bus.EventPause,
	"resume": bus.EventResume,
}

// Control pauses or resumes every screen of a stream ("pause" or "resume").
// A paused stream's screens show a safe slate until it resumes; the state is
// an event, so it survives restarts and reaches every node.
func (m *Moderator) Control(ctx context.Context, stream, action, actor, reason string) (bus.Event, error) {
	kind, ok := streamActions[action]
	if !ok {
		return bus.Event{}, fmt.Errorf("%w %q (pause or resume)", ErrUnknownAction, action)
	}
	if _, ok := m.streams.Get(stream); !ok {
		return bus.Event{}, ErrUnknownStream
	}
	if reason == "" {
		reason = "moderator"
	}
	e := bus.Event{Kind: kind, Stream: stream, Reason: reason, Actor: actor, At: m.now().UTC()}
	var err error
	e.Seq, err = m.publish(ctx, e)
	return e, err
}

// publish stores one event and returns its sequence.
func (m *Moderator) publish(ctx context.Context, e bus.Event) (uint64, error) {
	msg, err := e.Msg("")
	if err != nil {
		return 0, err
	}
	acks, err := m.conn.PublishAll(ctx, []*nats.Msg{msg})
	if err != nil {
		return 0, err
	}
	return acks[0].Sequence, nil
}
