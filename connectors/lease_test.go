package connectors_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/cluster"
	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/demo"
	"github.com/chorus-wall/chorus/connectors/webhook"
	"github.com/chorus-wall/chorus/post"
)

// busCursors gives sources the bus's cursor bucket.
type busCursors struct{ conn *bus.Conn }

func (c busCursors) Get(ctx context.Context, key string) ([]byte, error) {
	return c.conn.GetCursor(ctx, key)
}
func (c busCursors) Put(ctx context.Context, key string, v []byte) error {
	return c.conn.PutCursor(ctx, key, v)
}

// recorder stores posts on the bus and notes which node published which.
type recorder struct {
	conn *bus.Conn
	node string
	mu   *sync.Mutex
	by   map[int64]string
	t    *testing.T
}

func (r recorder) PublishPosts(ctx context.Context, posts []post.Post) (int, error) {
	n, err := r.conn.PublishPosts(ctx, posts)
	if err != nil {
		return n, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range posts {
		seq, _ := strconv.ParseInt(p.ID[strings.LastIndexByte(p.ID, '-')+1:], 10, 64)
		if other, ok := r.by[seq]; ok {
			r.t.Errorf("post %d published by %s and again by %s", seq, other, r.node)
		}
		r.by[seq] = r.node
	}
	return n, nil
}

// A polled source runs on one node of two; when that node stops, the other
// takes it over with a fresh copy from the stored cursor: the numbering
// goes on with no post published twice and none skipped. A webhook runs on
// both. The sources list names the node that runs each.
func TestLeasedSourceMovesWithItsCursor(t *testing.T) {
	conn := bustest.Open(t)
	cfg, err := config.Parse([]byte(`
sources:
  - {id: feed, type: demo, rate: 20, burst: 5}
  - {id: hook, type: webhook, secret: "0123456789abcdef0123"}
`))
	if err != nil {
		t.Fatal(err)
	}
	registry := connectors.Registry{"demo": demo.New, "webhook": webhook.New}
	deps := connectors.Deps{Cursors: busCursors{conn}}
	var mu sync.Mutex
	by := map[int64]string{}

	type node struct {
		c      *cluster.Cluster
		r      *connectors.Runner
		cancel context.CancelFunc
		wg     sync.WaitGroup
	}
	start := func(name string) *node {
		sources, err := registry.Build(cfg.Sources, deps)
		if err != nil {
			t.Fatal(err)
		}
		n := &node{c: cluster.New(conn.Leases, conn.LeaseTTL, cluster.Options{Name: name, Roles: []string{config.RoleConnectors}})}
		n.r = connectors.NewRunner(sources, recorder{conn: conn, node: name, mu: &mu, by: by, t: t}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
		n.r.Leases, n.r.Remake = n.c, registry.Remake(cfg.Sources, deps)
		ctx, cancel := context.WithCancel(context.Background())
		n.cancel = cancel
		n.wg.Add(2)
		go func() { defer n.wg.Done(); _ = n.c.Run(ctx) }()
		go func() { defer n.wg.Done(); _ = n.r.Run(ctx) }()
		t.Cleanup(func() { cancel(); n.wg.Wait() })
		return n
	}
	published := func(node string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, who := range by {
			if who == node {
				n++
			}
		}
		return n
	}
	status := func(n *node, id string) connectors.Status {
		for _, s := range n.r.Statuses() {
			if s.ID == id {
				return s
			}
		}
		t.Fatalf("no status for %s", id)
		return connectors.Status{}
	}

	a := start("a")
	waitFor(t, "node a to publish", func() bool { return published("a") >= 10 })
	b := start("b")
	// b joins: the only polled source stays with a, which holds it (a post
	// b published too would fail the recorder).
	waitFor(t, "b to see that a runs feed", func() bool {
		got := status(b, "feed")
		return got.Node == "a" && got.Running && got.PostsFetch > 0
	})
	if got := status(b, "hook"); got.Node != "b" || !got.EveryNode || !got.Running {
		t.Fatalf("b's webhook: %+v", got)
	}
	if published("b") != 0 {
		t.Fatal("b polled a source a holds")
	}

	a.cancel()
	a.wg.Wait()
	before := published("a")
	waitFor(t, "node b to take the source over", func() bool { return published("b") >= 10 })
	if got := status(b, "feed"); got.Node != "b" || !got.Running {
		t.Fatalf("after the hand-over b sees feed as %+v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for seq := range int64(len(by)) {
		if _, ok := by[seq]; !ok {
			t.Fatalf("post %d was never published (a published %d, then b took over)", seq, before)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
