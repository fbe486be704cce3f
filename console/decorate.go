// Package console serves what the moderation console needs besides the
// REST API: a live feed of every change to the posts of the streams a
// moderator may see (a websocket that resumes with since), each stream's
// figures (held, approved in the last hour, screens, paused, mode), and
// the finishing touches on every post a moderator judges (the author's
// record, images through the media proxy). The pages themselves are in
// static/.
package console

import (
	"context"
	"time"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/index"
	"github.com/chorus-wall/chorus/post"
)

// Index is what the console reads from the search index.
type Index interface {
	AddHistory(ctx context.Context, stream string, hits []index.Hit) error
	CountPosts(ctx context.Context, stream, status string, since time.Time) (uint64, error)
	Applied() uint64
}

// Streams are the curated streams and their settings.
type Streams interface {
	All() []config.Stream
	Get(id string) (config.Stream, bool)
	BannedIn(p *post.Post) []string
}

// Decorator finishes the posts a moderator sees: each card shows its
// author's record in the stream and the streams that ban them, and its
// pictures come through the media proxy (so a moderator's browser never
// calls a network's CDN, and photos can be judged).
type Decorator struct {
	Index   Index
	Streams Streams
	// Media rewrites a post's picture URLs (media.Proxy.Post); nil leaves
	// them as they are.
	Media func(post.Post) post.Post
}

// Decorate finishes hits, all of stream, in place.
func (d *Decorator) Decorate(ctx context.Context, stream string, hits []index.Hit) error {
	if len(hits) == 0 {
		return nil
	}
	if err := d.Index.AddHistory(ctx, stream, hits); err != nil {
		return err
	}
	for i := range hits {
		h := &hits[i]
		if h.History == nil {
			h.History = &index.AuthorHistory{}
		}
		h.History.BannedIn = d.Streams.BannedIn(&h.Post)
		if d.Media != nil {
			h.Post = d.Media(h.Post)
		}
	}
	return nil
}
