package main

import (
	"net/http"
	"strings"
	"testing"
)

// The media proxy is mounted, refuses what it did not sign, and its signing
// key lives in the chorus_config bucket: a URL signed before a restart is
// still honoured after it (and would be by every node of a cluster).
func TestMediaProxyRoute(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, dir, testConfig)
	// A loopback upstream is refused at dial time: nothing is fetched.
	signed := a.media.URL("https://127.0.0.1:9/avatar.png")
	if !strings.HasPrefix(signed, "/media/") {
		t.Fatalf("signed URL %q", signed)
	}
	code, body := do(t, mustReq(http.MethodGet, a.base+signed))
	if code != http.StatusForbidden || !strings.Contains(body, "upstream address refused") {
		t.Fatalf("signed loopback URL: %d %s", code, body)
	}
	tampered := signed[:len(signed)-3] + "AAA"
	code, body = do(t, mustReq(http.MethodGet, a.base+tampered))
	if code != http.StatusForbidden || !strings.Contains(body, "unsigned or tampered") {
		t.Fatalf("tampered URL: %d %s", code, body)
	}
	a.stop(t)

	b := startApp(t, dir, testConfig)
	if again := b.media.URL("https://127.0.0.1:9/avatar.png"); again != signed {
		t.Fatalf("after a restart the same URL signs as %q, before %q", again, signed)
	}
	code, body = do(t, mustReq(http.MethodGet, b.base+"/metrics"))
	if code != http.StatusOK || !strings.Contains(body, "chorus_media_cache_bytes") {
		t.Fatalf("metrics: %d", code)
	}
}
