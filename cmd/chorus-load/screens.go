package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// screens hold websocket clients on a stream the way walls do: each one
// reconnects with ?since= when the server drops it and carries on. They
// ask for batched frames (?batch=1) and read both a single message and an
// array of messages per frame, so the harness measures old and new
// servers alike. One screen may record: it decodes every message and
// measures each new post's latency from the timestamp inside the post;
// the others only count messages, so the harness spends little of the CPU
// it measures.
type screens struct {
	base, stream string
	rec          *recorder

	connected atomic.Int64
	drops     atomic.Int64
	// messages counts messages received by every screen, frames the
	// frames they came in, bytes their payloads' bytes.
	messages, frames, bytes atomic.Int64

	wg     sync.WaitGroup
	cancel []context.CancelFunc
	mu     sync.Mutex
}

func newScreens(base, stream string) *screens {
	return &screens{base: base, stream: stream, rec: newRecorder()}
}

var dialer = &websocket.Dialer{ReadBufferSize: 4096, WriteBufferSize: 256, HandshakeTimeout: 30 * time.Second}

// open starts n more screens, the first one recording when record is set,
// dialling at most 64 at a time, and waits until all are connected.
func (s *screens) open(ctx context.Context, n int, record bool) error {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.cancel = append(s.cancel, cancel)
	s.mu.Unlock()
	want := s.connected.Load() + int64(n)
	sem := make(chan struct{}, 64)
	for i := range n {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.hold(ctx, record && i == 0, sem)
		}()
	}
	return waitUntil(ctx, 5*time.Minute, 50*time.Millisecond, func() bool { return s.connected.Load() >= want })
}

// close disconnects every screen.
func (s *screens) close() {
	s.mu.Lock()
	for _, c := range s.cancel {
		c()
	}
	s.cancel = nil
	s.mu.Unlock()
	s.wg.Wait()
	s.connected.Store(0)
}

func (s *screens) hold(ctx context.Context, recording bool, sem chan struct{}) {
	var seq uint64
	first := true
	for ctx.Err() == nil {
		url := "ws" + strings.TrimPrefix(s.base, "http") + "/ws/streams/" + s.stream + "?batch=1"
		if seq > 0 {
			url += "&since=" + strconv.FormatUint(seq, 10)
		}
		if first {
			sem <- struct{}{}
		}
		c, _, err := dialer.DialContext(ctx, url, nil)
		if first {
			<-sem
		}
		if err != nil {
			if !sleep(ctx, 200*time.Millisecond) {
				return
			}
			continue
		}
		if first {
			s.connected.Add(1)
			first = false
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		if recording {
			seq = s.record(c, seq)
		} else {
			seq = s.count(c, seq)
		}
		stop()
		c.Close()
		if ctx.Err() == nil {
			s.drops.Add(1)
		}
	}
}

var frameBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var (
	seqKey = []byte(`"seq":`)
	addKey = []byte(`"type":"add"`)
)

// count reads frames until the connection fails, counting messages and
// tracking the last seq without decoding: every message has exactly one
// "seq" key (inside a JSON string the quotes would be escaped).
func (s *screens) count(c *websocket.Conn, seq uint64) uint64 {
	for {
		_, r, err := c.NextReader()
		if err != nil {
			return seq
		}
		buf := frameBuffers.Get().(*bytes.Buffer)
		buf.Reset()
		_, err = buf.ReadFrom(r)
		data := buf.Bytes()
		n := 0
		for i := bytes.Index(data, seqKey); i >= 0; {
			n++
			seq = max(seq, digits(data[i+len(seqKey):]))
			next := bytes.Index(data[i+len(seqKey):], seqKey)
			if next < 0 {
				break
			}
			i += len(seqKey) + next
		}
		s.rec.counted(bytes.Count(data, addKey))
		frameBuffers.Put(buf)
		s.messages.Add(int64(n))
		s.frames.Add(1)
		s.bytes.Add(int64(len(data)))
		if err != nil {
			return seq
		}
	}
}

func digits(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}

// wireMessage is what the recording screen reads of a message.
type wireMessage struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
	Post *struct {
		ID        string    `json:"id"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"post"`
}

// record reads and decodes frames until the connection fails.
func (s *screens) record(c *websocket.Conn, seq uint64) uint64 {
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return seq
		}
		at := time.Now()
		var msgs []wireMessage
		if len(data) > 0 && data[0] == '[' {
			if json.Unmarshal(data, &msgs) != nil {
				continue
			}
		} else {
			var m wireMessage
			if json.Unmarshal(data, &m) != nil {
				continue
			}
			msgs = []wireMessage{m}
		}
		s.frames.Add(1)
		s.bytes.Add(int64(len(data)))
		s.messages.Add(int64(len(msgs)))
		adds := 0
		for _, m := range msgs {
			seq = max(seq, m.Seq)
			if m.Type == "add" && m.Post != nil {
				s.rec.seen(m.Post.ID, m.Post.CreatedAt, at)
				adds++
			}
		}
		s.rec.counted(adds)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// recorder keeps the recording screen's latencies: from the timestamp
// inside each post (set just before it was sent) to its arrival on
// screen, for posts made since the phase began.
type recorder struct {
	mu    sync.Mutex
	since time.Time
	lat   []time.Duration
	ids   map[string]bool
	// accepted says when a post's webhook call was answered 202; hook is
	// each post's time from made to 202, after from 202 to the screen.
	accepted    func(id string) (time.Time, bool)
	hook, after []time.Duration
	// adds counts add messages on every screen.
	adds atomic.Int64
}

func newRecorder() *recorder { return &recorder{ids: map[string]bool{}} }

// begin starts a phase: only posts made from now on count. accepted,
// when set, says when a post's call was answered 202.
func (r *recorder) begin(accepted func(id string) (time.Time, bool)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.since, r.lat, r.ids = time.Now(), nil, map[string]bool{}
	r.accepted, r.hook, r.after = accepted, nil, nil
}

func (r *recorder) counted(adds int) { r.adds.Add(int64(adds)) }

func (r *recorder) seen(id string, created, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if created.Before(r.since) || r.ids[id] {
		return
	}
	r.ids[id] = true
	r.lat = append(r.lat, at.Sub(created))
	if r.accepted == nil {
		return
	}
	if ok202, ok := r.accepted(id); ok {
		r.hook = append(r.hook, ok202.Sub(created))
		r.after = append(r.after, at.Sub(ok202))
	}
}

// stages returns the sorted times from made to 202 and from 202 to the
// screen of the posts whose 202 the screen saw after.
func (r *recorder) stages() (hook, after []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sorted(r.hook), sorted(r.after)
}

// posts is how many distinct new posts the recording screen has shown.
func (r *recorder) posts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lat)
}

func (r *recorder) latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sorted(r.lat)
}
