// Package graph is what the Facebook and Instagram sources share of Meta's
// Graph API: the HTTP client (on connectors/fetch) that pages through
// edges and reads Graph error bodies and usage headers, the resume cursor,
// and the text handling (UTF-16 offsets to code points, hashtags, mentions
// and links with their spans).
package graph

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/chorus-wall/chorus/connectors/fetch"
)

// DefaultBaseURL is the Graph API root, version included: a source's
// base_url names the version it speaks.
const DefaultBaseURL = "https://graph.facebook.com/v21.0"

// Client calls the Graph API with one access token.
type Client struct {
	network string
	base    string
	token   string
	proof   string // appsecret_proof, when the app secret is known
	http    *fetch.Client
	usage   *usageRecorder
}

// NewClient returns a client for network ("facebook", "instagram") that
// calls base (the API root with its version) with token, sending userAgent.
// With the app's secret (optional) every call carries appsecret_proof, as
// apps with "Require App Secret" demand.
func NewClient(network, userAgent, base, token, appSecret string) *Client {
	f := fetch.New(network, userAgent)
	rec := &usageRecorder{next: http.DefaultTransport}
	f.HTTP.Transport = rec
	c := &Client{network: network, base: strings.TrimRight(base, "/"), token: token, http: f, usage: rec}
	if appSecret != "" {
		c.proof = AppSecretProof(token, appSecret)
	}
	return c
}

// AppSecretProof is the hex HMAC-SHA256 of the access token keyed with the
// app secret.
func AppSecretProof(token, appSecret string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Get calls path (below the base, like "/104689318914162/posts") with
// query and decodes the answer into v. what names the query in errors.
func (c *Client) Get(ctx context.Context, path string, query url.Values, what string, v any) error {
	q := url.Values{}
	for k, vs := range query {
		q[k] = vs
	}
	q.Set("access_token", c.token)
	q.Del("appsecret_proof")
	if c.proof != "" {
		q.Set("appsecret_proof", c.proof)
	}
	return c.get(ctx, c.base+path+"?"+q.Encode(), what, v)
}

func (c *Client) get(ctx context.Context, u, what string, v any) error {
	resp, err := c.http.Get(ctx, u, nil)
	if err != nil {
		return classify(c.network, what, err, c.usage.take())
	}
	c.usage.take()
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return fmt.Errorf("%s: %s: decode response: %w", c.network, what, err)
	}
	return nil
}

// Visit is called with each page of an edge, newest first; it returns
// whether to fetch the next page.
type Visit func(items []json.RawMessage) (more bool)

// Pages reads the edge at path with query page by page, at most maxPages
// pages, calling visit for each until it says stop or the edge ends (no
// next link, or an empty page). It reports whether pages remained when it
// stopped at maxPages.
//
// The next page is requested from the configured base and path with the
// query of the paging.next link (which carries the cursor, after= or
// until= with __paging_token), so a next link naming another host never
// receives the token and a base_url pointing at a proxy keeps working.
// When a page has no next link but a cursors.after, this is the last
// page, as the Graph API documents.
func (c *Client) Pages(ctx context.Context, path string, query url.Values, what string, maxPages int, visit Visit) (truncated bool, err error) {
	var list List
	if err := c.Get(ctx, path, query, what, &list); err != nil {
		return false, err
	}
	for page := 1; ; page++ {
		if !visit(list.Data) || len(list.Data) == 0 || list.Paging.Next == "" {
			return false, nil
		}
		if page >= maxPages {
			return true, nil
		}
		next, err := url.Parse(list.Paging.Next)
		if err != nil {
			return false, fmt.Errorf("%s: %s: bad paging.next link: %w", c.network, what, err)
		}
		q := next.Query()
		if q.Get("after") == "" && list.Paging.Cursors.After != "" && q.Get("until") == "" {
			q.Set("after", list.Paging.Cursors.After)
		}
		list = List{}
		if err := c.Get(ctx, path, q, what, &list); err != nil {
			return false, err
		}
	}
}

// usageRecorder keeps the usage headers of the latest response, so that a
// rate-limit error (which fetch reports without headers) can be read with
// the wait Graph announced.
type usageRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	last http.Header
}

func (r *usageRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if resp != nil {
		h := http.Header{}
		for _, name := range usageHeaders {
			if v := resp.Header.Values(name); len(v) > 0 {
				h[http.CanonicalHeaderKey(name)] = v
			}
		}
		r.mu.Lock()
		r.last = h
		r.mu.Unlock()
	}
	return resp, err
}

// take returns and forgets the latest response's usage headers.
func (r *usageRecorder) take() http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.last
	r.last = nil
	if h == nil {
		h = http.Header{}
	}
	return h
}
