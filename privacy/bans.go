package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// Bans are the erased authors whose new posts Chorus refuses, by hashed
// key: everywhere, or in one stream when the erasure was for one stream.
// They live in the chorus_erasures bucket (key "all.<hash>" or
// "stream.<id>.<hash>"), and every node keeps a copy that follows it, so
// the connectors, curation, the index and the display of every node refuse
// the author's posts. The bucket names no one: a hash cannot be turned
// back into a handle without the hash key.
type Bans struct {
	kv     jetstream.KeyValue
	hasher *Hasher
	log    *slog.Logger

	mu      sync.RWMutex
	all     map[string]bool
	streams map[string]map[string]bool // hash -> streams
	count   atomic.Int64

	// onBan are called (without locks held) when a ban arrives that was
	// not known before, on every node.
	onBan []func()
}

// Ban is one entry of the bucket.
type Ban struct {
	// Stream is empty for a ban everywhere.
	Stream string    `json:"stream,omitempty"`
	At     time.Time `json:"at"`
}

// NewBans returns an empty set kept in kv.
func NewBans(kv jetstream.KeyValue, hasher *Hasher, log *slog.Logger) *Bans {
	return &Bans{kv: kv, hasher: hasher, log: log, all: map[string]bool{}, streams: map[string]map[string]bool{}}
}

// OnBan registers f to run whenever a new ban arrives (curation clears
// its spam memory with it). Call before Watch.
func (b *Bans) OnBan(f func()) { b.onBan = append(b.onBan, f) }

// Hasher is the hasher the bans are keyed by.
func (b *Bans) Hasher() *Hasher { return b.hasher }

func banKey(hash, stream string) string {
	if stream == "" {
		return "all." + hash
	}
	return "stream." + stream + "." + hash
}

// Add bans hashes (everywhere when stream is empty) and returns once the
// bucket holds them and this node applies them.
func (b *Bans) Add(ctx context.Context, hashes []string, stream string, at time.Time) error {
	raw, err := json.Marshal(Ban{Stream: stream, At: at.UTC()})
	if err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := b.kv.Put(ctx, banKey(h, stream), raw); err != nil {
			return fmt.Errorf("privacy: store ban: %w", err)
		}
		b.add(h, stream)
	}
	return nil
}

// add records a ban here; it reports whether it is new.
func (b *Bans) add(hash, stream string) bool {
	b.mu.Lock()
	var fresh bool
	if stream == "" {
		fresh = !b.all[hash]
		b.all[hash] = true
	} else {
		set := b.streams[hash]
		if set == nil {
			set = map[string]bool{}
			b.streams[hash] = set
		}
		fresh = !set[stream]
		set[stream] = true
	}
	if fresh {
		b.count.Add(1)
	}
	b.mu.Unlock()
	if fresh {
		for _, f := range b.onBan {
			f()
		}
	}
	return fresh
}

// Watch loads every ban, calls loaded, then follows the bucket until ctx
// ends.
func (b *Bans) Watch(ctx context.Context, loaded func()) error {
	w, err := b.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("privacy: watch bans: %w", err)
	}
	bus.Follow(ctx, w, loaded, func(e jetstream.KeyValueEntry) {
		hash, stream, ok := parseBanKey(e.Key())
		if !ok {
			b.log.Warn("privacy: ignoring an unreadable ban key", "key", e.Key())
			return
		}
		b.add(hash, stream)
	})
	return nil
}

func parseBanKey(key string) (hash, stream string, ok bool) {
	if h, found := strings.CutPrefix(key, "all."); found {
		return h, "", h != ""
	}
	rest, found := strings.CutPrefix(key, "stream.")
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[i+1:], rest[:i], true
}

// Empty reports whether no author is banned (checks then cost nothing).
func (b *Bans) Empty() bool { return b == nil || b.count.Load() == 0 }

// Banned reports whether p's author is erased everywhere, or in stream
// (when stream is not empty).
func (b *Bans) Banned(p *post.Post, stream string) bool {
	if b.Empty() || p == nil {
		return false
	}
	for _, h := range b.hasher.Hashes(p) {
		if b.bannedHash(h, stream) {
			return true
		}
	}
	return false
}

// BannedKey is Banned for an author key.
func (b *Bans) BannedKey(authorKey, stream string) bool {
	if b.Empty() {
		return false
	}
	return b.bannedHash(b.hasher.Hash(authorKey), stream)
}

func (b *Bans) bannedHash(h, stream string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.all[h] {
		return true
	}
	return stream != "" && b.streams[h][stream]
}

// Lookup returns the bans of an author key: everywhere and per stream.
func (b *Bans) Lookup(ctx context.Context, authorKey string) ([]Ban, error) {
	h := b.hasher.Hash(authorKey)
	b.mu.RLock()
	keys := []string{}
	if b.all[h] {
		keys = append(keys, banKey(h, ""))
	}
	for s := range b.streams[h] {
		keys = append(keys, banKey(h, s))
	}
	b.mu.RUnlock()
	var out []Ban
	for _, k := range keys {
		e, err := b.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("privacy: read ban: %w", err)
		}
		var ban Ban
		if err := json.Unmarshal(e.Value(), &ban); err != nil {
			return nil, fmt.Errorf("privacy: ban %s unreadable: %w", k, err)
		}
		out = append(out, ban)
	}
	return out, nil
}
