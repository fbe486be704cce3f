package rss

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chorus-wall/chorus/connectors/fetch"
)

// accept prefers feed formats and takes any XML or JSON a server offers.
const accept = "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"

// fetched is one conditional GET of a feed.
type fetched struct {
	notModified  bool
	body         []byte
	etag         string
	lastModified string
}

// get fetches feedURL with the validators of the last fetch, so an
// unchanged feed answers 304 Not Modified without a body.
func get(ctx context.Context, c *fetch.Client, feedURL, etag, lastModified string) (fetched, error) {
	h := http.Header{}
	h.Set("Accept", accept)
	if etag != "" {
		h.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		h.Set("If-Modified-Since", lastModified)
	}
	resp, err := c.Get(ctx, feedURL, h)
	if err != nil {
		return fetched{}, fmt.Errorf("rss: fetch %s: %w", feedURL, err)
	}
	if resp.Status == http.StatusNotModified {
		return fetched{notModified: true, etag: etag, lastModified: lastModified}, nil
	}
	f := fetched{body: resp.Body, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}
	return f, nil
}
