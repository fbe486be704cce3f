package privacy

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/post"
)

// Publisher stores posts on the ingest stream (the bus), returning how
// many were new.
type Publisher interface {
	PublishPosts(ctx context.Context, posts []post.Post) (int, error)
}

// Gate stands before the ingest stream: the posts of an author erased
// everywhere are dropped there, so their content is never stored again.
// A source or a webhook caller sees them accepted, as any other post: the
// ban is not announced to whoever sends them. Takedowns pass (they carry
// no content). Authors erased from one stream only still reach the ingest
// stream, since other streams may show them; curation skips them for that
// stream.
type Gate struct {
	next    Publisher
	bans    *Bans
	refused prometheus.Counter
}

// NewGate returns a gate before next, registering its metric.
func NewGate(next Publisher, bans *Bans, reg prometheus.Registerer) *Gate {
	g := &Gate{next: next, bans: bans, refused: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "chorus_erased_posts_refused_total",
		Help: "Posts of erased authors refused before they were stored.",
	})}
	reg.MustRegister(g.refused)
	return g
}

// PublishPosts publishes the posts of authors not erased.
func (g *Gate) PublishPosts(ctx context.Context, posts []post.Post) (int, error) {
	if g.bans.Empty() {
		return g.next.PublishPosts(ctx, posts)
	}
	kept := posts[:0:0]
	for i := range posts {
		if !posts[i].Deleted && g.bans.Banned(&posts[i], "") {
			g.refused.Inc()
			continue
		}
		kept = append(kept, posts[i])
	}
	if len(kept) == 0 {
		return 0, nil
	}
	return g.next.PublishPosts(ctx, kept)
}
