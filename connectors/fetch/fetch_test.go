package fetch

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/connectors"
)

func TestStatusHandling(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("User-Agent") != "Chorus/test" {
			t.Errorf("user agent %q", r.Header.Get("User-Agent"))
		}
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"a":1}`))
		case "/x-limited":
			w.Header().Set("x-rate-limit-remaining", "0")
			w.Header().Set("x-rate-limit-reset", strconv.FormatInt(now.Add(90*time.Second).Unix(), 10))
			w.WriteHeader(http.StatusTooManyRequests)
		case "/retry-after":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/last-call":
			w.Header().Set("X-Ratelimit-Remaining", "0.0")
			w.Header().Set("X-Ratelimit-Reset", "42")
			w.Write([]byte(`{}`))
		case "/unauthorized":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"bad token"}`))
		case "/down":
			w.WriteHeader(http.StatusBadGateway)
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	newClient := func() *Client {
		c := New("test", "Chorus/test")
		c.Now = func() time.Time { return now }
		return c
	}
	var retry *connectors.RetryError
	var auth *connectors.AuthError
	var status *StatusError

	c := newClient()
	var v struct{ A int }
	if _, err := c.GetJSON(t.Context(), srv.URL+"/ok", nil, &v); err != nil || v.A != 1 {
		t.Fatalf("ok: %v %+v", err, v)
	}

	c = newClient()
	_, err := c.Get(t.Context(), srv.URL+"/x-limited", nil)
	if !errors.As(err, &retry) || retry.Wait != 90*time.Second {
		t.Fatalf("429 with reset: %v", err)
	}
	before := calls.Load()
	_, err = c.Get(t.Context(), srv.URL+"/ok", nil)
	if !errors.As(err, &retry) || calls.Load() != before {
		t.Fatalf("a blocked client called the network: %v, calls %d -> %d", err, before, calls.Load())
	}
	now = now.Add(91 * time.Second)
	if _, err := c.Get(t.Context(), srv.URL+"/ok", nil); err != nil {
		t.Fatalf("after the reset: %v", err)
	}

	c = newClient()
	if _, err := c.Get(t.Context(), srv.URL+"/retry-after", nil); !errors.As(err, &retry) || retry.Wait != 7*time.Second {
		t.Fatalf("retry-after: %v", err)
	}

	c = newClient()
	if _, err := c.Get(t.Context(), srv.URL+"/last-call", nil); err != nil {
		t.Fatalf("last call of the quota succeeds: %v", err)
	}
	if _, err := c.Get(t.Context(), srv.URL+"/ok", nil); !errors.As(err, &retry) || retry.Wait != 42*time.Second {
		t.Fatalf("the next waits for the reset: %v", err)
	}

	c = newClient()
	if _, err := c.Get(t.Context(), srv.URL+"/unauthorized", nil); !errors.As(err, &auth) || auth.Status != 401 || !IsAuth(err) {
		t.Fatalf("401: %v", err)
	}
	if _, err := c.Get(t.Context(), srv.URL+"/down", nil); errors.As(err, &retry) || !errors.As(err, &status) || status.Status != 502 {
		t.Fatalf("502: %v", err)
	}
	if _, err := c.Get(t.Context(), srv.URL+"/missing?key=secret123", nil); !errors.As(err, &status) || status.Status != 404 {
		t.Fatalf("404: %v", err)
	} else if msg := err.Error(); msg == "" || strings.Contains(msg, "secret123") {
		t.Fatalf("error leaks the key: %s", msg)
	}
}

func TestResetFormats(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":      0,
		"30":    30 * time.Second,
		"598.0": 598 * time.Second,
		strconv.FormatInt(now.Add(time.Minute).Unix(), 10): time.Minute,
		"2026-11-23T12:05:00.000Z":                         5 * time.Minute,
		"2026-11-23T12:05:00Z":                             5 * time.Minute,
		"Mon, 23 Nov 2026 12:02:00 GMT":                    2 * time.Minute,
		"soon":                                             0,
	} {
		if got := resetIn(in, now); got != want {
			t.Errorf("resetIn(%q) = %s, want %s", in, got, want)
		}
	}
}
