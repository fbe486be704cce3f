package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
)

// Keys of the chorus_config bucket that auth owns. The bucket also holds
// curation's "streams." and "seeds."; everything here starts with "auth.".
const (
	userPrefix    = "auth.users."    // + name: a user and their password hash
	keyPrefix     = "auth.keys."     // + name: an API key's grant and hash
	sessionPrefix = "auth.sessions." // + sha256(session id): a session
	setupPrefix   = "auth.setup."    // + sha256(code): a first-owner setup code
	statePrefix   = "auth.oidc."     // + sha256(state): a single sign-on in progress
)

// Defaults of Options.
const (
	DefaultIdleTimeout = 12 * time.Hour
	DefaultMaxAge      = 7 * 24 * time.Hour
	// touchEvery is how often a session's last-seen time (and an API key's
	// last use) is written: idle expiry is exact to this.
	touchEvery = time.Minute
)

// Options configure a Store.
type Options struct {
	// IdleTimeout ends a session not used for this long.
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, used or not.
	MaxAge time.Duration
	// Params are the argon2id costs for new hashes (DefaultParams when zero).
	Params Params
	// HashConcurrency bounds password hashes computed at once (2 when zero).
	HashConcurrency int
	// Now is the clock (time.Now when nil); tests move it.
	Now    func() time.Time
	Logger *slog.Logger
	// Connected, when set, says whether NATS is reachable: a setup code
	// is only withdrawn on the way out while it is, since the withdrawal
	// would otherwise hold up the stop for its whole timeout.
	Connected func() bool
}

// Store keeps users, API keys, sessions, setup codes and sign-ins in
// progress in the chorus_config bucket. It reads the bucket on every call
// and caches nothing, so a change made on one node holds on every node at
// once: a revoked key or a removed user is refused by the next request.
type Store struct {
	kv     jetstream.KeyValue
	hasher *hasher
	opts   Options
	log    *slog.Logger
	// dummyHash is verified when a login names no user, so an unknown name
	// takes as long as a wrong password.
	dummyHash string
	// hadUsers remembers that a user existed (see SetupNeeded).
	hadUsers atomic.Bool
}

// NewStore returns a store on the chorus_config bucket.
func NewStore(kv jetstream.KeyValue, opts Options) *Store {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams
	}
	if opts.HashConcurrency <= 0 {
		opts.HashConcurrency = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Connected == nil {
		opts.Connected = func() bool { return true }
	}
	s := &Store{kv: kv, hasher: newHasher(opts.Params, opts.HashConcurrency), opts: opts, log: opts.Logger}
	salt := make([]byte, opts.Params.SaltLen)
	s.dummyHash = encodeHash(opts.Params, salt, make([]byte, opts.Params.KeyLen))
	return s
}

func (s *Store) now() time.Time { return s.opts.Now().UTC() }

// randomToken returns n random bytes, hex encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return hex.EncodeToString(b)
}

// digest is the hex SHA-256 of a secret. Session ids, API keys and codes
// are long random strings, so a plain hash is enough to keep them from
// being usable by whoever reads the bucket; passwords get argon2id.
func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// get decodes the value at key into v and returns its revision.
func (s *Store) get(ctx context.Context, key string, v any) (uint64, error) {
	entry, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("auth: read %s: %w", key, err)
	}
	if err := json.Unmarshal(entry.Value(), v); err != nil {
		return 0, fmt.Errorf("auth: stored %s unreadable: %w", key, err)
	}
	return entry.Revision(), nil
}

// create stores v at key unless the key holds a value.
func (s *Store) create(ctx context.Context, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := s.kv.Create(ctx, key, raw); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return ErrExists
		}
		return fmt.Errorf("auth: store %s: %w", key, err)
	}
	return nil
}

// update stores v at key if the key is still at revision rev: a change
// never brings back what another node deleted meanwhile.
func (s *Store) update(ctx context.Context, key string, v any, rev uint64) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := s.kv.Update(ctx, key, raw, rev); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) {
			return errConflict
		}
		return fmt.Errorf("auth: store %s: %w", key, err)
	}
	return nil
}

// errConflict: the key changed or went away since it was read.
var errConflict = errors.New("auth: changed meanwhile")

// change reads the value at key into a fresh T, applies fn and writes it
// back, reading again when another node changed it meanwhile.
func change[T any](ctx context.Context, s *Store, key string, fn func(*T) error) (T, error) {
	for range 5 {
		var v T
		rev, err := s.get(ctx, key, &v)
		if err != nil {
			return v, err
		}
		if err := fn(&v); err != nil {
			return v, err
		}
		switch err := s.update(ctx, key, v, rev); {
		case err == nil:
			return v, nil
		case !errors.Is(err, errConflict):
			return v, err
		}
	}
	var zero T
	return zero, fmt.Errorf("auth: %s kept changing; try again", key)
}

// remove deletes key and its history (so no old password hash or session
// lingers); ErrNotFound when it holds nothing.
func (s *Store) remove(ctx context.Context, key string) error {
	if _, err := s.kv.Get(ctx, key); errors.Is(err, jetstream.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err := s.kv.Purge(ctx, key); err != nil {
		return fmt.Errorf("auth: delete %s: %w", key, err)
	}
	return nil
}

// scan calls fn with every live value under prefix.
func (s *Store) scan(ctx context.Context, prefix string, fn func(key string, value []byte) error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w, err := s.kv.Watch(ctx, prefix+">", jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("auth: list %s: %w", prefix, err)
	}
	defer bus.StopWatch(w)
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("auth: list %s: %w", prefix, ctx.Err())
		case entry, ok := <-w.Updates():
			if !ok || entry == nil {
				return nil
			}
			if err := fn(entry.Key(), entry.Value()); err != nil {
				return err
			}
		}
	}
}

// scanAll decodes every value under prefix, skipping (and logging) any
// that cannot be read.
func scanAll[T any](ctx context.Context, s *Store, prefix string) ([]T, error) {
	var out []T
	err := s.scan(ctx, prefix, func(key string, value []byte) error {
		var v T
		if err := json.Unmarshal(value, &v); err != nil {
			s.log.Warn("auth: stored record unreadable; skipped", "key", key, "err", err)
			return nil
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// Sweep deletes expired sessions, setup codes and sign-ins in progress.
// Expired ones are refused anyway; this only keeps the bucket small.
func (s *Store) Sweep(ctx context.Context) error {
	now := s.now()
	var stale []string
	err := s.scan(ctx, sessionPrefix, func(key string, value []byte) error {
		var se Session
		if json.Unmarshal(value, &se) != nil || s.expired(se, now) != "" {
			stale = append(stale, key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, prefix := range []string{setupPrefix, statePrefix} {
		err := s.scan(ctx, prefix, func(key string, value []byte) error {
			var e expiring
			if json.Unmarshal(value, &e) != nil || !now.Before(e.Expires) {
				stale = append(stale, key)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, key := range stale {
		if err := s.kv.Purge(ctx, key); err != nil {
			return fmt.Errorf("auth: sweep %s: %w", key, err)
		}
	}
	return nil
}

// RunSweeper sweeps every interval until ctx ends.
func (s *Store) RunSweeper(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("auth: sweeping expired sessions failed; trying again later", "err", err)
			}
		}
	}
}

// expiring is the part of short-lived records the sweeper reads.
type expiring struct {
	Expires time.Time `json:"expires"`
}
