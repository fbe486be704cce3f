package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Key is an API key: a named credential with a grant, for scripts and
// integrations. Its secret is shown once, when created; the bucket keeps
// only its SHA-256. JSON is the API's view.
type Key struct {
	Name string `json:"name"`
	Grant
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
	LastUsed  time.Time `json:"last_used,omitzero"`
}

type keyRecord struct {
	Key
	Hash string `json:"hash"`
}

// KeyPrefix starts every API key, so secret scanners and people can tell
// one when they see it: chorus_<name>_<64 hex digits>.
const KeyPrefix = "chorus_"

// CreateKey makes a key and returns it with its secret, which is never
// shown again.
func (s *Store) CreateKey(ctx context.Context, name string, g Grant, by string) (Key, string, error) {
	name = NormalizeName(name)
	if err := CheckName("key", name); err != nil {
		return Key{}, "", err
	}
	g, err := g.Normalize()
	if err != nil {
		return Key{}, "", err
	}
	secret := KeyPrefix + name + "_" + randomToken(32)
	rec := keyRecord{Key: Key{Name: name, Grant: g, Created: s.now(), CreatedBy: by}, Hash: digest(secret)}
	if err := s.create(ctx, keyPrefix+name, rec); err != nil {
		if errors.Is(err, ErrExists) {
			return Key{}, "", fmt.Errorf("%w: a key named %q (revoke it first to replace it)", ErrExists, name)
		}
		return Key{}, "", err
	}
	s.log.Info("API key created", "key", name, "grant", g.String(), "by", by)
	return rec.Key, secret, nil
}

// Keys lists every key by name.
func (s *Store) Keys(ctx context.Context) ([]Key, error) {
	recs, err := scanAll[keyRecord](ctx, s, keyPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]Key, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Key)
	}
	slices.SortFunc(out, func(a, b Key) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RevokeKey deletes a key; the next request made with it is refused, on
// every node.
func (s *Store) RevokeKey(ctx context.Context, name, by string) error {
	name = NormalizeName(name)
	if CheckName("key", name) != nil {
		return fmt.Errorf("%w: no key named %q", ErrNotFound, name)
	}
	if err := s.remove(ctx, keyPrefix+name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: no key named %q", ErrNotFound, name)
		}
		return err
	}
	s.log.Info("API key revoked", "key", name, "by", by)
	return nil
}

// ErrBadKey: the bearer credential is no key we know.
var ErrBadKey = errors.New("unknown or revoked API key")

// AuthenticateKey returns the principal of an API key and notes its use
// (at most once a minute).
func (s *Store) AuthenticateKey(ctx context.Context, secret string) (Principal, error) {
	rest, ok := strings.CutPrefix(secret, KeyPrefix)
	i := strings.LastIndexByte(rest, '_')
	if !ok || i < 0 || len(rest)-i-1 != 64 {
		return Principal{}, ErrBadKey
	}
	name := rest[:i]
	if CheckName("key", name) != nil {
		return Principal{}, ErrBadKey
	}
	var rec keyRecord
	rev, err := s.get(ctx, keyPrefix+name, &rec)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, ErrBadKey
	}
	if err != nil {
		return Principal{}, err
	}
	if subtle.ConstantTimeCompare([]byte(digest(secret)), []byte(rec.Hash)) != 1 {
		return Principal{}, ErrBadKey
	}
	if now := s.now(); now.Sub(rec.LastUsed) >= touchEvery {
		rec.LastUsed = now
		// Update, not Put: a key revoked meanwhile stays revoked.
		_ = s.update(ctx, keyPrefix+name, rec, rev)
	}
	return Principal{Name: name, Kind: KindKey, Grant: rec.Grant}, nil
}
