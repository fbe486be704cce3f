package display

import (
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/config"
)

// serve makes conn a client of stream and returns: the client's reader
// goroutine owns it from then on. The client is held, getting nothing but
// pings, until the hub can start it (see admit); then it gets a snapshot
// or the messages after since, then every change. With batch, several
// messages may share a frame, as a JSON array.
func (h *Hub) serve(conn *websocket.Conn, stream config.Stream, surface string, since *uint64, batch bool) {
	h.mu.Lock()
	closed := h.closed
	if !closed {
		h.wg.Add(2) // read and admit
	}
	h.mu.Unlock()
	if closed {
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, closeText(websocket.CloseGoingAway))
		_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		conn.Close()
		return
	}
	c := newClient(conn, &h.timing, batch, h.countSent, h.countDrop)
	h.clients.WithLabelValues(stream.ID).Inc()
	go func() {
		defer h.wg.Done()
		c.read()
		h.unregister(c, stream.ID)
		h.clients.WithLabelValues(stream.ID).Dec()
	}()
	go func() {
		defer h.wg.Done()
		h.admit(c, stream, surface, since)
	}()
}

func (h *Hub) countSent(n int, oldest time.Time) {
	h.sent.Add(float64(n))
	if !oldest.IsZero() {
		h.delay.WithLabelValues(stageWritten).Observe(time.Since(oldest).Seconds())
	}
}
func (h *Hub) countDrop(reason string) { h.dropped.WithLabelValues(reason).Inc() }

// admit waits until the hub can start c without showing it anything older
// than it has seen: the state is loaded and, for a client resuming with
// since, has reached since (unless since is beyond the whole events
// stream). Then it registers c. A client that waits longer than
// HoldTimeout is closed with 1013 (try again later).
func (h *Hub) admit(c *client, stream config.Stream, surface string, since *uint64) {
	timeout := time.NewTimer(h.timing.HoldTimeout)
	defer timeout.Stop()
	held := false
	for {
		ok, wait := h.admissible(since)
		if ok {
			break
		}
		if !held {
			held = true
			h.held.Inc()
			defer h.held.Dec()
		}
		select {
		case <-wait:
		case <-timeout.C:
			c.stop(websocket.CloseTryAgainLater, dropNotReady)
			return
		case <-c.done:
			return
		case <-h.closing:
			c.stop(websocket.CloseGoingAway, "")
			return
		}
	}
	// The state is chosen once the hub is loaded: loading replaces them.
	if !h.register(c, h.view(stream, surface), stream, since) {
		c.stop(websocket.CloseGoingAway, "")
	}
}

// admissible reports whether a client resuming from since (nil for a
// fresh one) can start now, or returns what to wait on.
func (h *Hub) admissible(since *uint64) (bool, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.isReady && (since == nil || *since <= h.applied || *since > h.known) {
		return true, nil
	}
	return false, h.advanced
}

// register makes c a client of st, a state of stream, and hands its
// writer what it gets first. Both happen under the state's lock, so c
// misses no message and gets none twice. It is false when the hub has
// closed.
func (h *Hub) register(c *client, st *state, stream config.Stream, since *uint64) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	// Checked under st.mu: Close marks the hub closed before it stops the
	// clients of each state, so a client is either refused here or stopped.
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return false
	}
	select {
	case <-c.done:
		return true // gone while held; serve's unregister may have run already
	default:
	}
	// A client resuming from the history takes what is gathered for the
	// stream's clients with them, at the next send. Anyone else starts
	// after it, from a snapshot that holds it, so it goes to the others
	// first: screens dropped as slow and resuming by the thousand would
	// otherwise each force a send to every screen.
	if backlog, ok := h.resumeBeforeOutbox(st, since); ok {
		c.start(backlog)
		st.clients[c] = struct{}{}
		h.resumed.WithLabelValues("resume").Inc()
		return true
	}
	h.sendOutbox(st, time.Now(), true)
	first, how, err := h.start(st, stream, since)
	if err != nil {
		h.log.Error("display: start a client", "stream", stream.ID, "err", err)
		return false
	}
	c.start(first)
	st.clients[c] = struct{}{}
	h.resumed.WithLabelValues(how).Inc()
	return true
}

// start returns what a new client gets first: every message after since
// when st still has them all, else a snapshot. The caller holds st.mu.
func (h *Hub) start(st *state, stream config.Stream, since *uint64) ([]*encoded, string, error) {
	if since != nil {
		if backlog, ok := st.history.since(*since, st.seq); ok {
			return backlog, "resume", nil
		}
	}
	snap, err := st.snapshot(h.limit(stream.ID))
	if err != nil {
		return nil, "", err
	}
	return []*encoded{snap}, "snapshot", nil
}

// resumeBeforeOutbox returns the messages after since up to the ones
// gathered for the next send, when st has gathered some and its history
// holds every message after since, ending with exactly the gathered ones.
// The caller holds st.mu.
func (h *Hub) resumeBeforeOutbox(st *state, since *uint64) ([]*encoded, bool) {
	if since == nil || len(st.outbox) == 0 || *since >= st.outbox[0].seq {
		return nil, false
	}
	backlog, ok := st.history.since(*since, st.seq)
	n := len(backlog) - len(st.outbox)
	if !ok || n < 0 {
		return nil, false
	}
	for i, m := range st.outbox {
		if backlog[n+i] != m {
			return nil, false
		}
	}
	return backlog[:n:n], true
}

// unregister takes c out of the stream's state or licensed view, whichever
// it is a client of.
func (h *Hub) unregister(c *client, stream string) {
	for _, st := range []*state{h.state(stream), h.licensed(stream)} {
		if st != nil {
			st.mu.Lock()
			delete(st.clients, c)
			st.mu.Unlock()
		}
	}
}
