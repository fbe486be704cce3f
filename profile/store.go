package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/apibody"
)

// keyPrefix is where profiles live in the chorus_config bucket:
// profiles.<stream>.<name>.
const keyPrefix = "profiles."

// Store keeps profiles in the chorus_config bucket.
type Store struct {
	kv jetstream.KeyValue
}

// NewStore returns a store over the chorus_config bucket.
func NewStore(kv jetstream.KeyValue) *Store { return &Store{kv: kv} }

// ErrNotFound is returned for a profile that is not stored.
var ErrNotFound = errors.New("profile: not found")

// ErrConflict is returned by Put when the stored revision is not the one
// the caller expected.
var ErrConflict = errors.New("profile: changed meanwhile")

func key(stream, name string) string { return keyPrefix + stream + "." + name }

// Get returns the stored profile and its revision, or ErrNotFound.
func (s *Store) Get(ctx context.Context, stream, name string) (Profile, uint64, error) {
	e, err := s.kv.Get(ctx, key(stream, name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Profile{}, 0, ErrNotFound
	}
	if err != nil {
		return Profile{}, 0, fmt.Errorf("profile: read %s/%s: %w", stream, name, err)
	}
	p := Default()
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return Profile{}, 0, fmt.Errorf("profile: stored %s/%s is not a profile: %w", stream, name, err)
	}
	return p, e.Revision(), nil
}

// Put stores p (already validated). With ifRevision > 0 it stores only
// when the stored revision is that one (ErrConflict otherwise).
func (s *Store) Put(ctx context.Context, stream, name string, p Profile, ifRevision uint64) (uint64, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return 0, err
	}
	var rev uint64
	if ifRevision > 0 {
		rev, err = s.kv.Update(ctx, key(stream, name), raw, ifRevision)
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) {
			return 0, ErrConflict
		}
	} else {
		rev, err = s.kv.Put(ctx, key(stream, name), raw)
	}
	if err != nil {
		return 0, fmt.Errorf("profile: store %s/%s: %w", stream, name, err)
	}
	return rev, nil
}

// Delete removes a stored profile, or answers ErrNotFound.
func (s *Store) Delete(ctx context.Context, stream, name string) error {
	if _, _, err := s.Get(ctx, stream, name); err != nil {
		return err
	}
	if err := s.kv.Delete(ctx, key(stream, name)); err != nil {
		return fmt.Errorf("profile: delete %s/%s: %w", stream, name, err)
	}
	return nil
}

// Names lists a stream's stored profiles, sorted.
func (s *Store) Names(ctx context.Context, stream string) ([]string, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, keyPrefix+stream+".*")
	if err != nil {
		return nil, fmt.Errorf("profile: list %s: %w", stream, err)
	}
	names := []string{}
	for k := range lister.Keys() {
		names = append(names, strings.TrimPrefix(k, keyPrefix+stream+"."))
	}
	slices.Sort(names)
	return names, nil
}

// MaxBody bounds a profile document.
const MaxBody = 16 << 10

// Decode reads a profile document (JSON, sent with contentType) strictly,
// as every API body is read (apibody): every key left out takes its
// default, an unknown key at any depth or a value of the wrong type is an
// error naming it by its path, and the result is validated. Errors are
// *apibody.Error, carrying the status to answer.
func Decode(contentType string, r io.Reader) (Profile, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		return Profile{}, err
	}
	if len(raw) > MaxBody {
		return Profile{}, &apibody.Error{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("a profile is at most %d bytes", MaxBody)}
	}
	p := Default()
	if err := apibody.Decode(contentType, raw, &p); err != nil {
		return Profile{}, err
	}
	if err := p.Validate(); err != nil {
		return Profile{}, &apibody.Error{Status: http.StatusBadRequest, Msg: err.Error()}
	}
	return p, nil
}
