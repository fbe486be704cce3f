// Package display keeps, for every curated stream, the small state a screen
// needs (the latest approved posts, pins in order, pause) and pushes its
// changes to websocket clients. Each change is encoded once and shared by
// every client; every client has a bounded queue, and a client too slow to
// keep up, or silent, is disconnected, never waited for.
//
// The state is checkpointed in the chorus_display bucket with the events
// sequence it reflects, so a restart replays only the events after it; until
// the state is loaded (or has reached a resuming client's since) clients are
// held, so no screen is ever shown a state older than one it showed.
package display

import (
	"time"

	"github.com/chorus-wall/chorus/post"
)

// Item is a post as screens show it.
type Item struct {
	post.Post
	Pinned   bool     `json:"pinned,omitempty"`
	Featured bool     `json:"featured,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

// Message types of the display protocol.
const (
	TypeSnapshot = "snapshot"
	TypeAdd      = "add"
	TypeRemove   = "remove"
	TypeUpdate   = "update"
	TypeControl  = "control"
	// TypePins carries only a new pin order.
	TypePins = "pins"
	// TypeAir says what broadcast overlays show: OnAir, or nothing (off air).
	TypeAir = "air"
	// TypePage is the answer to GET .../posts?before=: older posts.
	TypePage = "page"
)

// OnAir is the post broadcast overlays show, the same on every node.
type OnAir struct {
	Post *Item `json:"post"`
	// At is when it went on air.
	At time.Time `json:"at"`
	// AdvanceMS, when set, is the auto-advance interval: the next post goes
	// on air by itself this many milliseconds after At.
	AdvanceMS int64 `json:"advance_ms,omitempty"`
}

// Message is one server-to-client message. seq is the events stream's
// sequence, the same on every node.
type Message struct {
	Type   string `json:"type"`
	Seq    uint64 `json:"seq"`
	Post   *Item  `json:"post,omitempty"`
	ID     string `json:"id,omitempty"`
	Action string `json:"action,omitempty"`
	// Pins is set (possibly empty) when the message changes which posts
	// are pinned or their order: the pinned ids, first shown first.
	Pins []string `json:"pins,omitzero"`
	// OnAir is an air message's post on air; absent when it goes off air.
	OnAir *OnAir `json:"on_air,omitempty"`
}

// Snapshot is the whole state of a stream: the pinned posts in pin order,
// then the others, newest first. Pins lists the pinned ids in order.
type Snapshot struct {
	Type   string   `json:"type"`
	Seq    uint64   `json:"seq"`
	Posts  []*Item  `json:"posts"`
	Pins   []string `json:"pins"`
	Paused bool     `json:"paused"`
	// OnAir is the post broadcast overlays show, absent when none.
	OnAir *OnAir `json:"on_air,omitempty"`
}

// Page is a page of older posts (GET .../posts?before=ID): the posts after
// ID in the order screens show them, pinned ones left out (screens have
// them). More says whether older ones follow.
type Page struct {
	Type  string  `json:"type"`
	Seq   uint64  `json:"seq"`
	Posts []*Item `json:"posts"`
	More  bool    `json:"more"`
}
