// Package rights keeps the open requests for the right to use a post and
// recognises the authors' consent: a post by the author, after the
// request, carrying the stream's consent hashtag (a reply to the request,
// or to their post, as the networks let them answer).
package rights

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// Request is an open request for the right to use a post in a stream.
type Request struct {
	Stream string `json:"stream"`
	PostID string `json:"post_id"`
	// Authors are the keys the author is known by: "network:handle" and
	// "network:#id", lowercase.
	Authors []string  `json:"authors"`
	Hashtag string    `json:"hashtag"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
}

// Book is the open requests, kept in the chorus_rights bucket (one key per
// stream and post) and mirrored in memory on every node, by author, so
// that curation matches each post it reads against them for the cost of a
// map lookup.
type Book struct {
	kv  jetstream.KeyValue
	log *slog.Logger

	mu       sync.RWMutex
	byKey    map[string]*Request
	byAuthor map[string][]*Request
	count    atomic.Int64
}

// NewBook returns an empty book kept in kv.
func NewBook(kv jetstream.KeyValue, log *slog.Logger) *Book {
	return &Book{kv: kv, log: log, byKey: map[string]*Request{}, byAuthor: map[string][]*Request{}}
}

// key is a request's key in the bucket: the stream and a hash of the post
// id (ids hold characters keys may not).
func key(stream, postID string) string {
	sum := sha256.Sum256([]byte(postID))
	return stream + "." + hex.EncodeToString(sum[:12])
}

// AuthorKeys are the keys p's author is known by, lowercase.
func AuthorKeys(p *post.Post) []string {
	var out []string
	if h := strings.ToLower(strings.TrimPrefix(p.Author.Handle, "@")); h != "" {
		out = append(out, p.Network+":"+h)
	}
	if p.Author.ID != "" {
		out = append(out, strings.ToLower(p.Network+":#"+p.Author.ID))
	}
	return out
}

// Put stores an open request (replacing one for the same post) and
// applies it here at once.
func (b *Book) Put(ctx context.Context, r Request) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	k := key(r.Stream, r.PostID)
	if _, err := b.kv.Put(ctx, k, raw); err != nil {
		return fmt.Errorf("rights: store request: %w", err)
	}
	b.set(k, &r)
	return nil
}

// Delete closes the request for a post (granted, revoked, or the post is
// gone); none is not an error.
func (b *Book) Delete(ctx context.Context, stream, postID string) error {
	k := key(stream, postID)
	if err := b.kv.Purge(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("rights: close request: %w", err)
	}
	b.set(k, nil)
	return nil
}

// Get returns the open request for a post.
func (b *Book) Get(stream, postID string) (Request, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	r, ok := b.byKey[key(stream, postID)]
	if !ok {
		return Request{}, false
	}
	return *r, true
}

// Forget closes every request about the authors known by keys, in
// stream or (empty) every stream: an erasure (requests name the author and
// quote them). It returns how many it closed.
func (b *Book) Forget(ctx context.Context, keys []string, stream string) (int, error) {
	b.mu.RLock()
	var doomed []*Request
	for _, k := range keys {
		for _, r := range b.byAuthor[strings.ToLower(k)] {
			if stream == "" || r.Stream == stream {
				doomed = append(doomed, r)
			}
		}
	}
	b.mu.RUnlock()
	n := 0
	done := map[*Request]bool{}
	for _, r := range doomed {
		if done[r] {
			continue
		}
		done[r] = true
		if err := b.Delete(ctx, r.Stream, r.PostID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// set applies a request (nil: its deletion) to the memory.
func (b *Book) set(k string, r *Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if old := b.byKey[k]; old != nil {
		for _, a := range old.Authors {
			b.byAuthor[a] = slices.DeleteFunc(b.byAuthor[a], func(x *Request) bool { return x == old })
			if len(b.byAuthor[a]) == 0 {
				delete(b.byAuthor, a)
			}
		}
		delete(b.byKey, k)
		b.count.Add(-1)
	}
	if r == nil {
		return
	}
	b.byKey[k] = r
	for _, a := range r.Authors {
		b.byAuthor[a] = append(b.byAuthor[a], r)
	}
	b.count.Add(1)
}

// Watch loads every request, calls loaded, then follows the bucket until
// ctx ends.
func (b *Book) Watch(ctx context.Context, loaded func()) error {
	w, err := b.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("rights: watch requests: %w", err)
	}
	bus.Follow(ctx, w, loaded, func(e jetstream.KeyValueEntry) {
		if e.Operation() != jetstream.KeyValuePut {
			b.set(e.Key(), nil)
			return
		}
		var r Request
		if err := json.Unmarshal(e.Value(), &r); err != nil || r.Stream == "" || r.PostID == "" {
			b.log.Warn("rights: ignoring an unreadable request", "key", e.Key())
			return
		}
		b.set(e.Key(), &r)
	})
	return nil
}

// Consents returns the grants p's author gives by p: one rights event for
// each open request of theirs whose consent hashtag p carries, when p was
// written after the request. When p answers one of the requested posts
// (its reply_to), only that one is granted.
func (b *Book) Consents(p *post.Post) []bus.Event {
	if b == nil || b.count.Load() == 0 || p.Deleted {
		return nil
	}
	var open []Request
	b.mu.RLock()
	for _, a := range AuthorKeys(p) {
		for _, r := range b.byAuthor[a] {
			if r.PostID != p.ID && !slices.ContainsFunc(open, func(x Request) bool { return x.Stream == r.Stream && x.PostID == r.PostID }) {
				open = append(open, *r)
			}
		}
	}
	b.mu.RUnlock()
	if len(open) == 0 {
		return nil
	}
	if p.ReplyTo != "" && slices.ContainsFunc(open, func(r Request) bool { return replies(p, r.PostID) }) {
		open = slices.DeleteFunc(open, func(r Request) bool { return !replies(p, r.PostID) })
	}
	var out []bus.Event
	for _, r := range open {
		if !carries(p, r.Hashtag) || !p.CreatedAt.IsZero() && p.CreatedAt.Before(r.At.Add(-clockSkew)) {
			continue
		}
		proof := &bus.Proof{PostID: p.ID, URL: p.URL, Text: p.Text, At: p.CreatedAt}
		out = append(out, bus.Event{Kind: bus.EventRights, Stream: r.Stream, PostID: r.PostID, Actor: bus.ActorCuration,
			Reason: "the author replied #" + r.Hashtag,
			Rights: &bus.Rights{State: bus.RightsGranted, Hashtag: r.Hashtag, Text: r.Text, Proof: proof}})
	}
	return out
}

// clockSkew is how much earlier than the request a consent may say it was
// written (the network's clock and ours differ).
const clockSkew = time.Minute

// replies reports whether p answers the post with id (ids are
// "<network>:<native id>"; reply_to may be either form).
func replies(p *post.Post, id string) bool {
	return p.ReplyTo == id || p.Network+":"+p.ReplyTo == id
}

// carries reports whether p holds the hashtag (case-insensitive): among its
// hashtags, or in its text as "#tag" ending at a non-letter.
func carries(p *post.Post, tag string) bool {
	tag = strings.TrimPrefix(tag, "#")
	if tag == "" {
		return false
	}
	for _, h := range p.Hashtags {
		if strings.EqualFold(strings.TrimPrefix(h, "#"), tag) {
			return true
		}
	}
	text := strings.ToLower(p.Text)
	want := "#" + strings.ToLower(tag)
	for i := strings.Index(text, want); i >= 0; {
		end := i + len(want)
		if r, _ := utf8.DecodeRuneInString(text[end:]); end == len(text) || !isTagRune(r) {
			return true
		}
		next := strings.Index(text[end:], want)
		if next < 0 {
			break
		}
		i = end + next
	}
	return false
}

func isTagRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
