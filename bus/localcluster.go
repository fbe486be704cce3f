package bus

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// LocalCluster is a NATS cluster of servers in this process, each with
// JetStream and its own storage, routed to each other over loopback: what
// `make cluster` and the cluster tests run Chorus nodes against. The
// servers are the same nats-server Chorus embeds, so nothing is downloaded.
type LocalCluster struct {
	Servers []*server.Server
	opts    []*server.Options
}

// LocalClusterOptions say where the servers keep their data and listen.
type LocalClusterOptions struct {
	// Size is how many servers (3 for replicas 3).
	Size int
	// Dir holds each server's storage, in nats-1, nats-2, ...
	Dir string
	// ClientPorts and RoutePorts, one per server; empty picks free ports.
	ClientPorts, RoutePorts []int
	// Name of the cluster; default "chorus-local".
	Name string
}

// StartLocalCluster starts the servers and waits until JetStream has a
// leader, so streams with several replicas can be made at once.
func StartLocalCluster(o LocalClusterOptions) (*LocalCluster, error) {
	if o.Size < 1 {
		o.Size = 3
	}
	if o.Name == "" {
		o.Name = "chorus-local"
	}
	clients, err := portsOr(o.ClientPorts, o.Size)
	if err != nil {
		return nil, err
	}
	routes, err := portsOr(o.RoutePorts, o.Size)
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, p := range routes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	lc := &LocalCluster{}
	for i := range o.Size {
		opts := &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i+1),
			Host:       "127.0.0.1",
			Port:       clients[i],
			JetStream:  true,
			StoreDir:   filepath.Join(o.Dir, fmt.Sprintf("nats-%d", i+1)),
			Cluster:    server.ClusterOpts{Name: o.Name, Host: "127.0.0.1", Port: routes[i]},
			Routes:     server.RoutesFromStr(strings.Join(urls, ",")),
			NoSigs:     true,
			NoLog:      true,
		}
		lc.opts = append(lc.opts, opts)
		lc.Servers = append(lc.Servers, nil)
		if err := lc.Start(i); err != nil {
			lc.Shutdown()
			return nil, err
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for !lc.hasLeader() {
		if time.Now().After(deadline) {
			lc.Shutdown()
			return nil, errors.New("bus: local cluster: JetStream elected no leader within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return lc, nil
}

// Start starts server i (again, after Stop: same ports, same storage).
func (lc *LocalCluster) Start(i int) error {
	// Each start gets its own copy: a server adjusts the options it is
	// given, and the stopped one's goroutines may still read theirs.
	ns, err := server.NewServer(lc.opts[i].Clone())
	if err != nil {
		return fmt.Errorf("bus: local cluster server %d: %w", i+1, err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return fmt.Errorf("bus: local cluster server %d did not start within 30s", i+1)
	}
	lc.Servers[i] = ns
	return nil
}

// Stop shuts server i down, as if it died: its clients reconnect to the
// others.
func (lc *LocalCluster) Stop(i int) {
	if ns := lc.Servers[i]; ns != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		lc.Servers[i] = nil
	}
}

// URL lists every server's client address, for nats.url.
func (lc *LocalCluster) URL() string {
	var urls []string
	for _, o := range lc.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

// Shutdown stops every server.
func (lc *LocalCluster) Shutdown() {
	for i := range lc.Servers {
		lc.Stop(i)
	}
}

func (lc *LocalCluster) hasLeader() bool {
	for _, ns := range lc.Servers {
		if ns != nil && ns.JetStreamIsLeader() {
			return true
		}
	}
	return false
}

// portsOr returns ports when it has n of them, else n free ports.
func portsOr(ports []int, n int) ([]int, error) {
	if len(ports) == n {
		return ports, nil
	}
	if len(ports) != 0 {
		return nil, fmt.Errorf("bus: local cluster: %d ports for %d servers", len(ports), n)
	}
	out := make([]int, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("bus: local cluster: free port: %w", err)
		}
		out[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	return out, nil
}
