package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/cluster"
)

const ttl = 3 * time.Second

// startNATS runs a real NATS server with JetStream that several bus
// connections (the nodes) reach over TCP.
func startNATS(t *testing.T) string {
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

// node is one cluster member on its own NATS connection.
type node struct {
	name    string
	conn    *bus.Conn
	c       *cluster.Cluster
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	crashed atomic.Bool
}

func startNode(t *testing.T, url, name string, w *work) *node {
	t.Helper()
	conn, err := bus.Open(t.Context(), bus.Options{URL: url, Retention: time.Hour, LeaseTTL: ttl, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{name: name, conn: conn}
	n.c = cluster.New(conn.Leases, ttl, cluster.Options{Name: name, Roles: []string{"connectors"}})
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		if err := n.c.Run(ctx); err != nil && !n.crashed.Load() {
			t.Errorf("%s: run: %v", name, err)
		}
	}()
	go func() {
		defer n.wg.Done()
		_ = n.c.Hold(ctx, cluster.Work{Kind: "source", Role: "connectors", IDs: w.ids, Run: w.run(name),
			Status: func(id string) any { return map[string]string{"id": id, "by": name} }})
	}()
	t.Cleanup(func() { n.stop() })
	return n
}

// stop is a clean stop: the node releases its work and leaves.
func (n *node) stop() {
	n.cancel()
	n.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.conn.Close(ctx)
}

// crash is a kill -9 as NATS sees it: the connection drops and nothing is
// released or renewed any more.
func (n *node) crash() {
	n.crashed.Store(true)
	n.conn.NC.Close()
	n.cancel()
	n.wg.Wait()
}

// work records who runs each piece, and fails the test when two run one
// at once.
type work struct {
	t       *testing.T
	ids     []string
	mu      sync.Mutex
	running map[string]string
	runs    map[string][]string
}

func newWork(t *testing.T, ids ...string) *work {
	return &work{t: t, ids: ids, running: map[string]string{}, runs: map[string][]string{}}
}

func (w *work) run(name string) func(ctx context.Context, id string) {
	return func(ctx context.Context, id string) {
		w.mu.Lock()
		if other, ok := w.running[id]; ok {
			w.t.Errorf("%s runs on %s and %s at once", id, other, name)
		}
		w.running[id] = name
		w.runs[id] = append(w.runs[id], name)
		w.mu.Unlock()
		<-ctx.Done()
		w.mu.Lock()
		delete(w.running, id)
		w.mu.Unlock()
	}
}

// owners returns who runs each piece now.
func (w *work) owners() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]string{}
	for k, v := range w.running {
		out[k] = v
	}
	return out
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitForOwners is waitFor for a condition on who runs what, saying who
// did when it times out.
func waitForOwners(t *testing.T, w *work, what string, timeout time.Duration, cond func(owners map[string]string) bool) {
	t.Helper()
	var o map[string]string
	deadline := time.Now().Add(timeout)
	for o = w.owners(); !cond(o); o = w.owners() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; pieces run by %v", timeout, what, o)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func count(owners map[string]string, name string) int {
	n := 0
	for _, o := range owners {
		if o == name {
			n++
		}
	}
	return n
}

// One node runs everything; a second that joins gets its share; a clean
// stop hands the stopped node's work over at once; a crash hands it over
// once its leases expire; and no piece ever runs on two nodes at once.
func TestHoldSharesAndHandsOver(t *testing.T) {
	url := startNATS(t)
	w := newWork(t, "a", "b", "c", "d")
	n1 := startNode(t, url, "n1", w)
	waitForOwners(t, w, "n1 to run all four", 4*ttl, func(o map[string]string) bool { return count(o, "n1") == 4 })

	n2 := startNode(t, url, "n2", w)
	waitForOwners(t, w, "the work to spread two and two", 4*ttl, func(o map[string]string) bool {
		return len(o) == 4 && count(o, "n1") == 2 && count(o, "n2") == 2
	})
	// Every node shows who runs what, with the runner's status.
	waitFor(t, "n1 to see n2's status", 4*ttl, func() bool {
		for id, l := range n1.c.Leases("source") {
			var st map[string]string
			if json.Unmarshal(l.Status, &st) != nil || st["by"] != l.Node || st["id"] != id {
				return false
			}
		}
		return len(n1.c.Leases("source")) == 4
	})

	n3 := startNode(t, url, "n3", w)
	waitForOwners(t, w, "the work to spread over three nodes", 4*ttl, func(o map[string]string) bool {
		return len(o) == 4 && count(o, "n1") >= 1 && count(o, "n2") >= 1 && count(o, "n3") >= 1
	})

	start := time.Now()
	n2.stop()
	waitForOwners(t, w, "n2's work to move after its clean stop", ttl, func(o map[string]string) bool {
		return len(o) == 4 && count(o, "n2") == 0
	})
	t.Logf("clean stop: work moved in %s", time.Since(start).Round(time.Millisecond))

	held := count(w.owners(), "n3")
	start = time.Now()
	n3.crash()
	// Once the leases expire (up to a TTL after the crash) and n1 sees the
	// pieces free; on a loaded machine that has taken nearly two TTLs.
	waitForOwners(t, w, "n3's work to move after its crash", 5*ttl, func(o map[string]string) bool {
		return len(o) == 4 && count(o, "n1") == 4
	})
	took := time.Since(start)
	t.Logf("crash: %d pieces moved in %s (lease %s)", held, took.Round(time.Millisecond), ttl)
	if len(n1.c.Members()) != 1 {
		t.Errorf("members after the crash: %+v", n1.c.Members())
	}
}

// Two processes with one name: the second is refused while the first runs.
func TestNameInUse(t *testing.T) {
	url := startNATS(t)
	w := newWork(t, "a")
	startNode(t, url, "same", w)
	waitForOwners(t, w, "the first to run", 4*ttl, func(o map[string]string) bool { return len(o) == 1 })
	conn, err := bus.Open(t.Context(), bus.Options{URL: url, Retention: time.Hour, LeaseTTL: ttl, Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	c := cluster.New(conn.Leases, ttl, cluster.Options{Name: "same"})
	err = c.Run(t.Context())
	if !errors.Is(err, cluster.ErrNameInUse) {
		t.Fatalf("second process with the same name: %v", err)
	}
	t.Log(err)
}

// The assignment keeps pieces where they are up to each node's fair share
// and gives the rest by rendezvous hashing; every node computes the same.
func TestAssign(t *testing.T) {
	ids := []string{"a", "b", "c", "d", "e"}
	got := cluster.Assign(ids, []string{"n1", "n2"}, map[string]string{"a": "n1", "b": "n1", "c": "n1", "d": "n1", "e": "n1"})
	if count(got, "n1") != 3 || count(got, "n2") != 2 || got["a"] != "n1" || got["b"] != "n1" || got["c"] != "n1" {
		t.Fatalf("two nodes: %v", got)
	}
	again := cluster.Assign(ids, []string{"n2", "n1"}, map[string]string{"a": "n1", "b": "n1", "c": "n1", "d": "n1", "e": "n1"})
	for id := range got {
		if got[id] != again[id] {
			t.Fatalf("not deterministic: %v vs %v", got, again)
		}
	}
	fresh := cluster.Assign(ids, []string{"n1", "n2", "n3"}, nil)
	for _, n := range []string{"n1", "n2", "n3"} {
		if c := count(fresh, n); c < 1 || c > 2 {
			t.Fatalf("three nodes, nothing held: %v", fresh)
		}
	}
	if len(cluster.Assign(ids, nil, nil)) != 0 {
		t.Fatal("no nodes: something assigned")
	}
}

// A node stopped while NATS is unreachable stops at once: nothing it does
// on the way out (leaving, releasing its leases, ending its watch) waits
// for NATS. A NATS request made during an outage waits out its whole
// timeout (5 s by default), so a stop that made one would not be done
// within stopDeadline; one that makes none ends in milliseconds.
func TestStopDuringOutage(t *testing.T) {
	const stopDeadline = 4 * time.Second
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	t.Cleanup(ns.Shutdown)
	conn, err := bus.Open(t.Context(), bus.Options{URL: ns.ClientURL(), Retention: time.Hour, LeaseTTL: ttl, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.NC.Close()
	c := cluster.New(conn.Leases, ttl, cluster.Options{Name: "a", Roles: []string{"connectors"}, Connected: conn.NC.IsConnected})
	w := newWork(t, "s1", "s2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone, holdDone := make(chan error, 1), make(chan error, 1)
	go func() { runDone <- c.Run(ctx) }()
	go func() {
		holdDone <- c.Hold(ctx, cluster.Work{Kind: "source", Role: "connectors", IDs: w.ids, Run: w.run("a")})
	}()
	waitForOwners(t, w, "a to run both pieces", 10*time.Second, func(o map[string]string) bool { return count(o, "a") == 2 })

	ns.Shutdown()
	ns.WaitForShutdown()
	waitFor(t, "the connection to notice the outage", 10*time.Second, func() bool { return !conn.NC.IsConnected() })
	cancel()
	deadline := time.After(stopDeadline)
	for name, done := range map[string]chan error{"Run": runDone, "Hold": holdDone} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-deadline:
			t.Fatalf("%s did not return within %s of its context ending while NATS was down", name, stopDeadline)
		}
	}
	if owners := w.owners(); len(owners) != 0 {
		t.Fatalf("work still running after the stop: %v", owners)
	}
}
