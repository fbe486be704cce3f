package mastodon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/connectors/fetch"
)

// pageLimit is the most statuses Mastodon returns per timeline page.
const pageLimit = 40

// client calls one Mastodon server. Each server has its own client so a
// rate limit on one does not hold back the others.
type client struct {
	server string
	token  config.Secret
	api    *fetch.Client
	// stream has no overall timeout: a streaming response stays open.
	stream *fetch.Client
}

func newClient(server string, token config.Secret, userAgent string) *client {
	streamer := fetch.New(Network, userAgent)
	streamer.HTTP = &http.Client{CheckRedirect: keepToken}
	return &client{server: server, token: token, api: fetch.New(Network, userAgent), stream: streamer}
}

// keepToken follows the redirect a server gives when its streaming API
// lives on another host (Mastodon's /api/v1/streaming answers with the
// streaming_api URL), keeping the token over https, which Go would drop
// for a host outside the server's domain.
func keepToken(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if auth := via[0].Header.Get("Authorization"); auth != "" && req.URL.Scheme == "https" {
		req.Header.Set("Authorization", auth)
	}
	return nil
}

func (c *client) header() http.Header {
	h := http.Header{}
	if c.token.IsSet() {
		h.Set("Authorization", "Bearer "+c.token.Reveal())
	}
	return h
}

// tagTimeline fetches one page of GET /api/v1/timelines/tag/:hashtag: the
// statuses right after minID (the newest page when minID is empty), newest
// first, each kept raw so one malformed status does not spoil the page.
func (c *client) tagTimeline(ctx context.Context, tag, minID string, local, onlyMedia bool) ([]json.RawMessage, error) {
	q := url.Values{}
	q.Set("limit", strconv.Itoa(pageLimit))
	if minID != "" {
		q.Set("min_id", minID)
	}
	if local {
		q.Set("local", "true")
	}
	if onlyMedia {
		q.Set("only_media", "true")
	}
	u := c.server + "/api/v1/timelines/tag/" + url.PathEscape(tag) + "?" + q.Encode()
	var page []json.RawMessage
	if _, err := c.api.GetJSON(ctx, u, c.header(), &page); err != nil {
		return nil, fmt.Errorf("mastodon: fetch tag timeline: %w", err)
	}
	return page, nil
}

// openStream opens GET /api/v1/streaming/hashtag (or hashtag/local) for
// tag; the caller reads Server-Sent Events from the body and closes it.
func (c *client) openStream(ctx context.Context, tag string, local bool) (io.ReadCloser, error) {
	path := "/api/v1/streaming/hashtag"
	if local {
		path += "/local"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.server+path+"?tag="+url.QueryEscape(tag), nil)
	if err != nil {
		return nil, fmt.Errorf("mastodon: open stream: %w", err)
	}
	req.Header = c.header()
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.stream.Stream(req)
	if err != nil {
		return nil, fmt.Errorf("mastodon: open stream: %w", err)
	}
	return resp.Body, nil
}

// maxEventBytes bounds one Server-Sent Events line.
const maxEventBytes = 4 << 20

// readEvents reads Server-Sent Events from r and calls fn for each
// dispatched event; comments (Mastodon's ":thump" heartbeat) call beat.
// It returns when r fails or ends (io.EOF: the server closed the stream),
// or fn returns an error.
func readEvents(r io.Reader, beat func(), fn func(Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	var ev Event
	var data []string
	for sc.Scan() {
		beat()
		line := sc.Text()
		if line == "" {
			if len(data) > 0 {
				ev.Data = strings.Join(data, "\n")
				if ev.Name == "" {
					ev.Name = "message"
				}
				if err := fn(ev); err != nil {
					return err
				}
			}
			ev, data = Event{}, data[:0]
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.Name = value
		case "data":
			data = append(data, value)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.EOF
}
