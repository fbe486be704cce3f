package auth

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestThrottleBuckets(t *testing.T) {
	clk := newClock()
	th := NewThrottle(Limit{Burst: 3, Every: time.Minute}, Limit{Burst: 5, Every: 10 * time.Second}, clk.Now)
	for i := range 3 {
		if w := th.Wait("ana", "192.0.2.1"); w != 0 {
			t.Fatalf("attempt %d throttled (%s)", i+1, w)
		}
		th.Failed("ana", "192.0.2.1")
	}
	if w := th.Wait("ana", "192.0.2.9"); w != time.Minute {
		t.Fatalf("after 3 failures ana waits %s, want 1m (from any address)", w)
	}
	if w := th.Wait("ben", "192.0.2.9"); w != 0 {
		t.Fatalf("ben throttled for ana's failures: %s", w)
	}
	clk.Add(40 * time.Second)
	if w := th.Wait("ana", ""); w != 20*time.Second {
		t.Fatalf("40s later ana waits %s, want 20s", w)
	}
	clk.Add(20 * time.Second)
	if w := th.Wait("ana", ""); w != 0 {
		t.Fatalf("a minute later ana still waits %s", w)
	}
	// One more failure and the wait is back; success clears it.
	th.Failed("ana", "")
	if w := th.Wait("ana", ""); w != time.Minute {
		t.Fatalf("after another failure: %s", w)
	}
	th.Succeeded("ana")
	if w := th.Wait("ana", ""); w != 0 {
		t.Fatalf("after success: %s", w)
	}

	// Per address: failures across many names add up.
	for i := range 5 {
		th.Failed(fmt.Sprintf("user%d", i), "198.51.100.7")
	}
	if w := th.Wait("someone-new", "198.51.100.7"); w != 10*time.Second {
		t.Fatalf("address after 5 failures waits %s, want 10s", w)
	}
	// An IPv6 attacker does not get a fresh bucket per address in its /64.
	for i := range 5 {
		th.Failed("", fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if w := th.Wait("", "2001:db8:1:2:ffff::1"); w == 0 {
		t.Fatal("IPv6 addresses of one /64 counted apart")
	}
	if w := th.Wait("", "2001:db8:1:3::1"); w != 0 {
		t.Fatalf("another /64 throttled: %s", w)
	}
}

func TestLoginThrottled(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Viewer)
	b := h.browser()
	for range DefaultUserLimit.Burst {
		b.login("ana", "wrong wrong wrong wrong").want(t, http.StatusUnauthorized)
	}
	// Now even the right password waits: guessing gets no answer.
	r := b.login("ana", testPassword).want(t, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After %q, want 60", r.header.Get("Retry-After"))
	}
	// Another user from the same address is not locked out.
	h.user("ben", Viewer)
	b.login("ben", testPassword).want(t, http.StatusOK)

	h.clock.Add(time.Minute)
	b.login("ana", testPassword).want(t, http.StatusOK)
	// Success forgot the failures.
	b.login("ana", "wrong wrong wrong wrong").want(t, http.StatusUnauthorized)
	b.login("ana", testPassword).want(t, http.StatusOK)
}

func TestLoginThrottledPerAddress(t *testing.T) {
	h := newHarness(t)
	h.user("ana", Viewer)
	b := h.browser()
	for i := range DefaultAddressLimit.Burst {
		b.login(fmt.Sprintf("guess%d", i), "wrong wrong wrong wrong").want(t, http.StatusUnauthorized)
	}
	r := b.login("ana", testPassword).want(t, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "15" {
		t.Fatalf("Retry-After %q, want 15", r.header.Get("Retry-After"))
	}
}
