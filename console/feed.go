package console

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/index"
)

// The feed's messages, in the display protocol's shape (protocol.js reads
// both), newest last:
//
//	{"type":"snapshot","seq":N,"posts":[],"figures":[...]}  start over: load pages again (they say their seq)
//	{"type":"changes","seq":N,"stream":"s","posts":[...]}   where these posts of s stand now, after event N
//	{"type":"figures","streams":[...]}                      new figures of these streams
//
// A change is an index.Change: the post, its status, why, pinned,
// featured, the author's record. A console keeps its pages (loaded over
// HTTP, each saying the seq it reflects) and applies the changes after
// that seq.

// HistorySize is how many change messages the feed keeps for consoles
// that reconnect with ?since=.
const HistorySize = 4096

// Figure timing: streams with new events get new figures within
// figuresEvery; every stream (screens come and go without events) within
// allFiguresEvery.
const (
	figuresEvery    = time.Second
	allFiguresEvery = 5 * time.Second
)

// entry is one past change message, encoded once.
type entry struct {
	seq    uint64
	stream string
	msg    *websocket.PreparedMessage
}

// Feed sends every change to the posts of every stream to the consoles
// connected, each console seeing only its streams. It is fed by the index
// (OnApply) and never blocks it: when it falls far behind, it drops what
// it had and tells every console to load its pages again.
type Feed struct {
	dec     *Decorator
	figures *FigureSource
	index   Index
	log     *slog.Logger

	in       chan index.Applied
	overflow atomic.Bool
	// kick asks Run for every stream's figures now (a console connected).
	kick chan struct{}

	mu          sync.Mutex
	clients     map[*client]struct{}
	history     []entry
	coveredFrom uint64 // history holds every message after it
	last        uint64 // the last seq sent
	figs        map[string]Figures
	dirty       map[string]bool
	closed      bool
	wg          sync.WaitGroup

	connected prometheus.Gauge
	dropped   prometheus.Counter

	// RecheckEvery is how often each console's credential is checked
	// again (default RecheckEvery).
	RecheckEvery time.Duration
}

// NewFeed returns a feed starting after the index's last applied event.
func NewFeed(dec *Decorator, figures *FigureSource, log *slog.Logger, reg prometheus.Registerer) *Feed {
	last := dec.Index.Applied()
	f := &Feed{
		dec: dec, figures: figures, index: dec.Index, log: log,
		in:      make(chan index.Applied, 256),
		kick:    make(chan struct{}, 1),
		clients: map[*client]struct{}{}, coveredFrom: last, last: last,
		figs: map[string]Figures{}, dirty: map[string]bool{},
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chorus_console_clients",
			Help: "Consoles connected to the live moderation feed.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chorus_console_clients_dropped_total",
			Help: "Consoles disconnected for falling behind the live feed.",
		}),
	}
	reg.MustRegister(f.connected, f.dropped)
	return f
}

// Applied takes what the index applied; it never blocks (index.OnApply).
func (f *Feed) Applied(a index.Applied) {
	select {
	case f.in <- a:
	default:
		f.overflow.Store(true)
	}
}

// Run sends changes and figures until ctx ends.
func (f *Feed) Run(ctx context.Context) error {
	tick := time.NewTicker(figuresEvery)
	defer tick.Stop()
	lastAll := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case a := <-f.in:
			batch := []index.Applied{a}
			for more := true; more && len(batch) < 64; {
				select {
				case a := <-f.in:
					batch = append(batch, a)
				default:
					more = false
				}
			}
			if f.overflow.Swap(false) {
				f.resync()
				continue
			}
			if slices.ContainsFunc(batch, func(a index.Applied) bool { return a.Forgot }) {
				// Past changes may carry posts just erased or purged.
				for _, a := range batch {
					for _, s := range a.Streams {
						f.markDirty(s)
					}
				}
				f.startOver()
				continue
			}
			f.publish(ctx, batch)
		case <-f.kick:
			lastAll = time.Now()
			f.publishFigures(ctx, true)
		case now := <-tick.C:
			if f.overflow.Swap(false) {
				f.resync()
			}
			all := now.Sub(lastAll) >= allFiguresEvery
			if all {
				lastAll = now
			}
			f.publishFigures(ctx, all)
		}
	}
}

// resync forgets the history and makes every console start over from the
// index's position: what was dropped is in the pages they load next.
func (f *Feed) resync() {
	f.log.Warn("console feed fell behind the index; consoles reload their pages", "seq", f.index.Applied())
	for len(f.in) > 0 {
		<-f.in
	}
	f.startOver()
}

// startOver forgets the history and sends every console a snapshot, so
// each loads its pages again.
func (f *Feed) startOver() {
	seq := f.index.Applied()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.history, f.coveredFrom, f.last = nil, seq, max(f.last, seq)
	for c := range f.clients {
		f.send(c, f.snapshotLocked(c))
	}
}

// publish sends what a run of applied batches changed: one message per
// stream, with the latest standing of each post.
func (f *Feed) publish(ctx context.Context, batch []index.Applied) {
	seq := batch[len(batch)-1].Seq
	order := []string{}
	byStream := map[string][]index.Hit{}
	at := map[string]map[string]int{} // stream -> post id -> position in byStream
	for _, a := range batch {
		for _, s := range a.Streams {
			f.markDirty(s)
		}
		for _, ch := range a.Changes {
			if at[ch.Stream] == nil {
				at[ch.Stream] = map[string]int{}
				order = append(order, ch.Stream)
			}
			if i, ok := at[ch.Stream][ch.Post.ID]; ok {
				byStream[ch.Stream][i] = ch.Hit
				continue
			}
			at[ch.Stream][ch.Post.ID] = len(byStream[ch.Stream])
			byStream[ch.Stream] = append(byStream[ch.Stream], ch.Hit)
		}
	}
	f.mu.Lock()
	nobody := len(f.clients) == 0
	f.mu.Unlock()
	var entries []entry
	for _, s := range order {
		hits := byStream[s]
		if !nobody { // the history is for consoles; decorating costs searches
			if err := f.dec.Decorate(ctx, s, hits); err != nil {
				f.log.Warn("console feed: cannot add authors' records", "stream", s, "err", err)
			}
		}
		pm, err := prepare(struct {
			Type   string      `json:"type"`
			Seq    uint64      `json:"seq"`
			Stream string      `json:"stream"`
			Posts  []index.Hit `json:"posts"`
		}{"changes", seq, s, hits})
		if err != nil {
			f.log.Error("console feed: encode", "err", err)
			continue
		}
		entries = append(entries, entry{seq: seq, stream: s, msg: pm})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range entries {
		f.history = append(f.history, e)
		for c := range f.clients {
			if c.sees(e.stream) {
				f.send(c, e.msg)
			}
		}
	}
	if over := len(f.history) - HistorySize; over > 0 {
		f.coveredFrom = f.history[over-1].seq
		f.history = slices.Delete(f.history, 0, over)
	}
	f.last = max(f.last, seq)
}

func (f *Feed) markDirty(stream string) {
	f.mu.Lock()
	f.dirty[stream] = true
	f.mu.Unlock()
}

// publishFigures computes the figures of the streams with new events (or
// of all) and sends those that changed.
func (f *Feed) publishFigures(ctx context.Context, all bool) {
	f.mu.Lock()
	nobody := len(f.clients) == 0
	dirty := f.dirty
	f.dirty = map[string]bool{}
	f.mu.Unlock()
	if nobody || (!all && len(dirty) == 0) {
		return
	}
	figs, err := f.figures.All(ctx)
	if err != nil {
		f.log.Warn("console feed: figures", "err", err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var changed []Figures
	seen := map[string]bool{}
	for _, fig := range figs {
		seen[fig.ID] = true
		if old, ok := f.figs[fig.ID]; !ok || old != fig {
			changed = append(changed, fig)
			f.figs[fig.ID] = fig
		}
	}
	for id := range f.figs {
		if !seen[id] { // deleted
			delete(f.figs, id)
		}
	}
	if len(changed) == 0 {
		return
	}
	for c := range f.clients {
		if pm := figuresMessage(c, changed); pm != nil {
			f.send(c, pm)
		}
	}
}

// figuresMessage is the figures c may see, or nil when it sees none.
func figuresMessage(c *client, figs []Figures) *websocket.PreparedMessage {
	mine := visible(c, figs)
	if len(mine) == 0 {
		return nil
	}
	pm, _ := prepare(struct {
		Type    string    `json:"type"`
		Streams []Figures `json:"streams"`
	}{"figures", mine})
	return pm
}

func visible(c *client, figs []Figures) []Figures {
	mine := []Figures{}
	for _, fig := range figs {
		if c.sees(fig.ID) {
			mine = append(mine, fig)
		}
	}
	return mine
}

// snapshotLocked is the message that makes c start over. The caller holds mu.
func (f *Feed) snapshotLocked(c *client) *websocket.PreparedMessage {
	figs := make([]Figures, 0, len(f.figs))
	for _, fig := range f.figs {
		figs = append(figs, fig)
	}
	slices.SortFunc(figs, func(a, b Figures) int { return cmp.Compare(a.ID, b.ID) })
	pm, _ := prepare(struct {
		Type    string    `json:"type"`
		Seq     uint64    `json:"seq"`
		Posts   []any     `json:"posts"`
		Figures []Figures `json:"figures"`
	}{"snapshot", f.last, []any{}, visible(c, figs)})
	return pm
}

// send queues pm for c, dropping c when its queue is full (it reconnects
// with since and gets what it missed, or starts over). The caller holds mu.
func (f *Feed) send(c *client, pm *websocket.PreparedMessage) {
	if pm == nil {
		return
	}
	if !c.enqueue(pm) {
		delete(f.clients, c)
		f.dropped.Inc()
		c.stop(websocket.ClosePolicyViolation)
	}
}

// register adds c, queueing first the changes after since when the feed
// still has them all, else a snapshot. It reports false once the feed is
// closed.
func (f *Feed) register(c *client, since *uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	if since != nil && *since >= f.coveredFrom && *since <= f.last {
		var backlog []*websocket.PreparedMessage
		for _, e := range f.history {
			if e.seq > *since && c.sees(e.stream) {
				backlog = append(backlog, e.msg)
			}
		}
		if len(backlog) < QueueSize/2 {
			for _, pm := range backlog {
				c.enqueue(pm)
			}
			f.clients[c] = struct{}{}
			f.wg.Add(1)
			return true
		}
	}
	c.enqueue(f.snapshotLocked(c))
	f.clients[c] = struct{}{}
	f.wg.Add(1)
	select {
	case f.kick <- struct{}{}:
	default:
	}
	return true
}

func (f *Feed) unregister(c *client) {
	f.mu.Lock()
	delete(f.clients, c)
	f.mu.Unlock()
	f.wg.Done()
}

// serve runs one console connection until it ends.
func (f *Feed) serve(conn *websocket.Conn, v Viewer, since *uint64) {
	c := newClient(conn, v, f.RecheckEvery)
	if !f.register(c, since) {
		c.stop(websocket.CloseGoingAway)
		c.writeLoop()
		return
	}
	f.connected.Inc()
	defer f.connected.Dec()
	go c.readLoop()
	c.writeLoop()
	f.unregister(c)
}

// Close tells every console the server is going away and waits (until
// ctx ends) for their connections to close.
func (f *Feed) Close(ctx context.Context) error {
	f.mu.Lock()
	f.closed = true
	for c := range f.clients {
		c.stop(websocket.CloseGoingAway)
	}
	f.mu.Unlock()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func prepare(v any) (*websocket.PreparedMessage, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return websocket.NewPreparedMessage(websocket.TextMessage, data)
}
