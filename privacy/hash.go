// Package privacy answers people's requests about their data: erasure of
// everything Chorus holds about an author (and a ban on their future
// posts, kept without their name), and an export of it all for a subject
// access request.
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/chorus-wall/chorus/post"
)

// Hasher turns author keys into hashes that name no one: HMAC-SHA256 under
// a key every node shares (bus.SharedSecret "erasure"), so the audit and
// the ban list can say "this author" without saying who, and a guess of a
// handle cannot be checked without the key.
type Hasher struct{ key []byte }

// NewHasher returns a hasher with key (at least 16 bytes).
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("privacy: hash key is %d bytes; want at least 16", len(key))
	}
	return &Hasher{key: key}, nil
}

// Hash returns the hash of an author key ("network:handle" or
// "network:#id", case ignored): 32 hex digits.
func (h *Hasher) Hash(authorKey string) string {
	mac := hmac.New(sha256.New, h.key)
	mac.Write([]byte("chorus-author\x00"))
	mac.Write([]byte(strings.ToLower(authorKey)))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// Hashes returns the hashes of every key p's author is known by.
func (h *Hasher) Hashes(p *post.Post) []string {
	keys := Keys(p)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = h.Hash(k)
	}
	return out
}

// Keys returns the author keys a post's author is known by: by handle
// (post.AuthorKey) and by the network's own id, so an author who changes
// their handle is still recognised.
func Keys(p *post.Post) []string {
	var keys []string
	if k := p.AuthorKey(); k != "" {
		keys = append(keys, k)
	}
	if p.Author.ID != "" {
		if k := p.Network + ":#" + strings.ToLower(p.Author.ID); len(keys) == 0 || !strings.EqualFold(keys[0], k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// ParseAuthor checks an author key as people type it ("network:handle",
// "network:@handle" or "network:#id") and returns it in the form posts
// carry: lowercase, without '@'.
func ParseAuthor(raw string) (string, error) {
	key := strings.ToLower(strings.TrimSpace(raw))
	network, who, ok := strings.Cut(key, ":")
	who = strings.TrimPrefix(strings.TrimSpace(who), "@")
	if !ok || !post.IsToken(network) || who == "" || who == "#" || len(key) > post.MaxIDBytes {
		return "", fmt.Errorf("author must be network:handle (or network:#id), like mastodon:ana@social.example; got %q", raw)
	}
	return network + ":" + who, nil
}
