package privacy

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// StreamList is the curated streams as they run.
type StreamList interface {
	All() []config.Stream
}

// ingestMsg is a message of one of the ingest streams.
type ingestMsg struct {
	stream string
	seq    uint64
}

// footprint is what the ingest and events streams hold about one author:
// every message of their posts, of takedowns of those posts and of actions
// on the author, found by reading both streams whole (bus.Scan). An author
// is matched by handle and by the network's id of their account, so posts
// from before a change of handle are found too.
type footprint struct {
	network string
	handles map[string]bool
	ids     map[string]bool
	// posts are the author's posts by id, the latest version read.
	posts map[string]post.Post
	// ingest are the seqs of ingest messages of the author's posts.
	ingest map[ingestMsg]bool
	// stored are the posts whose copy as fetched is on the ingest stream.
	stored map[string]bool
	// events are the events about the author or their posts, by seq.
	events map[uint64]traced
}

// traced is an event with when the events stream stored it.
type traced struct {
	bus.Event
	stored time.Time
}

// newFootprint starts a footprint from an author key (see ParseAuthor).
func newFootprint(key string) *footprint {
	network, who, _ := strings.Cut(key, ":")
	f := &footprint{network: network, handles: map[string]bool{}, ids: map[string]bool{},
		posts: map[string]post.Post{}, ingest: map[ingestMsg]bool{}, stored: map[string]bool{}, events: map[uint64]traced{}}
	if id, ok := strings.CutPrefix(who, "#"); ok {
		f.ids[id] = true
	} else {
		f.handles[who] = true
	}
	return f
}

// keys are the author keys the author is known by, lowercase.
func (f *footprint) keys() []string {
	var out []string
	for h := range f.handles {
		out = append(out, f.network+":"+h)
	}
	for id := range f.ids {
		out = append(out, f.network+":#"+id)
	}
	slices.Sort(out)
	return out
}

// postIDs are the ids of the author's posts, sorted.
func (f *footprint) postIDs() []string {
	out := make([]string, 0, len(f.posts))
	for id := range f.posts {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// head is the part of a post that says whose it is.
type head struct {
	ID      string `json:"id"`
	Network string `json:"network"`
	Source  string `json:"source"`
	Deleted bool   `json:"deleted"`
	Author  struct {
		ID     string `json:"id"`
		Handle string `json:"handle"`
	} `json:"author"`
}

func (f *footprint) matches(h *head) bool {
	if h == nil || h.Network != f.network || h.Deleted {
		return false
	}
	handle := strings.ToLower(strings.TrimPrefix(h.Author.Handle, "@"))
	return handle != "" && f.handles[handle] || h.Author.ID != "" && f.ids[strings.ToLower(h.Author.ID)]
}

// learn adds the handle and id of a matching post; it reports whether
// the author is now known by more keys.
func (f *footprint) learn(h *head) bool {
	grew := false
	if handle := strings.ToLower(strings.TrimPrefix(h.Author.Handle, "@")); handle != "" && !f.handles[handle] {
		f.handles[handle], grew = true, true
	}
	if id := strings.ToLower(h.Author.ID); id != "" && !f.ids[id] {
		f.ids[id], grew = true, true
	}
	return grew
}

// keep records a post version (the later one wins).
func (f *footprint) keep(raw []byte) {
	var p post.Post
	if json.Unmarshal(raw, &p) != nil || p.ID == "" {
		return
	}
	if old, ok := f.posts[p.ID]; ok && old.EditedAt.After(p.EditedAt) {
		return
	}
	f.posts[p.ID] = p
}

// eventHead is the part of an event that says what it is about.
type eventHead struct {
	Kind   bus.EventKind   `json:"kind"`
	Stream string          `json:"stream"`
	PostID string          `json:"post_id"`
	Author string          `json:"author"`
	Post   json.RawMessage `json:"post"`
}

// trace reads the ingest and events streams for everything about the
// author: every stream when stream is empty, else that stream's events and
// the ingest messages of posts only that stream takes (streams lists who
// takes what). It reads again while the author turns out to have more
// keys (a handle change), at most a few times.
func trace(ctx context.Context, conn *bus.Conn, key, stream string, streams StreamList) (*footprint, error) {
	f := newFootprint(key)
	takes := map[string][]string{} // source -> streams it feeds
	for _, s := range streams.All() {
		for _, src := range s.Sources {
			takes[src] = append(takes[src], s.ID)
		}
	}
	onlyThis := func(source string) bool {
		for _, s := range takes[source] {
			if s != stream {
				return false
			}
		}
		return true
	}
	for range 4 {
		grew := false
		var scanning string // the ingest stream being read
		scanIngest := func(m bus.Stored) error {
			var h head
			if json.Unmarshal(m.Data, &h) != nil {
				return nil
			}
			_, mine := f.posts[h.ID]
			switch {
			case f.matches(&h):
				grew = f.learn(&h) || grew
				f.keep(m.Data)
				f.stored[h.ID] = true
			case h.Deleted && mine:
			default:
				return nil
			}
			if stream == "" || onlyThis(h.Source) {
				f.ingest[ingestMsg{scanning, m.Seq}] = true
			}
			return nil
		}
		// The network's posts on every ingest stream: the partitions', and
		// those published without a partition or stored before partition
		// streams existed.
		var err error
		for _, scanning = range bus.IngestStreams() {
			for _, subject := range bus.NetworkSubjects(scanning, f.network) {
				if err = conn.Scan(ctx, scanning, subject, scanIngest); err != nil {
					return nil, err
				}
			}
		}
		filter := bus.EventSubjects
		if stream != "" {
			filter = bus.EventSubject(stream, ">")
		}
		keys := f.keys()
		err = conn.Scan(ctx, bus.EventsStream, filter, func(m bus.Stored) error {
			var e eventHead
			if json.Unmarshal(m.Data, &e) != nil {
				return nil
			}
			var h *head
			if len(e.Post) > 0 && string(e.Post) != "null" {
				h = &head{}
				if json.Unmarshal(e.Post, h) != nil {
					h = nil
				}
			}
			if h != nil && e.PostID == "" {
				e.PostID = h.ID
			}
			_, mine := f.posts[e.PostID]
			switch {
			case e.Kind == bus.EventErase || e.Kind == bus.EventPurge:
				return nil // they name no one
			case f.matches(h):
				grew = f.learn(h) || grew
				f.keep(e.Post)
			case mine:
			case e.Author != "" && slices.Contains(keys, strings.ToLower(e.Author)):
			default:
				return nil
			}
			ev, err := bus.DecodeEvent(m.Data, m.Seq)
			if err != nil {
				return nil
			}
			f.events[m.Seq] = traced{Event: ev, stored: m.Time}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !grew {
			break
		}
	}
	return f, nil
}
