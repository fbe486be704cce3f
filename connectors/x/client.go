package x

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/connectors/wirejson"
)

// What this source asks X for, on search and stream alike. Beyond the
// fields a wall shows, tweet.fields has withheld (to take withheld tweets
// down) and media.fields has variants (the MP4 of a video or GIF).
const (
	tweetFields    = "created_at,lang,public_metrics,entities,attachments,referenced_tweets,possibly_sensitive,note_tweet,author_id,conversation_id,withheld"
	expansionParam = "author_id,attachments.media_keys,referenced_tweets.id,referenced_tweets.id.author_id"
	userFields     = "name,username,profile_image_url,verified,public_metrics"
	mediaFields    = "type,url,preview_image_url,width,height,alt_text,variants"
	// pageSize is the most results recent search gives per page.
	pageSize = 100
)

// Paths of the endpoints under the API root.
const (
	searchPath = "/2/tweets/search/recent"
	streamPath = "/2/tweets/search/stream"
	rulesPath  = "/2/tweets/search/stream/rules"
)

// client calls X API v2 with an app's bearer token. Each endpoint has its
// own rate limit at X, so each has its own fetch.Client, which learns that
// limit from the x-rate-limit-* headers and stops calling until the reset.
type client struct {
	base   string
	token  string
	search *fetch.Client
	rules  *fetch.Client
	stream *fetch.Client
}

func newClient(base, token, userAgent string) *client {
	stream := fetch.New(Network, userAgent)
	// A stream stays open for hours: no overall timeout, but connecting and
	// the response headers must come in time. Stalls are caught by the
	// keep-alive watchdog.
	stream.HTTP = &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ForceAttemptHTTP2:     true,
	}}
	return &client{base: base, token: token, search: fetch.New(Network, userAgent), rules: fetch.New(Network, userAgent), stream: stream}
}

func (c *client) header() http.Header {
	return http.Header{"Authorization": {"Bearer " + c.token}}
}

func fieldParams() url.Values {
	v := url.Values{}
	v.Set("tweet.fields", tweetFields)
	v.Set("expansions", expansionParam)
	v.Set("user.fields", userFields)
	v.Set("media.fields", mediaFields)
	return v
}

// searchParams is one page of a recent search.
type searchParams struct {
	query     string
	sinceID   string
	untilID   string
	nextToken string
}

// searchRecent fetches one page of GET /2/tweets/search/recent.
func (c *client) searchRecent(ctx context.Context, p searchParams) (*Response, error) {
	v := fieldParams()
	v.Set("query", p.query)
	v.Set("max_results", fmt.Sprint(pageSize))
	if p.sinceID != "" {
		v.Set("since_id", p.sinceID)
	}
	if p.untilID != "" {
		v.Set("until_id", p.untilID)
	}
	if p.nextToken != "" {
		v.Set("next_token", p.nextToken)
	}
	resp, err := c.search.Get(ctx, c.base+searchPath+"?"+v.Encode(), c.header())
	if err != nil {
		return nil, fmt.Errorf("x: search recent: %w", err)
	}
	r, err := ParseResponse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("x: search recent: %w", err)
	}
	return r, nil
}

// listRules fetches the app's filtered-stream rules.
func (c *client) listRules(ctx context.Context) (*RulesResponse, error) {
	resp, err := c.rules.Get(ctx, c.base+rulesPath, c.header())
	if err != nil {
		return nil, fmt.Errorf("x: list stream rules: %w", err)
	}
	var r RulesResponse
	if _, err := wirejson.Unmarshal(resp.Body, &r); err != nil {
		return nil, fmt.Errorf("x: list stream rules: decode: %w", err)
	}
	return &r, nil
}

// changeRules adds or deletes filtered-stream rules.
func (c *client) changeRules(ctx context.Context, change RulesRequest) (*RulesResponse, error) {
	body, err := json.Marshal(change)
	if err != nil {
		return nil, fmt.Errorf("x: change stream rules: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+rulesPath, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("x: change stream rules: %w", err)
	}
	req.Header = c.header()
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.rules.Do(req)
	if err != nil {
		return nil, fmt.Errorf("x: change stream rules: %w", err)
	}
	var r RulesResponse
	if _, err := wirejson.Unmarshal(resp.Body, &r); err != nil {
		return nil, fmt.Errorf("x: change stream rules: decode: %w", err)
	}
	return &r, nil
}

// openStream connects to GET /2/tweets/search/stream; the caller closes
// the body.
func (c *client) openStream(ctx context.Context) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+streamPath+"?"+fieldParams().Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("x: open stream: %w", err)
	}
	req.Header = c.header()
	resp, err := c.stream.Stream(req)
	if err != nil {
		return nil, fmt.Errorf("x: open stream: %w", err)
	}
	return resp, nil
}
