package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/fetch"
)

// maxProfilesPerCall is app.bsky.actor.getProfiles' limit.
const maxProfilesPerCall = 25

// appView calls the public AppView (no credentials).
type appView struct {
	base string
	api  *fetch.Client
}

// getProfiles fetches up to 25 profiles by DID.
func (a *appView) getProfiles(ctx context.Context, dids []string) ([]Profile, error) {
	q := url.Values{}
	for _, d := range dids {
		q.Add("actors", d)
	}
	var out ProfilesResponse
	if _, err := a.api.GetJSON(ctx, a.base+"/xrpc/app.bsky.actor.getProfiles?"+q.Encode(), nil, &out); err != nil {
		return nil, fmt.Errorf("bluesky: get profiles: %w", err)
	}
	return out.Profiles, nil
}

// resolveHandle returns the DID of a handle.
func (a *appView) resolveHandle(ctx context.Context, handle string) (string, error) {
	var out ResolveHandleResponse
	u := a.base + "/xrpc/com.atproto.identity.resolveHandle?handle=" + url.QueryEscape(handle)
	if _, err := a.api.GetJSON(ctx, u, nil, &out); err != nil {
		return "", fmt.Errorf("bluesky: resolve handle %s: %w", handle, err)
	}
	if !strings.HasPrefix(out.DID, "did:") {
		return "", fmt.Errorf("bluesky: resolve handle %s: answer has no DID", handle)
	}
	return out.DID, nil
}

// pds calls the account's server (api_url) with a session.
type pds struct {
	base string
	api  *fetch.Client
}

// createSession logs in with an app password.
func (p *pds) createSession(ctx context.Context, identifier, password string) (*Session, error) {
	body, _ := json.Marshal(map[string]string{"identifier": identifier, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/xrpc/com.atproto.server.createSession", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bluesky: create session: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.api.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bluesky: create session: %w", err)
	}
	var s Session
	if err := json.Unmarshal(resp.Body, &s); err != nil || s.AccessJwt == "" {
		return nil, fmt.Errorf("bluesky: create session: answer has no access token")
	}
	return &s, nil
}

// searchPosts fetches one page of app.bsky.feed.searchPosts, newest first,
// of posts indexed between since and until.
func (p *pds) searchPosts(ctx context.Context, token, q string, since, until time.Time, cursor string) (*SearchResponse, error) {
	v := url.Values{}
	v.Set("q", q)
	v.Set("sort", "latest")
	v.Set("since", since.UTC().Format(time.RFC3339))
	v.Set("until", until.UTC().Format(time.RFC3339))
	v.Set("limit", "100")
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	var out SearchResponse
	if _, err := p.api.GetJSON(ctx, p.base+"/xrpc/app.bsky.feed.searchPosts?"+v.Encode(), h, &out); err != nil {
		return nil, fmt.Errorf("bluesky: search posts: %w", err)
	}
	return &out, nil
}

// subscribeURL is Jetstream's subscribe URL for posts from cursor (time_us;
// 0: live), limited to dids when there are any.
func subscribeURL(base string, cursor int64, dids []string) string {
	switch {
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	}
	q := url.Values{}
	q.Set("wantedCollections", postCollection)
	for _, d := range dids {
		q.Add("wantedDids", d)
	}
	if cursor > 0 {
		q.Set("cursor", strconv.FormatInt(cursor, 10))
	}
	return base + "/subscribe?" + q.Encode()
}

// dial opens the Jetstream websocket. A refusal over HTTP becomes the
// runner's errors: 429 a RetryError (Retry-After or 30s), 401/403 an
// AuthError.
func dial(ctx context.Context, u, userAgent string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 15 * time.Second, Proxy: http.ProxyFromEnvironment, ReadBufferSize: 64 << 10}
	h := http.Header{}
	h.Set("User-Agent", userAgent)
	conn, resp, err := d.DialContext(ctx, u, h)
	if err == nil {
		return conn, nil
	}
	err = fmt.Errorf("bluesky: connect to jetstream: %w", err)
	if resp != nil {
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			wait := fetch.RetryAfter(resp.Header, time.Now())
			if wait <= 0 {
				wait = 30 * time.Second
			}
			return nil, &connectors.RetryError{Wait: wait, Err: err}
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return nil, &connectors.AuthError{Status: resp.StatusCode, Err: err}
		}
		return nil, fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
	}
	return nil, err
}
