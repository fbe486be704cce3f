package curation

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/cluster"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

// Curation on several nodes, each with its own NATS connection to one
// real server, sharing the partitions under real leases.

const clusterTTL = 3 * time.Second

// startServer runs a NATS server with JetStream that several nodes reach
// over TCP.
func startServer(t *testing.T) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns.ClientURL()
}

// curationNode is one curation node: its bus, its cluster membership and
// its curator.
type curationNode struct {
	name   string
	conn   *bus.Conn
	cl     *cluster.Cluster
	cur    *Curator
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startCurationNode starts a node deciding streams. AckWait is made long,
// so a message left unacknowledged by a handover would wait for it and the
// test would see the stall, not the redelivery that hides it.
func startCurationNode(t *testing.T, url, name string, streams []config.Stream, opts ...nodeOption) *curationNode {
	t.Helper()
	var o nodeOptions
	for _, opt := range opts {
		opt(&o)
	}
	conn, err := bus.Open(t.Context(), bus.Options{URL: url, Retention: time.Hour, LeaseTTL: clusterTTL, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	n := &curationNode{name: name, conn: conn}
	n.cl = cluster.New(conn.Leases, clusterTTL, cluster.Options{Name: name, Roles: []string{config.RoleCuration}})
	st := NewStreams(NewLists())
	for _, s := range streams {
		if err := st.Put(s); err != nil {
			t.Fatal(err)
		}
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	n.cur = NewCurator(conn, st, o.enricher, o.log, prometheus.NewRegistry())
	n.cur.Leases = n.cl
	n.cur.ackWait = 10 * time.Minute
	if o.now != nil {
		n.cur.now = o.now
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go func() { defer n.wg.Done(); _ = n.cl.Run(ctx) }()
	go func() { defer n.wg.Done(); _ = n.cur.Run(ctx) }()
	t.Cleanup(n.stop)
	return n
}

type nodeOptions struct {
	enricher Enricher
	log      *slog.Logger
	now      func() time.Time
}

type nodeOption func(*nodeOptions)

func withEnricher(e Enricher) nodeOption { return func(o *nodeOptions) { o.enricher = e } }
func withLog(l *slog.Logger) nodeOption  { return func(o *nodeOptions) { o.log = l } }
func withNow(now func() time.Time) nodeOption {
	return func(o *nodeOptions) { o.now = now }
}

// stop is a clean stop: the node hands its partitions over and leaves.
func (n *curationNode) stop() {
	n.cancel()
	n.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.conn.Close(ctx)
}

// holders counts the partitions each node holds, as n sees the leases.
func (n *curationNode) holders() map[string]int {
	out := map[string]int{}
	for _, l := range n.cl.Leases(PartitionKind) {
		out[l.Node]++
	}
	return out
}

// decisionLog records every decision event, by stream and post.
type decisionLog struct {
	mu sync.Mutex
	m  map[string]bus.Event
}

func tailDecisions(t *testing.T, conn *bus.Conn) *decisionLog {
	d := &decisionLog{m: map[string]bus.Event{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = conn.TailEvents(ctx, 1, 1000, nil, func(b bus.Batch) error {
			d.mu.Lock()
			defer d.mu.Unlock()
			for _, e := range b.Events {
				if e.Actor == bus.ActorCuration {
					d.m[e.Stream+"/"+e.PostID] = e
				}
			}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

func (d *decisionLog) get(stream, id string) (bus.Event, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.m[stream+"/"+id]
	return e, ok
}

// missing counts the posts of ids stream has not decided yet.
func (d *decisionLog) missing(stream string, ids []string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, id := range ids {
		if _, ok := d.m[stream+"/"+id]; !ok {
			n++
		}
	}
	return n
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitUntilf(t, cond, func() string { return what })
}

// waitUntilf is waitUntil whose failure says what was awaited and what
// was seen, as what says at the time.
func waitUntilf(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var handOverStreams = []config.Stream{{ID: "wall", Sources: []string{"hook"}, Moderation: config.ModerationAuto,
	Filters: config.Filters{Spam: config.SpamFilter{Disabled: true}}}}

// gate is an enricher that holds every post until it is opened: a
// pipeline busy with a batch, while the partitions fetch more.
type gate struct{ open chan struct{} }

func (g gate) Enrich(*post.Post) { <-g.open }

// opened opens the gate once.
func (g gate) opened() {
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// logWatch is a log handler that closes ch once msg was logged n times.
type logWatch struct {
	msg string
	mu  *sync.Mutex
	n   *int
	ch  chan struct{}
}

func watchLog(msg string, n int) logWatch {
	return logWatch{msg: msg, mu: &sync.Mutex{}, n: &n, ch: make(chan struct{})}
}

func (w logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w logWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w logWatch) WithGroup(string) slog.Handler            { return w }

func (w logWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message != w.msg {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if *w.n--; *w.n == 0 {
		close(w.ch)
	}
	return nil
}

// A node joining while the pipeline of the node holding every partition is
// busy takes over half of them, and every post is decided at once: what
// the old node fetched and had not started deciding is given back, not
// left to wait for its acknowledgement deadline (10 minutes here).
func TestPartitionHandOverGivesBackWhatWaits(t *testing.T) {
	url := startServer(t)
	g := gate{open: make(chan struct{})}
	leaving := watchLog("curation: partition leaving this node", bus.IngestPartitions/2)
	a := startCurationNode(t, url, "node-a", handOverStreams, withEnricher(g), withLog(slog.New(leaving)))
	t.Cleanup(g.opened) // before the nodes stop
	waitUntil(t, "node-a holding every partition", func() bool { return a.holders()["node-a"] == bus.IngestPartitions })
	d := tailDecisions(t, a.conn)

	// A backlog in the partitions node-a hands to node-b when it joins:
	// node-a's pipeline holds one batch at the gate, the rest waits in its
	// queue and in the partitions' fetched messages.
	moving := authorsIn(t, keptBy("node-a", "node-b")["node-b"], 500)
	authors := make([]string, 5000)
	for i := range authors {
		authors[i] = moving[i%len(moving)]
	}
	ids := publishBy(t, a.conn, authors)
	// The queue to the pipeline full: the partitions still holding posts
	// wait to deliver the next, and more are fetched behind it.
	waitUntil(t, "node-a's queue full", func() bool { return len(a.cur.queue) == cap(a.cur.queue) })

	b := startCurationNode(t, url, "node-b", handOverStreams)
	// The gate opens once the partitions going to node-b have stopped
	// on node-a.
	select {
	case <-leaving.ch:
	case <-time.After(2 * time.Minute):
		t.Fatal("node-a did not hand partitions to node-b")
	}
	g.opened()
	waitUntil(t, "the partitions shared by both nodes", func() bool {
		h := b.holders()
		return h["node-a"] == bus.IngestPartitions/2 && h["node-b"] == bus.IngestPartitions/2
	})
	waitUntil(t, "every post decided", func() bool { return d.missing("wall", ids) == 0 })
}

// publishBy publishes one webhook post by each author, in one call, each
// with a text no other is near to, and returns their ids.
func publishBy(t *testing.T, conn *bus.Conn, authors []string) []string {
	t.Helper()
	ids := make([]string, len(authors))
	posts := make([]post.Post, len(authors))
	for i, author := range authors {
		ids[i] = fmt.Sprintf("webhook:%d", i)
		posts[i] = post.Post{ID: ids[i], Network: "webhook", Source: "hook", Text: textFor(i), Author: post.Author{Handle: author}}
	}
	if _, err := conn.PublishPosts(t.Context(), posts); err != nil {
		t.Fatal(err)
	}
	return ids
}

// textFor is a text no other is near to.
func textFor(i int) string {
	return fmt.Sprintf("post %d says %x %x %x %x %x %x %x %x", i, i*7919, i*104729, i*1299709, i*15485863, i*32452843, i*49979687, i*67867967, i*86028121)
}

// holderOf says which node holds the partition of author (a webhook
// handle), as n sees the leases.
func (n *curationNode) holderOf(author string) string {
	p := bus.IngestPartition("webhook:" + author)
	return n.cl.Leases(PartitionKind)[fmt.Sprintf("p%02d", p)].Node
}

// authorOn finds an author whose partition node holds, as n sees it.
func (n *curationNode) authorOn(t *testing.T, prefix, node string) string {
	t.Helper()
	for i := range 1000 {
		if a := fmt.Sprintf("%s%d", prefix, i); n.holderOf(a) == node {
			return a
		}
	}
	t.Fatalf("no author of %s's partitions", node)
	return ""
}

// keptBy says which partitions each node holds once second joins first,
// which held them all: first keeps the first half, second gets the rest.
func keptBy(first, second string) map[string]map[int]bool {
	holders := map[string]string{}
	for _, id := range PartitionIDs() {
		holders[id] = first
	}
	out := map[string]map[int]bool{first: {}, second: {}}
	for id, node := range cluster.Assign(PartitionIDs(), []string{first, second}, holders) {
		p, _ := partitionNumber(id)
		out[node][p] = true
	}
	return out
}

// authorsIn returns n webhook handles whose posts go to partitions.
func authorsIn(t *testing.T, partitions map[int]bool, n int) []string {
	t.Helper()
	var out []string
	for i := 0; len(out) < n; i++ {
		if a := fmt.Sprintf("author%d", i); partitions[bus.IngestPartition("webhook:"+a)] {
			out = append(out, a)
		}
	}
	return out
}

var nearDupStreams = []config.Stream{{ID: "wall", Sources: []string{"hook"}, Moderation: config.ModerationAuto}}

// Near-duplicates by different authors are caught whichever curation node
// decides each: a node that takes over partitions after the original was
// decided elsewhere knows it, and so does a node that starts later.
func TestNearDuplicatesAcrossNodes(t *testing.T) {
	url := startServer(t)
	a := startCurationNode(t, url, "node-a", nearDupStreams)
	waitUntil(t, "node-a holding every partition", func() bool { return a.holders()["node-a"] == bus.IngestPartitions })
	d := tailDecisions(t, a.conn)
	pushPost := func(id, author, text string) {
		t.Helper()
		p := post.Post{ID: "webhook:" + id, Network: "webhook", Source: "hook", Text: text, Author: post.Author{Handle: author}}
		if _, err := a.conn.PublishPosts(t.Context(), []post.Post{p}); err != nil {
			t.Fatal(err)
		}
	}
	decision := func(id string) bus.Event {
		t.Helper()
		var e bus.Event
		waitUntil(t, id+"'s decision", func() bool {
			var ok bool
			e, ok = d.get("wall", "webhook:"+id)
			return ok
		})
		return e
	}
	// The original's author is in a partition node-a keeps when node-b
	// joins (the replay of a partition taken over would find it anyway).
	spammer := authorsIn(t, keptBy("node-a", "node-b")["node-a"], 1)[0]
	const original = "Win a free cruise today, just click the link in our profile and tell your friends"
	pushPost("original", spammer, original)
	if e := decision("original"); e.Kind != bus.EventApprove {
		t.Fatalf("the original: %s (%s)", e.Kind, e.Reason)
	}

	// node-b joins and takes half of the partitions, after the original
	// was decided on node-a.
	b := startCurationNode(t, url, "node-b", nearDupStreams)
	waitUntil(t, "the partitions shared by both nodes", func() bool {
		h := a.holders()
		return h["node-a"] == bus.IngestPartitions/2 && h["node-b"] == bus.IngestPartitions/2
	})
	if h := a.holderOf(spammer); h != "node-a" {
		t.Fatalf("the original's partition went to %s", h)
	}
	pushPost("copy-on-b", a.authorOn(t, "copycat", "node-b"), original+"!!")
	if e := decision("copy-on-b"); e.Kind != bus.EventHold || !strings.Contains(e.Reason, "nearly the same text") {
		t.Fatalf("a near copy decided on node-b: %s (%s), want held as a near-duplicate (the spam action)", e.Kind, e.Reason)
	}

	// A text node-b decides, copied by an author of node-a's partitions.
	const second = "Limited offer for our followers only, send us a message to claim your prize before midnight"
	pushPost("second", b.authorOn(t, "writer", "node-b"), second)
	if e := decision("second"); e.Kind != bus.EventApprove {
		t.Fatalf("the second original: %s (%s)", e.Kind, e.Reason)
	}
	pushPost("copy-on-a", a.authorOn(t, "mimic", "node-a"), strings.Replace(second, "midnight", "noon", 1))
	if e := decision("copy-on-a"); e.Kind != bus.EventHold || !strings.Contains(e.Reason, "nearly the same text") {
		t.Fatalf("a near copy decided on node-a: %s (%s), want held as a near-duplicate (the spam action)", e.Kind, e.Reason)
	}

	// A text unlike the others is not caught.
	pushPost("unrelated", a.authorOn(t, "other", "node-b"), "The keynote starts in ten minutes in hall B, doors are open and seats are still free")
	if e := decision("unrelated"); e.Kind != bus.EventApprove {
		t.Fatalf("an unrelated text: %s (%s)", e.Kind, e.Reason)
	}
}

// warmLog records how each partition's warm-up ended (the message of its
// one line) and the posts it replayed, the last time it warmed.
type warmLog struct {
	mu    *sync.Mutex
	ended map[string]string
	posts map[string]int64
}

func (w warmLog) Enabled(context.Context, slog.Level) bool { return true }
func (w warmLog) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w warmLog) WithGroup(string) slog.Handler            { return w }

func (w warmLog) Handle(_ context.Context, r slog.Record) error {
	var part string
	var n int64
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "partition":
			part = a.Value.String()
		case "posts":
			n = a.Value.Int64()
		}
		return true
	})
	if part == "" || !strings.Contains(r.Message, "warm") {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// A partition warmed again (its lease lost and taken back, on a
	// loaded machine) replays the same posts: the bound is per warm-up.
	w.ended[part] = r.Message
	w.posts[part] = n
	return nil
}

// total says how many partitions have said how their warm-up ended, and
// the posts replayed in all.
func (w warmLog) total() (parts int, posts int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.posts {
		posts += n
	}
	return len(w.ended), posts
}

// String lists each partition's ending and posts, for failure messages.
func (w warmLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, part := range slices.Sorted(maps.Keys(w.ended)) {
		fmt.Fprintf(&b, "\n  %s: %q, %d posts", part, w.ended[part], w.posts[part])
	}
	return b.String()
}

// A node taking over every partition replays at most warmPosts recent
// posts in all into its spam memory, each partition its share. (Each
// partition once read up to warmPosts of its own stream, one message per
// request: sixteen times the bound, and a restart after a busy hour took
// seconds to be ready, most of a gigabyte and twenty seconds to stop.)
func TestWarmReadsItsShareOfRecentPosts(t *testing.T) {
	defer func(n int) { warmPosts = n }(warmPosts)
	warmPosts = 3 * bus.IngestPartitions
	streams := []config.Stream{{ID: "wall", Sources: []string{"hook"}, Moderation: config.ModerationAuto}}
	url := startServer(t)
	a := startCurationNode(t, url, "node-a", streams)
	waitUntil(t, "node-a holding every partition", func() bool { return a.holders()["node-a"] == bus.IngestPartitions })
	d := tailDecisions(t, a.conn)
	// Ten posts in every partition, each by its own author.
	var authors []string
	for p := range bus.IngestPartitions {
		authors = append(authors, authorsIn(t, map[int]bool{p: true}, 10)...)
	}
	ids := publishBy(t, a.conn, authors)
	waitUntil(t, "every post decided", func() bool { return d.missing("wall", ids) == 0 })
	a.stop()

	w := warmLog{mu: &sync.Mutex{}, ended: map[string]string{}, posts: map[string]int64{}}
	b := startCurationNode(t, url, "node-b", streams, withLog(slog.New(w)))
	waitUntil(t, "node-b holding every partition", func() bool { return b.holders()["node-b"] == bus.IngestPartitions })
	waitUntilf(t, func() bool { parts, _ := w.total(); return parts == bus.IngestPartitions },
		func() string { return "every partition's warm-up ended; so far:" + w.String() })
	for part, msg := range w.ended {
		if !strings.Contains(msg, "warmed with") {
			t.Errorf("partition %s: %q, want its recent posts replayed; every partition:%s", part, msg, w)
			break
		}
	}
	if _, n := w.total(); n > int64(warmPosts) {
		t.Fatalf("the warm-up replayed %d posts in all, over its bound of %d:%s", n, warmPosts, w)
	}
}

// A clean stop lets the batch being decided be stored and acknowledged.
// (It was cut off: a batch whose events were being stored as the node
// stopped was given back, and the partition's next node decided it again.)
func TestStopFinishesTheBatchBeingDecided(t *testing.T) {
	streams := []config.Stream{{ID: "wall", Sources: []string{"hook"}, Moderation: config.ModerationAuto}}
	url := startServer(t)
	// The node's clock stops the first batch in the middle of deciding,
	// until the node has been told to stop.
	deciding, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	now := func() time.Time {
		once.Do(func() { close(deciding); <-resume })
		return time.Now()
	}
	a := startCurationNode(t, url, "node-a", streams, withNow(now))
	d := tailDecisions(t, a.conn)
	ids := publishBy(t, a.conn, authorsIn(t, map[int]bool{3: true, 11: true}, 6))
	select {
	case <-deciding:
	case <-time.After(2 * time.Minute):
		t.Fatal("timed out waiting for the first batch to be decided")
	}
	a.cancel()
	close(resume)
	a.wg.Wait()

	waitUntilf(t, func() bool { return d.missing("wall", ids) == 0 },
		func() string {
			return fmt.Sprintf("the batch's decisions: %d of %d missing", d.missing("wall", ids), len(ids))
		})
	for p := range bus.IngestPartitions {
		cons, err := a.conn.JS.Consumer(t.Context(), bus.PartitionStream(p), ConsumerName(fmt.Sprintf("p%02d", p)))
		if err != nil {
			continue // a partition the node never read
		}
		info, err := cons.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending > 0 || info.NumPending > 0 || info.NumRedelivered > 0 {
			t.Errorf("partition %d after the stop: %d delivered and unacknowledged, %d undelivered, %d given back; want every message acknowledged",
				p, info.NumAckPending, info.NumPending, info.NumRedelivered)
		}
	}
}
