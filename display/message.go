// Package display keeps, for every curated stream, the small state a screen
// needs (the latest approved posts, pins, pause) and pushes its changes to
// websocket clients. Each change is encoded once and shared by every client;
// every client has a bounded queue, and a client too slow to keep up is
// disconnected, never waited for.
package display

import (
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
)

// Message is one server-to-client message. seq is the events stream's
// sequence, the same on every node.
type Message struct {
	Type   string `json:"type"`
	Seq    uint64 `json:"seq"`
	Post   *Item  `json:"post,omitempty"`
	ID     string `json:"id,omitempty"`
	Action string `json:"action,omitempty"`
}

// Snapshot is the whole state of a stream, newest first.
type Snapshot struct {
	Type   string  `json:"type"`
	Seq    uint64  `json:"seq"`
	Posts  []*Item `json:"posts"`
	Paused bool    `json:"paused"`
}
