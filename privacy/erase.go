package privacy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/curation"
)

// Errors of erasure and export requests.
var (
	ErrBadRequest    = errors.New("bad request")
	ErrUnknownStream = errors.New("no stream with that id")
)

// Views are what shows posts on this node and must have applied an
// erasure before its content is deleted from the streams: the index
// (which also compacts) and the display.
type Views interface {
	WaitApplied(ctx context.Context, seq uint64) error
}

// Compactor waits until what an event deleted is gone from the index's
// files.
type Compactor interface {
	WaitCompacted(ctx context.Context, seq uint64) error
}

// SettingsStore changes a stream's stored settings.
type SettingsStore interface {
	Update(ctx context.Context, id string, change func(*config.Stream) error) (config.Stream, error)
}

// Eraser erases everything Chorus holds about an author.
type Eraser struct {
	Conn     *bus.Conn
	Bans     *Bans
	Streams  StreamList
	Settings SettingsStore
	// Index must apply and compact the erasure; Display apply it. Both
	// are on this node; other nodes apply the same events by themselves.
	Index interface {
		Views
		Compactor
	}
	Display Views
	// Scrubber rewrites the display's checkpoints, whose earlier versions
	// may hold the posts.
	Scrubber interface {
		Scrub(ctx context.Context) error
	}
	// Rights, when set, closes the open requests for the right to use the
	// author's posts (they name and quote the author).
	Rights interface {
		Forget(ctx context.Context, authorKeys []string, stream string) (int, error)
	}
	Log *slog.Logger
	Now func() time.Time
}

// Request is one erasure request.
type Request struct {
	// Author is "network:handle" or "network:#id".
	Author string
	// Stream limits the erasure (and the ban) to one stream; empty means
	// every stream and the ingest stream.
	Stream string
	Actor  string
	Reason string
}

// Report says what an erasure did. It names the author only by hash.
type Report struct {
	Author string `json:"author_hash"`
	// Scope is "every stream" or the stream erased from.
	Scope string `json:"scope"`
	// Streams got an erase event (their audit records the erasure).
	Streams []string `json:"streams"`
	// Keys is how many keys (handles, account ids) the author was found
	// under; all are banned.
	Keys             int      `json:"keys"`
	Posts            int      `json:"posts"`
	IngestDeleted    int      `json:"ingest_messages_erased"`
	EventsDeleted    int      `json:"events_erased"`
	SeenDeleted      int      `json:"seen_marks_deleted"`
	RightsRequests   int      `json:"rights_requests_closed"`
	SettingsChanged  []string `json:"settings_changed"`
	SettingsVersions int      `json:"settings_versions_purged"`
	Warnings         []string `json:"warnings"`
	Seq              uint64   `json:"seq"`
	Took             string   `json:"took"`
}

// viewsWait bounds how long an erasure waits for this node's index and
// display to apply it, and for the index's compaction.
const viewsWait = 2 * time.Minute

// Erase erases an author: every post leaves every screen and the search
// index; the messages of their posts, of takedowns of them and of actions
// on the author are erased from the ingest and events streams (their bytes
// overwritten); their seen marks are deleted; the streams' settings stop
// naming them; their future posts are refused without being stored (the
// ban, kept hashed). The events streams keep one erase event per stream,
// with who asked, when, and the author's key hashed: no content. Running
// it again finishes an erasure that was interrupted.
func (e *Eraser) Erase(ctx context.Context, req Request) (Report, error) {
	start := time.Now()
	now := e.now()
	key, err := ParseAuthor(req.Author)
	if err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	scope := "every stream"
	if req.Stream != "" {
		if !hasStream(e.Streams, req.Stream) {
			return Report{}, ErrUnknownStream
		}
		scope = req.Stream
	}
	hasher := e.Bans.Hasher()
	rep := Report{Author: hasher.Hash(key), Scope: scope, Streams: []string{}, SettingsChanged: []string{}, Warnings: []string{}}
	// The ban comes first: from now on no new post of the author is stored.
	if err := e.Bans.Add(ctx, []string{rep.Author}, req.Stream, now); err != nil {
		return rep, err
	}
	f, err := trace(ctx, e.Conn, key, req.Stream, e.Streams)
	if err != nil {
		return rep, err
	}
	keys := f.keys()
	hashes := make([]string, len(keys))
	for i, k := range keys {
		hashes[i] = hasher.Hash(k)
	}
	rep.Keys = len(keys)
	if err := e.Bans.Add(ctx, hashes, req.Stream, now); err != nil {
		return rep, err
	}
	// Tell every index and display: the author's posts leave screens now.
	streams := e.eraseStreams(f, req.Stream)
	msgs := make([]*nats.Msg, 0, len(streams))
	for _, s := range streams {
		ev := bus.Event{Kind: bus.EventErase, Stream: s, Author: rep.Author, Erased: hashes,
			Reason: req.Reason, Actor: req.Actor, At: now.UTC()}
		if ev.Actor == "" {
			ev.Actor = "admin"
		}
		if ev.Reason == "" {
			ev.Reason = "erasure request"
		}
		m, err := ev.Msg("")
		if err != nil {
			return rep, err
		}
		msgs = append(msgs, m)
	}
	acks, err := e.Conn.PublishAll(ctx, msgs)
	if err != nil {
		return rep, err
	}
	rep.Streams = streams
	for _, a := range acks {
		rep.Seq = max(rep.Seq, a.Sequence)
	}
	waitCtx, cancel := context.WithTimeout(ctx, viewsWait)
	defer cancel()
	for _, v := range []Views{e.Index, e.Display} {
		if v != nil {
			if err := v.WaitApplied(waitCtx, rep.Seq); err != nil {
				return rep, fmt.Errorf("privacy: erasure written (event %d) but not yet applied here; run it again: %w", rep.Seq, err)
			}
		}
	}
	// Read again: what was written while the first read ran is erased too.
	late, err := trace(ctx, e.Conn, key, req.Stream, e.Streams)
	if err != nil {
		return rep, err
	}
	f.merge(late)
	rep.Posts = len(f.posts)
	for m := range f.ingest {
		if err := e.Conn.Erase(ctx, m.stream, m.seq); err != nil {
			return rep, err
		}
		rep.IngestDeleted++
	}
	for seq := range f.events {
		if err := e.Conn.Erase(ctx, bus.EventsStream, seq); err != nil {
			return rep, err
		}
		rep.EventsDeleted++
	}
	if rep.SeenDeleted, err = e.deleteSeen(ctx, f, req.Stream); err != nil {
		return rep, err
	}
	if e.Rights != nil {
		if rep.RightsRequests, err = e.Rights.Forget(ctx, keys, req.Stream); err != nil {
			return rep, err
		}
	}
	if err := e.cleanSettings(ctx, keys, req.Stream, &rep); err != nil {
		return rep, err
	}
	if e.Scrubber != nil {
		if err := e.Scrubber.Scrub(ctx); err != nil {
			rep.Warnings = append(rep.Warnings, "the display checkpoints could not be rewritten ("+err.Error()+"); run the erasure again")
		}
	}
	if err := e.Index.WaitCompacted(waitCtx, rep.Seq); err != nil {
		rep.Warnings = append(rep.Warnings, "the search index is still compacting; deleted posts leave its files when it finishes")
	}
	rep.Took = time.Since(start).Round(time.Millisecond).String()
	e.Log.Info("author erased", "author_hash", rep.Author, "scope", scope, "actor", req.Actor, "posts", rep.Posts,
		"ingest_erased", rep.IngestDeleted, "events_erased", rep.EventsDeleted, "took", rep.Took)
	return rep, nil
}

func (e *Eraser) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// eraseStreams are the streams that get an erase event: the one erased
// from, or every stream that exists or held something of the author.
func (e *Eraser) eraseStreams(f *footprint, only string) []string {
	if only != "" {
		return []string{only}
	}
	var out []string
	for _, s := range e.Streams.All() {
		out = append(out, s.ID)
	}
	for _, ev := range f.events {
		if !slices.Contains(out, ev.Stream) {
			out = append(out, ev.Stream)
		}
	}
	slices.Sort(out)
	return out
}

// merge adds what g found to f.
func (f *footprint) merge(g *footprint) {
	for k, v := range g.posts {
		f.posts[k] = v
	}
	for s := range g.ingest {
		f.ingest[s] = true
	}
	for s, ev := range g.events {
		f.events[s] = ev
	}
	for h := range g.handles {
		f.handles[h] = true
	}
	for id := range g.ids {
		f.ids[id] = true
	}
}

// deleteSeen deletes the seen marks of the author's posts (they hold no
// content, only a hash of the post id, but they are about the author).
func (e *Eraser) deleteSeen(ctx context.Context, f *footprint, only string) (int, error) {
	var keys []string
	for _, s := range e.Streams.All() {
		if only != "" && s.ID != only {
			continue
		}
		for id := range f.posts {
			keys = append(keys, curation.SeenKey(s.ID, id))
		}
	}
	found, err := e.Conn.SeenAmong(ctx, keys)
	if err != nil {
		return 0, err
	}
	n := 0
	for k := range found {
		if err := e.Conn.Seen.Purge(ctx, k); err != nil {
			return n, fmt.Errorf("privacy: delete seen mark: %w", err)
		}
		n++
	}
	return n, nil
}

// cleanSettings removes the author from the streams' author lists (the
// erasure's ban, kept hashed, replaces a ban by name), erases the earlier
// versions of those settings that named them, and warns about what names
// them elsewhere (rules, the config file).
func (e *Eraser) cleanSettings(ctx context.Context, keys []string, only string, rep *Report) error {
	named := names(keys)
	for _, s := range e.Streams.All() {
		if only != "" && s.ID != only {
			continue
		}
		if slices.ContainsFunc(s.Filters.BlockedAuthors, named) || slices.ContainsFunc(s.Filters.TrustedAuthors, named) {
			if _, err := e.Settings.Update(ctx, s.ID, func(st *config.Stream) error {
				st.Filters.BlockedAuthors = slices.DeleteFunc(st.Filters.BlockedAuthors, named)
				st.Filters.TrustedAuthors = slices.DeleteFunc(st.Filters.TrustedAuthors, named)
				return nil
			}); err != nil {
				return fmt.Errorf("privacy: remove the author from %s's settings: %w", s.ID, err)
			}
			rep.SettingsChanged = append(rep.SettingsChanged, s.ID+": filters.blocked_authors, filters.trusted_authors")
		}
		for i, r := range s.Rules {
			if slices.ContainsFunc(r.When.Authors, named) {
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("stream %s: rules[%d] (%q) names the author in when.authors; change the rule to stop naming them", s.ID, i, r.Name))
			}
		}
		n, inFile, err := e.purgeSettingsHistory(ctx, s.ID, keys)
		if err != nil {
			return err
		}
		rep.SettingsVersions += n
		if inFile {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("the config file names the author in stream %s's settings; remove them from the file", s.ID))
		}
	}
	return nil
}

// configStream is the stream behind the chorus_config bucket.
const configStream = "KV_" + bus.ConfigBucket

// purgeSettingsHistory purges the earlier versions of a stream's settings
// (the bucket keeps a few) when one names one of keys, keeping the current
// one. It returns how many versions named the author, and whether the
// config file's declaration of the stream names them now. NATS refuses to
// delete single messages of a bucket, so the versions are purged (NATS
// rewrites the bucket's files in the background); they only ever held the
// author key, never a post.
func (e *Eraser) purgeSettingsHistory(ctx context.Context, stream string, keys []string) (n int, inFile bool, err error) {
	kv, err := e.Conn.JS.Stream(ctx, configStream)
	if err != nil {
		return 0, false, fmt.Errorf("privacy: settings history: %w", err)
	}
	for _, prefix := range []string{"streams.", "seeds."} {
		subject := "$KV." + bus.ConfigBucket + "." + prefix + stream
		var last uint64
		var named []uint64
		err := e.Conn.Scan(ctx, configStream, subject, func(m bus.Stored) error {
			last = m.Seq
			lower := bytes.ToLower(m.Data)
			for _, k := range keys {
				if bytes.Contains(lower, []byte(k)) {
					named = append(named, m.Seq)
					break
				}
			}
			return nil
		})
		if err != nil {
			return n, inFile, err
		}
		old := slices.DeleteFunc(named, func(seq uint64) bool { return seq == last })
		inFile = inFile || prefix == "seeds." && len(old) < len(named)
		if len(old) == 0 {
			continue
		}
		if err := kv.Purge(ctx, jetstream.WithPurgeSubject(subject), jetstream.WithPurgeKeep(1)); err != nil {
			return n, inFile, fmt.Errorf("privacy: purge settings history of %s: %w", stream, err)
		}
		n += len(old)
	}
	return n, inFile, nil
}
