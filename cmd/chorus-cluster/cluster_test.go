package main

// Chorus on a cluster, tested as an operator runs it: a NATS cluster of
// three servers with JetStream (every stream and bucket in three copies)
// and Chorus nodes as separate processes of the real binary, started and
// killed by the test. Nothing is mocked: the "network API" is an RSS feed
// served by the test, which tells which node process each request comes
// from.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/connectors/webhook"
	"github.com/chorus-wall/chorus/curation"
)

// chorusBinary is the chorus command the tests run, built once.
var chorusBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chorus-cluster-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	chorusBinary = filepath.Join(dir, "chorus")
	build := exec.Command("go", "build", "-o", chorusBinary, "github.com/chorus-wall/chorus/cmd/chorus")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building chorus: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	testToken  = "cluster-admin-token-0123456789"
	testSecret = "cluster-webhook-secret-0123456789"
	// leaseTTL is shorter than production's 15s so that takeovers are
	// quick, but long enough for renewals on a busy test machine (the NATS
	// servers run in this process, under the race detector).
	leaseTTL = 10 * time.Second
)

// clusterConfig is every node's config; the feed URL is filled in.
const clusterConfig = `
admin_token: ` + testToken + `
log_level: info
nats: {replicas: 3, lease_ttl: 10s}
limits:
  webhook: {per_second: 1000, burst: 1000}
  admin: {per_second: 1000, burst: 1000}
sources:
  - {id: hook, type: webhook, secret: ` + testSecret + `}
  - {id: feed, type: rss, feeds: [%q], poll_interval: 1s}
streams:
  - id: wall
    sources: [hook]
    display_limit: 200
    filters:
      spam: {author_rate: 3, author_rate_window: 10m, action: reject}
  - id: news
    sources: [feed]
    display_limit: 200
    filters:
      spam: {disabled: true}
`

// testCluster is a NATS cluster and the Chorus nodes on it.
type testCluster struct {
	t    *testing.T
	nats *bus.LocalCluster
	dir  string
	cfg  string
	feed *feedServer

	// nodes are read by the feed server's handlers too (to tell which
	// node polls), so they are guarded.
	mu    sync.Mutex
	nodes map[string]*node
}

// node returns the node named name (nil when there is none).
func (c *testCluster) node(name string) *node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[name]
}

// allNodes returns every node started so far, by name.
func (c *testCluster) allNodes() map[string]*node {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*node, len(c.nodes))
	for name, n := range c.nodes {
		out[name] = n
	}
	return out
}

func startTestCluster(t *testing.T) *testCluster {
	t.Helper()
	dir := t.TempDir()
	lc, err := bus.StartLocalCluster(bus.LocalClusterOptions{Size: 3, Dir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lc.Shutdown)
	c := &testCluster{t: t, nats: lc, dir: dir, nodes: map[string]*node{}}
	c.feed = newFeedServer(c)
	t.Cleanup(c.feed.srv.Close)
	c.cfg = filepath.Join(dir, "chorus.yaml")
	if err := os.WriteFile(c.cfg, []byte(fmt.Sprintf(clusterConfig, c.feed.srv.URL+"/feed.xml")), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for name, n := range c.allNodes() {
				data, _ := os.ReadFile(n.logPath)
				lines := strings.Split(strings.TrimSpace(string(data)), "\n")
				t.Logf("last lines of %s's log:\n%s", name, strings.Join(lines[max(0, len(lines)-60):], "\n"))
			}
		}
	})
	return c
}

// start runs a node with roles ("" for all) and waits until it is ready.
func (c *testCluster) start(name, roles string) *node {
	c.t.Helper()
	n, err := startNode(nodeOptions{binary: chorusBinary, dir: c.dir, name: name, port: freePort(c.t), roles: roles,
		config: c.cfg, natsURL: c.nats.URL()}, io.Discard)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.nodes[name] = n
	c.mu.Unlock()
	c.t.Cleanup(func() {
		if !n.exited() {
			_ = n.cmd.Process.Kill()
			<-n.done
		}
	})
	if err := n.waitReady(c.t.Context(), 3*time.Minute); err != nil {
		c.t.Fatal(err)
	}
	return n
}

// kill ends a node as a crash does (SIGKILL): it hands nothing over.
func (c *testCluster) kill(n *node) time.Time {
	c.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	<-n.done
	return time.Now()
}

func (n *node) exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor retries cond until it holds, failing after two minutes (the
// machine running the tests may be slow; nothing here takes that long).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitForOr(t, what, cond, func() string { return "" })
}

// waitForOr is waitFor, adding what detail says to the failure.
func waitForOr(t *testing.T, what string, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\n%s", what, detail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// textOf gives each post a text no other post is near to (random-looking
// words), so the near-duplicate filter leaves them alone.
func textOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:])
	var words []string
	for i := 0; i+6 <= len(h); i += 6 {
		words = append(words, h[i:i+6])
	}
	return strings.Join(words, " ")
}

// push sends one signed webhook post by author to a node and returns the
// status code (0 when the call failed).
func push(n *node, id, author, text string) int {
	body, _ := json.Marshal(map[string]any{"id": id, "text": text, "author": map[string]string{"handle": author}})
	now := time.Now()
	req, _ := http.NewRequest(http.MethodPost, n.url+"/api/v1/ingest/hook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(testSecret), now, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// admin calls a node's admin API.
func admin(t *testing.T, n *node, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, n.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusTooManyRequests {
		// The test polls the admin API; refused calls would look like a
		// condition that never comes (clusterConfig raises the limit).
		t.Fatalf("%s %s on %s: %d %s", method, path, n.name, resp.StatusCode, data)
	}
	return resp.StatusCode, string(data)
}

// screen is a websocket client of the display protocol that records what
// it is shown: every post added (live or in a snapshot), every removal, and
// the last seq.
type screen struct {
	t    *testing.T
	node *node
	conn *websocket.Conn
	done chan struct{}

	mu        sync.Mutex
	seq       uint64
	adds      map[string]int // post id -> live "add" messages
	added     map[string]time.Time
	removed   map[string]time.Time
	snapshots int
	shown     map[string]bool // what the screen shows now
	texts     map[string]string
}

type displayMsg struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
	Post *struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"post"`
	Posts []struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"posts"`
}

func newScreen(t *testing.T) *screen {
	return &screen{t: t, adds: map[string]int{}, added: map[string]time.Time{}, removed: map[string]time.Time{}, shown: map[string]bool{}, texts: map[string]string{}}
}

// open connects the screen to stream on n (with since when not 0) and
// reads until the connection ends.
func (s *screen) open(n *node, stream string, since uint64) {
	s.t.Helper()
	url := "ws" + strings.TrimPrefix(n.url, "http") + "/ws/streams/" + stream
	if since > 0 {
		url += "?since=" + strconv.FormatUint(since, 10)
	}
	conn, _, err := websocket.DefaultDialer.DialContext(s.t.Context(), url, nil)
	if err != nil {
		s.t.Fatalf("screen on %s: %v", n.name, err)
	}
	s.t.Cleanup(func() { conn.Close() })
	s.mu.Lock()
	s.node, s.conn, s.done = n, conn, make(chan struct{})
	done := s.done
	s.mu.Unlock()
	go func() {
		defer close(done)
		for {
			var m displayMsg
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			s.apply(m)
		}
	}()
}

func (s *screen) apply(m displayMsg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	switch m.Type {
	case "snapshot":
		s.snapshots++
		s.shown = map[string]bool{}
		for _, p := range m.Posts {
			s.shown[p.ID] = true
			s.texts[p.ID] = p.Text
			if _, ok := s.added[p.ID]; !ok {
				s.added[p.ID] = now
			}
		}
	case "add":
		if m.Post != nil {
			s.adds[m.Post.ID]++
			s.shown[m.Post.ID] = true
			s.texts[m.Post.ID] = m.Post.Text
			if _, ok := s.added[m.Post.ID]; !ok {
				s.added[m.Post.ID] = now
			}
		}
	case "remove":
		delete(s.shown, m.ID)
		if _, ok := s.removed[m.ID]; !ok {
			s.removed[m.ID] = now
		}
	}
	if m.Seq > s.seq {
		s.seq = m.Seq
	}
}

// has reports whether the screen was ever shown the post.
func (s *screen) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.added[id]
	return ok
}

func (s *screen) isShown(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shown[id]
}

func (s *screen) lastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// ready waits for the screen's first frame.
func (s *screen) ready() {
	s.t.Helper()
	waitFor(s.t, "the screen's first frame", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.snapshots > 0 || s.seq > 0
	})
}

// feedServer is an RSS feed that grows by one item every 200 ms (the last
// 100 items are in the document) and records which node process made each
// request.
type feedServer struct {
	c     *testCluster
	srv   *httptest.Server
	start time.Time

	mu       sync.Mutex
	requests []feedRequest
	peers    map[string]string // remote address -> node name
}

type feedRequest struct {
	node string
	at   time.Time
}

const feedEvery = 200 * time.Millisecond

func newFeedServer(c *testCluster) *feedServer {
	f := &feedServer{c: c, start: time.Now(), peers: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// itemsUpTo is how many items the feed has published by now.
func (f *feedServer) items(at time.Time) int { return int(at.Sub(f.start)/feedEvery) + 1 }

func (f *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	node := f.nodeOf(r.RemoteAddr)
	f.mu.Lock()
	f.requests = append(f.requests, feedRequest{node: node, at: now})
	f.mu.Unlock()
	n := f.items(now)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Test feed</title><link>https://feed.example/</link>`)
	for i := n; i >= max(1, n-99); i-- {
		fmt.Fprintf(&b, `<item><guid>item-%d</guid><title>item-%d</title><link>https://feed.example/%d</link><description>item-%d %s</description><pubDate>%s</pubDate></item>`,
			i, i, i, i, textOf(strconv.Itoa(i)), f.start.Add(time.Duration(i)*feedEvery).UTC().Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	w.Header().Set("Content-Type", "application/rss+xml")
	io.WriteString(w, b.String())
}

// nodeOf finds the node process that owns the client end of a connection
// to the feed: the socket's inode in /proc/net/tcp, then the process whose
// file descriptors hold it.
func (f *feedServer) nodeOf(remote string) string {
	f.mu.Lock()
	if name, ok := f.peers[remote]; ok {
		f.mu.Unlock()
		return name
	}
	f.mu.Unlock()
	_, portStr, _ := net.SplitHostPort(remote)
	port, _ := strconv.Atoi(portStr)
	_, serverPortStr, _ := net.SplitHostPort(strings.TrimPrefix(f.srv.URL, "http://"))
	serverPort, _ := strconv.Atoi(serverPortStr)
	inode := ""
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			if hexPort(fields[1]) == port && hexPort(fields[2]) == serverPort {
				inode = fields[9]
			}
		}
	}
	name := "unknown"
	if inode != "" {
		target := "socket:[" + inode + "]"
		for nodeName, n := range f.c.allNodes() {
			fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", n.cmd.Process.Pid))
			for _, fd := range fds {
				if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", n.cmd.Process.Pid, fd.Name())); l == target {
					name = nodeName
				}
			}
		}
	}
	f.mu.Lock()
	f.peers[remote] = name
	f.mu.Unlock()
	return name
}

func hexPort(addr string) int {
	_, p, ok := strings.Cut(addr, ":")
	if !ok {
		return -1
	}
	v, err := strconv.ParseUint(p, 16, 32)
	if err != nil {
		return -1
	}
	return int(v)
}

// requestsSince returns the feed requests made at or after t.
func (f *feedServer) requestsSince(t time.Time) []feedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []feedRequest
	for _, r := range f.requests {
		if !r.at.Before(t) {
			out = append(out, r)
		}
	}
	return out
}

// sourceNode asks a node which node runs source id.
func sourceNode(t *testing.T, n *node, id string) string {
	t.Helper()
	code, body := admin(t, n, http.MethodGet, "/api/v1/sources", "")
	if code != http.StatusOK {
		t.Fatalf("sources on %s: %d %s", n.name, code, body)
	}
	var out struct {
		Sources []struct {
			ID   string `json:"id"`
			Node string `json:"node"`
		} `json:"sources"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("sources on %s: %v: %s", n.name, err, body)
	}
	for _, s := range out.Sources {
		if s.ID == id {
			return s.Node
		}
	}
	t.Fatalf("sources on %s has no %s: %s", n.name, id, body)
	return ""
}

var itemNumber = regexp.MustCompile(`^item-(\d+)`)

// TestCluster runs the scenarios of a cluster one after the other on one
// NATS cluster of three servers and three Chorus nodes: node-1 without the
// curation role (connectors, index, display, api), node-2 and node-3 with
// every role.
func TestCluster(t *testing.T) {
	c := startTestCluster(t)
	a := c.start("node-1", "connectors,index,display,api")
	b := c.start("node-2", "")
	cc := c.start("node-3", "")
	nodes := []*node{a, b, cc}

	walls := map[string]*screen{}
	for _, n := range nodes {
		s := newScreen(t)
		s.open(n, "wall", 0)
		s.ready()
		walls[n.name] = s
	}

	t.Run("posts pushed to one node reach screens on every node", func(t *testing.T) {
		var ids []string
		for i := range 30 {
			id := fmt.Sprintf("fan-%d", i)
			if code := push(a, id, fmt.Sprintf("fan%d", i), textOf(id)); code != http.StatusAccepted {
				t.Fatalf("push %s to node-1: %d", id, code)
			}
			ids = append(ids, "webhook:"+id)
		}
		for name, s := range walls {
			waitFor(t, "every post on "+name+"'s screen", func() bool {
				return !slices.ContainsFunc(ids, func(id string) bool { return !s.has(id) })
			})
		}
	})

	t.Run("a moderator's removal on one node reaches screens on every node", func(t *testing.T) {
		// The screens show the post once a display node has it; node-1's
		// admin API finds it once node-1's index has it too.
		waitFor(t, "fan-0 in node-1's index", func() bool {
			code, body := admin(t, a, http.MethodGet, "/api/v1/streams/wall/audit?post=webhook:fan-0", "")
			return code == http.StatusOK && strings.Contains(body, `"approve"`)
		})
		sent := time.Now()
		code, body := admin(t, a, http.MethodPost, "/api/v1/streams/wall/posts/webhook:fan-0/remove", `{"reason":"test"}`)
		if code != http.StatusOK {
			t.Fatalf("remove on node-1: %d %s", code, body)
		}
		var slowest time.Duration
		for name, s := range walls {
			waitFor(t, "the removal on "+name+"'s screen", func() bool { return !s.isShown("webhook:fan-0") })
			s.mu.Lock()
			slowest = max(slowest, s.removed["webhook:fan-0"].Sub(sent))
			s.mu.Unlock()
		}
		t.Logf("FIGURE moderator action on node-1 to the last of 3 screens (one per node): %s", slowest.Round(time.Millisecond))
	})

	t.Run("a ban on node-1 rejects the next post decided on another node", func(t *testing.T) {
		if code := push(cc, "troll-1", "troll", textOf("troll-1")); code != http.StatusAccepted {
			t.Fatalf("push: %d", code)
		}
		waitFor(t, "troll's first post on screens", func() bool { return walls["node-3"].has("webhook:troll-1") })
		code, body := admin(t, a, http.MethodPost, "/api/v1/streams/wall/authors/webhook:troll/ban", `{"reason":"test"}`)
		if code != http.StatusOK {
			t.Fatalf("ban on node-1: %d %s", code, body)
		}
		// The ban is a settings change every node applies from
		// chorus_config: wait until the curation nodes have.
		for _, n := range []*node{b, cc} {
			waitFor(t, "the ban applied on "+n.name, func() bool {
				code, body := admin(t, n, http.MethodGet, "/api/v1/streams/wall/settings", "")
				return code == http.StatusOK && strings.Contains(body, `"webhook:troll"`)
			})
		}
		// node-1 decides nothing (no curation role): troll's next post is
		// decided by node-2 or node-3, whichever holds troll's partition.
		if code := push(cc, "troll-2", "troll", textOf("troll-2")); code != http.StatusAccepted {
			t.Fatalf("push: %d", code)
		}
		if code := push(cc, "after-troll", "someone", textOf("after-troll")); code != http.StatusAccepted {
			t.Fatalf("push: %d", code)
		}
		audit := func() string {
			_, body := admin(t, a, http.MethodGet, "/api/v1/streams/wall/audit?post=webhook:troll-2", "")
			return body
		}
		waitForOr(t, "troll-2 rejected", func() bool { return strings.Contains(audit(), `"reject"`) }, audit)
		for name, s := range walls {
			waitFor(t, "a later post on "+name, func() bool { return s.has("webhook:after-troll") })
			if s.has("webhook:troll-2") {
				t.Errorf("%s shows the banned author's post", name)
			}
		}
	})

	// Which node holds the partition of an author, as the leases bucket
	// says ("" when none does).
	nc, err := nats.Connect(c.nats.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	leases, err := js.KeyValue(t.Context(), bus.LeasesBucket)
	if err != nil {
		t.Fatal(err)
	}
	partitionHolder := func(p int) string {
		e, err := leases.Get(t.Context(), fmt.Sprintf("work.%s.p%02d", curation.PartitionKind, p))
		if err != nil {
			return ""
		}
		var l struct {
			Node string `json:"node"`
		}
		_ = json.Unmarshal(e.Value(), &l)
		return l.Node
	}
	holder := func(authorKey string) string { return partitionHolder(bus.IngestPartition(authorKey)) }

	t.Run("spam caps hold across curation nodes", func(t *testing.T) {
		// node-3 joined after node-2 took every partition: it gets half of
		// them once node-2 has seen it alive for a while. Wait for that, so
		// the posts below are decided by both curation nodes.
		waitFor(t, "the partitions shared by node-2 and node-3", func() bool {
			count := map[string]int{}
			for p := range bus.IngestPartitions {
				count[partitionHolder(p)]++
			}
			return count["node-2"] == bus.IngestPartitions/2 && count["node-3"] == bus.IngestPartitions/2
		})
		// Six posts by one author, two to each node, at once; the cap is 3
		// (author_rate: 3) and the action reject.
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("busy-%d", i)
				if code := push(nodes[i%3], id, "busy", textOf(id)); code != http.StatusAccepted {
					t.Errorf("push %s: %d", id, code)
				}
			}()
		}
		wg.Wait()
		// approvedOf lists the posts approved, and counts those decided.
		approvedOf := func() (approved []string, decided int) {
			for i := range 6 {
				id := fmt.Sprintf("busy-%d", i)
				code, body := admin(t, a, http.MethodGet, "/api/v1/streams/wall/audit?post=webhook:"+id, "")
				switch {
				case code != http.StatusOK:
				case strings.Contains(body, `"approve"`):
					approved = append(approved, id)
					decided++
				case strings.Contains(body, `"reject"`):
					decided++
				}
			}
			return approved, decided
		}
		waitFor(t, "the six posts decided", func() bool { _, n := approvedOf(); return n == 6 })
		approved, _ := approvedOf()
		if len(approved) != 3 {
			t.Fatalf("busy author: %d approved (%v), %d rejected; want 3 and 3", len(approved), approved, 6-len(approved))
		}
		// Near-duplicates span authors, hence partitions: a copy of one of
		// busy's approved texts (a post rejected for the rate is not
		// remembered) by an author whose partition the other node decides
		// is caught.
		busyNode := holder("webhook:busy")
		copycat := ""
		for i := 0; copycat == "" && i < 1000; i++ {
			if h := holder("webhook:copycat" + strconv.Itoa(i)); h != "" && h != busyNode {
				copycat = "copycat" + strconv.Itoa(i)
			}
		}
		if busyNode == "" || copycat == "" {
			t.Fatalf("no author decided by another node than busy's (%q)", busyNode)
		}
		if code := push(b, "copycat", copycat, textOf(approved[0])); code != http.StatusAccepted {
			t.Fatal("push")
		}
		waitFor(t, "the copy rejected as spam", func() bool {
			code, body := admin(t, a, http.MethodGet, "/api/v1/streams/wall/audit?post=webhook:copycat", "")
			return code == http.StatusOK && strings.Contains(body, `"reject"`) && strings.Contains(body, "nearly the same text")
		})
	})

	t.Run("one NATS server killed mid-ingest loses no acknowledged post and shows none twice", func(t *testing.T) {
		const total = 150
		var mu sync.Mutex
		var acked []string
		var wg sync.WaitGroup
		for i := range total {
			if i == total/3 {
				c.nats.Stop(1)
			}
			id := fmt.Sprintf("ingest-%d", i)
			wg.Add(1)
			go func(n *node) {
				defer wg.Done()
				if push(n, id, "ingester"+strconv.Itoa(i), textOf(id)) == http.StatusAccepted {
					mu.Lock()
					acked = append(acked, "webhook:"+id)
					mu.Unlock()
				}
			}(nodes[i%3])
			time.Sleep(5 * time.Millisecond)
		}
		wg.Wait()
		t.Logf("%d of %d pushes acknowledged with a NATS server down", len(acked), total)
		if len(acked) < total/2 {
			t.Fatalf("only %d of %d pushes acknowledged", len(acked), total)
		}
		for name, s := range walls {
			waitForOr(t, "every acknowledged post on "+name, func() bool {
				return !slices.ContainsFunc(acked, func(id string) bool { return !s.has(id) })
			}, func() string {
				// What became of the posts missing: their decisions.
				var out []string
				for _, id := range acked {
					if !s.has(id) {
						_, body := admin(t, b, http.MethodGet, "/api/v1/streams/wall/audit?post="+id, "")
						out = append(out, id+": "+body)
					}
				}
				return strings.Join(out, "\n")
			})
			s.mu.Lock()
			for id, n := range s.adds {
				if n > 1 {
					t.Errorf("%s was shown %d times on %s", id, n, name)
				}
			}
			s.mu.Unlock()
		}
		if err := c.nats.Start(1); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("screens of a display node that dies resume on another with nothing missing or twice", func(t *testing.T) {
		old := walls["node-1"]
		since := old.lastSeq()
		killed := c.kill(a)
		// Posts pushed while the screen is away.
		var missed []string
		for i := range 20 {
			id := fmt.Sprintf("away-%d", i)
			if code := push(nodes[1+i%2], id, "away"+strconv.Itoa(i), textOf(id)); code != http.StatusAccepted {
				t.Fatalf("push: %d", code)
			}
			missed = append(missed, "webhook:"+id)
		}
		old.mu.Lock()
		snapshots := old.snapshots
		old.mu.Unlock()
		reconnected := time.Now()
		old.open(b, "wall", since) // the load balancer sends it to node-2
		waitFor(t, "the missed posts on the resumed screen", func() bool {
			return !slices.ContainsFunc(missed, func(id string) bool { return !old.has(id) })
		})
		t.Logf("FIGURE screen of a killed display node: reconnect to another node to every missed post shown %s (kill to shown %s, 20 posts pushed meanwhile)",
			time.Since(reconnected).Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
		old.mu.Lock()
		defer old.mu.Unlock()
		if old.snapshots != snapshots {
			t.Errorf("the resumed screen got a snapshot instead of the messages after %d", since)
		}
		for id, n := range old.adds {
			if n > 1 {
				t.Errorf("%s was added %d times to the resumed screen", id, n)
			}
		}
	})

	t.Run("each source is polled by one node, and another takes it over from the cursor when it dies", func(t *testing.T) {
		// The feed was polled by one node at a time from the start: the
		// node polling it changed at most once, when node-1 was killed.
		settled := time.Now()
		waitFor(t, "a few polls", func() bool { return len(c.feed.requestsSince(settled)) >= 3 })
		holder := sourceNode(t, cc, "feed")
		if other := sourceNode(t, b, "feed"); other != holder {
			t.Fatalf("node-2 says %s runs the feed, node-3 says %s", other, holder)
		}
		c.feed.mu.Lock()
		var pollers []string
		for _, r := range c.feed.requests {
			if len(pollers) == 0 || pollers[len(pollers)-1] != r.node {
				pollers = append(pollers, r.node)
			}
		}
		c.feed.mu.Unlock()
		if pollers[len(pollers)-1] != holder || len(pollers) > 2 || len(pollers) == 2 && pollers[0] != "node-1" {
			t.Fatalf("the feed was polled by %v in turn; want one node, then (node-1 killed) %s", pollers, holder)
		}
		survivor := map[string]*node{"node-2": cc, "node-3": b}[holder]
		if survivor == nil {
			t.Fatalf("the sources list names %q for the feed", holder)
		}
		news := newScreen(t)
		news.open(survivor, "news", 0)
		news.ready()
		killed := c.kill(c.node(holder))
		waitFor(t, "another node polling the feed", func() bool {
			for _, r := range c.feed.requestsSince(killed) {
				if r.node == survivor.name {
					return true
				}
			}
			return false
		})
		var took time.Duration
		for _, r := range c.feed.requestsSince(killed) {
			if r.node != survivor.name {
				t.Errorf("a feed request from %s after %s was killed", r.node, holder)
			} else if took == 0 {
				took = r.at.Sub(killed)
			}
		}
		t.Logf("FIGURE source takeover after kill -9 of its node (lease_ttl %s): first poll by another node after %s",
			leaseTTL, took.Round(time.Millisecond))
		if got := sourceNode(t, survivor, "feed"); got != survivor.name {
			t.Errorf("the sources list names %q for the feed, want %s", got, survivor.name)
		}
		// Every item from the oldest the screen got to one published after
		// the takeover is shown once: none lost, none repeated.
		last := c.feed.items(time.Now().Add(time.Second))
		numbers := func() (map[int]int, int) {
			news.mu.Lock()
			defer news.mu.Unlock()
			count, first := map[int]int{}, 0
			for _, text := range news.texts {
				if m := itemNumber.FindStringSubmatch(text); m != nil {
					n, _ := strconv.Atoi(m[1])
					count[n]++
					if first == 0 || n < first {
						first = n
					}
				}
			}
			return count, first
		}
		// Items are spread over curation partitions by author, and a
		// partition the killed node decided waits for its lease to expire,
		// so the last item can arrive before earlier ones: wait for them all.
		waitFor(t, fmt.Sprintf("items up to %d on the news screen", last), func() bool {
			count, first := numbers()
			if first == 0 {
				return false
			}
			for n := first; n <= last; n++ {
				if count[n] == 0 {
					return false
				}
			}
			return true
		})
		count, first := numbers()
		for n := first; n <= last; n++ {
			if count[n] != 1 {
				t.Errorf("item %d shown as %d posts", n, count[n])
			}
		}
		news.mu.Lock()
		defer news.mu.Unlock()
		for id, n := range news.adds {
			if n > 1 {
				t.Errorf("%s added %d times", id, n)
			}
		}
		t.Logf("items %d to %d each shown once across the takeover", first, last)
	})
}

// A node asking more copies than the NATS cluster can hold (3 on a cluster
// of two servers) warns and runs with as many as it can.
func TestReplicasWarning(t *testing.T) {
	dir := t.TempDir()
	lc, err := bus.StartLocalCluster(bus.LocalClusterOptions{Size: 2, Dir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lc.Shutdown)
	cfg := filepath.Join(dir, "chorus.yaml")
	if err := os.WriteFile(cfg, []byte("admin_token: "+testToken+"\nlog_level: info\nnats: {replicas: 3}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := startNode(nodeOptions{binary: chorusBinary, dir: dir, name: "alone", port: freePort(t), config: cfg, natsURL: lc.URL()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.cmd.Process.Kill(); <-n.done })
	if err := n.waitReady(t.Context(), 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	log, _ := os.ReadFile(n.logPath)
	if !strings.Contains(string(log), "cannot hold nats.replicas copies") {
		t.Fatalf("no warning about nats.replicas in the log:\n%s", log)
	}
	// What was made holds two copies.
	nc, err := nats.Connect(lc.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, name := range bus.IngestStreams() {
		s, err := js.Stream(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.CachedInfo().Config.Replicas; r != 2 {
			t.Fatalf("ingest stream %s has %d replicas, want 2", name, r)
		}
	}
}
