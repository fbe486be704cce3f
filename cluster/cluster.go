// Package cluster says which node does what when several Chorus processes
// share one NATS cluster: which nodes are alive, with which roles, and which
// node runs each piece of work that only one node may run at a time (a
// polled source, a curation partition).
//
// Everything lives in the chorus_leases bucket, whose keys expire LeaseTTL
// after their last write:
//
//   - nodes.<name>: a live node (its roles, address, version), renewed
//     every third of the TTL;
//   - work.<kind>.<id>: the lease on one piece of work, held by the node
//     that wrote it, renewed with revision-checked updates (so two nodes
//     can never both believe they renewed it) and carrying the work's
//     status for the other nodes to show.
//
// A node that dies stops renewing; its keys expire, every node sees the
// delete marker at once, and the work goes to another node within the TTL.
// A node that stops cleanly releases its leases, so its work moves at once.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
)

// Member is a live node as the leases bucket describes it.
type Member struct {
	Name string `json:"name"`
	// Instance tells apart two processes that used the same name (a
	// restart, or a mistake).
	Instance string    `json:"instance"`
	Roles    []string  `json:"roles"`
	URL      string    `json:"url,omitempty"`
	Version  string    `json:"version,omitempty"`
	Started  time.Time `json:"started"`
	// seen is when this node first saw the member, by its own clock.
	seen time.Time
}

// Has reports whether the member has role.
func (m Member) Has(role string) bool { return slices.Contains(m.Roles, role) }

// Lease is the value of a work key: who runs the work, since when, and the
// work's latest status as its runner reports it.
type Lease struct {
	Node     string          `json:"node"`
	Instance string          `json:"instance"`
	Since    time.Time       `json:"since"`
	Status   json.RawMessage `json:"status,omitempty"`
	revision uint64
}

const (
	nodesPrefix = "nodes."
	workPrefix  = "work."
)

// Cluster is this node's view of the cluster and its part in it.
type Cluster struct {
	kv        jetstream.KeyValue
	ttl       time.Duration
	me        Member
	log       *slog.Logger
	now       func() time.Time
	connected func() bool

	mu      sync.Mutex
	members map[string]Member
	leases  map[string]Lease
	// changed is closed (and replaced) whenever members or leases change.
	changed chan struct{}
	// ready is closed once the first full view of the bucket is loaded.
	ready  chan struct{}
	loaded bool
	// joinedCh is closed once this node is a live member.
	joinedCh chan struct{}
	nodeRev  uint64
}

// Options describe this node.
type Options struct {
	Name    string
	Roles   []string
	URL     string
	Version string
	Logger  *slog.Logger
	// Connected, when set, says whether NATS is reachable: a node stopping
	// during an outage leaves its leases to expire instead of waiting.
	Connected func() bool
}

// New returns this node's handle on the cluster in kv (the leases bucket,
// whose keys live ttl). Nothing happens until Run.
func New(kv jetstream.KeyValue, ttl time.Duration, o Options) *Cluster {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Connected == nil {
		o.Connected = func() bool { return true }
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return &Cluster{
		kv:  kv,
		ttl: ttl,
		me: Member{Name: o.Name, Instance: hex.EncodeToString(id), Roles: slices.Clone(o.Roles), URL: o.URL,
			Version: o.Version, Started: time.Now().UTC()},
		log:       o.Logger,
		now:       time.Now,
		connected: o.Connected,
		members:   map[string]Member{},
		leases:    map[string]Lease{},
		changed:   make(chan struct{}),
		ready:     make(chan struct{}),
		joinedCh:  make(chan struct{}),
	}
}

// Name is this node's name.
func (c *Cluster) Name() string { return c.me.Name }

// TTL is how long a lease lives unrenewed.
func (c *Cluster) TTL() time.Duration { return c.ttl }

// ErrNameInUse is returned by Run when another live process renews this
// node's name.
var ErrNameInUse = errors.New("cluster: node name in use")

// Run watches the bucket, joins the cluster as a live member and renews
// that until ctx ends, then leaves (deleting its member key, so the others
// know at once). It fails at once when another running process holds this
// node's name. Work is held with Hold, which needs Run running.
func (c *Cluster) Run(ctx context.Context) error {
	w, err := c.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch %s: %w", c.kv.Bucket(), err)
	}
	defer bus.StopWatch(w)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		c.watch(ctx, w)
	}()
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil
	}
	if err := c.join(ctx); err != nil {
		return err
	}
	defer c.leave()
	tick := time.NewTicker(c.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-watchDone:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("cluster: the watch of %s ended", c.kv.Bucket())
		case <-tick.C:
			c.renewMembership(ctx)
		}
	}
}

// Joined is closed once this node has joined the cluster.
func (c *Cluster) Joined() <-chan struct{} { return c.joinedCh }

// watch applies every change of the bucket to the view until ctx ends.
func (c *Cluster) watch(ctx context.Context, w jetstream.KeyWatcher) {
	bus.Follow(ctx, w, func() { c.apply(nil) }, c.apply)
}

// apply records one entry (nil: the initial values are all in).
func (c *Cluster) apply(e jetstream.KeyValueEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e == nil {
		if !c.loaded {
			c.loaded = true
			close(c.ready)
		}
		c.notify()
		return
	}
	key := e.Key()
	gone := e.Operation() != jetstream.KeyValuePut
	switch {
	case strings.HasPrefix(key, nodesPrefix):
		name := strings.TrimPrefix(key, nodesPrefix)
		if gone {
			delete(c.members, name)
			break
		}
		var m Member
		if json.Unmarshal(e.Value(), &m) != nil {
			c.log.Warn("cluster: unreadable member record; ignoring it", "key", key)
			break
		}
		if old, ok := c.members[name]; ok && old.Instance == m.Instance {
			m.seen = old.seen
		} else {
			m.seen = c.now()
		}
		c.members[name] = m
	case strings.HasPrefix(key, workPrefix):
		work := strings.TrimPrefix(key, workPrefix)
		if gone {
			delete(c.leases, work)
			break
		}
		var l Lease
		if json.Unmarshal(e.Value(), &l) != nil {
			c.log.Warn("cluster: unreadable lease; ignoring it", "key", key)
			break
		}
		l.revision = e.Revision()
		c.leases[work] = l
	}
	if c.loaded {
		c.notify()
	}
}

// notify wakes everyone waiting for a change; c.mu is held.
func (c *Cluster) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// wait returns a channel closed at the next change.
func (c *Cluster) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// join creates this node's member key. A key left by an earlier process of
// the same name (killed, so it could not remove it) is waited out; one
// renewed meanwhile belongs to a running process, and joining fails.
func (c *Cluster) join(ctx context.Context) error {
	key := nodesPrefix + c.me.Name
	value, _ := json.Marshal(c.me)
	deadline := time.Now().Add(c.ttl + c.ttl/2)
	var first uint64
	for {
		rev, err := c.kv.Create(ctx, key, value)
		if err == nil {
			c.mu.Lock()
			c.nodeRev = rev
			c.mu.Unlock()
			close(c.joinedCh)
			c.log.Info("joined the cluster", "node", c.me.Name, "roles", strings.Join(c.me.Roles, ","), "lease_ttl", c.ttl)
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("cluster: join as %s: %w", c.me.Name, err)
		}
		e, gerr := c.kv.Get(ctx, key)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound) || errors.Is(gerr, jetstream.ErrKeyDeleted):
			continue
		case gerr != nil:
			return fmt.Errorf("cluster: join as %s: %w", c.me.Name, gerr)
		}
		if first == 0 {
			first = e.Revision()
			c.log.Warn("another process of this node's name was here; waiting for its record to expire", "node", c.me.Name, "up_to", c.ttl+c.ttl/2)
		} else if e.Revision() != first || time.Now().After(deadline) {
			var other Member
			_ = json.Unmarshal(e.Value(), &other)
			return fmt.Errorf("%w: %q is used by a running process (started %s, roles %s); give each process its own node name",
				ErrNameInUse, c.me.Name, other.Started.Format(time.RFC3339), strings.Join(other.Roles, ","))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.ttl / 10):
		}
	}
}

// renewMembership rewrites this node's member key before it expires. A key
// lost meanwhile (NATS was away longer than the TTL) is created again.
func (c *Cluster) renewMembership(ctx context.Context) {
	key := nodesPrefix + c.me.Name
	value, _ := json.Marshal(c.me)
	c.mu.Lock()
	rev := c.nodeRev
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, c.ttl/3)
	defer cancel()
	next, err := c.kv.Update(ctx, key, value, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		// Expired meanwhile (a delete marker came after our revision), or
		// our last renewal was stored but its answer lost, or another
		// process took the name.
		e, gerr := c.kv.Get(ctx, key)
		var other Member
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound) || errors.Is(gerr, jetstream.ErrKeyDeleted):
			next, err = c.kv.Create(ctx, key, value)
		case gerr != nil:
			err = gerr
		case json.Unmarshal(e.Value(), &other) == nil && other.Instance == c.me.Instance:
			next, err = c.kv.Update(ctx, key, value, e.Revision())
		default:
			c.log.Error("another process renews this node's name: give each process its own node name", "node", c.me.Name,
				"other_started", other.Started)
			return
		}
	}
	if err != nil {
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			c.log.Warn("cluster: could not renew this node's membership", "err", err)
		}
		return
	}
	c.mu.Lock()
	c.nodeRev = next
	c.mu.Unlock()
}

// leave removes this node's member key, so the others stop counting on it.
func (c *Cluster) leave() {
	if !c.connected() {
		return // the key expires by itself
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.mu.Lock()
	rev := c.nodeRev
	c.mu.Unlock()
	if err := c.kv.Delete(ctx, nodesPrefix+c.me.Name, jetstream.LastRevision(rev)); err != nil {
		c.log.Debug("cluster: leaving", "err", err)
	}
}

// Members returns the live nodes, by name.
func (c *Cluster) Members() []Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Member, 0, len(c.members))
	for _, m := range c.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Leases returns the leases on work of kind, by id.
func (c *Cluster) Leases(kind string) map[string]Lease {
	prefix := kind + "."
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]Lease{}
	for k, l := range c.leases {
		if id, ok := strings.CutPrefix(k, prefix); ok {
			out[id] = l
		}
	}
	return out
}
