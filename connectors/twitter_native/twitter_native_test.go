package twitternative

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

const token = "AAAAAAAAAAAAAAAAAAAAAChorusNativeTestToken"

// The posts the stream fixture makes, in order ("deleted:" for takedowns).
var fixturePosts = []string{
	"x:2124805697827934219",
	"x:2124805907543134219",
	"x:2124806096286814219",
	"x:2124806180172894219",
	"x:2124806578631774219",
	"x:2124806746403934219",
	"deleted:x:2124804649251917835",
	"deleted:x:2124806096286797835",
	"x:2124807040005214219",
}

func newSource(t *testing.T, yaml string, cursors connectors.Cursors) *Source {
	t.Helper()
	deps := sourcetest.Deps(t, cursors)
	deps.Now = func() time.Time { return now }
	src, err := New(sourcetest.Spec(t, yaml), deps)
	if err != nil {
		t.Fatal(err)
	}
	return src.(*Source)
}

func read(t *testing.T, s *Source) ([]post.Post, connectors.AckFunc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	posts, ack, err := s.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return posts, ack
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "neither", yaml: "", want: []string{"sources[0]: set one of stream_url and file"}},
		{name: "both", yaml: "stream_url: https://gnip-stream.x.com/stream/powertrack/accounts/a/publishers/twitter/prod.json\nfile: /tmp/t.jsonl", want: []string{"sources[0].file: set either stream_url or file, not both"}},
		{name: "unknown key", yaml: "file: t.jsonl\nfiles: u", want: []string{"sources[0].files (line"}},
		{name: "every error at once", yaml: "stream_url: ftp://stream\nbearer_token: t\nbasic_auth_user: u\nbackfill_minutes: 9\npoll_interval: 1ms\nbase_url: https://api.x.com", want: []string{
			"sources[0].stream_url: \"ftp://stream\" is not an absolute http(s) URL",
			"sources[0].bearer_token: set either bearer_token or basic_auth_user and basic_auth_password, not both",
			"sources[0].backfill_minutes: 9 must be between 0 and 5",
			"sources[0].poll_interval: 1ms must be between",
			"sources[0].base_url: not used by twitter_native",
		}},
		{name: "basic auth needs both", yaml: "stream_url: https://stream.example/s\nbasic_auth_user: u", want: []string{"sources[0].basic_auth_password: basic_auth_user and basic_auth_password go together"}},
		{name: "credentials on a file", yaml: "file: t.jsonl\nbearer_token: t", want: []string{"sources[0].file: a file takes no credentials"}},
		{name: "backfill on a file", yaml: "file: t.jsonl\nbackfill_minutes: 2", want: []string{"sources[0].backfill_minutes: only for stream_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(sourcetest.Spec(t, "id: tw\ntype: twitter_native\n"+tt.yaml), sourcetest.Deps(t, &sourcetest.Cursors{}))
			sourcetest.WantError(t, err, tt.want)
		})
	}
	src, err := New(sourcetest.Spec(t, "id: tw\ntype: twitter_native\nstream_url: https://stream.example/s\nbasic_auth_user: u\nbasic_auth_password: "+token), sourcetest.Deps(t, &sourcetest.Cursors{}))
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source)
	if s.settings.PollInterval != DefaultPollInterval || s.key != "twitter_native.tw.stream" || strings.Contains(fmt.Sprintf("%v %+v", s.settings, s.settings), token) {
		t.Fatalf("settings %+v key %s", s.settings, s.key)
	}
}

func writeFile(t *testing.T, path string, lines ...[]byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.Write(l); err != nil {
			t.Fatal(err)
		}
	}
}

func withNL(lines [][]byte) [][]byte {
	out := make([][]byte, len(lines))
	for i, l := range lines {
		out[i] = append(append([]byte(nil), l...), '\n')
	}
	return out
}

func ids(posts []post.Post) []string { return sourcetest.IDs(posts) }

func offsetOf(t *testing.T, c *sourcetest.Cursors) int64 {
	t.Helper()
	raw, _ := c.Get(t.Context(), "twitter_native.tw")
	n, _ := strconv.ParseInt(string(raw), 10, 64)
	return n
}

func TestFileOffsetsAndAppends(t *testing.T) {
	lines := withNL(fixtureLines(t, "stream.jsonl"))
	path := filepath.Join(t.TempDir(), "tweets.jsonl")
	writeFile(t, path, lines[:3]...)
	cursors := &sourcetest.Cursors{}
	s := newSource(t, "id: tw\ntype: twitter_native\nfile: "+path+"\npoll_interval: 1s", cursors)
	if err := s.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	posts, ack := read(t, s)
	if !reflect.DeepEqual(ids(posts), fixturePosts[:3]) {
		t.Fatalf("posts %v", ids(posts))
	}
	ack(t.Context(), errors.New("bus down"))
	if off := offsetOf(t, cursors); off != 0 {
		t.Fatalf("offset %d moved without a store", off)
	}
	s.pace.Schedule(time.Time{})
	posts, ack = read(t, s)
	ack(t.Context(), nil)
	size := int64(len(bytes.Join(lines[:3], nil)))
	if len(posts) != 3 || offsetOf(t, cursors) != size {
		t.Fatalf("posts %v offset %d, want %d", ids(posts), offsetOf(t, cursors), size)
	}

	// Half a line: the writer is not done; nothing moves.
	half := lines[3][:40]
	writeFile(t, path, half)
	s.pace.Schedule(time.Time{})
	posts, ack = read(t, s)
	ack(t.Context(), nil)
	if len(posts) != 0 || offsetOf(t, cursors) != size {
		t.Fatalf("posts %v offset %d", ids(posts), offsetOf(t, cursors))
	}
	// The rest of it and the next lines, the last without a line ending:
	// a whole JSON value, so it is taken. The next poll waits poll_interval.
	rest := append([]byte(nil), lines[3][40:]...)
	last := bytes.TrimRight(lines[len(lines)-1], "\n")
	writeFile(t, path, append(rest, bytes.Join(lines[4:len(lines)-1], nil)...), last)
	start := time.Now()
	posts, ack = read(t, s)
	if time.Since(start) < 900*time.Millisecond {
		t.Fatal("looked at the file again before poll_interval")
	}
	ack(t.Context(), nil)
	if !reflect.DeepEqual(ids(posts), fixturePosts[3:]) {
		t.Fatalf("posts %v", ids(posts))
	}
	st, _ := os.Stat(path)
	if offsetOf(t, cursors) != st.Size() {
		t.Fatalf("offset %d, file %d", offsetOf(t, cursors), st.Size())
	}
	ignored := s.Ignored()
	if ignored[NoticeLimit] != 1 || ignored[NoticeScrubGeo] != 1 || ignored[NoticeWarning] != 1 || ignored[NoticeUserWithheld] != 1 {
		t.Fatalf("ignored %v", ignored)
	}

	// The file replaced by a shorter one: read again from the start.
	if err := os.WriteFile(path, lines[0], 0o644); err != nil {
		t.Fatal(err)
	}
	s.pace.Schedule(time.Time{})
	posts, ack = read(t, s)
	ack(t.Context(), nil)
	if !reflect.DeepEqual(ids(posts), fixturePosts[:1]) || offsetOf(t, cursors) != int64(len(lines[0])) {
		t.Fatalf("after truncation: posts %v offset %d", ids(posts), offsetOf(t, cursors))
	}
}

func TestFileFilterAndMissing(t *testing.T) {
	lines := withNL(fixtureLines(t, "stream.jsonl"))
	path := filepath.Join(t.TempDir(), "tweets.jsonl")
	s := newSource(t, "id: tw\ntype: twitter_native\nfile: "+path+"\nhashtags: [RooftopStage]\naccounts: [leila_haddad]\nkeywords: ['großartigen abend']", &sourcetest.Cursors{})
	if err := s.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read(t.Context()); err == nil || !strings.Contains(err.Error(), "twitter_native: open file") {
		t.Fatalf("err %v for a missing file", err)
	}
	writeFile(t, path, lines...)
	posts, _ := read(t, s)
	// The long tweet and its retweet by hashtag, the Arabic one by account,
	// the archive one by keyword; takedowns always pass.
	want := []string{fixturePosts[1], fixturePosts[2], fixturePosts[4], fixturePosts[6], fixturePosts[7], fixturePosts[8]}
	if !reflect.DeepEqual(ids(posts), want) || s.Ignored()["filtered"] != 3 {
		t.Fatalf("posts %v ignored %v", ids(posts), s.Ignored())
	}
}

func TestFileRestartMidRunExactlyOnce(t *testing.T) {
	conn := bustest.Open(t)
	lines := withNL(fixtureLines(t, "stream.jsonl"))
	path := filepath.Join(t.TempDir(), "tweets.jsonl")
	writeFile(t, path, lines[:5]...)
	cursors := &sourcetest.Cursors{}
	yaml := "id: tw\ntype: twitter_native\nfile: " + path + "\npoll_interval: 1s"
	got := sourcetest.Run(t, conn, "tw", newSource(t, yaml, cursors), 10*time.Second, func(p []post.Post) bool { return len(p) >= 5 })
	if !reflect.DeepEqual(ids(got), fixturePosts[:5]) {
		t.Fatalf("first run %v", ids(got))
	}
	mid := offsetOf(t, cursors)
	writeFile(t, path, lines[5:]...)
	got = sourcetest.Run(t, conn, "tw", newSource(t, yaml, cursors), 10*time.Second, func(p []post.Post) bool { return len(p) >= len(fixturePosts) })
	sourcetest.Unique(t, got)
	if !reflect.DeepEqual(ids(got), fixturePosts) {
		t.Fatalf("stored %v\nwant %v", ids(got), fixturePosts)
	}
	if mid != int64(len(bytes.Join(lines[:5], nil))) {
		t.Fatalf("first run stopped at offset %d", mid)
	}
}

// fakeStream serves the fixture's lines over HTTP as a PowerTrack stream
// does; each connection runs the script for its number.
type fakeStream struct {
	srv *httptest.Server

	mu       sync.Mutex
	conns    []*http.Request
	connAt   []time.Time
	script   func(n int, w http.ResponseWriter, r *http.Request)
	authFail bool
	// hold, when set, names a channel that connection n waits on before it
	// is counted and answered: a test stops a run at a known point this
	// way, however slow the machine. A connection abandoned while it waits
	// is neither answered nor counted.
	hold func(n int) <-chan struct{}
}

func newFakeStream(t *testing.T, script func(n int, w http.ResponseWriter, r *http.Request)) *fakeStream {
	f := &fakeStream{script: script}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if f.hold != nil {
			if c := f.hold(len(f.conns)); c != nil {
				f.mu.Unlock()
				select {
				case <-c:
				case <-r.Context().Done():
					return
				}
				f.mu.Lock()
			}
		}
		n := len(f.conns)
		f.conns = append(f.conns, r)
		f.connAt = append(f.connAt, time.Now())
		f.mu.Unlock()
		if user, pass, ok := r.BasicAuth(); !ok || user != "chorus" || pass != token {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"Forbidden: Authentication failed","sent":"2026-11-23T10:00:00+00:00"}}`)
			return
		}
		f.script(n, w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeStream) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.conns...)
}

func send(w http.ResponseWriter, lines ...[]byte) {
	for _, l := range lines {
		w.Write(l)
		w.Write([]byte("\r\n"))
	}
	w.(http.Flusher).Flush()
}

func keepAlive(w http.ResponseWriter, r *http.Request) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			send(w, nil)
		case <-r.Context().Done():
			return
		}
	}
}

func streamYAML(f *fakeStream, extra string) string {
	return "id: tw\ntype: twitter_native\nstream_url: " + f.srv.URL + "/stream/powertrack/accounts/chorus/publishers/twitter/prod.json\nbasic_auth_user: chorus\nbasic_auth_password: " + token + extra
}

func TestStreamDropResumeAndRestart(t *testing.T) {
	conn := bustest.Open(t)
	lines := fixtureLines(t, "stream.jsonl")
	f := newFakeStream(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		switch n {
		case 0: // two tweets and a keep-alive, then the connection drops
			send(w, lines[0], nil, lines[1])
		case 1: // the next two, then silence: a stall
			send(w, lines[2], lines[3])
			<-r.Context().Done()
		case 2: // the next two, a disconnect message and a line after it
			send(w, lines[4], lines[5], []byte(`{"disconnect":{"code":7,"stream_name":"prod","reason":"admin logout"}}`), lines[6])
			<-r.Context().Done()
		default: // everything after the disconnect
			send(w, lines[6:]...)
			keepAlive(w, r)
		}
	})
	// The first run stops before it can reconnect: the second connection
	// waits until the restart.
	restart := make(chan struct{})
	f.hold = func(n int) <-chan struct{} {
		if n == 1 {
			return restart
		}
		return nil
	}
	cursors := &sourcetest.Cursors{}
	s := newSource(t, streamYAML(f, "\nbackfill_minutes: 5"), cursors)
	s.stall = 300 * time.Millisecond
	got := sourcetest.Run(t, conn, "tw", s, 10*time.Second, func(p []post.Post) bool { return len(p) >= 2 })
	if !reflect.DeepEqual(ids(got), fixturePosts[:2]) {
		t.Fatalf("first run %v", ids(got))
	}
	raw, _ := cursors.Get(t.Context(), "twitter_native.tw.stream")
	var c streamCursor
	if err := json.Unmarshal(raw, &c); err != nil || c.LastID != "2124805907543134219" || time.Since(c.StoredAt) > time.Minute {
		t.Fatalf("cursor %s: %v", raw, err)
	}
	// A restart: the new connection asks for the missed minute.
	close(restart)
	s = newSource(t, streamYAML(f, "\nbackfill_minutes: 5"), cursors)
	s.stall = 300 * time.Millisecond
	got = sourcetest.Run(t, conn, "tw", s, 15*time.Second, func(p []post.Post) bool { return len(p) >= len(fixturePosts) })
	sourcetest.Unique(t, got)
	if !reflect.DeepEqual(ids(got), fixturePosts) {
		t.Fatalf("stored %v\nwant %v", ids(got), fixturePosts)
	}
	reqs := f.requests()
	if len(reqs) < 4 {
		t.Fatalf("%d connections", len(reqs))
	}
	for i, r := range reqs {
		want := "1"
		if i == 0 {
			want = "" // a fresh start asks for no backfill
		}
		if got := r.URL.Query().Get("backfillMinutes"); got != want || r.URL.Path != "/stream/powertrack/accounts/chorus/publishers/twitter/prod.json" || !strings.HasPrefix(r.Header.Get("User-Agent"), "Chorus/") {
			t.Fatalf("connection %d: %s backfillMinutes %q, want %q", i, r.URL, got, want)
		}
	}
	if s.Ignored()[NoticeDisconnect] != 1 {
		t.Fatalf("ignored %v", s.Ignored())
	}
}

func TestStreamKeepsABatchThatWasNotStored(t *testing.T) {
	lines := fixtureLines(t, "stream.jsonl")
	f := newFakeStream(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		send(w, lines[0])
		keepAlive(w, r)
	})
	s := newSource(t, streamYAML(f, ""), &sourcetest.Cursors{})
	if err := s.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	posts, ack := read(t, s)
	ack(t.Context(), errors.New("bus down"))
	again, ack := read(t, s)
	ack(t.Context(), nil)
	if !reflect.DeepEqual(ids(again), ids(posts)) || len(posts) != 1 || len(f.requests()) != 1 {
		t.Fatalf("posts %v then %v over %d connections", ids(posts), ids(again), len(f.requests()))
	}
}

func TestStreamRefusals(t *testing.T) {
	t.Run("bad credentials", func(t *testing.T) {
		f := newFakeStream(t, nil)
		s := newSource(t, strings.Replace(streamYAML(f, ""), token, "wrong", 1), &sourcetest.Cursors{})
		if err := s.Connect(t.Context()); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Read(t.Context())
		var auth *connectors.AuthError
		if !errors.As(err, &auth) || auth.Status != http.StatusUnauthorized {
			t.Fatalf("err = %v, want an AuthError", err)
		}
	})
	t.Run("rate limited is waited for", func(t *testing.T) {
		conn := bustest.Open(t)
		lines := fixtureLines(t, "stream.jsonl")
		f := newFakeStream(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 0 {
				w.Header().Set("x-rate-limit-limit", "15")
				w.Header().Set("x-rate-limit-remaining", "0")
				w.Header().Set("x-rate-limit-reset", strconv.FormatInt(time.Now().Add(2*time.Second).Unix(), 10))
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"message":"This stream is currently at the maximum allowed connection limit.","sent":"2026-11-23T10:00:00+00:00"}}`)
				return
			}
			w.WriteHeader(http.StatusOK)
			send(w, lines[0])
			keepAlive(w, r)
		})
		got := sourcetest.Run(t, conn, "tw", newSource(t, streamYAML(f, ""), &sourcetest.Cursors{}), 15*time.Second, func(p []post.Post) bool { return len(p) >= 1 })
		if !reflect.DeepEqual(ids(got), fixturePosts[:1]) {
			t.Fatalf("posts %v", ids(got))
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.conns) != 2 || f.connAt[1].Sub(f.connAt[0]) < 900*time.Millisecond {
			t.Fatalf("%d connections, the second after %s; a limited source waits for the reset", len(f.conns), f.connAt[len(f.connAt)-1].Sub(f.connAt[0]))
		}
	})
}

func TestStreamURL(t *testing.T) {
	tests := []struct {
		name  string
		raw   string
		gap   time.Duration
		limit int
		want  string
	}{
		{name: "no backfill", raw: "https://s.example/p.json", gap: time.Hour, want: "https://s.example/p.json"},
		{name: "no gap", raw: "https://s.example/p.json", limit: 5, want: "https://s.example/p.json"},
		{name: "seconds round up to a minute", raw: "https://s.example/p.json", gap: 10 * time.Second, limit: 5, want: "https://s.example/p.json?backfillMinutes=1"},
		{name: "capped", raw: "https://s.example/p.json?partition=1", gap: time.Hour, limit: 3, want: "https://s.example/p.json?backfillMinutes=3&partition=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := streamURL(tt.raw, tt.gap, tt.limit)
			if err != nil || got != tt.want {
				t.Fatalf("%q %v, want %q", got, err, tt.want)
			}
		})
	}
}
