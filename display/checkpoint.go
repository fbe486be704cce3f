package display

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
)

// A checkpoint is one stream's display state as of an events sequence: all
// a restart needs besides the events after Seq. Checkpoints live in the
// chorus_display bucket, one key per stream, shared by every display node;
// a checkpoint never replaces one of a later seq.
type checkpoint struct {
	Version int       `json:"version"`
	Stream  string    `json:"stream"`
	Seq     uint64    `json:"seq"`
	Saved   time.Time `json:"saved"`
	// Posts are newest first, pinned ones included.
	Posts   []*Item           `json:"posts"`
	Pins    []string          `json:"pins,omitempty"`
	Pending []*Item           `json:"pending,omitempty"`
	Hidden  []string          `json:"hidden,omitempty"`
	Gone    map[string]uint64 `json:"gone,omitempty"`
	Paused  bool              `json:"paused,omitempty"`
	// Air is the on-air state (added in the same version: absent in older
	// checkpoints, which had none).
	Air *airCheckpoint `json:"air,omitempty"`
	// Granted are the posts whose rights were granted (absent in older
	// checkpoints, which had none).
	Granted []string `json:"granted,omitempty"`
}

// airCheckpoint is the on-air state of a checkpoint.
type airCheckpoint struct {
	ID      string        `json:"id,omitempty"`
	At      time.Time     `json:"at,omitzero"`
	Advance time.Duration `json:"advance,omitempty"`
	Aired   []string      `json:"aired,omitempty"`
}

const checkpointVersion = 1

// checkpointMagic starts every stored checkpoint, followed by its seq (8
// bytes, big-endian) and its gzipped JSON, so a writer can compare seqs
// without decoding.
var checkpointMagic = []byte("chd1")

// checkpoint captures the state. It shares the state's items, which are
// never changed once stored. The caller holds mu.
func (s *state) checkpoint(stream string, now time.Time) *checkpoint {
	c := &checkpoint{
		Version: checkpointVersion, Stream: stream, Seq: s.seq, Saved: now.UTC(),
		Posts: slices.Clone(s.posts), Pins: slices.Clone(s.pins), Paused: s.paused,
		Hidden: slices.Sorted(maps.Keys(s.hidden)), Gone: maps.Clone(s.gone),
	}
	for _, id := range slices.Sorted(maps.Keys(s.pending)) {
		c.Pending = append(c.Pending, s.pending[id])
	}
	c.Granted = slices.Sorted(maps.Keys(s.granted))
	if s.air.id != "" || s.air.advance != 0 || len(s.air.aired) > 0 {
		c.Air = &airCheckpoint{ID: s.air.id, At: s.air.at, Advance: s.air.advance, Aired: slices.Clone(s.air.aired)}
	}
	return c
}

// restore returns the state the checkpoint holds, with its invariants
// checked: posts have ids and appear once, pins are posts, pinned flags
// follow the pins.
func (c *checkpoint) restore() *state {
	st := newState(c.Seq)
	st.paused = c.Paused
	seen := map[string]bool{}
	for _, it := range c.Posts {
		if it == nil || it.ID == "" || seen[it.ID] {
			continue
		}
		seen[it.ID] = true
		st.posts = append(st.posts, it)
		st.held[it.ID] = struct{}{}
	}
	for _, id := range c.Pins {
		if seen[id] && !slices.Contains(st.pins, id) && len(st.pins) < maxPins {
			st.pins = append(st.pins, id)
		}
	}
	for i, it := range st.posts {
		if pinned := slices.Contains(st.pins, it.ID); pinned != it.Pinned {
			cp := *it
			cp.Pinned = pinned
			st.posts[i] = &cp
		}
	}
	st.trim()
	for _, it := range c.Pending {
		if it != nil && it.ID != "" {
			st.pending[it.ID] = it
		}
	}
	for _, a := range c.Hidden {
		st.hidden[a] = true
	}
	maps.Copy(st.gone, c.Gone)
	for _, id := range c.Granted {
		st.granted[id] = true
	}
	if c.Air != nil {
		st.air = air{id: c.Air.ID, at: c.Air.At, advance: c.Air.Advance, aired: slices.Clone(c.Air.Aired)}
		if len(st.air.aired) > maxAired {
			st.air.aired = st.air.aired[len(st.air.aired)-maxAired:]
		}
	}
	return st
}

func encodeCheckpoint(c *checkpoint) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write(checkpointMagic)
	buf.Write(binary.BigEndian.AppendUint64(nil, c.Seq))
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(zw).Encode(c); err != nil {
		return nil, fmt.Errorf("display: encode checkpoint of %s: %w", c.Stream, err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkpointSeq reads the seq of a stored checkpoint without decoding it.
func checkpointSeq(data []byte) (uint64, error) {
	if len(data) < len(checkpointMagic)+8 || !bytes.Equal(data[:len(checkpointMagic)], checkpointMagic) {
		return 0, errors.New("not a display checkpoint")
	}
	return binary.BigEndian.Uint64(data[len(checkpointMagic):]), nil
}

func decodeCheckpoint(data []byte) (*checkpoint, error) {
	seq, err := checkpointSeq(data)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(data[len(checkpointMagic)+8:]))
	if err != nil {
		return nil, err
	}
	var c checkpoint
	if err := json.NewDecoder(io.LimitReader(zr, 256<<20)).Decode(&c); err != nil {
		return nil, err
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint version %d (this build reads %d)", c.Version, checkpointVersion)
	}
	if c.Seq != seq {
		return nil, fmt.Errorf("checkpoint says seq %d inside and %d outside", c.Seq, seq)
	}
	return &c, nil
}

// checkpoints reads and writes the chorus_display bucket.
type checkpoints struct {
	kv jetstream.KeyValue
	// maxSize is the largest value NATS accepts.
	maxSize int
	log     *slog.Logger

	mu sync.Mutex
	// revs is the bucket revision and seq of each stream's checkpoint as
	// last read or written here.
	revs    map[string]stored
	failing bool
}

type stored struct{ rev, seq uint64 }

func newCheckpoints(kv jetstream.KeyValue, maxSize int, log *slog.Logger) *checkpoints {
	return &checkpoints{kv: kv, maxSize: maxSize, log: log, revs: map[string]stored{}}
}

// loadAll returns every stream's checkpoint. One that cannot be read is
// logged and left out: that stream is replayed from the events stream.
func (cs *checkpoints) loadAll(ctx context.Context) (map[string]*checkpoint, error) {
	w, err := cs.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("display: read checkpoints: %w", err)
	}
	defer bus.StopWatch(w)
	out := map[string]*checkpoint{}
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return out, nil
			}
			c, err := decodeCheckpoint(e.Value())
			if err == nil && c.Stream != e.Key() {
				err = fmt.Errorf("checkpoint of %q stored under %q", c.Stream, e.Key())
			}
			if err != nil {
				cs.log.Warn("display: unreadable checkpoint; replaying the stream from the events stream", "stream", e.Key(), "err", err)
				continue
			}
			cs.mu.Lock()
			cs.revs[e.Key()] = stored{rev: e.Revision(), seq: c.Seq}
			cs.mu.Unlock()
			out[e.Key()] = c
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// save writes c unless the bucket holds a checkpoint of the same or a later
// seq (another node's), and says which happened: "written" or
// "newer_exists". limit is the stream's display limit: a checkpoint too
// large for NATS keeps only the pinned posts and the newest limit others.
func (cs *checkpoints) save(ctx context.Context, c *checkpoint, limit int) (string, error) {
	data, err := encodeCheckpoint(c)
	if err != nil {
		return "failed", err
	}
	if room := cs.maxSize - 4096; len(data) > room {
		c.Posts = slices.DeleteFunc(slices.Clone(c.Posts), func() func(*Item) bool {
			others := 0
			return func(it *Item) bool {
				if it.Pinned {
					return false
				}
				others++
				return others > limit
			}
		}())
		if data, err = encodeCheckpoint(c); err != nil {
			return "failed", err
		}
		if len(data) > room {
			return "failed", fmt.Errorf("display: checkpoint of %s is %d bytes, over what NATS accepts (%d)", c.Stream, len(data), room)
		}
	}
	cs.mu.Lock()
	known := cs.revs[c.Stream]
	cs.mu.Unlock()
	for range 5 {
		if known.rev != 0 && known.seq >= c.Seq {
			return "newer_exists", nil
		}
		var rev uint64
		if known.rev == 0 {
			rev, err = cs.kv.Create(ctx, c.Stream, data)
		} else {
			rev, err = cs.kv.Update(ctx, c.Stream, data, known.rev)
		}
		if err == nil {
			cs.mu.Lock()
			cs.revs[c.Stream] = stored{rev: rev, seq: c.Seq}
			cs.mu.Unlock()
			return "written", nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return "failed", fmt.Errorf("display: write checkpoint of %s: %w", c.Stream, err)
		}
		// Another node wrote first: compare with what it wrote.
		e, err := cs.kv.Get(ctx, c.Stream)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			known = stored{}
		case err != nil:
			return "failed", fmt.Errorf("display: read checkpoint of %s: %w", c.Stream, err)
		default:
			seq, err := checkpointSeq(e.Value())
			if err != nil {
				seq = 0 // unreadable: ours replaces it
			}
			known = stored{rev: e.Revision(), seq: seq}
			cs.mu.Lock()
			cs.revs[c.Stream] = known
			cs.mu.Unlock()
		}
	}
	return "failed", fmt.Errorf("display: write checkpoint of %s: kept losing the race to other nodes", c.Stream)
}

// Scrub rewrites every checkpoint after an erasure. Earlier versions of a
// checkpoint may hold the erased posts, and a replaced version leaves the
// bucket's files only when NATS compacts them, so the bucket is emptied
// (its files go) and each stream's checkpoint is written again from the
// state as it is now. A crash in between costs a longer replay at start,
// nothing else: the events stream holds the truth.
func (h *Hub) Scrub(ctx context.Context) error {
	h.saveMu.Lock()
	conn, cs := h.conn, h.cp
	h.saveMu.Unlock()
	if conn == nil {
		return nil // not running: no checkpoint is written
	}
	s, err := conn.JS.Stream(ctx, "KV_"+bus.DisplayBucket)
	if err != nil {
		return fmt.Errorf("display: scrub checkpoints: %w", err)
	}
	for _, st := range h.allStates() {
		st.mu.Lock()
		st.dirty = true
		st.mu.Unlock()
	}
	h.saveMu.Lock()
	err = s.Purge(ctx)
	if err == nil {
		cs.mu.Lock()
		clear(cs.revs)
		cs.mu.Unlock()
	}
	h.saveMu.Unlock()
	if err != nil {
		return fmt.Errorf("display: scrub checkpoints: %w", err)
	}
	h.saveCheckpoints(ctx, cs)
	return nil
}

// saveCheckpoints writes the checkpoint of every stream that changed since
// its last one. A failed write is retried at the next call.
func (h *Hub) saveCheckpoints(ctx context.Context, cs *checkpoints) {
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	h.mu.Lock()
	ids := slices.Collect(maps.Keys(h.states))
	h.mu.Unlock()
	now := time.Now()
	for _, id := range ids {
		st := h.state(id)
		st.mu.Lock()
		if !st.dirty {
			st.mu.Unlock()
			continue
		}
		c := st.checkpoint(id, now)
		st.dirty = false
		st.mu.Unlock()
		result, err := cs.save(ctx, c, h.limit(id))
		h.checkpoints.WithLabelValues(result).Inc()
		if err != nil {
			st.mu.Lock()
			st.dirty = true
			st.mu.Unlock()
			if !cs.failing {
				h.log.Warn("display: checkpoint not written; a restart replays more events until one is", "stream", id, "err", err)
			}
			cs.failing = true
			continue
		}
		if cs.failing {
			h.log.Info("display: checkpoints written again", "stream", id)
		}
		cs.failing = false
	}
}
