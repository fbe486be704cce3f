package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/chorus-wall/chorus/config"
	bt "github.com/chorus-wall/chorus/static/browsertest"
)

// TestMain lets a test start this binary as a real chorus process: with
// CHORUS_TEST_AS_CHORUS=1 it runs main instead of the tests. Browser tests
// share one Chromium (browsertest.Run).
func TestMain(m *testing.M) {
	if os.Getenv("CHORUS_TEST_AS_CHORUS") == "1" {
		main()
		return
	}
	os.Exit(bt.Run(m))
}

// process is a chorus command running as its own OS process.
type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// syncBuffer is the process's stdout and stderr, read while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startProcess runs chorus with args; the test kills it at the end if it
// is still running.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: exec.Command(exe, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "CHORUS_TEST_AS_CHORUS=1")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("output of %v:\n%s", args, p.out.String())
		}
	})
	return p
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to end and returns its exit code.
func (p *process) wait(t *testing.T) int {
	t.Helper()
	waitFor(t, "the process to exit", p.exited)
	return p.cmd.ProcessState.ExitCode()
}

var servingAddr = regexp.MustCompile(`chorus is serving"? addr=(\S+)`)

// serving waits until the process logs its address and returns its base URL.
func (p *process) serving(t *testing.T) string {
	t.Helper()
	var addr string
	waitFor(t, "chorus to serve", func() bool {
		if p.exited() {
			t.Fatalf("chorus exited: %s", p.out.String())
		}
		m := servingAddr.FindStringSubmatch(p.out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	base := "http://" + addr
	waitStatus(t, base+"/readyz", http.StatusOK)
	return base
}

// Two chorus processes on one data directory: the second exits at once
// naming the first, the first keeps serving and stops on SIGTERM, and a
// crash (kill -9) leaves nothing that blocks the next start.
func TestDataDirectoryIsLocked(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "chorus.yaml")
	cfg := strings.Replace(testConfig, "log_level: warn", "log_level: info", 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := []string{"serve", "--config", cfgPath, "--data", dir}

	first := startProcess(t, serve...)
	base := first.serving(t)
	inUse := "data directory " + dir + " in use by pid " + strconv.Itoa(first.cmd.Process.Pid)

	second := startProcess(t, serve...)
	if code := second.wait(t); code != exitFailed {
		t.Fatalf("second serve exited %d, want %d:\n%s", code, exitFailed, second.out.String())
	}
	if !strings.Contains(second.out.String(), inUse) {
		t.Fatalf("second serve says:\n%s\nwant %q", second.out.String(), inUse)
	}

	// index rebuild refuses the same way and leaves the live index alone.
	var out bytes.Buffer
	if code := run(t.Context(), []string{"index", "rebuild", "--config", cfgPath, "--data", dir}, &out, &out); code != exitFailed ||
		!strings.Contains(out.String(), inUse) {
		t.Fatalf("rebuild under a running serve: exit %d: %s", code, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "index")); err != nil {
		t.Fatalf("the live index is gone: %v", err)
	}
	waitStatus(t, base+"/readyz", http.StatusOK)

	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := first.wait(t); code != exitOK {
		t.Fatalf("serve exited %d after SIGTERM:\n%s", code, first.out.String())
	}

	// The lock file is still there with a dead pid in it; it must not block.
	crashed := startProcess(t, serve...)
	crashed.serving(t)
	if err := crashed.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	crashed.wait(t)
	again := startApp(t, dir, testConfig)
	if code, body := again.admin(t, http.MethodGet, "/api/v1/streams/wall/queue"); code != http.StatusOK {
		t.Fatalf("after a crash: %d %s", code, body)
	}
	// A second App in this process is refused too.
	c, err := config.Parse([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	c.DataDir = dir
	app, err := NewApp(c, sourceTypes(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	err = app.Start(t.Context())
	if want := "data directory " + dir + " in use by pid " + strconv.Itoa(os.Getpid()); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second App: %v, want %q", err, want)
	}
}
