package bus

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"
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
	// EventRelease puts a delayed approval on screen (fired by a schedule).
	EventRelease   EventKind = "release"
	EventPin       EventKind = "pin"
	EventUnpin     EventKind = "unpin"
	EventFeature   EventKind = "feature"
	EventUnfeature EventKind = "unfeature"
	// EventEdit replaces a post's content (alt text) where it is shown.
	EventEdit EventKind = "edit"
	// Author events carry the author key in Author.
	EventHideAuthor  EventKind = "hide_author"
	EventShowAuthor  EventKind = "show_author"
	EventBanAuthor   EventKind = "ban_author"
	EventUnbanAuthor EventKind = "unban_author"
	// EventOrderPins sets the order in which a stream's pinned posts are
	// shown; Pins lists post ids, first shown first.
	EventOrderPins EventKind = "order_pins"
	// On-air events drive broadcast overlays: air puts PostID on air,
	// air_next the next post of the on-air queue, air_clear takes it off.
	// With Advance set, the next post goes on air by itself every Advance
	// (a repeating schedule on the events stream, see AirMsgs).
	EventAir      EventKind = "air"
	EventAirNext  EventKind = "air_next"
	EventAirClear EventKind = "air_clear"
	// EventErase records that an author's posts were erased: Erased lists
	// the author's keys, hashed, and the event carries no content. Index
	// and display drop every post of those authors.
	EventErase EventKind = "erase"
	// EventPurge removes the posts listed in Posts whose retention ran
	// out (Reason says which rule).
	EventPurge EventKind = "purge"
	// EventRights records a request for the right to use a post, its grant
	// (with the author's reply as proof) or its revocation; see Rights.
	EventRights EventKind = "rights"
)

// ActorSchedule is the actor of the air_next events an auto-advance
// schedule writes.
const ActorSchedule = "schedule"

// MinAdvance and MaxAdvance bound an on-air auto-advance interval.
const (
	MinAdvance = 2 * time.Second
	MaxAdvance = time.Hour
)

// MaxPins is how many pinned posts a curated stream's screens keep: one
// more unpins the last in pin order. An order_pins event lists at most
// that many.
const MaxPins = 100

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
	// Rule names the rule that decided, when one did; Filter the filter
	// (its settings key: "blocked_words", "spam", "sensitive", ...).
	Rule   string `json:"rule,omitempty"`
	Filter string `json:"filter,omitempty"`
	// Tags, Pinned and Featured come with an approval from a rule.
	Tags     []string `json:"tags,omitempty"`
	Pinned   bool     `json:"pinned,omitempty"`
	Featured bool     `json:"featured,omitempty"`
	// ShowAt delays an approval: screens show the post when its release
	// event arrives, at or after ShowAt.
	ShowAt time.Time `json:"show_at,omitzero"`
	// Author is the author key of author events (see post.AuthorKey); of
	// an erase event, the requested key hashed.
	Author string `json:"author,omitempty"`
	// Pins is the pin order of an order_pins event.
	Pins []string `json:"pins,omitempty"`
	// Advance is the auto-advance interval of air and air_next events (0:
	// none; an air_next written by the schedule keeps the running one).
	Advance time.Duration `json:"advance,omitempty"`
	// Erased are every key of an erased author, hashed (erase events).
	Erased []string `json:"erased,omitempty"`
	// Posts are the ids of the posts a purge event removes.
	Posts []string `json:"posts,omitempty"`
	// Rights is what a rights event records.
	Rights *Rights `json:"rights,omitempty"`
	// IngestStream and IngestSeq are where a decided post is on the ingest
	// side (its partition's stream), so that retention and erasure can
	// delete it there too. An empty IngestStream (an event written before
	// partition streams) is CHORUS_INGEST (IngestStreamOf).
	IngestStream string `json:"ingest_stream,omitempty"`
	IngestSeq    uint64 `json:"ingest_seq,omitempty"`
	// SourceEdit marks a decision taken because the author edited the post
	// at its source: it carries the new version, and it may only take the
	// post further off screens (an approved post held or rejected, a held
	// one rejected), never bring back a post rejected or removed before.
	SourceEdit bool `json:"source_edit,omitempty"`
	// Actor is "curation" for automatic decisions, else who acted.
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`

	// Seq is the event's sequence on the events stream, set when read.
	Seq uint64 `json:"-"`
	// Stored is when the events stream stored the event, set when read.
	Stored time.Time `json:"-"`
}

// Rights states of a post in a stream (see Rights.State).
const (
	RightsRequested = "requested"
	RightsGranted   = "granted"
	RightsRevoked   = "revoked"
)

// Rights is a stream's right to use a post: asked for with a reply text
// the author answers, granted with the author's reply as proof (or by a
// moderator who has it), or revoked.
type Rights struct {
	State string `json:"state"`
	// Text is the request a moderator copies or Chorus posts as a reply,
	// e.g. "@ana Reply #YesChorusSummit to let us feature this".
	Text string `json:"text,omitempty"`
	// Hashtag is the consent hashtag the author's reply must carry.
	Hashtag string `json:"hashtag,omitempty"`
	// RequestURL is where the request was posted on the network, when
	// Chorus posted it.
	RequestURL string `json:"request_url,omitempty"`
	// Proof is the author's reply that granted the rights (id, permalink,
	// text, time), or a moderator's note.
	Proof *Proof `json:"proof,omitempty"`
}

// Proof is what shows that the author granted the rights.
type Proof struct {
	PostID string    `json:"post_id,omitempty"`
	URL    string    `json:"url,omitempty"`
	Text   string    `json:"text,omitempty"`
	At     time.Time `json:"at,omitzero"`
	// Note is a moderator's account of a grant made elsewhere (an email).
	Note string `json:"note,omitempty"`
}

// ActorCuration marks decisions made by the curation pipeline itself.
const ActorCuration = "curation"

// Msg encodes e for publishing. A non-empty id makes the publish idempotent
// within the dedupe window.
func (e Event) Msg(id string) (*nats.Msg, error) {
	data, err := encodeEvent(&e)
	if err != nil {
		return nil, fmt.Errorf("bus: encode event: %w", err)
	}
	m := &nats.Msg{Subject: EventSubject(e.Stream, string(e.Kind)), Data: data, Header: nats.Header{}}
	if id != "" {
		m.Header.Set(jetstream.MsgIDHeader, id)
	}
	return m, nil
}

// Posts and events are read with go-json-experiment's v1 mode: exactly
// encoding/json's rules (unknown fields ignored, names matched without
// regard to case, invalid UTF-8 replaced, so an odd field never sinks a
// post), run by the json/v2 decoder, which takes well under encoding/json's
// CPU. Every post is decoded by curation and every event by the index and
// each display, so this is on the hottest paths. Events and posts are
// encoded by hand, byte for byte as encoding/json would (encode.go).

// DecodeEvent decodes an event read from the events stream at seq.
func DecodeEvent(data []byte, seq uint64) (Event, error) {
	var e Event
	if err := jsonv1.Unmarshal(data, &e); err != nil {
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

// DecodePost decodes a post read from the ingest stream.
func DecodePost(data []byte) (post.Post, error) {
	var p post.Post
	if err := jsonv1.Unmarshal(data, &p); err != nil {
		return post.Post{}, fmt.Errorf("bus: post: %w", err)
	}
	return p, nil
}

// DecodePosts decodes one post object, or an array of posts, as a
// webhook's body holds them; bytes after the value are an error.
func DecodePosts(data []byte) ([]post.Post, error) {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) > 0 && data[0] == '[' {
		var posts []post.Post
		if err := jsonv1.Unmarshal(data, &posts); err != nil {
			return nil, fmt.Errorf("bus: posts: %w", err)
		}
		return posts, nil
	}
	p, err := DecodePost(data)
	if err != nil {
		return nil, err
	}
	return []post.Post{p}, nil
}

// ReleaseMsg is the message that schedules e (a release event) to be
// written to the events stream at `at`; key makes the schedule unique and
// idempotent per post. Publish it like any other message (PublishAll).
func (c *Conn) ReleaseMsg(e Event, key string, at time.Time) (*nats.Msg, error) {
	if !c.Schedules {
		return nil, errors.New("bus: this NATS server cannot schedule messages (needs 2.12+)")
	}
	data, err := encodeEvent(&e)
	if err != nil {
		return nil, fmt.Errorf("bus: encode release: %w", err)
	}
	m := &nats.Msg{Subject: eventsPrefix + e.Stream + ".schedule." + key, Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.ScheduleHeader, "@at "+at.UTC().Format(time.RFC3339))
	m.Header.Set(jetstream.ScheduleTargetHeader, EventSubject(e.Stream, string(EventRelease)))
	m.Header.Set(jetstream.MsgIDHeader, "schedule."+key)
	return m, nil
}

// Headers that purge a schedule (nats.go names no constants for them).
const (
	scheduleNextHeader = "Nats-Schedule-Next"
	schedulerHeader    = "Nats-Scheduler"
)

// airScheduleSubject holds a stream's on-air auto-advance schedule (one per
// stream: a new one replaces it).
func airScheduleSubject(stream string) string { return eventsPrefix + stream + ".schedule.air" }

// AirMsgs returns the messages that write e, an air, air_next or air_clear
// event, publishing them in order (PublishAll). With e.Advance set it adds
// a repeating schedule that writes an air_next event every e.Advance,
// replacing any running one; without, e carries the headers that purge a
// running schedule, so a producer's air, next or clear stops auto-advance.
// Every node's display sees the same events in the same order, so every
// overlay shows the same post, and a restart keeps the schedule.
func (c *Conn) AirMsgs(e Event) ([]*nats.Msg, error) {
	switch e.Kind {
	case EventAir, EventAirNext, EventAirClear:
	default:
		return nil, fmt.Errorf("bus: %s is not an on-air event", e.Kind)
	}
	if e.Advance != 0 && (e.Kind == EventAirClear || e.Advance < MinAdvance || e.Advance > MaxAdvance) {
		return nil, fmt.Errorf("bus: advance %s must be from %s to %s (and none with clear)", e.Advance, MinAdvance, MaxAdvance)
	}
	if e.Advance != 0 && !c.Schedules {
		return nil, errors.New("bus: auto-advance needs a NATS server that schedules messages (2.12+)")
	}
	m, err := e.Msg("")
	if err != nil {
		return nil, err
	}
	if !c.Schedules {
		return []*nats.Msg{m}, nil
	}
	subject := airScheduleSubject(e.Stream)
	if e.Advance == 0 {
		m.Header.Set(scheduleNextHeader, "purge")
		m.Header.Set(schedulerHeader, subject)
		return []*nats.Msg{m}, nil
	}
	next := Event{Kind: EventAirNext, Stream: e.Stream, Actor: ActorSchedule, Reason: "auto-advance"}
	data, err := encodeEvent(&next)
	if err != nil {
		return nil, fmt.Errorf("bus: encode auto-advance: %w", err)
	}
	s := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	s.Header.Set(jetstream.ScheduleHeader, "@every "+e.Advance.String())
	s.Header.Set(jetstream.ScheduleTargetHeader, EventSubject(e.Stream, string(EventAirNext)))
	return []*nats.Msg{m, s}, nil
}
