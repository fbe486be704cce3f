package twitternative

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/chorus-wall/chorus/connectors/fetch"
	"github.com/chorus-wall/chorus/connectors/x/ndjson"
)

// newStreamClient returns a fetch client for a long-lived stream: no
// overall timeout, but connecting and the response headers must come in
// time; a silent connection is caught by the stream's watchdog.
func newStreamClient(userAgent string) *fetch.Client {
	c := fetch.New(Network, userAgent)
	c.HTTP = &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ForceAttemptHTTP2:     true,
	}}
	return c
}

// streamURL is the stream's URL; after a gap of gap it asks PowerTrack to
// replay the missed minutes (backfillMinutes, at most limit) when limit is
// above zero.
func streamURL(raw string, gap time.Duration, limit int) (string, error) {
	if limit <= 0 || gap <= 0 {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	minutes := int(math.Ceil(gap.Minutes()))
	minutes = max(1, min(minutes, limit))
	q := u.Query()
	q.Set("backfillMinutes", strconv.Itoa(minutes))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// openStream connects to the stream with the source's credentials.
func (s *Source) openStream(ctx context.Context, gap time.Duration) (*http.Response, error) {
	u, err := streamURL(s.settings.StreamURL, gap, s.settings.BackfillMinutes)
	if err != nil {
		return nil, fmt.Errorf("twitter_native: stream url: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("twitter_native: open stream: %w", err)
	}
	switch {
	case s.settings.BearerToken.IsSet():
		req.Header.Set("Authorization", "Bearer "+s.settings.BearerToken.Reveal())
	case s.settings.BasicAuthUser.IsSet():
		req.SetBasicAuth(s.settings.BasicAuthUser.Reveal(), s.settings.BasicAuthPassword.Reveal())
	}
	resp, err := s.stream.Stream(req)
	if err != nil {
		return nil, fmt.Errorf("twitter_native: open stream: %w", err)
	}
	return resp, nil
}

// chunk is what one read of the file gives.
type chunk struct {
	lines [][]byte
	// end is the offset after the last line taken.
	end int64
	// more is set when the read stopped at its limit before the end.
	more bool
	// restarted is set when the stored offset did not fit the file (it
	// shrank or was replaced) and the read began at the start.
	restarted bool
}

// readFile reads up to limit lines of the JSON-lines file at path from
// offset. A last line without its line ending is taken only when it is a
// whole JSON value, since the writer may be in the middle of it.
// Overlong lines are skipped and reported to oversized.
func readFile(path string, offset int64, limit int, oversized func()) (chunk, error) {
	f, err := os.Open(path)
	if err != nil {
		return chunk{}, fmt.Errorf("twitter_native: open file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return chunk{}, fmt.Errorf("twitter_native: stat file: %w", err)
	}
	var c chunk
	size := st.Size()
	if offset > size || (offset > 0 && !lineEnd(f, offset)) {
		offset, c.restarted = 0, true
	}
	c.end = offset
	br := bufio.NewReaderSize(io.NewSectionReader(f, offset, size-offset), 64<<10)
	for len(c.lines) < limit {
		line, n, tooLong, err := ndjson.ReadLine(br, ndjson.MaxLine)
		if err == io.EOF {
			if n > 0 && !tooLong && json.Valid(bytes.TrimSpace(line)) {
				c.lines = append(c.lines, line)
				c.end += int64(n)
			}
			return c, nil
		}
		if err != nil {
			return c, fmt.Errorf("twitter_native: read file: %w", err)
		}
		c.end += int64(n)
		switch {
		case tooLong:
			oversized()
		case len(bytes.TrimSpace(line)) > 0:
			c.lines = append(c.lines, line)
		}
	}
	c.more = c.end < size
	return c, nil
}

// lineEnd reports whether offset follows a whole line: the byte before it
// ends a line, or ends a last JSON line that had no line ending.
func lineEnd(f *os.File, offset int64) bool {
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, offset-1); err != nil {
		return false
	}
	return b[0] == '\n' || b[0] == '}'
}
