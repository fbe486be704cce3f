package curation

import (
	"context"
	"time"

	"github.com/chorus-wall/chorus/post"
)

// Bans say which authors were erased (privacy.Bans): everywhere, or from
// one stream.
type Bans interface {
	// Empty is true when no author is erased; curation then checks nothing.
	Empty() bool
	// Banned reports whether p's author is erased everywhere, or from
	// stream when stream is not empty.
	Banned(p *post.Post, stream string) bool
}

// erased handles an ingest message of an author erased everywhere (stored
// before the ban reached the node that stored it): the message is erased
// from the ingest stream and acknowledged, and nothing is decided. It
// reports whether it did so.
func (c *Curator) erased(it *item) bool {
	if c.Bans == nil || c.Bans.Empty() || it.post.Deleted || !c.Bans.Banned(&it.post, "") {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.conn.Erase(ctx, it.stream, it.seq); err != nil {
		c.log.Warn("curation: erasing a post of an erased author failed; it is skipped and stays until the ingest stream's retention", "err", err)
	}
	_ = it.msg.Ack()
	return true
}

// ForgetRecent clears every stream's spam memory (recent texts and post
// times, hashed): an erasure must leave nothing of the author behind, and
// the memory only spans the spam windows (minutes), so starting afresh
// costs little.
func (s *Streams) ForgetRecent() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, pol := range s.byID {
		pol.spam.reset()
	}
}
