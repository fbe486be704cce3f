package display

// Screens is how many screens (websocket clients) this node has connected
// to stream right now, for the moderation console's figures.
func (h *Hub) Screens(stream string) int {
	h.mu.Lock()
	states := []*state{h.states[stream], h.licensedViews[stream]}
	h.mu.Unlock()
	n := 0
	for _, st := range states {
		if st != nil {
			st.mu.Lock()
			n += len(st.clients)
			st.mu.Unlock()
		}
	}
	return n
}
