package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestTrustedProxies: the client address in logs comes from X-Forwarded-For
// (the rightmost hop that is not a trusted proxy) or X-Real-IP only when
// the TCP peer is a trusted proxy; otherwise the headers are ignored.
func TestTrustedProxies(t *testing.T) {
	withProxies := func(list string) string {
		return strings.Replace(testConfig, `server: {addr: "127.0.0.1:0"}`,
			`server: {addr: "127.0.0.1:0", trusted_proxies: [`+list+`]}`, 1)
	}
	// The test's requests come from 127.0.0.1.
	apps := map[string]string{
		"none":      testConfig,
		"peer":      withProxies(`"127.0.0.1"`),
		"peer+hops": withProxies(`"127.0.0.0/8", "10.0.0.0/8"`),
		"elsewhere": withProxies(`"10.0.0.0/8"`),
	}
	cases := []struct {
		app     string
		headers map[string]string
		want    string
	}{
		{"none", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "127.0.0.1"},
		{"none", map[string]string{"X-Real-IP": "203.0.113.7"}, "127.0.0.1"},
		{"elsewhere", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "127.0.0.1"},
		{"elsewhere", map[string]string{"X-Real-IP": "10.1.2.3"}, "127.0.0.1"},
		{"peer", map[string]string{}, "127.0.0.1"},
		{"peer", map[string]string{"X-Forwarded-For": "203.0.113.7"}, "203.0.113.7"},
		// The client forged the first hop; the proxy appended what it saw.
		{"peer", map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}, "203.0.113.7"},
		{"peer", map[string]string{"X-Forwarded-For": "2001:db8::5"}, "2001:db8::5"},
		{"peer", map[string]string{"X-Real-IP": "203.0.113.8"}, "203.0.113.8"},
		{"peer", map[string]string{"X-Real-IP": "not an address"}, "127.0.0.1"},
		// X-Forwarded-For wins over X-Real-IP.
		{"peer", map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "198.51.100.2"}, "203.0.113.9"},
		// A private hop is the client unless it is a listed proxy.
		{"peer", map[string]string{"X-Forwarded-For": "203.0.113.7, 10.0.0.5"}, "10.0.0.5"},
		{"peer+hops", map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.0.0.5"}, "203.0.113.7"},
		// Garbage in the chain stops the walk at the peer.
		{"peer+hops", map[string]string{"X-Forwarded-For": "203.0.113.7, garbage, 10.0.0.5"}, "127.0.0.1"},
	}
	started := map[string]*testApp{}
	logs := map[string]*logBuffer{}
	for name, yaml := range apps {
		started[name], logs[name] = startFromFile(t, t.TempDir(), yaml)
	}
	for i, tc := range cases {
		path := "/probe-" + strconv.Itoa(i)
		req := mustReq(http.MethodGet, started[tc.app].base+path)
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		if code, _ := do(t, req); code != http.StatusNotFound {
			t.Fatalf("%s: %d", path, code)
		}
		lines := logs[tc.app].lines("INFO", "msg=http", "path="+path+" ")
		if len(lines) != 1 || !strings.HasSuffix(lines[0], " remote="+tc.want) {
			t.Errorf("%s with %v: logged %q, want remote=%s", tc.app, tc.headers, lines, tc.want)
		}
	}
}

// TestSpoofedAddressesDoNotEscapeThrottling: a client that is not behind a
// trusted proxy cannot pose as new addresses to get more guesses; behind
// one, each client has its own allowance.
func TestSpoofedAddressesDoNotEscapeThrottling(t *testing.T) {
	guess := func(t *testing.T, app *testApp, from string) int {
		t.Helper()
		body := `{"code":"WRONG-GUESS","username":"mallory","password":"correct horse battery staple"}`
		req, _ := http.NewRequest(http.MethodPost, app.base+"/api/v1/setup", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		code, _ := do(t, req)
		return code
	}
	// auth.DefaultAddressLimit: 20 failures from one address, then waits.
	const allowance = 20
	t.Run("untrusted peer", func(t *testing.T) {
		app := startApp(t, t.TempDir(), testConfig)
		for i := range allowance {
			if code := guess(t, app, "203.0.113."+strconv.Itoa(i)); code != http.StatusForbidden {
				t.Fatalf("guess %d: %d, want 403", i, code)
			}
		}
		if code := guess(t, app, "198.51.100.99"); code != http.StatusTooManyRequests {
			t.Fatalf("a new X-Forwarded-For from the same peer: %d, want 429", code)
		}
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		app := startApp(t, t.TempDir(), strings.Replace(testConfig, `server: {addr: "127.0.0.1:0"}`,
			`server: {addr: "127.0.0.1:0", trusted_proxies: ["127.0.0.1/32"]}`, 1))
		for i := range allowance {
			if code := guess(t, app, "203.0.113.7"); code != http.StatusForbidden {
				t.Fatalf("guess %d: %d, want 403", i, code)
			}
		}
		if code := guess(t, app, "203.0.113.7"); code != http.StatusTooManyRequests {
			t.Fatalf("the guessing client: %d, want 429", code)
		}
		if code := guess(t, app, "198.51.100.99"); code != http.StatusForbidden {
			t.Fatalf("another client behind the same proxy: %d, want 403 (its own allowance)", code)
		}
	})
}
