package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// startNATS runs a standalone NATS server with JetStream, as an operator's
// cluster would be, on port (-1 picks one) and storage dir.
func startNATS(t *testing.T, port int, dir string) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// Pulling the plug on NATS must not take Chorus down: it reports not ready,
// refuses pushes with 503 (nothing half-stored), keeps screens connected,
// and recovers by itself when NATS is back.
func TestNATSOutage(t *testing.T) {
	natsDir := t.TempDir()
	ns := startNATS(t, -1, natsDir)
	url := ns.ClientURL()
	port := ns.Addr().(*net.TCPAddr).Port
	app := startApp(t, t.TempDir(), testConfig+"nats: {url: \""+url+"\"}\n")
	wall := app.dial(t, "wall", "")
	next(t, wall)
	if code, _ := app.push(t, `{"id":"before","text":"before the outage"}`); code != http.StatusAccepted {
		t.Fatal("push before outage")
	}
	expect(t, wall, "add webhook:before")

	ns.Shutdown()
	ns.WaitForShutdown()
	waitStatus(t, app.base+"/readyz", http.StatusServiceUnavailable)
	if code, body := do(t, mustReq(http.MethodGet, app.base+"/healthz")); code != http.StatusOK {
		t.Fatalf("healthz during outage: %d %s", code, body)
	}
	if ids := snapshotIDs(t, app, "wall"); strings.Join(ids, ",") != "webhook:before" {
		t.Fatalf("snapshot during outage: %v", ids)
	}
	start := time.Now()
	code, body := app.push(t, `{"id":"during","text":"during the outage"}`)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "not connected") {
		t.Fatalf("push during outage: %d %s", code, body)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("push during outage took %s; it should fail fast", waited)
	}

	// NATS comes back on the same address with its data.
	startNATS(t, port, natsDir)
	waitStatus(t, app.base+"/readyz", http.StatusOK)
	var pushed bool
	waitFor(t, "push accepted again", func() bool {
		code, _ := app.push(t, `{"id":"after","text":"after the outage"}`)
		pushed = code == http.StatusAccepted
		return pushed
	})
	// The screen that stayed connected gets the new post live. (The push
	// refused during the outage may still have been stored when NATS came
	// back; the sender would retry it anyway and the dedupe keeps one.)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		m := next(t, wall)
		if describe(m) == "add webhook:after" {
			return
		}
		if describe(m) != "add webhook:during" {
			t.Fatalf("unexpected %q", describe(m))
		}
	}
	t.Fatal("post after the outage never reached the screen")
}

// An operator who pulls the plug on NATS and then stops Chorus sees it
// stop: no stage waits on NATS on its way out (its watches, the display's
// last checkpoint, the setup code, the cluster's leases). A NATS request
// made during an outage waits out its whole timeout (5 s), so a stop that
// made even one would not be done within stopBudget; one that makes none
// takes milliseconds.
func TestStopDuringNATSOutage(t *testing.T) {
	const stopBudget = 4 * time.Second
	ns := startNATS(t, -1, t.TempDir())
	app := startApp(t, t.TempDir(), testConfig+"nats: {url: \""+ns.ClientURL()+"\"}\n")
	wall := app.dial(t, "wall", "")
	next(t, wall)
	if code, _ := app.push(t, `{"id":"before","text":"before the outage"}`); code != http.StatusAccepted {
		t.Fatal("push before outage")
	}
	// The screen has the post, so the display has a checkpoint to write.
	expect(t, wall, "add webhook:before")

	ns.Shutdown()
	ns.WaitForShutdown()
	waitStatus(t, app.base+"/readyz", http.StatusServiceUnavailable)
	ctx, cancel := context.WithTimeout(context.Background(), stopBudget)
	defer cancel()
	if err := app.Stop(ctx); err != nil {
		t.Fatalf("stop during the outage: %v", err)
	}
}

// Two chorus processes on one NATS: a rule changed on one applies on the
// other, curation work is shared, and both screens see every post.
func TestTwoNodesShareSettingsAndWork(t *testing.T) {
	ns := startNATS(t, -1, t.TempDir())
	cfg := testConfig + "nats: {url: \"" + ns.ClientURL() + "\"}\n"
	a := startApp(t, t.TempDir(), cfg)
	b := startApp(t, t.TempDir(), cfg)
	wallB := b.dial(t, "wall", "")
	next(t, wallB)

	if code, body := a.adminJSON(t, http.MethodPut, "/api/v1/streams/wall/rules",
		`{"rules":[{"name":"no cats","when":{"keywords":["cat"]},"action":"reject"}]}`); code != http.StatusOK {
		t.Fatalf("put rules on a: %d %s", code, body)
	}
	start := time.Now()
	waitFor(t, "rule on b", func() bool { return strings.Contains(mustBody(t, b, "/api/v1/streams/wall/rules"), "no cats") })
	t.Logf("rule reached the other node in %s", time.Since(start))

	// Posts pushed to either node are decided once (by whichever node's
	// curation worker takes them) and reach the screen on node b.
	for i := range 10 {
		node := a
		if i%2 == 1 {
			node = b
		}
		text := "dog number " + strconv.Itoa(i)
		if i == 4 {
			text = "cat"
		}
		if code, _ := node.push(t, `{"id":"`+strconv.Itoa(i)+`","text":"`+text+`","author":{"handle":"fan`+strconv.Itoa(i)+`"}}`); code != http.StatusAccepted {
			t.Fatal("push")
		}
	}
	seen := map[string]int{}
	for len(seen) < 9 {
		m := next(t, wallB)
		if m.Type == "add" {
			seen[m.Post.ID]++
		}
	}
	if seen["webhook:4"] != 0 {
		t.Fatal("the rule from node a did not apply on every node")
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s shown %d times", id, n)
		}
	}
}
