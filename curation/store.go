package curation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/config"
)

// Keys in the chorus_config bucket.
const (
	streamPrefix = "streams."
	seedPrefix   = "seeds."
)

// Store keeps every stream's settings in the chorus_config bucket and
// applies each change to Streams as it happens, on every node: a rule
// changed through the API takes effect everywhere within a second.
type Store struct {
	kv      jetstream.KeyValue
	streams *Streams
	sources []string
	log     *slog.Logger
}

// NewStore returns a store for streams; sources are the configured source
// ids a stream may name.
func NewStore(kv jetstream.KeyValue, streams *Streams, sources []string, log *slog.Logger) *Store {
	return &Store{kv: kv, streams: streams, sources: sources, log: log}
}

// Seed writes the config file's streams. A stream whose declaration in the
// file changed since it was last seeded is written again (the file wins);
// one unchanged in the file keeps what the API made of it; one that left
// the file is deleted. Streams created through the API stay.
func (s *Store) Seed(ctx context.Context, declared []config.Stream) error {
	inFile := map[string]bool{}
	for _, st := range declared {
		inFile[st.ID] = true
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		hash := hex.EncodeToString(sum[:])
		old, err := s.kv.Get(ctx, seedPrefix+st.ID)
		if err == nil && string(old.Value()) == hash {
			if _, err := s.kv.Get(ctx, streamPrefix+st.ID); err == nil {
				continue
			}
		} else if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("curation: read seed of %s: %w", st.ID, err)
		}
		if _, err := s.kv.Put(ctx, streamPrefix+st.ID, raw); err != nil {
			return fmt.Errorf("curation: store stream %s: %w", st.ID, err)
		}
		if _, err := s.kv.Put(ctx, seedPrefix+st.ID, []byte(hash)); err != nil {
			return fmt.Errorf("curation: store seed of %s: %w", st.ID, err)
		}
	}
	seeds, err := s.keys(ctx, seedPrefix)
	if err != nil {
		return err
	}
	for _, id := range seeds {
		if inFile[id] {
			continue
		}
		s.log.Info("stream removed from the config file; deleting it", "stream", id)
		if err := s.kv.Delete(ctx, streamPrefix+id); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("curation: delete stream %s: %w", id, err)
		}
		if err := s.kv.Delete(ctx, seedPrefix+id); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("curation: delete seed of %s: %w", id, err)
		}
	}
	return nil
}

func (s *Store) keys(ctx context.Context, prefix string) ([]string, error) {
	lister, err := s.kv.ListKeysFiltered(ctx, prefix+">")
	if err != nil {
		return nil, fmt.Errorf("curation: list %s: %w", prefix, err)
	}
	var out []string
	for k := range lister.Keys() {
		out = append(out, strings.TrimPrefix(k, prefix))
	}
	return out, nil
}

// Watch loads every stored stream into Streams, calls loaded, then applies
// each change until ctx ends.
func (s *Store) Watch(ctx context.Context, loaded func()) error {
	w, err := s.kv.Watch(ctx, streamPrefix+">")
	if err != nil {
		return fmt.Errorf("curation: watch streams: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case entry, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if entry == nil { // the initial values are all in
				if loaded != nil {
					loaded()
					loaded = nil
				}
				continue
			}
			s.apply(entry)
		}
	}
}

func (s *Store) apply(entry jetstream.KeyValueEntry) {
	id := strings.TrimPrefix(entry.Key(), streamPrefix)
	if entry.Operation() != jetstream.KeyValuePut {
		s.streams.Delete(id)
		return
	}
	var st config.Stream
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		s.log.Error("stored stream unreadable; keeping the previous settings", "stream", id, "err", err)
		return
	}
	if err := s.streams.Put(st); err != nil {
		s.log.Error("stored stream invalid; keeping the previous settings", "stream", id, "err", err)
	}
}

// validate checks st as the API received it, with every error naming its
// key, and returns its compiled policy, defaults applied.
func (s *Store) validate(st config.Stream) (*Policy, error) {
	if err := config.ValidateStream(&st, s.sources); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	pol, err := Compile(st, s.streams.lists, "stream")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	return pol, nil
}

// Put validates and stores st, creating or replacing it.
func (s *Store) Put(ctx context.Context, st config.Stream) (config.Stream, error) {
	pol, err := s.validate(st)
	if err != nil {
		return st, err
	}
	st = pol.Stream
	raw, err := json.Marshal(st)
	if err != nil {
		return st, err
	}
	if _, err := s.kv.Put(ctx, streamPrefix+st.ID, raw); err != nil {
		return st, fmt.Errorf("curation: store stream %s: %w", st.ID, err)
	}
	// This node need not wait for its own watch to see the change.
	s.streams.put(pol)
	return st, nil
}

// Update changes the stored stream id with change, retrying when another
// node changed it at the same time.
func (s *Store) Update(ctx context.Context, id string, change func(*config.Stream) error) (config.Stream, error) {
	for range 5 {
		entry, err := s.kv.Get(ctx, streamPrefix+id)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return config.Stream{}, ErrUnknownStream
		}
		if err != nil {
			return config.Stream{}, fmt.Errorf("curation: read stream %s: %w", id, err)
		}
		var st config.Stream
		if err := json.Unmarshal(entry.Value(), &st); err != nil {
			return config.Stream{}, fmt.Errorf("curation: stored stream %s unreadable: %w", id, err)
		}
		if err := change(&st); err != nil {
			return st, err
		}
		st.ID = id
		pol, err := s.validate(st)
		if err != nil {
			return st, err
		}
		st = pol.Stream
		raw, _ := json.Marshal(st)
		if _, err := s.kv.Update(ctx, streamPrefix+id, raw, entry.Revision()); err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue // changed under us: read again
			}
			return st, fmt.Errorf("curation: store stream %s: %w", id, err)
		}
		s.streams.put(pol)
		return st, nil
	}
	return config.Stream{}, fmt.Errorf("curation: stream %s kept changing; try again", id)
}

// Delete removes a stream.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, ok := s.streams.Get(id); !ok {
		return ErrUnknownStream
	}
	if err := s.kv.Delete(ctx, streamPrefix+id); err != nil {
		return fmt.Errorf("curation: delete stream %s: %w", id, err)
	}
	_ = s.kv.Delete(ctx, seedPrefix+id)
	s.streams.Delete(id)
	return nil
}
