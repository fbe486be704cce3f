package display

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
)

// Streams tells the hub which curated streams exist and how they are shown.
type Streams interface {
	Get(id string) (config.Stream, bool)
}

// Hub holds every stream's screen state and its connected clients.
type Hub struct {
	streams Streams
	log     *slog.Logger

	mu     sync.Mutex
	states map[string]*state
	// applied is the last event seq applied to every state; new states
	// start from it.
	applied uint64
	closed  bool
	wg      sync.WaitGroup

	ready     chan struct{}
	readyOnce sync.Once

	clients  *prometheus.GaugeVec
	sent     prometheus.Counter
	dropped  *prometheus.CounterVec
	skipped  prometheus.Counter
	resumed  *prometheus.CounterVec
	appliedG prometheus.Gauge
}

// NewHub returns an empty hub.
func NewHub(streams Streams, log *slog.Logger, reg prometheus.Registerer) *Hub {
	h := &Hub{
		streams: streams,
		log:     log,
		states:  map[string]*state{},
		ready:   make(chan struct{}),
		clients: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chorus_ws_clients",
			Help: "Connected websocket clients, by stream.",
		}, []string{"stream"}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_ws_messages_sent_total",
			Help: "Messages written to websocket clients.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_ws_clients_dropped_total",
			Help: "Websocket clients disconnected by the server, by reason.",
		}, []string{"reason"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_display_events_skipped_total",
			Help: "Events the display could not decode and skipped.",
		}),
		resumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_ws_connects_total",
			Help: "Websocket connects, by how they started (snapshot or resume).",
		}, []string{"start"}),
		appliedG: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chorus_display_applied_seq",
			Help: "Sequence of the last event applied to the display state.",
		}),
	}
	h.dropped.WithLabelValues("slow")
	reg.MustRegister(h.clients, h.sent, h.dropped, h.skipped, h.resumed, h.appliedG)
	return h
}

// Ready is closed once the state has caught up with the events stream.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Run replays the events stream from the start, then follows it, until ctx
// ends.
func (h *Hub) Run(ctx context.Context, conn *bus.Conn) error {
	return conn.TailEvents(ctx, 1, 1000, h.skipped.Inc, func(b bus.Batch) error {
		h.Apply(b)
		if b.CaughtUp {
			h.readyOnce.Do(func() { close(h.ready) })
		}
		return nil
	})
}

// Apply applies a batch of events and pushes the resulting messages.
func (h *Hub) Apply(b bus.Batch) {
	for _, e := range b.Events {
		st := h.state(e.Stream)
		st.mu.Lock()
		switch msg := st.apply(e); msg {
		case nil:
		case resnapshot:
			h.publishSnapshot(st, e)
		default:
			h.publish(st, msg)
		}
		st.mu.Unlock()
	}
	h.mu.Lock()
	h.applied = max(h.applied, b.LastSeq)
	states := make([]*state, 0, len(h.states))
	for _, st := range h.states {
		states = append(states, st)
	}
	h.mu.Unlock()
	for _, st := range states {
		st.mu.Lock()
		st.seq = max(st.seq, b.LastSeq)
		st.mu.Unlock()
	}
	h.appliedG.Set(float64(b.LastSeq))
}

// state returns the stream's state, creating it.
func (h *Hub) state(stream string) *state {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.states[stream]
	if !ok {
		st = newState(h.applied)
		h.states[stream] = st
	}
	return st
}

// publish encodes msg once, records it and queues it to every client of st,
// dropping clients whose queue is full. The caller holds st.mu.
func (h *Hub) publish(st *state, msg *Message) {
	data, err := json.Marshal(msg)
	if err != nil {
		h.log.Error("display: encode message", "seq", msg.Seq, "err", err)
		return
	}
	h.broadcast(st, msg.Seq, data)
}

// broadcast prepares data once, records it and queues it to every client.
// The caller holds st.mu.
func (h *Hub) broadcast(st *state, seq uint64, data []byte) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		h.log.Error("display: prepare message", "err", err)
		return
	}
	st.record(seq, pm)
	for c := range st.clients {
		if !c.enqueue(pm) {
			delete(st.clients, c)
			h.dropped.WithLabelValues("slow").Inc()
			c.stop(websocket.ClosePolicyViolation)
		}
	}
}

// publishSnapshot sends every client of st a fresh snapshot after a change
// that touched many posts. The caller holds st.mu.
func (h *Hub) publishSnapshot(st *state, e bus.Event) {
	limit := keep
	if s, ok := h.streams.Get(e.Stream); ok {
		limit = s.DisplayLimit
	}
	data, err := st.snapshot(limit)
	if err != nil {
		h.log.Error("display: encode snapshot", "seq", e.Seq, "err", err)
		return
	}
	h.broadcast(st, e.Seq, data)
}

// Posts returns the stream's snapshot of at most limit posts.
func (h *Hub) Posts(stream string, limit int) Snapshot {
	st := h.state(stream)
	st.mu.Lock()
	defer st.mu.Unlock()
	return Snapshot{Type: TypeSnapshot, Seq: st.seq, Posts: st.visible(limit), Paused: st.paused}
}

// Close disconnects every client with "going away" and waits for their
// goroutines, or until ctx ends.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	states := make([]*state, 0, len(h.states))
	for _, st := range h.states {
		states = append(states, st)
	}
	h.mu.Unlock()
	for _, st := range states {
		st.mu.Lock()
		for c := range st.clients {
			c.stop(websocket.CloseGoingAway)
			delete(st.clients, c)
		}
		st.mu.Unlock()
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
