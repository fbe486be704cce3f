package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"slices"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Work is a set of pieces of work of one kind that the nodes with Role
// share, each piece run by one node at a time.
type Work struct {
	// Kind names the work in lease keys: work.<kind>.<id>.
	Kind string
	// Role is the role the nodes sharing this work have.
	Role string
	// IDs are the pieces (valid in a key: a-z, 0-9, '-', '_').
	IDs []string
	// Run runs one piece while this node holds its lease. Its ctx ends
	// when the lease is lost, handed to another node or Hold's ctx ends;
	// Run must then return soon. The lease is released once it returns.
	Run func(ctx context.Context, id string)
	// Status, when set, is stored with each renewal for the other nodes
	// to show (as JSON).
	Status func(id string) any
}

// held is one piece this node runs.
type held struct {
	lease   Lease
	rev     uint64
	renewed time.Time // when the last write that stored was sent
	cancel  context.CancelFunc
	done    chan struct{}
	// handing is set once the piece is being stopped to go to another node.
	handing bool
	// status is the status last written.
	status string
}

// Hold runs w's pieces that fall to this node, until ctx ends; then it
// stops them and releases their leases, so other nodes take them over at
// once. It waits for this node to join the cluster first.
//
// Which node runs a piece: every node computes the same assignment from
// what it sees (the live nodes with w.Role, who holds what): a node keeps
// what it holds while it holds no more than its fair share (the pieces
// divided by the nodes, rounded up), and the rest go to the node ranked
// first for the piece by rendezvous hashing among those below their share.
// A node takes a free piece assigned to it at once, and any free piece
// left free for a third of the TTL (its node may not run it). A node hands
// a piece to the node it is assigned to once that node has been alive for
// a third of the TTL, so a node that joins gets its share without
// flapping.
func (c *Cluster) Hold(ctx context.Context, w Work) error {
	if !c.me.Has(w.Role) {
		<-ctx.Done() // a node without the role never runs the work
		return nil
	}
	select {
	case <-c.joinedCh:
	case <-ctx.Done():
		return nil
	}
	h := &holder{c: c, w: w, held: map[string]*held{}, freeSince: map[string]time.Time{}, finished: make(chan string, len(w.IDs))}
	return h.run(ctx)
}

type holder struct {
	c         *Cluster
	w         Work
	held      map[string]*held
	freeSince map[string]time.Time
	finished  chan string
}

func (h *holder) run(ctx context.Context) error {
	tick := time.NewTicker(h.c.ttl / 6)
	defer tick.Stop()
	defer h.releaseAll()
	for {
		changed := h.c.wait()
		h.step(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-tick.C:
		case id := <-h.finished:
			h.finish(ctx, id)
		}
	}
}

// step renews what is due, takes what falls to this node and hands over
// what falls to another.
func (h *holder) step(ctx context.Context) {
	now := time.Now()
	ttl := h.c.ttl
	for id, hd := range h.held {
		if hd.handing {
			continue
		}
		// Renewed every third of the TTL, and sooner (but not more than
		// every sixth) when the status changed, so others see it soon.
		if age := now.Sub(hd.renewed); age >= ttl/3 || age >= ttl/6 && h.status(id) != hd.status {
			h.renew(ctx, id, hd)
		}
		// Not renewed for most of the TTL: NATS may already give the piece
		// to another node, so stop it here first.
		if !hd.handing && time.Since(hd.renewed) > ttl-ttl/5 {
			h.c.log.Warn("could not renew a lease in time; stopping the work here", "kind", h.w.Kind, "id", id)
			h.stop(id, hd, false)
		}
	}
	target, eligible := h.assignment()
	for _, id := range h.w.IDs {
		hd, mine := h.held[id]
		to := target[id]
		switch {
		case mine && !hd.handing && to != h.c.me.Name && eligible[to]:
			h.c.log.Info("handing work to another node", "kind", h.w.Kind, "id", id, "to", to)
			h.stop(id, hd, true)
		case !mine:
			if _, taken := h.c.leaseOf(h.w.Kind, id); taken {
				delete(h.freeSince, id)
				continue
			}
			since, ok := h.freeSince[id]
			if !ok {
				since = now
				h.freeSince[id] = now
			}
			if to == h.c.me.Name || now.Sub(since) >= ttl/3 {
				h.acquire(ctx, id)
			}
		}
	}
}

// assignment says which node each piece goes to, and which nodes have been
// alive long enough to be handed work.
func (h *holder) assignment() (map[string]string, map[string]bool) {
	now := time.Now()
	var nodes []string
	eligible := map[string]bool{}
	for _, m := range h.c.Members() {
		if !m.Has(h.w.Role) {
			continue
		}
		nodes = append(nodes, m.Name)
		eligible[m.Name] = now.Sub(m.seen) >= h.c.ttl/3
	}
	holders := map[string]string{}
	for id, l := range h.c.Leases(h.w.Kind) {
		holders[id] = l.Node
	}
	return Assign(h.w.IDs, nodes, holders), eligible
}

// Assign shares ids among nodes: no node gets more than one piece more
// than another; each keeps what it holds (holders) within that, and the
// rest go by rendezvous hashing to the nodes with room. Every node computes
// the same answer from the same view.
func Assign(ids, nodes []string, holders map[string]string) map[string]string {
	out := make(map[string]string, len(ids))
	if len(nodes) == 0 {
		return out
	}
	sorted := slices.Clone(ids)
	sort.Strings(sorted)
	// Each node takes base pieces; extra of them one more.
	base, extra := len(ids)/len(nodes), len(ids)%len(nodes)
	load := map[string]int{}
	isNode := map[string]bool{}
	for _, n := range nodes {
		isNode[n] = true
	}
	take := func(id, n string, fill bool) bool {
		switch {
		case load[n] < base:
		case load[n] == base && extra > 0 && fill:
			extra--
		default:
			return false
		}
		out[id] = n
		load[n]++
		return true
	}
	// Holders keep their base first, then one more while there is room.
	for _, fill := range []bool{false, true} {
		for _, id := range sorted {
			if _, done := out[id]; !done && isNode[holders[id]] {
				take(id, holders[id], fill)
			}
		}
	}
	for _, id := range sorted {
		if _, done := out[id]; done {
			continue
		}
		ranked := slices.Clone(nodes)
		sort.Slice(ranked, func(i, j int) bool {
			si, sj := score(id, ranked[i]), score(id, ranked[j])
			if si != sj {
				return si > sj
			}
			return ranked[i] < ranked[j]
		})
		for _, fill := range []bool{false, true} {
			if slices.ContainsFunc(ranked, func(n string) bool { return take(id, n, fill) }) {
				break
			}
		}
	}
	return out
}

// score ranks node for id (rendezvous hashing).
func score(id, node string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(id))
	f.Write([]byte{0})
	f.Write([]byte(node))
	return mix(f.Sum64())
}

// mix spreads a hash's bits (the splitmix64 finalizer).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// leaseOf returns the lease on one piece, if any.
func (c *Cluster) leaseOf(kind, id string) (Lease, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.leases[kind+"."+id]
	return l, ok
}

func (h *holder) key(id string) string { return workPrefix + h.w.Kind + "." + id }

// status is a piece's status as JSON, "" without one.
func (h *holder) status(id string) string {
	if h.w.Status == nil {
		return ""
	}
	st, err := json.Marshal(h.w.Status(id))
	if err != nil {
		return ""
	}
	return string(st)
}

func (h *holder) value(l Lease, status string) []byte {
	if status != "" {
		l.Status = json.RawMessage(status)
	}
	v, _ := json.Marshal(l)
	return v
}

// acquire takes a free piece and starts it.
func (h *holder) acquire(ctx context.Context, id string) {
	l := Lease{Node: h.c.me.Name, Instance: h.c.me.Instance, Since: time.Now().UTC()}
	sent := time.Now()
	wctx, cancel := context.WithTimeout(ctx, h.c.ttl/3)
	st := h.status(id)
	rev, err := h.c.kv.Create(wctx, h.key(id), h.value(l, st))
	cancel()
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			h.c.log.Warn("cluster: could not take a lease", "kind", h.w.Kind, "id", id, "err", err)
		}
		return
	}
	delete(h.freeSince, id)
	runCtx, stop := context.WithCancel(ctx)
	hd := &held{lease: l, rev: rev, renewed: sent, cancel: stop, done: make(chan struct{}), status: st}
	h.held[id] = hd
	h.c.log.Info("took over work", "kind", h.w.Kind, "id", id)
	go func() {
		defer close(hd.done)
		h.w.Run(runCtx, id)
	}()
	go func() {
		<-hd.done
		select {
		case h.finished <- id:
		case <-ctx.Done():
		}
	}()
}

// renew rewrites a held lease, checked against its revision: a lease that
// changed meanwhile is no longer this node's, and its work stops at once.
func (h *holder) renew(ctx context.Context, id string, hd *held) {
	sent := time.Now()
	wctx, cancel := context.WithTimeout(ctx, h.c.ttl/3)
	defer cancel()
	st := h.status(id)
	rev, err := h.c.kv.Update(wctx, h.key(id), h.value(hd.lease, st), hd.rev)
	switch {
	case err == nil:
		hd.rev, hd.renewed, hd.status = rev, sent, st
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		h.c.log.Warn("lost a lease (it expired or another node took it); stopping the work here", "kind", h.w.Kind, "id", id)
		h.stop(id, hd, false)
	case ctx.Err() == nil:
		h.c.log.Warn("cluster: could not renew a lease; will retry", "kind", h.w.Kind, "id", id, "err", err)
	}
}

// stop ends a piece's run. With release, its lease is deleted once the run
// has returned, so the next node can start it at once; without, the lease
// is left to expire (it may already be another's).
func (h *holder) stop(id string, hd *held, release bool) {
	hd.handing = true
	if !release {
		hd.rev = 0
	}
	hd.cancel()
}

// finish forgets a piece whose run returned, releasing its lease when this
// node still holds it.
func (h *holder) finish(ctx context.Context, id string) {
	hd, ok := h.held[id]
	if !ok {
		return
	}
	delete(h.held, id)
	if hd.rev != 0 {
		h.release(ctx, id, hd.rev)
	}
	h.c.log.Info("stopped work here", "kind", h.w.Kind, "id", id)
}

func (h *holder) release(ctx context.Context, id string, rev uint64) {
	if !h.c.connected() {
		return // the lease expires by itself
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := h.c.kv.Delete(wctx, h.key(id), jetstream.LastRevision(rev)); err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		h.c.log.Warn("cluster: could not release a lease; it expires by itself", "kind", h.w.Kind, "id", id, "err", err)
	}
}

// releaseAll stops every piece and releases the leases still held, in
// parallel, when Hold ends.
func (h *holder) releaseAll() {
	for _, hd := range h.held {
		hd.cancel()
	}
	done := make(chan struct{})
	count := 0
	for id, hd := range h.held {
		count++
		go func() {
			<-hd.done
			if hd.rev != 0 {
				h.release(context.Background(), id, hd.rev)
			}
			done <- struct{}{}
		}()
	}
	for range count {
		<-done
	}
	h.held = map[string]*held{}
}
