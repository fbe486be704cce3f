package display

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Streams tells the hub which curated streams exist and how they are shown.
type Streams interface {
	Get(id string) (config.Stream, bool)
}

// StreamList also lists every curated stream, for loading their states.
type StreamList interface {
	Streams
	All() []config.Stream
}

// Options configure a hub.
type Options struct {
	Streams  StreamList
	Log      *slog.Logger
	Registry prometheus.Registerer
	Timing   Timing
	// CheckpointInterval is how often the checkpoints of streams that
	// changed are written (1 s when zero).
	CheckpointInterval time.Duration
	// Show turns a post into what screens get; the app passes the media
	// proxy's rewrite, so screens load images from Chorus only. Every post
	// entering the state (from an event or a checkpoint) goes through it,
	// so it must leave a post it already turned as it is. Nil shows posts
	// as they are.
	Show func(post.Post) post.Post
	// AuthorHash hashes author keys as erase events name them
	// (privacy.Hasher); without it an erase event takes nothing off.
	AuthorHash func(authorKey string) string
	// Banned, when set, says whether p's author is erased in stream: an
	// event carrying such a post is not applied, so one written while an
	// erasure runs never brings the post back.
	Banned func(p *post.Post, stream string) bool
}

// Hub holds every stream's screen state and its connected clients.
type Hub struct {
	streams    StreamList
	log        *slog.Logger
	show       func(post.Post) post.Post
	timing     Timing
	checkEvery time.Duration
	authorHash func(string) string
	banned     func(*post.Post, string) bool

	// saveMu keeps checkpoint writes and Scrub apart; conn and cp are set
	// by Run.
	saveMu sync.Mutex
	conn   *bus.Conn
	cp     *checkpoints

	mu     sync.Mutex
	states map[string]*state
	// licensedViews are the licensed views of streams that need rights
	// (rights.go), made when first needed.
	licensedViews map[string]*state
	// applied is the last event seq applied to every state; new states
	// start from it.
	applied uint64
	// known is the last seq this node knows the events stream holds.
	known uint64
	// advanced is closed (and replaced) whenever applied moves or the hub
	// turns ready, waking held clients.
	advanced chan struct{}
	isReady  bool
	closed   bool
	closing  chan struct{}
	wg       sync.WaitGroup

	ready chan struct{}
	// writeBuffers is gorilla's write buffer pool, shared by every client.
	writeBuffers *sync.Pool

	clients     *prometheus.GaugeVec
	held        prometheus.Gauge
	sent        prometheus.Counter
	dropped     *prometheus.CounterVec
	skipped     prometheus.Counter
	resumed     *prometheus.CounterVec
	appliedG    prometheus.Gauge
	evicted     prometheus.Counter
	checkpoints *prometheus.CounterVec
	loadSeconds prometheus.Gauge
	replayed    prometheus.Gauge
	// delay is the live messages' delay by stage (see NewHub); window the
	// send window last set (pace.go).
	delay  *prometheus.HistogramVec
	window prometheus.Gauge
}

// Stages of a live message's delay, the label of
// chorus_display_delay_seconds.
const (
	stageApplied  = "applied"  // from the event's decision (its at) to the display applying it
	stageGathered = "gathered" // from being applied to its stream handing it to the screens (the send window)
	stageWritten  = "written"  // from being handed to a screen to the end of the write that took it
)

// NewHub returns an empty hub, not ready until Run has loaded the state.
func NewHub(o Options) *Hub {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = time.Second
	}
	h := &Hub{
		streams:       o.Streams,
		log:           o.Log,
		show:          o.Show,
		timing:        o.Timing.withDefaults(),
		checkEvery:    o.CheckpointInterval,
		authorHash:    o.AuthorHash,
		banned:        o.Banned,
		states:        map[string]*state{},
		licensedViews: map[string]*state{},
		advanced:      make(chan struct{}),
		closing:       make(chan struct{}),
		ready:         make(chan struct{}),
		writeBuffers:  &sync.Pool{},
		clients: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chorus_ws_clients",
			Help: "Connected websocket clients, by stream (held ones included).",
		}, []string{"stream"}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chorus_ws_clients_held",
			Help: "Websocket clients waiting for the display state to be loaded or to reach their since.",
		}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_ws_messages_sent_total",
			Help: "Messages written to websocket clients.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_ws_clients_dropped_total",
			Help: "Websocket clients disconnected by the server, by reason (slow, unresponsive, not_ready).",
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
		evicted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_display_pins_evicted_total",
			Help: fmt.Sprintf("Pins dropped because a stream had more than %d pinned posts.", maxPins),
		}),
		checkpoints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chorus_display_checkpoints_total",
			Help: "Display checkpoint writes, by result (written, newer_exists, failed).",
		}, []string{"result"}),
		loadSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chorus_display_load_seconds",
			Help: "How long the display took at start-up to load its checkpoints and replay the events after them.",
		}),
		replayed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chorus_display_replayed_events",
			Help: "Events replayed at start-up after the checkpoints.",
		}),
		delay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chorus_display_delay_seconds",
			Help:    "Delay of live messages by stage: applied (from the decision to the display applying the event), gathered (waiting for the stream's send window), written (from the send to the end of a screen's write; one per write).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .075, .1, .15, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"stage"}),
		window: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chorus_display_send_window_seconds",
			Help: "The wait between two sends of a stream, as the last send's writes set it: from the batch window up to the longest.",
		}),
	}
	for _, r := range []string{dropSlow, dropUnresponsive, dropNotReady} {
		h.dropped.WithLabelValues(r)
	}
	for _, r := range []string{"written", "newer_exists", "failed"} {
		h.checkpoints.WithLabelValues(r)
	}
	for _, s := range []string{stageApplied, stageGathered, stageWritten} {
		h.delay.WithLabelValues(s)
	}
	h.window.Set(h.timing.BatchWindow.Seconds())
	o.Registry.MustRegister(h.clients, h.held, h.sent, h.dropped, h.skipped, h.resumed, h.appliedG, h.evicted,
		h.checkpoints, h.loadSeconds, h.replayed, h.delay, h.window)
	return h
}

// Ready is closed once the state is loaded: every stream's checkpoint and
// the events after it, up to the end of the events stream at start-up.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// IsReady reports whether the state is loaded.
func (h *Hub) IsReady() bool {
	select {
	case <-h.ready:
		return true
	default:
		return false
	}
}

// markReady makes the hub serve clients from seq on.
func (h *Hub) markReady(seq uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.isReady {
		return
	}
	h.applied = max(h.applied, seq)
	h.known = max(h.known, seq)
	h.isReady = true
	close(h.ready)
	h.wake()
}

// wake wakes held clients. The caller holds h.mu.
func (h *Hub) wake() {
	close(h.advanced)
	h.advanced = make(chan struct{})
}

// Run loads the state (checkpoints, then the events after them), turns the
// hub ready, then follows the events stream until ctx ends, writing the
// checkpoints of changed streams as it goes and once more at the end.
func (h *Hub) Run(ctx context.Context, conn *bus.Conn) error {
	cp := newCheckpoints(conn.Display, int(conn.NC.MaxPayload()), h.log)
	h.saveMu.Lock()
	h.conn, h.cp = conn, cp
	h.saveMu.Unlock()
	var upTo uint64
	for attempt := 0; ; attempt++ {
		var err error
		if upTo, err = h.load(ctx, conn, cp); err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		h.log.Warn("display: loading the state failed; retrying", "attempt", attempt+1, "err", err)
		select {
		case <-time.After(min(time.Duration(attempt+1)*time.Second, 10*time.Second)):
		case <-ctx.Done():
			return nil
		}
	}
	var wg sync.WaitGroup
	saveCtx, stopSaving := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(h.checkEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				h.saveCheckpoints(saveCtx, cp)
			case <-saveCtx.Done():
				return
			}
		}
	}()
	err := conn.TailEvents(ctx, upTo+1, 1000, h.skipped.Inc, func(b bus.Batch) error {
		h.Apply(b)
		return nil
	})
	if ctx.Err() != nil {
		err = nil // stopped, not failed
	}
	stopSaving()
	wg.Wait()
	// The last checkpoint: a clean restart replays nothing. With NATS
	// unreachable it cannot be written, and trying would hold up the stop
	// for the write's whole timeout.
	if !conn.NC.IsConnected() {
		h.log.Warn("display: NATS is unreachable, so the last checkpoint is not written; a restart replays the events after the last one written")
		return err
	}
	finalCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	h.saveCheckpoints(finalCtx, cp)
	return err
}

// Apply applies a batch of live events and pushes the resulting messages.
func (h *Hub) Apply(b bus.Batch) {
	applied := h.delay.WithLabelValues(stageApplied)
	for _, e := range b.Events {
		st := h.state(e.Stream)
		limit := h.limit(e.Stream)
		if !e.At.IsZero() {
			applied.Observe(max(time.Since(e.At), 0).Seconds())
		}
		// A live event is kept for resuming by this node's clock, whatever
		// the stored time says. An event without a time of its own (an
		// auto-advance schedule's) takes the stored one first, as a
		// replayed one does: the same on every node.
		if e.At.IsZero() {
			e.At = e.Stored
		}
		e.Stored = time.Time{}
		st.mu.Lock()
		h.applyEvent(st, e, limit, time.Now())
		st.mu.Unlock()
		if v := h.licensed(e.Stream); v != nil {
			v.mu.Lock()
			// A view made after its stream's state applied e has it.
			if e.Seq > v.seq {
				h.applyEvent(v, e, limit, time.Now())
			}
			v.mu.Unlock()
		}
	}
	// Every state reaches the batch's end before held clients wake, so a
	// client waiting for since <= LastSeq starts from a state that has it.
	// The batch's messages go to screens together, or with the next ones
	// within the batch window.
	now := time.Now()
	for _, st := range h.allStates() {
		st.mu.Lock()
		st.seq = max(st.seq, b.LastSeq)
		h.sendOutbox(st, now, false)
		st.mu.Unlock()
	}
	h.mu.Lock()
	h.applied = max(h.applied, b.LastSeq)
	h.known = max(h.known, b.LastSeq+b.Pending)
	h.wake()
	h.mu.Unlock()
	h.appliedG.Set(float64(b.LastSeq))
}

// forScreens returns e with its post as screens get it (Options.Show).
func (h *Hub) forScreens(e bus.Event) bus.Event {
	if h.show != nil && e.Post != nil {
		p := h.show(*e.Post)
		e.Post = &p
	}
	return e
}

// forScreensItems turns the posts of items as forScreens does, for a
// checkpoint written before Show was set or by another version.
func (h *Hub) forScreensItems(items []*Item) {
	if h.show == nil {
		return
	}
	for _, it := range items {
		if it != nil {
			it.Post = h.show(it.Post)
		}
	}
}

// applyEvent applies e to st and records and pushes its message. A
// replayed event too old for the history is applied without encoding
// anything. The caller holds st.mu.
func (h *Hub) applyEvent(st *state, e bus.Event, limit int, now time.Time) {
	st.limit = limit
	if e.Post != nil && h.banned != nil && h.banned(e.Post, e.Stream) {
		st.seq = max(st.seq, e.Seq)
		return // an erased author's post never comes back
	}
	evicted := st.evictedPins
	var msg *Message
	if e.Kind == bus.EventErase {
		msg = st.erase(e, h.erased(e), h.hash)
	} else {
		msg = st.apply(h.forScreens(e))
	}
	if st.evictedPins > evicted {
		h.evicted.Add(float64(st.evictedPins - evicted))
		h.log.Warn("display: too many pinned posts; unpinned the last in pin order", "stream", e.Stream, "seq", e.Seq, "max", maxPins)
	}
	if msg == nil {
		return
	}
	if !st.history.wants(e.Stored, now) && len(st.clients) == 0 {
		st.history.skip(e.Seq)
		return
	}
	var enc *encoded
	if msg == resnapshot {
		snap, err := st.snapshot(limit)
		if err != nil {
			h.log.Error("display: encode snapshot", "stream", e.Stream, "seq", e.Seq, "err", err)
			return
		}
		enc = snap
		if enc.seq != e.Seq {
			enc = newEncoded(e.Seq, snap.json())
		}
	} else {
		data, err := json.Marshal(msg)
		if err != nil {
			h.log.Error("display: encode message", "stream", e.Stream, "seq", e.Seq, "err", err)
			return
		}
		enc = newEncoded(e.Seq, data)
	}
	st.history.record(enc, e.Stored, now)
	if len(st.clients) > 0 {
		st.outbox = append(st.outbox, enc)
		st.outboxAt = append(st.outboxAt, now)
	}
}

// burstSize bounds the messages of one burst: a large send is several
// bursts, so clients that have nothing else queued share frames of a
// bounded size.
const burstSize = QueueSize

// sendOutbox sends st's gathered live messages to its clients: at once
// when force is set or the stream's pacer says the send is due (pace.go),
// else when it is. A client that still has QueueSize messages unsent is
// closed as too slow (1008). The caller holds st.mu.
func (h *Hub) sendOutbox(st *state, now time.Time, force bool) {
	if len(st.outbox) == 0 {
		return
	}
	if due := st.pace.due(h.timing); !force && now.Before(due) {
		if !st.sendArmed || due.Before(st.armedFor) {
			st.sendArmed, st.armedFor = true, due
			time.AfterFunc(due.Sub(now), func() {
				st.mu.Lock()
				defer st.mu.Unlock()
				if st.armedFor.Equal(due) {
					st.sendArmed = false
				}
				h.sendOutbox(st, time.Now(), false)
			})
		}
		return
	}
	gathered := h.delay.WithLabelValues(stageGathered)
	for _, at := range st.outboxAt {
		gathered.Observe(now.Sub(at).Seconds())
	}
	msgs := st.outbox
	st.outbox, st.outboxAt = nil, st.outboxAt[:0]
	bursts := make([]*burst, 0, (len(msgs)+burstSize-1)/burstSize)
	for len(msgs) > 0 {
		n := min(len(msgs), burstSize)
		bursts = append(bursts, &burst{msgs: msgs[:n:n], at: now})
		msgs = msgs[n:]
	}
	r := st.pace.begin(now, len(st.clients), func(r *round) { h.written(st, r) })
	for c := range st.clients {
		if !c.push(bursts, r) {
			delete(st.clients, c)
			c.stop(websocket.ClosePolicyViolation, dropSlow)
		}
	}
	r.release()
}

// written is called once the writes of st's send r are done: the stream
// sets its window from how long they took and sends what it gathered
// meanwhile when that is due.
func (h *Hub) written(st *state, r *round) {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now()
	if !st.pace.finish(r, now, h.timing) {
		return
	}
	h.window.Set(st.pace.window.Seconds())
	h.sendOutbox(st, now, false)
}

// hash is the author hash, or one that matches nothing without it.
func (h *Hub) hash(key string) string {
	if h.authorHash == nil {
		return ""
	}
	return h.authorHash(key)
}

// erased returns whether a post is by the author erase event e names.
func (h *Hub) erased(e bus.Event) func(*post.Post) bool {
	hashes := map[string]bool{}
	for _, x := range append([]string{e.Author}, e.Erased...) {
		if x != "" {
			hashes[x] = true
		}
	}
	return func(p *post.Post) bool {
		if h.authorHash == nil {
			return false
		}
		if k := p.AuthorKey(); k != "" && hashes[h.authorHash(k)] {
			return true
		}
		return p.Author.ID != "" && hashes[h.authorHash(p.Network+":#"+p.Author.ID)]
	}
}

// WaitApplied returns once the state is loaded and reflects the event at
// seq.
func (h *Hub) WaitApplied(ctx context.Context, seq uint64) error {
	for {
		h.mu.Lock()
		done, ch := h.isReady && h.applied >= seq, h.advanced
		h.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("display: waiting for event %d: %w", seq, ctx.Err())
		}
	}
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

// allStates are every stream's state and licensed view.
func (h *Hub) allStates() []*state {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*state, 0, len(h.states)+len(h.licensedViews))
	for _, st := range h.states {
		out = append(out, st)
	}
	for _, v := range h.licensedViews {
		out = append(out, v)
	}
	return out
}

// limit is the stream's display limit, at most config.MaxDisplayLimit
// (keep for unknown streams).
func (h *Hub) limit(stream string) int {
	if s, ok := h.streams.Get(stream); ok && s.DisplayLimit > 0 {
		return min(s.DisplayLimit, config.MaxDisplayLimit)
	}
	return keep
}

// Posts returns the stream's snapshot of at most limit posts, as its own
// state holds them (every approved post, rights or not); false while the
// state is still loading.
func (h *Hub) Posts(stream string, limit int) (Snapshot, bool) {
	if !h.IsReady() {
		return Snapshot{}, false
	}
	st := h.state(stream)
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.snapshotOf(limit), true
}

// PostsOn returns the snapshot surface ("wall", "overlay", "" for every
// public surface) of the stream shows: without the posts whose rights are
// not granted when the stream needs them there.
func (h *Hub) PostsOn(stream config.Stream, surface string, limit int) (Snapshot, bool) {
	if !h.IsReady() {
		return Snapshot{}, false
	}
	st := h.view(stream, surface)
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.snapshotOf(limit), true
}

// PublicPosts is PostsOn for the public surfaces (cards, feeds).
func (h *Hub) PublicPosts(stream string, limit int) (Snapshot, bool) {
	s, ok := h.streams.Get(stream)
	if !ok {
		return h.Posts(stream, limit)
	}
	return h.PostsOn(s, "", limit)
}

// PostsBefore returns a page of the posts surface of the stream shows
// older than before (a post id screens show; "" for the newest), at most
// limit, in the order screens show them, pinned posts left out. ok is
// false while the state is loading, found false when the state holds no
// post before.
func (h *Hub) PostsBefore(stream config.Stream, surface, before string, limit int) (page Page, found, ok bool) {
	if !h.IsReady() {
		return Page{}, false, false
	}
	st := h.view(stream, surface)
	st.mu.Lock()
	defer st.mu.Unlock()
	posts, more, found := st.older(before, limit)
	return Page{Type: TypePage, Seq: st.seq, Posts: posts, More: more}, found, true
}

// Shown reports whether a post is on the stream's screens now (approved,
// held by the state, its author not hidden); known is false while the
// state is loading.
func (h *Hub) Shown(stream, postID string) (shown, known bool) {
	if !h.IsReady() {
		return false, false
	}
	st := h.state(stream)
	st.mu.Lock()
	defer st.mu.Unlock()
	i := st.find(postID)
	return i >= 0 && st.shown(st.posts[i]), true
}

// OnAir returns what the stream's broadcast overlays show once this node
// has applied seq, or when ctx ends (then as it stands): the post on air,
// or nil.
func (h *Hub) OnAir(ctx context.Context, stream string, seq uint64) *OnAir {
	for {
		h.mu.Lock()
		applied, wait := h.applied, h.advanced
		h.mu.Unlock()
		if applied >= seq {
			break
		}
		select {
		case <-wait:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	st := h.state(stream)
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.onAir()
}

// Close disconnects every client with "going away" and waits for their
// goroutines, or until ctx ends.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.closing)
	}
	h.mu.Unlock()
	for _, st := range h.allStates() {
		st.mu.Lock()
		for c := range st.clients {
			c.stop(websocket.CloseGoingAway, "")
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
