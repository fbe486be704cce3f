package curation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
)

// Keys in the chorus_config bucket: streamPrefix+id holds the stream as it
// runs; seedPrefix+id the config file's last declaration of it, the base of
// the next start's merge (see merge.go).
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

// Seed brings the config file's streams into the store: the file declares,
// the API amends. A new stream is created from the file. For a stream that
// exists, what the file changed since its previous declaration is merged
// into the stream as it runs, and every change made through the API stays
// (mergeStream); where both changed the same value the file wins, and a
// warning names the key and the value dropped. A stream that left the file
// is deleted, with a warning naming it and the changes made to it through
// the API. Streams created through the API and never declared in the file
// are left alone. An error names the stream when the merged settings do not
// validate; then nothing of that stream is changed.
func (s *Store) Seed(ctx context.Context, declared []config.Stream) error {
	inFile := map[string]bool{}
	for _, st := range declared {
		inFile[st.ID] = true
		if err := s.seedOne(ctx, st); err != nil {
			return err
		}
	}
	seeds, err := s.keys(ctx, seedPrefix)
	if err != nil {
		return err
	}
	for _, id := range seeds {
		if !inFile[id] {
			if err := s.unseed(ctx, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Ensure creates the streams of declared that do not exist and changes
// nothing else: what a start without a config file does with the demo
// stream, so that such a start never deletes or undoes anything.
func (s *Store) Ensure(ctx context.Context, declared []config.Stream) error {
	var created []string
	for _, st := range declared {
		if _, err := s.kv.Get(ctx, streamPrefix+st.ID); err == nil {
			continue
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("curation: read stream %s: %w", st.ID, err)
		}
		if err := s.create(ctx, st); err != nil {
			return err
		}
		created = append(created, st.ID)
		s.log.Info("stream created", "stream", st.ID)
	}
	kept, err := s.keys(ctx, streamPrefix)
	if err != nil {
		return err
	}
	kept = slices.DeleteFunc(kept, func(id string) bool { return slices.Contains(created, id) })
	if len(kept) > 0 {
		s.log.Info("no config file: the stored streams are kept as they are; nothing is changed or deleted", "streams", strings.Join(kept, ","))
	}
	return nil
}

// seedOne merges one declared stream into the store, retrying when another
// node changes it meanwhile.
func (s *Store) seedOne(ctx context.Context, file config.Stream) error {
	for range 5 {
		live, err := s.kv.Get(ctx, streamPrefix+file.ID)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if _, err := s.kv.Get(ctx, seedPrefix+file.ID); err == nil {
				s.log.Warn("stream was deleted through the API but the config file still declares it; recreating it from the file (remove it from the file to keep it deleted)", "stream", file.ID)
			} else {
				s.log.Info("stream created from the config file", "stream", file.ID)
			}
			if err := s.create(ctx, file); errors.Is(err, jetstream.ErrKeyExists) {
				continue
			} else if err != nil {
				return err
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("curation: read stream %s: %w", file.ID, err)
		}
		var current config.Stream
		if err := json.Unmarshal(live.Value(), &current); err != nil {
			return fmt.Errorf("curation: stored stream %s unreadable: %w", file.ID, err)
		}
		base, err := s.base(ctx, file)
		if err != nil {
			return err
		}
		merged, conflicts := mergeStream(base, file, current)
		merged = s.dropUnknownSources(merged)
		pol, err := s.validate(merged)
		if err != nil {
			return fmt.Errorf("stream %s: the config file's changes do not fit the changes made to it through the API, so nothing was changed; edit the file so they fit: %w", file.ID, err)
		}
		merged = pol.Stream
		applied := diffStream(current, merged)
		if len(applied) > 0 {
			raw, err := json.Marshal(merged)
			if err != nil {
				return err
			}
			if _, err := s.kv.Update(ctx, streamPrefix+file.ID, raw, live.Revision()); errors.Is(err, jetstream.ErrKeyExists) {
				continue // changed under us: merge again
			} else if err != nil {
				return fmt.Errorf("curation: store stream %s: %w", file.ID, err)
			}
			s.log.Info("config file changes applied", "stream", file.ID, "changes", strings.Join(applied, "; "))
		}
		for _, c := range conflicts {
			s.log.Warn("the config file and the API changed the same setting; the file's value wins and the API's is dropped",
				"stream", file.ID, "key", c.Key, "file", c.File, "api", c.API)
		}
		if kept := diffStream(file, merged); len(kept) > 0 {
			s.log.Info("changes made through the API kept", "stream", file.ID, "changes", strings.Join(kept, "; "))
		}
		return s.putSeed(ctx, file)
	}
	return fmt.Errorf("curation: stream %s kept changing during start-up; start again", file.ID)
}

// base returns the file's previous declaration of a stream. A stream with
// none (created through the API, or seeded by a version that stored only a
// hash of it) merges from an empty declaration: the file's values win where
// it sets them, and lists are joined.
func (s *Store) base(ctx context.Context, file config.Stream) (config.Stream, error) {
	entry, err := s.kv.Get(ctx, seedPrefix+file.ID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		s.log.Warn("a stream created through the API is now declared in the config file; the file's values win where they differ",
			"stream", file.ID)
		return config.Stream{ID: file.ID}, nil
	}
	if err != nil {
		return config.Stream{}, fmt.Errorf("curation: read the declaration of %s: %w", file.ID, err)
	}
	var base config.Stream
	if json.Unmarshal(entry.Value(), &base) == nil {
		return base, nil
	}
	// A hash, as versions before the merge stored.
	if raw, err := json.Marshal(file); err == nil {
		if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) == string(entry.Value()) {
			return file, nil // the file has not changed since
		}
	}
	s.log.Warn("the config file's previous declaration of this stream is not stored (an older version kept only its hash); the file's values win where they differ, lists are joined",
		"stream", file.ID)
	return config.Stream{ID: file.ID}, nil
}

// dropUnknownSources removes from a merged stream the sources the config no
// longer has (added through the API, then removed from the file's sources).
func (s *Store) dropUnknownSources(st config.Stream) config.Stream {
	var kept []string
	for _, src := range st.Sources {
		if slices.Contains(s.sources, src) {
			kept = append(kept, src)
		} else {
			s.log.Warn("source no longer exists; the stream stops naming it", "stream", st.ID, "source", src)
		}
	}
	st.Sources = kept
	return st
}

// create stores a new stream from the file's declaration, and the
// declaration as the base of the next merge.
func (s *Store) create(ctx context.Context, st config.Stream) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if _, err := s.kv.Create(ctx, streamPrefix+st.ID, raw); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
		return fmt.Errorf("curation: store stream %s: %w", st.ID, err)
	}
	return s.putSeed(ctx, st)
}

func (s *Store) putSeed(ctx context.Context, st config.Stream) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, seedPrefix+st.ID, raw); err != nil {
		return fmt.Errorf("curation: store the declaration of %s: %w", st.ID, err)
	}
	return nil
}

// unseed deletes a stream that left the config file, warning with the
// changes made to it through the API, which go with it.
func (s *Store) unseed(ctx context.Context, id string) error {
	seed, err := s.kv.Get(ctx, seedPrefix+id)
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("curation: read the declaration of %s: %w", id, err)
	}
	live, err := s.kv.Get(ctx, streamPrefix+id)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		s.log.Info("stream left the config file; it was already deleted through the API", "stream", id)
	case err != nil:
		return fmt.Errorf("curation: read stream %s: %w", id, err)
	default:
		changes := "unknown (an older version stored only a hash of the declaration)"
		var base, current config.Stream
		if seed != nil && json.Unmarshal(seed.Value(), &base) == nil && json.Unmarshal(live.Value(), &current) == nil {
			changes = "none"
			if d := diffStream(base, current); len(d) > 0 {
				changes = strings.Join(d, "; ")
			}
		}
		s.log.Warn("stream no longer declared in the config file: deleting it with every change made to it through the API (declare it again to keep it)",
			"stream", id, "api_changes", changes)
		if err := s.kv.Delete(ctx, streamPrefix+id); err != nil {
			return fmt.Errorf("curation: delete stream %s: %w", id, err)
		}
	}
	if err := s.kv.Delete(ctx, seedPrefix+id); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("curation: delete the declaration of %s: %w", id, err)
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
	bus.Follow(ctx, w, loaded, s.apply)
	return nil
}

func (s *Store) apply(entry jetstream.KeyValueEntry) {
	id := strings.TrimPrefix(entry.Key(), streamPrefix)
	if entry.Operation() != jetstream.KeyValuePut {
		s.streams.DeleteAt(id, entry.Revision())
		return
	}
	var st config.Stream
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		s.log.Error("stored stream unreadable; keeping the previous settings", "stream", id, "err", err)
		return
	}
	if err := s.streams.PutAt(st, entry.Revision()); err != nil {
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

// Update changes the stored stream id with change, retrying when another
// node changed it at the same time. It answers ErrUnknownStream when there
// is no such stream.
func (s *Store) Update(ctx context.Context, id string, change func(*config.Stream) error) (config.Stream, error) {
	return s.change(ctx, id, false, change)
}

// Upsert is Update that creates the stream, from an empty one, when it does
// not exist.
func (s *Store) Upsert(ctx context.Context, id string, change func(*config.Stream) error) (config.Stream, error) {
	return s.change(ctx, id, true, change)
}

func (s *Store) change(ctx context.Context, id string, create bool, change func(*config.Stream) error) (config.Stream, error) {
	for range 5 {
		var st config.Stream
		var revision uint64
		entry, err := s.kv.Get(ctx, streamPrefix+id)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) && create:
			st.ID = id
		case errors.Is(err, jetstream.ErrKeyNotFound):
			return config.Stream{}, ErrUnknownStream
		case err != nil:
			return config.Stream{}, fmt.Errorf("curation: read stream %s: %w", id, err)
		default:
			revision = entry.Revision()
			if err := json.Unmarshal(entry.Value(), &st); err != nil {
				return config.Stream{}, fmt.Errorf("curation: stored stream %s unreadable: %w", id, err)
			}
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
		if revision == 0 {
			revision, err = s.kv.Create(ctx, streamPrefix+id, raw)
		} else {
			revision, err = s.kv.Update(ctx, streamPrefix+id, raw, revision)
		}
		if errors.Is(err, jetstream.ErrKeyExists) {
			continue // changed under us: read again
		}
		if err != nil {
			return st, fmt.Errorf("curation: store stream %s: %w", id, err)
		}
		s.streams.put(pol, revision)
		return st, nil
	}
	return config.Stream{}, fmt.Errorf("curation: stream %s kept changing; try again", id)
}

// Delete removes a stream. The config file's declaration of it stays, so
// a start that finds the stream still in the file can say it recreates it.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, ok := s.streams.Get(id); !ok {
		return ErrUnknownStream
	}
	if err := s.kv.Delete(ctx, streamPrefix+id); err != nil {
		return fmt.Errorf("curation: delete stream %s: %w", id, err)
	}
	s.streams.Delete(id)
	return nil
}
