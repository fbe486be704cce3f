package curation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Finder finds a post of a stream and its current status (the index), and
// waits until an event is reflected there.
type Finder interface {
	Find(ctx context.Context, stream, postID string) (post.Post, string, error)
	WaitApplied(ctx context.Context, seq uint64) error
}

// SettingsStore changes a stream's stored settings (bans live there).
type SettingsStore interface {
	Update(ctx context.Context, id string, change func(*config.Stream) error) (config.Stream, error)
}

// Errors of moderator actions.
var (
	ErrUnknownStream = errors.New("no stream with that id")
	ErrUnknownAction = errors.New("unknown action")
	// ErrNotShown: the action needs a post that is on screen (approved).
	ErrNotShown = errors.New("the post is not approved")
	ErrBadInput = errors.New("bad input")
)

// Moderator writes moderators' actions as events.
type Moderator struct {
	conn     *bus.Conn
	streams  *Streams
	finder   Finder
	settings SettingsStore
	now      func() time.Time

	// Paused, when set, says whether a stream's screens are paused now and
	// whether that is known (the display has caught up), so pausing a
	// paused stream answers changed:false.
	Paused func(stream string) (paused, known bool)
	// Broadcast, when set, checks that a post is on screen before it goes
	// on air, and says what the overlays show after an on-air action.
	Broadcast Broadcast
	// RightsBook keeps the rights requests (rights.go).
	RightsBook RightsBook
}

// NewModerator returns a moderator writing to conn.
func NewModerator(conn *bus.Conn, streams *Streams, finder Finder, settings SettingsStore) *Moderator {
	return &Moderator{conn: conn, streams: streams, finder: finder, settings: settings, now: time.Now}
}

// Outcome is what an action did.
type Outcome struct {
	Stream  string `json:"stream"`
	PostID  string `json:"post_id,omitempty"`
	Author  string `json:"author,omitempty"`
	Action  string `json:"action"`
	Status  string `json:"status,omitempty"`
	Changed bool   `json:"changed"`
	Seq     uint64 `json:"seq,omitempty"`
}

// Who did something, and why: every action event carries it.
type Who struct {
	Actor  string
	Reason string
}

// PostActions are the actions on one post. "hold" puts a post back in the
// queue (off screens), which is how a moderator undoes an approval or a
// rejection.
var PostActions = []string{"approve", "reject", "remove", "hold", "pin", "unpin", "feature", "unfeature"}

// statusActions change a post's status.
var statusActions = map[string]bus.EventKind{
	"approve": bus.EventApprove,
	"reject":  bus.EventReject,
	"remove":  bus.EventRemove,
	"hold":    bus.EventHold,
}

// flagActions change how an approved post is shown.
var flagActions = map[string]bus.EventKind{
	"pin":       bus.EventPin,
	"unpin":     bus.EventUnpin,
	"feature":   bus.EventFeature,
	"unfeature": bus.EventUnfeature,
}

// Act applies a moderator's action to a post of a stream. An action that
// would change nothing writes nothing and reports Changed false. Pinning a
// held post approves and pins it at once; the pin event of an approved post
// carries the post, so screens show it again even when it had left them. Act
// returns once the finder reflects the action, so the queue a moderator
// reloads is up to date.
func (m *Moderator) Act(ctx context.Context, stream, postID, action string, who Who) (Outcome, error) {
	if err := m.known(stream); err != nil {
		return Outcome{}, err
	}
	if !slices.Contains(PostActions, action) {
		return Outcome{}, fmt.Errorf("%w %q (one of %s)", ErrUnknownAction, action, strings.Join(PostActions, ", "))
	}
	p, status, err := m.finder.Find(ctx, stream, postID)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Stream: stream, PostID: p.ID, Action: action, Status: status}
	e := bus.Event{Stream: stream, PostID: p.ID, Post: &p}
	if kind, ok := statusActions[action]; ok {
		out.Status = kind.Status()
		if status == kind.Status() {
			return out, nil
		}
		e.Kind = kind
	} else if kind, ok := flagActions[action]; ok {
		switch {
		case status == "approved":
			e.Kind = kind
		case action == "pin" && status == "held":
			// One call puts a held post on screen, pinned.
			e.Kind, e.Pinned, out.Status = bus.EventApprove, true, bus.EventApprove.Status()
		default:
			return out, fmt.Errorf("%w (it is %s); approve it first", ErrNotShown, status)
		}
	}
	return m.write(ctx, e, who, out)
}

// EditAlt replaces the alt text of the post's media item at index.
func (m *Moderator) EditAlt(ctx context.Context, stream, postID string, index int, alt string, who Who) (Outcome, error) {
	if err := m.known(stream); err != nil {
		return Outcome{}, err
	}
	p, status, err := m.finder.Find(ctx, stream, postID)
	if err != nil {
		return Outcome{}, err
	}
	if index < 0 || index >= len(p.Media) {
		return Outcome{}, fmt.Errorf("%w: the post has %d media items; media must be 0 to %d", ErrBadInput, len(p.Media), len(p.Media)-1)
	}
	media := slices.Clone(p.Media)
	media[index].Alt = alt
	p.Media = media
	if err := p.Normalize(p.Network, m.now()); err != nil { // cleans and caps the new text
		return Outcome{}, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	out := Outcome{Stream: stream, PostID: p.ID, Action: "alt", Status: status}
	return m.write(ctx, bus.Event{Kind: bus.EventEdit, Stream: stream, PostID: p.ID, Post: &p}, who, out)
}

// OrderPins sets the order of a stream's pinned posts on screens: the
// listed ones first, in the listed order, then any others pinned, in their
// current order. Ids that are not pinned are ignored by screens.
func (m *Moderator) OrderPins(ctx context.Context, stream string, ids []string, who Who) (Outcome, error) {
	if err := m.known(stream); err != nil {
		return Outcome{}, err
	}
	if len(ids) == 0 || len(ids) > bus.MaxPins {
		return Outcome{}, fmt.Errorf("%w: order must list 1 to %d post ids", ErrBadInput, bus.MaxPins)
	}
	for i, id := range ids {
		if id == "" || len(id) > 512 {
			return Outcome{}, fmt.Errorf("%w: order[%d] must be a post id", ErrBadInput, i)
		}
		if slices.Index(ids, id) != i {
			return Outcome{}, fmt.Errorf("%w: order[%d] repeats %q", ErrBadInput, i, id)
		}
	}
	e := bus.Event{Kind: bus.EventOrderPins, Stream: stream, Pins: slices.Clone(ids)}
	return m.write(ctx, e, who, Outcome{Stream: stream, Action: "order_pins"})
}

// AuthorActions are the actions on an author of a stream.
var AuthorActions = []string{"hide", "show", "ban", "unban"}

// ActOnAuthor hides, shows, bans or unbans an author (a post.AuthorKey like
// "mastodon:ana@social.example"). Hiding takes the author's posts off
// screens until shown again; banning also rejects the author's future posts
// (the ban is kept in the stream's settings, on every node) and removes
// their approved posts.
func (m *Moderator) ActOnAuthor(ctx context.Context, stream, author, action string, who Who) (Outcome, error) {
	if err := m.known(stream); err != nil {
		return Outcome{}, err
	}
	author = strings.ToLower(strings.TrimSpace(author))
	if net, handle, ok := strings.Cut(author, ":"); !ok || !post.IsToken(net) || handle == "" {
		return Outcome{}, fmt.Errorf("%w: author must be network:handle (or network:#id), like mastodon:ana@social.example", ErrBadInput)
	}
	out := Outcome{Stream: stream, Author: author, Action: action}
	e := bus.Event{Stream: stream, Author: author}
	switch action {
	case "hide":
		e.Kind = bus.EventHideAuthor
	case "show":
		e.Kind = bus.EventShowAuthor
	case "ban", "unban":
		e.Kind = bus.EventBanAuthor
		if action == "unban" {
			e.Kind = bus.EventUnbanAuthor
		}
		if _, err := m.settings.Update(ctx, stream, func(s *config.Stream) error {
			s.Filters.BlockedAuthors = slices.DeleteFunc(s.Filters.BlockedAuthors, func(a string) bool { return strings.EqualFold(a, author) })
			if action == "ban" {
				s.Filters.BlockedAuthors = append(s.Filters.BlockedAuthors, author)
			}
			return nil
		}); err != nil {
			return Outcome{}, err
		}
	default:
		return Outcome{}, fmt.Errorf("%w %q (one of %s)", ErrUnknownAction, action, strings.Join(AuthorActions, ", "))
	}
	return m.write(ctx, e, who, out)
}

// streamActions are the actions on a whole stream.
var streamActions = map[string]bus.EventKind{
	"pause":  bus.EventPause,
	"resume": bus.EventResume,
}

// Control pauses or resumes every screen of a stream ("pause" or "resume").
// A paused stream's screens show a safe slate until it resumes; the state is
// an event, so it survives restarts and reaches every node.
func (m *Moderator) Control(ctx context.Context, stream, action string, who Who) (Outcome, error) {
	kind, ok := streamActions[action]
	if !ok {
		return Outcome{}, fmt.Errorf("%w %q (pause or resume)", ErrUnknownAction, action)
	}
	if err := m.known(stream); err != nil {
		return Outcome{}, err
	}
	var was, known bool
	if m.Paused != nil {
		was, known = m.Paused(stream)
	}
	// The event is written even when nothing changes: the panic button must
	// never depend on a view that could be a moment old.
	out, err := m.write(ctx, bus.Event{Kind: kind, Stream: stream}, who, Outcome{Stream: stream, Action: action})
	if err != nil {
		return out, err
	}
	if known && was == (kind == bus.EventPause) {
		out.Changed = false
	}
	out.Status = "running"
	if kind == bus.EventPause {
		out.Status = "paused"
	}
	return out, nil
}

func (m *Moderator) known(stream string) error {
	if _, ok := m.streams.Get(stream); !ok {
		return ErrUnknownStream
	}
	return nil
}

// write stores e, signed with who, and waits until the finder has it.
func (m *Moderator) write(ctx context.Context, e bus.Event, who Who, out Outcome) (Outcome, error) {
	e.Actor, e.Reason, e.At = who.Actor, who.Reason, m.now().UTC()
	if e.Actor == "" {
		e.Actor = "admin"
	}
	if e.Reason == "" {
		e.Reason = "moderator"
	}
	msg, err := e.Msg("")
	if err != nil {
		return Outcome{}, err
	}
	msgs := []*nats.Msg{msg}
	if e.PostID != "" && e.Stream != "" {
		// A post a moderator acted on is never decided again by curation,
		// however late a copy of it comes (see window.go).
		msgs = append(msgs, bus.SeenMsg(SeenKey(e.Stream, e.PostID)))
	}
	acks, err := m.conn.PublishAll(ctx, msgs)
	if err != nil {
		return Outcome{}, err
	}
	out.Changed, out.Seq = true, acks[0].Sequence
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// The action is stored either way; the wait only makes the caller's next
	// read consistent, so giving up on it is not an error.
	_ = m.finder.WaitApplied(waitCtx, out.Seq)
	return out, nil
}
