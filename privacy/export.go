package privacy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Export is everything Chorus holds about an author, for a subject access
// request (GDPR Art. 15): their posts as stored, what each stream decided
// and why, when each post was on a stream's screens, the rights asked and
// given, what moderators did about the author, where the streams' settings
// name them, and whether they were erased.
type Export struct {
	Author      string    `json:"author"`
	GeneratedAt time.Time `json:"generated_at"`
	// KnownAs are the keys (handles, account ids) the author was found
	// under.
	KnownAs []string `json:"known_as"`
	// Erased lists the erasures on record (the author's future posts are
	// refused): everywhere (no stream) or from one stream.
	Erased []Ban          `json:"erased"`
	Posts  []ExportedPost `json:"posts"`
	// Actions are what moderators did about the author: hide, show, ban,
	// unban, by stream.
	Actions []Decision `json:"actions"`
	// NamedIn are the stream settings that name the author.
	NamedIn []string `json:"named_in_settings"`
	// About explains the fields, for the person who reads the export.
	About []string `json:"about"`
}

// ExportedPost is one post and what became of it.
type ExportedPost struct {
	Post post.Post `json:"post"`
	// Stored is true while the post as fetched is on the ingest stream.
	Stored  bool           `json:"stored_as_fetched"`
	Streams []StreamRecord `json:"streams"`
}

// StreamRecord is what one stream did with a post.
type StreamRecord struct {
	Stream string `json:"stream"`
	// Status is where the post stands now: approved, held, rejected or
	// removed.
	Status string      `json:"status"`
	Rights *bus.Rights `json:"rights,omitempty"`
	// Shown are the times the post was on the stream's screens (walls,
	// widgets, overlays, cards and feeds); To is empty while it still is.
	Shown     []Interval `json:"shown"`
	Decisions []Decision `json:"decisions"`

	// hidden: the author is hidden or banned in the stream, so an
	// approval does not put the post on screens.
	hidden bool
}

// Interval is a stretch of time.
type Interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to,omitzero"`
}

// Decision is one event about a post or the author.
type Decision struct {
	Stream string    `json:"stream,omitempty"`
	Seq    uint64    `json:"seq"`
	Event  string    `json:"event"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason,omitempty"`
	Rule   string    `json:"rule,omitempty"`
	Filter string    `json:"filter,omitempty"`
}

var exportAbout = []string{
	"posts: each post as Chorus stored it (text, author, media links, counts at fetch time); stored_as_fetched says whether the copy as fetched from the network is still kept.",
	"posts[].streams: each curated stream that took the post: its status now, the decisions and why (rule, filter or moderator), and when it was shown on the stream's screens (walls, widgets, overlays, cards, feeds).",
	"actions: what moderators did about the author (hide, show, ban, unban) in each stream.",
	"named_in_settings: stream settings that name the author (blocked or trusted authors, rules).",
	"erased: erasures on record; the author's future posts are refused without being stored.",
	"Chorus stores nothing about the people who look at walls and widgets.",
}

// Exporter gathers an author's export.
type Exporter struct {
	Conn    *bus.Conn
	Bans    *Bans
	Streams StreamList
	Now     func() time.Time
}

// Export returns everything about the author, in every stream or in one.
func (x *Exporter) Export(ctx context.Context, author, stream string) (Export, error) {
	key, err := ParseAuthor(author)
	if err != nil {
		return Export{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if stream != "" && !hasStream(x.Streams, stream) {
		return Export{}, ErrUnknownStream
	}
	f, err := trace(ctx, x.Conn, key, stream, x.Streams)
	if err != nil {
		return Export{}, err
	}
	now := time.Now()
	if x.Now != nil {
		now = x.Now()
	}
	out := Export{Author: key, GeneratedAt: now.UTC(), KnownAs: f.keys(), Erased: []Ban{}, Posts: []ExportedPost{},
		Actions: []Decision{}, NamedIn: []string{}, About: exportAbout}
	for _, k := range out.KnownAs {
		bans, err := x.Bans.Lookup(ctx, k)
		if err != nil {
			return Export{}, err
		}
		for _, b := range bans {
			if !slices.Contains(out.Erased, b) {
				out.Erased = append(out.Erased, b)
			}
		}
	}
	events := make([]traced, 0, len(f.events))
	for _, ev := range f.events {
		events = append(events, ev)
	}
	slices.SortFunc(events, func(a, b traced) int { return cmp.Compare(a.Seq, b.Seq) })
	records := map[string]map[string]*StreamRecord{} // post -> stream -> record
	hidden := map[string]bool{}                      // streams where the author is hidden or banned now
	for _, ev := range events {
		d := Decision{Stream: ev.Stream, Seq: ev.Seq, Event: string(ev.Kind), At: ev.At, Actor: ev.Actor,
			Reason: ev.Reason, Rule: ev.Rule, Filter: ev.Filter}
		if ev.PostID == "" {
			out.Actions = append(out.Actions, d)
			switch ev.Kind {
			case bus.EventHideAuthor, bus.EventBanAuthor:
				hidden[ev.Stream] = true
			case bus.EventShowAuthor, bus.EventUnbanAuthor:
				hidden[ev.Stream] = false
			}
			for _, byStream := range records {
				if r := byStream[ev.Stream]; r != nil {
					r.author(ev.Kind, ev.At)
				}
			}
			continue
		}
		byStream := records[ev.PostID]
		if byStream == nil {
			byStream = map[string]*StreamRecord{}
			records[ev.PostID] = byStream
		}
		r := byStream[ev.Stream]
		if r == nil {
			r = &StreamRecord{Stream: ev.Stream, Shown: []Interval{}}
			byStream[ev.Stream] = r
		}
		r.hidden = hidden[ev.Stream]
		d.Stream = ""
		r.Decisions = append(r.Decisions, d)
		r.apply(ev.Event)
	}
	for _, id := range f.postIDs() {
		ep := ExportedPost{Post: f.posts[id], Stored: f.stored[id], Streams: []StreamRecord{}}
		for _, r := range records[id] {
			ep.Streams = append(ep.Streams, *r)
		}
		slices.SortFunc(ep.Streams, func(a, b StreamRecord) int { return strings.Compare(a.Stream, b.Stream) })
		out.Posts = append(out.Posts, ep)
	}
	out.NamedIn = namedIn(x.Streams, out.KnownAs, stream)
	return out, nil
}

// apply moves the record by one event about its post.
func (r *StreamRecord) apply(e bus.Event) {
	switch e.Kind {
	case bus.EventApprove:
		r.Status = "approved"
		if e.ShowAt.IsZero() {
			r.on(e.At)
		}
	case bus.EventRelease:
		if r.Status == "approved" {
			r.on(e.At)
		}
	case bus.EventHold, bus.EventReject, bus.EventRemove:
		r.Status = e.Kind.Status()
		r.off(e.At)
	case bus.EventRights:
		if e.Rights != nil {
			rights := *e.Rights
			r.Rights = &rights
		}
	}
}

// author applies an action on the post's author.
func (r *StreamRecord) author(kind bus.EventKind, at time.Time) {
	switch kind {
	case bus.EventHideAuthor, bus.EventBanAuthor:
		if kind == bus.EventBanAuthor && r.Status == "approved" {
			r.Status = "removed"
		}
		r.off(at)
		r.hidden = true
	case bus.EventShowAuthor, bus.EventUnbanAuthor:
		r.hidden = false
		if kind == bus.EventShowAuthor && r.Status == "approved" {
			r.on(at)
		}
	}
}

func (r *StreamRecord) on(at time.Time) {
	if n := len(r.Shown); r.hidden || n > 0 && r.Shown[n-1].To.IsZero() {
		return
	}
	r.Shown = append(r.Shown, Interval{From: at})
}

func (r *StreamRecord) off(at time.Time) {
	if n := len(r.Shown); n > 0 && r.Shown[n-1].To.IsZero() {
		r.Shown[n-1].To = at
	}
}

// names returns whether a settings entry (an author in a list) is one of
// keys.
func names(keys []string) func(entry string) bool {
	return func(entry string) bool {
		entry = strings.ToLower(strings.TrimSpace(entry))
		return slices.Contains(keys, entry) || slices.Contains(keys, strings.Replace(entry, ":@", ":", 1))
	}
}

// hasStream reports whether a stream with id exists.
func hasStream(streams StreamList, id string) bool {
	return slices.ContainsFunc(streams.All(), func(s config.Stream) bool { return s.ID == id })
}

// namedIn lists the settings of the streams that name one of keys.
func namedIn(streams StreamList, keys []string, only string) []string {
	out := []string{}
	named := names(keys)
	for _, s := range streams.All() {
		if only != "" && s.ID != only {
			continue
		}
		if slices.ContainsFunc(s.Filters.BlockedAuthors, named) {
			out = append(out, s.ID+": filters.blocked_authors")
		}
		if slices.ContainsFunc(s.Filters.TrustedAuthors, named) {
			out = append(out, s.ID+": filters.trusted_authors")
		}
		for i, rule := range s.Rules {
			if slices.ContainsFunc(rule.When.Authors, named) {
				out = append(out, fmt.Sprintf("%s: rules[%d] (%s) when.authors", s.ID, i, rule.Name))
			}
		}
	}
	return out
}
