package display

import (
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/config"
)

// serve registers conn as a client of stream, starting it with a snapshot
// or the messages after since, and runs it until it disconnects. Starting
// and registering happen under the stream's lock, so the client misses no
// message and gets none twice.
func (h *Hub) serve(conn *websocket.Conn, stream config.Stream, since *uint64) {
	c := newClient(conn)
	if err := h.register(c, stream, since); err != nil {
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, closeText(websocket.CloseGoingAway))
		_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		conn.Close()
		return
	}
	defer h.wg.Done()
	h.clients.WithLabelValues(stream.ID).Inc()
	defer h.clients.WithLabelValues(stream.ID).Dec()
	go c.readLoop()
	c.writeLoop(h.sent.Inc)
	h.unregister(c, stream.ID)
}

func (h *Hub) register(c *client, stream config.Stream, since *uint64) error {
	st := h.state(stream.ID)
	st.mu.Lock()
	defer st.mu.Unlock()
	first, how, err := h.start(st, stream, since)
	if err != nil {
		return err
	}
	// Checked under st.mu: Close marks the hub closed before it stops the
	// clients of each state, so a client is either refused here or stopped.
	h.mu.Lock()
	closed := h.closed
	if !closed {
		h.wg.Add(1) // done in serve
	}
	h.mu.Unlock()
	if closed {
		return errClosed
	}
	for _, pm := range first {
		c.enqueue(pm)
	}
	st.clients[c] = struct{}{}
	h.resumed.WithLabelValues(how).Inc()
	return nil
}

// start returns what a new client gets first: the messages after since when
// st still has them all (and they fit its queue), else a snapshot. The
// caller holds st.mu.
func (h *Hub) start(st *state, stream config.Stream, since *uint64) ([]*websocket.PreparedMessage, string, error) {
	if since != nil {
		if backlog, ok := st.since(*since); ok && len(backlog) < QueueSize/2 {
			return backlog, "resume", nil
		}
	}
	data, err := st.snapshot(stream.DisplayLimit)
	if err != nil {
		return nil, "", err
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		return nil, "", err
	}
	return []*websocket.PreparedMessage{pm}, "snapshot", nil
}

func (h *Hub) unregister(c *client, stream string) {
	st := h.state(stream)
	st.mu.Lock()
	delete(st.clients, c)
	st.mu.Unlock()
}
