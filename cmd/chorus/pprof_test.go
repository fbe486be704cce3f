package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The profiles are there for operators with the admin token, and for no
// one else.
func TestPprofNeedsTheAdminToken(t *testing.T) {
	a := startApp(t, t.TempDir(), testConfig)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=2", "/debug/pprof/cmdline"} {
		if code, _ := do(t, mustReq(http.MethodGet, a.base+path)); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
	}
	code, body := a.admin(t, http.MethodGet, "/debug/pprof/")
	if code != http.StatusOK || !strings.Contains(body, "goroutine") || !strings.Contains(body, "heap") {
		t.Fatalf("index: %d %.200s", code, body)
	}
	code, body = a.admin(t, http.MethodGet, "/debug/pprof/goroutine?debug=1")
	if code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("goroutine dump: %d %.200s", code, body)
	}
	// A CPU profile is a gzipped protocol buffer.
	code, body = a.admin(t, http.MethodGet, "/debug/pprof/profile?seconds=1")
	if code != http.StatusOK {
		t.Fatalf("cpu profile: %d %.200s", code, body)
	}
	zr, err := gzip.NewReader(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("cpu profile is not gzip: %v", err)
	}
	if n, err := io.Copy(io.Discard, zr); err != nil || n == 0 {
		t.Fatalf("cpu profile: %d bytes, %v", n, err)
	}
	if code, _ := a.admin(t, http.MethodGet, "/debug/pprof/no-such-profile"); code != http.StatusNotFound {
		t.Errorf("unknown profile: %d, want 404", code)
	}
}
