package display

// Screens is how many screens (websocket clients) this node has connected
// to stream right now, for the moderation console's figures.
func (h *Hub) Screens(stream string) int {
	h.mu.Lock()
	st := h.states[stream]
	h.mu.Unlock()
	if st == nil {
		return 0
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.clients)
}
