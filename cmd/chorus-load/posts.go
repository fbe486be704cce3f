package main

import (
	"encoding/json"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/post"
)

// Realistic ingest: the demo's invented posts (13 languages, originals,
// replies, reposts and quotes, photos, links, content warnings), 4% spam
// and 4% offensive, from a crowd large enough that per-author rate caps
// catch spammers, not fans. Networks such as X, Mastodon and Bluesky give a
// post's language; RSS, Instagram and most webhooks do not, so curation
// detects it.
const (
	spamShare      = 0.04
	offensiveShare = 0.04
	// noLangShare is the share of posts that come without a language.
	noLangShare = 0.4
	// audience is how many different fans post.
	audience = 1_000_000
)

// mix makes the harness's posts. Every post gets a new number, so no two
// posts of one run share an id; CreatedAt is the moment the post is made,
// just before it is sent, which is what screens measure latency from.
type mix struct {
	seed int64
	next atomic.Int64
	gens map[string]demo.Generator
}

func newMix(seed int64) *mix {
	m := &mix{seed: seed, gens: map[string]demo.Generator{}}
	for _, s := range sources {
		m.gens[s] = demo.Generator{SourceID: s, Seed: seed, SpamShare: spamShare, OffensiveShare: offensiveShare,
			Audience: audience, UnlabelledShare: noLangShare}
	}
	return m
}

// post makes the next post of source.
func (m *mix) post(source string, now time.Time) post.Post {
	p := m.gens[source].Post(m.next.Add(1), now)
	p.CreatedAt, p.FetchedAt = now, now
	p.Source = ""
	return p
}

// call makes one webhook call's body: n posts from one source, picked
// among from (nil: any, by sourceShare), and the posts' ids.
func (m *mix) call(n int, from []string) (source string, body []byte, ids []string) {
	r := mixHash(m.seed, -m.next.Load())
	source = pickSource(r)
	if len(from) > 0 {
		source = from[r%uint64(len(from))]
	}
	now := time.Now().UTC()
	posts := make([]post.Post, n)
	ids = make([]string, n)
	for i := range posts {
		posts[i] = m.post(source, now)
		ids[i] = posts[i].ID
	}
	data, err := json.Marshal(posts)
	if err != nil {
		panic(err) // posts made here always encode
	}
	return source, data, ids
}

func pickSource(r uint64) string {
	x := float64(r&0xffff) / 0x10000
	for i, share := range sourceShare {
		if x < share {
			return sources[i]
		}
		x -= share
	}
	return sources[len(sources)-1]
}

func mixHash(seed, n int64) uint64 {
	h := fnv.New64a()
	var b [16]byte
	for i := range 8 {
		b[i] = byte(seed >> (8 * i))
		b[8+i] = byte(n >> (8 * i))
	}
	h.Write(b[:])
	x := h.Sum64()
	x ^= x >> 31
	x *= 0x7fb5d329728ea185
	x ^= x >> 27
	return x
}
