// Package fetch is the HTTP client every network source uses: it names
// Chorus in the User-Agent, bounds what it reads, learns rate limits from
// the networks' headers and turns refusals into errors the connector runner
// understands (wait for the reset; back off; stop hammering on bad
// credentials).
package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chorus-wall/chorus/connectors"
)

// MaxBody bounds a response body read by Do.
const MaxBody = 16 << 20

// Client calls one network's API.
type Client struct {
	// Network names the API in errors ("mastodon").
	Network   string
	UserAgent string
	HTTP      *http.Client
	Now       func() time.Time

	mu sync.Mutex
	// blockedUntil is when the quota the network reported as used up resets.
	blockedUntil time.Time
}

// New returns a client with a 30-second timeout per call.
func New(network, userAgent string) *Client {
	return &Client{Network: network, UserAgent: userAgent, HTTP: &http.Client{Timeout: 30 * time.Second}, Now: time.Now}
}

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// StatusError is an unexpected HTTP status, with the start of the body so
// a connector can read the network's own error (a YouTube quota, a Graph
// API error code).
type StatusError struct {
	Network string
	Method  string
	URL     string
	Status  int
	Body    []byte
}

func (e *StatusError) Error() string {
	body := strings.TrimSpace(string(e.Body))
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return fmt.Sprintf("%s: %s %s: HTTP %d: %s", e.Network, e.Method, redact(e.URL), e.Status, body)
}

// Get fetches url with header and returns the response for 2xx and 304.
func (c *Client) Get(ctx context.Context, url string, header http.Header) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Network, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return c.Do(req)
}

// GetJSON fetches url and decodes a 2xx body into v. A 304 leaves v alone
// and is reported in the response.
func (c *Client) GetJSON(ctx context.Context, url string, header http.Header, v any) (*Response, error) {
	resp, err := c.Get(ctx, url, header)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusNotModified {
		return resp, nil
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return resp, fmt.Errorf("%s: decode %s: %w", c.Network, redact(url), err)
	}
	return resp, nil
}

// Do sends req (adding the User-Agent) and reads the whole body.
func (c *Client) Do(req *http.Request) (*Response, error) {
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", c.Network, redact(req.URL.String()), err)
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%s: %s: response larger than %d bytes", c.Network, redact(req.URL.String()), MaxBody)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Stream sends req for a long-lived response (a streaming API) and returns
// it open on success; the caller closes the body. Use a client whose
// http.Client has no overall timeout.
func (c *Client) Stream(req *http.Request) (*http.Response, error) {
	return c.send(req)
}

// send waits for nothing: when the quota is known to be used up it returns
// a RetryError at once, without calling the network.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	if wait := c.blocked(); wait > 0 {
		return nil, &connectors.RetryError{Wait: wait, Err: fmt.Errorf("%s: rate limit reached", c.Network)}
	}
	req.Header.Set("User-Agent", c.UserAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s: %w", c.Network, req.Method, redact(req.URL.String()), err)
	}
	reset, limited := c.learn(resp.Header)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300, resp.StatusCode == http.StatusNotModified:
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	serr := &StatusError{Network: c.Network, Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode, Body: body}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := RetryAfter(resp.Header, c.Now())
		if wait <= 0 && limited {
			wait = reset
		}
		if wait <= 0 {
			wait = 30 * time.Second
		}
		c.block(wait)
		return nil, &connectors.RetryError{Wait: wait, Err: serr}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, &connectors.AuthError{Status: resp.StatusCode, Err: serr}
	case resp.StatusCode >= 500:
		if wait := RetryAfter(resp.Header, c.Now()); wait > 0 {
			return nil, &connectors.RetryError{Wait: wait, Err: serr}
		}
	}
	return nil, serr
}

func (c *Client) blocked() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blockedUntil.Sub(c.Now())
}

func (c *Client) block(wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until := c.Now().Add(wait); until.After(c.blockedUntil) {
		c.blockedUntil = until
	}
}

// learn reads rate-limit headers. When the quota is used up it blocks the
// client until the reset and reports the wait.
func (c *Client) learn(h http.Header) (time.Duration, bool) {
	remaining, reset, ok := RateLimit(h, c.Now())
	if !ok || remaining > 0 || reset <= 0 {
		return 0, false
	}
	c.block(reset)
	return reset, true
}

// The rate-limit header families networks send: X ("x-rate-limit-*", reset
// in epoch seconds), Reddit ("x-ratelimit-*", reset in seconds from now),
// Mastodon ("X-RateLimit-*", reset as an ISO 8601 time) and the IETF draft
// used by Bluesky ("ratelimit-*", reset in epoch seconds or seconds).
var rateHeaders = [][2]string{
	{"X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"},
	{"X-Ratelimit-Remaining", "X-Ratelimit-Reset"},
	{"Ratelimit-Remaining", "Ratelimit-Reset"},
}

// RateLimit returns the remaining calls and the wait until the quota resets,
// from whichever header family h carries.
func RateLimit(h http.Header, now time.Time) (remaining float64, reset time.Duration, ok bool) {
	for _, pair := range rateHeaders {
		rem := h.Get(pair[0])
		if rem == "" {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(rem), 64)
		if err != nil {
			continue
		}
		return n, resetIn(h.Get(pair[1]), now), true
	}
	return 0, 0, false
}

// resetIn reads a reset value: epoch seconds, seconds from now, or a time.
func resetIn(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f > 1e9 { // epoch seconds
			return time.Unix(int64(f), 0).Sub(now)
		}
		return time.Duration(f * float64(time.Second))
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.000000Z", http.TimeFormat} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Sub(now)
		}
	}
	return 0
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date).
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}

// IsAuth reports whether err is a refusal of the credentials.
func IsAuth(err error) bool {
	var a *connectors.AuthError
	return errors.As(err, &a)
}

// redact hides credentials that some APIs take in the query string.
func redact(raw string) string {
	for _, key := range []string{"key=", "access_token=", "api_key=", "token="} {
		if i := strings.Index(raw, key); i >= 0 {
			end := strings.IndexByte(raw[i:], '&')
			if end < 0 {
				raw = raw[:i+len(key)] + "REDACTED"
			} else {
				raw = raw[:i+len(key)] + "REDACTED" + raw[i+end:]
			}
		}
	}
	return raw
}
