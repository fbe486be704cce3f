package auth

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// runSetup starts RunSetup and returns the first code it shows.
func runSetup(t *testing.T, h *harness) (code string, done chan error) {
	t.Helper()
	codes := make(chan string, 4)
	ctx, cancel := context.WithCancel(t.Context())
	done = make(chan error, 1)
	go func() {
		done <- h.store.RunSetup(ctx, func(code string, _ time.Time) { codes <- code })
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case code = <-codes:
	case <-time.After(10 * time.Second):
		t.Fatal("no setup code shown")
	}
	return code, done
}

func TestFirstOwnerSetup(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	opts := b.do(http.MethodGet, "/api/v1/login-options", nil).want(t, http.StatusOK)
	if opts.body["setup_needed"] != true || opts.body["sso"] != nil {
		t.Fatalf("login options before setup: %s", opts.raw)
	}
	code, _ := runSetup(t, h)
	if !regexp.MustCompile(`^[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}$`).MatchString(code) {
		t.Fatalf("setup code %q", code)
	}

	body := func(code string) map[string]string {
		return map[string]string{"code": code, "username": "root", "password": testPassword}
	}
	if r := b.do(http.MethodPost, "/api/v1/setup", body("AAAAA-AAAAA-AAAAA")); r.status != http.StatusForbidden || !strings.Contains(r.str("error"), "setup code") {
		t.Fatalf("wrong code: %d %s", r.status, r.raw)
	}
	b.do(http.MethodPost, "/api/v1/setup", map[string]string{"code": code, "username": "root", "password": "short"}).want(t, http.StatusBadRequest)
	// Typed loosely (lower case, spaces): still the code.
	loose := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	r := b.do(http.MethodPost, "/api/v1/setup", body(loose)).want(t, http.StatusCreated)
	if r.str("user") != "root" || r.str("role") != "owner" || r.str("csrf_token") == "" {
		t.Fatalf("setup answer: %s", r.raw)
	}
	b.csrf = r.str("csrf_token")
	b.do(http.MethodGet, "/api/v1/users", nil).want(t, http.StatusOK)

	// Used up; and no more setup once a user exists.
	if r := h.browser().do(http.MethodPost, "/api/v1/setup", body(code)); r.status != http.StatusConflict {
		t.Fatalf("second setup: %d %s", r.status, r.raw)
	}
	if n := countKeys(t, h, setupPrefix); n != 0 {
		t.Fatalf("%d setup codes left after setup", n)
	}
	opts = b.do(http.MethodGet, "/api/v1/login-options", nil).want(t, http.StatusOK)
	if opts.body["setup_needed"] != false {
		t.Fatalf("login options after setup: %s", opts.raw)
	}
}

// Of two setups racing with one code, one wins.
func TestSetupCodeWorksOnce(t *testing.T) {
	h := newHarness(t)
	code, _ := runSetup(t, h)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = h.store.Setup(t.Context(), code, "owner"+string(rune('a'+i)), testPassword)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrBadCode), errors.Is(err, ErrSetupDone):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	users, _ := h.store.Users(t.Context())
	if ok != 1 || len(users) != 1 {
		t.Fatalf("%d setups succeeded, %d users", ok, len(users))
	}
}

func TestSetupCodeExpires(t *testing.T) {
	h := newHarness(t)
	code, _ := runSetup(t, h)
	h.clock.Add(SetupCodeTTL)
	if _, err := h.store.Setup(t.Context(), code, "root", testPassword); !errors.Is(err, ErrBadCode) {
		t.Fatalf("expired code: %v", err)
	}
}

// Wrong codes are throttled per address.
func TestSetupThrottled(t *testing.T) {
	h := newHarness(t)
	runSetup(t, h)
	b := h.browser()
	for range DefaultAddressLimit.Burst {
		b.do(http.MethodPost, "/api/v1/setup", map[string]string{"code": "AAAAA-AAAAA-AAAAA", "username": "root", "password": testPassword}).want(t, http.StatusForbidden)
	}
	r := b.do(http.MethodPost, "/api/v1/setup", map[string]string{"code": "AAAAA-AAAAA-AAAAA", "username": "root", "password": testPassword}).want(t, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "15" {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
}

// RunSetup stops once a user exists, taking its code with it.
func TestRunSetupEndsWhenAUserExists(t *testing.T) {
	h := newHarness(t)
	_, done := runSetup(t, h)
	h.user("root", Owner)
	select {
	case err := <-done:
		done <- err // for the cleanup
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunSetup still running with a user")
	}
	if n := countKeys(t, h, setupPrefix); n != 0 {
		t.Fatalf("%d setup codes left", n)
	}
}
