// Command chorus-cluster runs Chorus the way a large installation does, on
// one machine: a NATS cluster of three servers (the nats-server Chorus
// embeds, run in this process: nothing to download) and three Chorus nodes
// on their own ports and data directories, every stream and bucket kept in
// three copies. `make cluster` runs it; Ctrl-C stops the nodes (SIGTERM,
// so they hand their work over) and then NATS.
//
//	go run ./cmd/chorus-cluster -binary bin/chorus [-dir .cluster] [-port 8081]
//	                            [-nats-port 4301] [-roles all,all,all] [-config FILE]
//
// The data stays in -dir between runs, like `make run`'s ./data; delete
// the directory to start afresh.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chorus-wall/chorus/bus"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command line.
type options struct {
	binary   string
	dir      string
	port     int
	natsPort int
	roles    []string
	config   string
}

func parse(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("chorus-cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var roles string
	fs.StringVar(&o.binary, "binary", "bin/chorus", "the chorus binary to run")
	fs.StringVar(&o.dir, "dir", ".cluster", "where NATS and the nodes keep their data and logs")
	fs.IntVar(&o.port, "port", 8081, "HTTP port of the first node; the others take the next ones")
	fs.IntVar(&o.natsPort, "nats-port", 4301, "client port of the first NATS server; the others take the next ones, routes 100 above")
	fs.StringVar(&roles, "roles", "all,all,all", "each node's roles, by node, with '+' between roles: all or connectors+curation+index+display+api")
	fs.StringVar(&o.config, "config", "", "a Chorus config for every node (default: the demo stream on three copies)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, r := range strings.Split(roles, ",") {
		if r == "all" {
			r = ""
		}
		o.roles = append(o.roles, strings.ReplaceAll(r, "+", ","))
	}
	if len(o.roles) != 3 {
		return o, fmt.Errorf("-roles: %q names %d nodes; give three", roles, len(o.roles))
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "chorus-cluster:", err)
		return 2
	}
	if err := runCluster(ctx, o, stdout); err != nil {
		fmt.Fprintln(stderr, "chorus-cluster:", err)
		return 1
	}
	return 0
}

// demoConfig is every node's config when -config is not given; the nodes
// run with --demo, which adds the demo source and stream.
const demoConfig = `# Written by chorus-cluster: every node reads it.
nats:
  url: %q
  replicas: 3
`

func runCluster(ctx context.Context, o options, out io.Writer) error {
	if _, err := os.Stat(o.binary); err != nil {
		return fmt.Errorf("%s: %w (make build makes it)", o.binary, err)
	}
	if err := os.MkdirAll(o.dir, 0o750); err != nil {
		return err
	}
	natsPorts := []int{o.natsPort, o.natsPort + 1, o.natsPort + 2}
	nc, err := bus.StartLocalCluster(bus.LocalClusterOptions{
		Size: 3, Dir: filepath.Join(o.dir, "nats"), ClientPorts: natsPorts,
		RoutePorts: []int{o.natsPort + 100, o.natsPort + 101, o.natsPort + 102},
	})
	if err != nil {
		return err
	}
	defer func() {
		nc.Shutdown()
		fmt.Fprintln(out, "NATS cluster stopped")
	}()
	fmt.Fprintf(out, "NATS cluster of 3 servers (JetStream, data in %s): %s\n", filepath.Join(o.dir, "nats"), nc.URL())

	cfgPath := o.config
	if cfgPath == "" {
		cfgPath = filepath.Join(o.dir, "chorus.yaml")
		if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(demoConfig, nc.URL())), 0o600); err != nil {
			return err
		}
	}
	var nodes []*node
	defer func() {
		stopNodes(nodes, out)
	}()
	// The first node makes the streams and buckets; the others start once
	// it is ready.
	for i := range 3 {
		n, err := startNode(nodeOptions{binary: o.binary, dir: o.dir, name: fmt.Sprintf("node-%d", i+1), port: o.port + i,
			roles: o.roles[i], config: cfgPath, demo: o.config == "", natsURL: nc.URL()}, out)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		if i == 0 || i == 2 {
			for _, n := range nodes {
				if err := n.waitReady(ctx, 2*time.Minute); err != nil {
					return err
				}
			}
		}
	}
	fmt.Fprintf(out, "\nThree Chorus nodes are ready:\n")
	for _, n := range nodes {
		fmt.Fprintf(out, "  %s  %s  (roles: %s; log %s)\n", n.name, n.url, orAll(n.roles), n.logPath)
	}
	fmt.Fprintf(out, "Open %s/wall/demo, %s/wall/demo or %s/wall/demo: the same wall from every node.\n",
		nodes[0].url, nodes[1].url, nodes[2].url)
	fmt.Fprintf(out, "Admin token (the same on every node): %s\n", filepath.Join(o.dir, "node-1", "admin-token"))
	fmt.Fprintf(out, "Which node polls each source: curl -H \"Authorization: Bearer $(cat %s)\" %s/api/v1/sources\n",
		filepath.Join(o.dir, "node-1", "admin-token"), nodes[0].url)
	fmt.Fprintf(out, "Ctrl-C stops the nodes and NATS.\n\n")

	exited := make(chan *node, len(nodes))
	for _, n := range nodes {
		go func() { <-n.done; exited <- n }()
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(out, "\nstopping the nodes")
		return nil
	case n := <-exited:
		return fmt.Errorf("%s exited (%v); see %s", n.name, n.err, n.logPath)
	}
}

func orAll(roles string) string {
	if roles == "" {
		return "all"
	}
	return roles
}

// node is one chorus process.
type node struct {
	name, url, roles, logPath string
	cmd                       *exec.Cmd
	done                      chan struct{}
	err                       error
}

// nodeOptions say how to run one node.
type nodeOptions struct {
	binary, dir, name string
	port              int
	// roles, comma-separated ("": all).
	roles   string
	config  string
	demo    bool
	natsURL string
	// env is added to the node's environment.
	env []string
}

func startNode(o nodeOptions, out io.Writer) (*node, error) {
	name := o.name
	n := &node{name: name, url: fmt.Sprintf("http://127.0.0.1:%d", o.port), roles: o.roles,
		logPath: filepath.Join(o.dir, name+".log"), done: make(chan struct{})}
	args := []string{"serve", "--config", o.config, "--data", filepath.Join(o.dir, name),
		"--addr", fmt.Sprintf("127.0.0.1:%d", o.port), "--node", name}
	if o.demo {
		args = append(args, "--demo")
	}
	if n.roles != "" {
		args = append(args, "--roles", n.roles)
	}
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, err
	}
	n.cmd = exec.Command(o.binary, args...)
	n.cmd.Env = append(append(os.Environ(), "CHORUS_NATS_URL="+o.natsURL, "CHORUS_PUBLIC_URL="+n.url), o.env...)
	// Each line goes to the node's log file, and warnings to the terminal.
	pr, pw := io.Pipe()
	n.cmd.Stdout, n.cmd.Stderr = pw, pw
	if err := n.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		defer logFile.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
				fmt.Fprintf(out, "%s | %s\n", name, line)
			}
		}
	}()
	go func() {
		n.err = n.cmd.Wait()
		pw.Close()
		close(n.done)
	}()
	return n, nil
}

// waitReady waits for the node's /readyz, for at most within.
func (n *node) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		select {
		case <-n.done:
			return fmt.Errorf("%s exited while starting (%v); see %s", n.name, n.err, n.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if resp, err := http.Get(n.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s; see %s", n.name, within, n.logPath)
		}
	}
}

// stopNodes sends SIGTERM to every node at once and waits for them (killing
// one that takes longer than 30 s).
func stopNodes(nodes []*node, out io.Writer) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-n.done:
			case <-time.After(30 * time.Second):
				_ = n.cmd.Process.Kill()
				<-n.done
			}
			fmt.Fprintf(out, "%s stopped\n", n.name)
		}()
	}
	wg.Wait()
}
