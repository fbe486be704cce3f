package graph

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Cursor is a resume point on an edge ordered by time: the newest creation
// time seen (unix seconds, the API's precision) and the ids seen at exactly
// that second. An item is new when it is younger than Time, or from that
// very second with an id not in IDs, so a restart neither repeats the
// boundary's items nor loses one that shares its second.
type Cursor struct {
	Time int64    `json:"time,omitempty"`
	IDs  []string `json:"ids,omitempty"`
}

// IsZero reports whether nothing has been seen yet (a first run).
func (c Cursor) IsZero() bool { return c.Time == 0 && len(c.IDs) == 0 }

// Seen reports whether the item id created at t is at or behind c.
func (c Cursor) Seen(t time.Time, id string) bool {
	u := t.Unix()
	return u < c.Time || u == c.Time && slices.Contains(c.IDs, id)
}

// Past reports whether t is before c's second: paging newest first, an
// item from before the boundary second means every later one was read
// already. Items of the boundary second itself come in any order, seen
// or not, so they do not end the paging.
func (c Cursor) Past(t time.Time) bool { return t.Unix() < c.Time }

// Advance moves c past the item id created at t, when it is newer.
func (c *Cursor) Advance(t time.Time, id string) {
	switch u := t.Unix(); {
	case u > c.Time:
		c.Time, c.IDs = u, []string{id}
	case u == c.Time && !slices.Contains(c.IDs, id):
		c.IDs = append(c.IDs, id)
	}
}

// Clone returns a copy that shares nothing with c.
func (c Cursor) Clone() Cursor {
	return Cursor{Time: c.Time, IDs: slices.Clone(c.IDs)}
}

// Item is one parsed item of an edge with its creation time.
type Item[T any] struct {
	Wire    T
	Created time.Time
}

// Unseen gathers the items of an edge that Cursor has not seen; its Visit
// is the callback of Client.Pages. Paging newest first, it asks for no
// more pages once a page holds an item from before the cursor's second.
type Unseen[T any] struct {
	Cursor Cursor
	// Parse reads one item and its creation time; ID gives its id.
	Parse func(raw []byte) (T, time.Time, error)
	ID    func(T) string
	// Skip is told of each item Parse refuses; the item is left out.
	Skip func(err error)
	// Items are the unseen items read so far, in the edge's order.
	Items []Item[T]
}

// Visit takes one page of the edge and reports whether to read the next.
func (u *Unseen[T]) Visit(items []json.RawMessage) (more bool) {
	reached := false
	for _, raw := range items {
		w, created, err := u.Parse(raw)
		if err != nil {
			u.Skip(err)
			continue
		}
		if u.Cursor.Past(created) {
			reached = true // older than the boundary second: the rest is read
			continue
		}
		if u.Cursor.Seen(created, u.ID(w)) {
			continue
		}
		u.Items = append(u.Items, Item[T]{Wire: w, Created: created})
	}
	return !reached
}

// KeyPart makes s usable as a part of a cursor key: NATS KV keys allow only
// ASCII letters, digits and "-_=/." ('.' separating tokens), so anything
// else (a hashtag in another script, a page's vanity name) is encoded as
// "b64-" plus unpadded URL-safe base64.
func KeyPart(s string) string {
	ok := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			ok = false
			break
		}
	}
	if ok && !strings.HasPrefix(s, "b64-") {
		return s
	}
	return "b64-" + base64.RawURLEncoding.EncodeToString([]byte(s))
}
