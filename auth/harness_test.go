package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/chorus-wall/chorus/bus/bustest"
)

// testParams make hashing cheap in tests; TestArgon2Params checks the real
// costs.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	testPassword  = "correct horse battery staple"
	testToken     = "the-bootstrap-admin-token-0123456789"
	actorKey      = "test.actor"
	streamA       = "a"
	streamB       = "b"
	otherPassword = "a different passphrase entirely"
)

// clock is a time the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is the auth routes on a real embedded NATS, with a clock the
// test controls and a few stream routes standing in for the real ones.
type harness struct {
	t        *testing.T
	clock    *clock
	store    *Store
	guard    *Guard
	handlers *Handlers
	srv      *httptest.Server
	logs     *bytes.Buffer
}

type harnessOption func(*Handlers, *Options)

func withPublicURL(u string) harnessOption {
	return func(h *Handlers, _ *Options) { h.PublicURL = u }
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	conn := bustest.Open(t)
	clk := newClock()
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil))
	storeOpts := Options{Params: testParams, Now: clk.Now, Logger: log}
	handlers := &Handlers{
		Throttle:  NewThrottle(DefaultUserLimit, DefaultAddressLimit, clk.Now),
		PublicURL: "http://chorus.test",
		Log:       log,
	}
	for _, o := range opts {
		o(handlers, &storeOpts)
	}
	store := NewStore(conn.Config, storeOpts)
	handlers.Store = store
	guard := &Guard{Store: store, AdminToken: testToken, ActorKey: actorKey,
		StreamExists: func(id string) bool { return id == streamA || id == streamB }}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		code, msg := http.StatusInternalServerError, err.Error()
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code, msg = he.Code, he.Message.(string)
		}
		_ = c.JSON(code, map[string]string{"error": msg})
	}
	e.IPExtractor = echo.ExtractIPDirect()
	api := e.Group("/api/v1")
	handlers.Register(api, guard)
	act := func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"actor": c.Get(actorKey), "stream": c.Param("id")})
	}
	guard.Handle(api, http.MethodGet, "/streams/:id/queue", Access{Role: Viewer, Stream: true}, act)
	guard.Handle(api, http.MethodPost, "/streams/:id/pause", Access{Role: Moderator, Stream: true}, act)
	guard.Handle(api, http.MethodPut, "/streams/:id/settings", Access{Role: Manager, Stream: true, Create: Owner}, act)
	guard.Handle(api, http.MethodGet, "/sources", Access{Role: Viewer}, act)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &harness{t: t, clock: clk, store: store, guard: guard, handlers: handlers, srv: srv, logs: logs}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// user makes a user directly in the store.
func (h *harness) user(name string, role Role, streams ...string) User {
	h.t.Helper()
	u, err := h.store.CreateUser(h.t.Context(), name, testPassword, Grant{Role: role, Streams: streams}, "test")
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// browser is one browser: a cookie jar and the CSRF token it was given.
type browser struct {
	h      *harness
	client *http.Client
	csrf   string
	bearer string
	origin string
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// withKey is a client sending a bearer credential.
func (h *harness) withKey(secret string) *browser {
	b := h.browser()
	b.bearer = secret
	return b
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) str(key string) string { s, _ := r.body[key].(string); return s }

func (b *browser) do(method, path string, body any) response {
	b.h.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequestWithContext(b.h.t.Context(), method, b.h.srv.URL+path, rd)
	if err != nil {
		b.h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.csrf != "" {
		req.Header.Set(CSRFHeader, b.csrf)
	}
	if b.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+b.bearer)
	}
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// want fails unless r has status code.
func (r response) want(t *testing.T, code int) response {
	t.Helper()
	if r.status != code {
		t.Fatalf("status %d, want %d: %s", r.status, code, r.raw)
	}
	return r
}

// login signs the browser in and keeps its CSRF token.
func (b *browser) login(name, password string) response {
	b.h.t.Helper()
	r := b.do(http.MethodPost, "/api/v1/session", map[string]string{"username": name, "password": password})
	if r.status == http.StatusOK {
		b.csrf = r.str("csrf_token")
	}
	return r
}

// cookie returns the browser's session cookie value.
func (b *browser) cookie() string {
	u, _ := http.NewRequest(http.MethodGet, b.h.srv.URL+"/", nil)
	for _, c := range b.client.Jar.Cookies(u.URL) {
		if c.Name == SessionCookie {
			return c.Value
		}
	}
	return ""
}
