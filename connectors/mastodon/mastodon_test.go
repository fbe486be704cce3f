package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var _ connectors.Factory = New

// server is a Mastodon instance in a test: it pages its statuses like
// Mastodon does (newest first; min_id gives the statuses right after it),
// records every request, and serves hashtag streams from scripts.
type server struct {
	t  *testing.T
	ts *httptest.Server

	mu       sync.Mutex
	statuses []json.RawMessage // newest first
	requests []*http.Request
	// limited answers this many timeline calls with 429 first.
	limited int
	reset   time.Duration
	// streams are the transcripts of successive stream connections; the
	// last one stays open after its transcript until the client leaves.
	streams []string
	opened  int
}

func newServer(t *testing.T, statuses []json.RawMessage) *server {
	s := &server{t: t, statuses: statuses}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.ts.Close)
	return s
}

func (s *server) add(statuses ...json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = append(slices.Clone(statuses), s.statuses...)
	sort.SliceStable(s.statuses, func(i, j int) bool { return laterID(idOf(s.statuses[i]), idOf(s.statuses[j])) })
}

func idOf(raw json.RawMessage) string {
	var v struct{ ID string }
	_ = json.Unmarshal(raw, &v)
	return v.ID
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Clone(context.Background()))
	s.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v1/timelines/tag/"):
		s.timeline(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/v1/streaming/hashtag"):
		s.stream(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *server) timeline(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.limited > 0 {
		s.limited--
		s.mu.Unlock()
		w.Header().Set("X-RateLimit-Limit", "300")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", time.Now().Add(s.reset).UTC().Format("2006-01-02T15:04:05.000000Z"))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":"Too many requests"}`))
		return
	}
	all := slices.Clone(s.statuses)
	s.mu.Unlock()
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 40 {
		limit = 20
	}
	var page []json.RawMessage
	if minID := r.URL.Query().Get("min_id"); minID != "" {
		var after []json.RawMessage
		for _, raw := range all {
			if laterID(idOf(raw), minID) {
				after = append(after, raw)
			}
		}
		// The limit statuses right after min_id, newest first.
		page = after[max(len(after)-limit, 0):]
	} else {
		page = all[:min(limit, len(all))]
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-RateLimit-Limit", "300")
	w.Header().Set("X-RateLimit-Remaining", "299")
	w.Header().Set("X-RateLimit-Reset", time.Now().Add(5*time.Minute).UTC().Format("2006-01-02T15:04:05.000000Z"))
	if len(page) > 0 {
		base := "http://" + r.Host + r.URL.Path
		w.Header().Set("Link", fmt.Sprintf(`<%s?max_id=%s>; rel="next", <%s?min_id=%s>; rel="prev"`, base, idOf(page[len(page)-1]), base, idOf(page[0])))
	}
	if page == nil {
		page = []json.RawMessage{}
	}
	_ = json.NewEncoder(w).Encode(page)
}

func (s *server) stream(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer sekrit" {
		http.Error(w, `{"error":"Error: Missing access token"}`, http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	n := s.opened
	s.opened++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	if n < len(s.streams) {
		_, _ = w.Write([]byte(s.streams[n]))
	}
	w.(http.Flusher).Flush()
	if n+1 >= len(s.streams) {
		<-r.Context().Done() // the last connection stays open
	}
	// Earlier connections drop right after their transcript.
}

// calls returns the requests made to paths starting with prefix.
func (s *server) calls(prefix string) []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*http.Request
	for _, r := range s.requests {
		if strings.HasPrefix(r.URL.Path, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func minIDs(reqs []*http.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.URL.Query().Get("min_id"))
	}
	return out
}

// generated returns n statuses shaped like a fixture, with ids from start,
// newest first.
func generated(t *testing.T, start int64, n int) []json.RawMessage {
	t.Helper()
	var template json.RawMessage
	for _, raw := range timeline(t, "tag_timeline.json") {
		if idOf(raw) == "113520000000000002" {
			template = raw
		}
	}
	var out []json.RawMessage
	for i := range n {
		st := map[string]any{}
		if err := json.Unmarshal(template, &st); err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(start+int64(i), 10)
		st["id"] = id
		st["uri"] = "https://mastodon.social/users/karim/statuses/" + id
		st["url"] = "https://mastodon.social/@karim/" + id
		st["created_at"] = time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		st["content"] = fmt.Sprintf("<p>رسالة رقم %d #ChorusLive</p>", i)
		b, _ := json.Marshal(st)
		out = append([]json.RawMessage{b}, out...)
	}
	return out
}

func build(t *testing.T, yaml string, cursors connectors.Cursors) (*Source, connectors.Deps) {
	t.Helper()
	deps := sourcetest.Deps(t, cursors)
	src, err := New(sourcetest.Spec(t, yaml), deps)
	if err != nil {
		t.Fatal(err)
	}
	return src.(*Source), deps
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, s Settings)
	}{
		{
			name: "defaults and normalizing",
			yaml: "id: m\ntype: mastodon\nservers: [\"https://Mastodon.Social/\", https://mastodon.social]\nhashtags: ['#ChorusLive', choruslive, سلام]",
			check: func(t *testing.T, s Settings) {
				if !slices.Equal(s.Servers, []string{"https://mastodon.social"}) || !slices.Equal(s.Hashtags, []string{"ChorusLive", "سلام"}) ||
					s.PollInterval != DefaultPollInterval || s.AccessToken.IsSet() || s.LocalOnly || s.OnlyMedia {
					t.Errorf("settings %+v", s)
				}
			},
		},
		{
			name: "every key",
			yaml: "id: m\ntype: mastodon\nservers: [https://a.example, https://b.example]\nhashtags: [x]\naccess_token: tok\nlocal_only: true\nonly_media: true\npoll_interval: 2m",
			check: func(t *testing.T, s Settings) {
				if s.AccessToken.Reveal() != "tok" || !s.LocalOnly || !s.OnlyMedia || s.PollInterval != 2*time.Minute {
					t.Errorf("settings %+v", s)
				}
			},
		},
		{name: "unknown key", yaml: "id: m\ntype: mastodon\nservers: [https://a.example]\nhashtags: [x]\ntoken: y", wantErr: []string{"sources[0].token", "unknown key"}},
		{
			name:    "nothing set: every error at once",
			yaml:    "id: m\ntype: mastodon",
			wantErr: []string{"sources[0].hashtags: is required", "sources[0].servers: is required"},
		},
		{
			name:    "bad server, base_url, keywords and accounts",
			yaml:    "id: m\ntype: mastodon\nservers: [mastodon.social, 'https://ok.example', 'ftp://x.example']\nhashtags: [x]\nbase_url: https://a.example\nkeywords: [k]\naccounts: [a]",
			wantErr: []string{"sources[0].servers[0]", "sources[0].servers[2]", "sources[0].base_url", "sources[0].keywords", "sources[0].accounts"},
		},
		{name: "hashtag with a space", yaml: "id: m\ntype: mastodon\nservers: [https://a.example]\nhashtags: [ok, 'two words']", wantErr: []string{"sources[0].hashtags[1]"}},
		{name: "poll interval too short", yaml: "id: m\ntype: mastodon\nservers: [https://a.example]\nhashtags: [x]\npoll_interval: 10ms", wantErr: []string{"sources[0].poll_interval"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := New(sourcetest.Spec(t, tt.yaml), sourcetest.Deps(t, nil))
			if len(tt.wantErr) > 0 {
				sourcetest.WantError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, src.(*Source).Settings())
		})
	}
}

func TestPollPages(t *testing.T) {
	srv := newServer(t, timeline(t, "tag_timeline.json"))
	cur := &sourcetest.Cursors{}
	src, deps := build(t, "id: m\ntype: mastodon\nservers: ["+srv.ts.URL+"]\nhashtags: [ChorusLive]", cur)
	ctx := t.Context()
	if err := src.Connect(ctx); err != nil {
		t.Fatal(err)
	}

	// First poll: no cursor, the newest page only; the malformed status is
	// skipped and counted, the others arrive oldest first.
	posts, ack, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(deps.Skipped); got != 1 {
		t.Errorf("skipped %v, want 1", got)
	}
	wantIDs := []string{"mastodon:mastodon.social/113520000000000001", "mastodon:mastodon.social/113520000000000002",
		"mastodon:tooot.example/109999000000000777", "mastodon:mastodon.social/113520000000000004",
		"mastodon:mastodon.social/113520000000000005", "mastodon:mastodon.social/113520000000000007",
		"edited:mastodon:mastodon.social/113520000000000008", "mastodon:mastodon.social/113520000000000009",
		"mastodon:mastodon.social/113520000000000010"}
	if got := sourcetest.IDs(posts); !slices.Equal(got, wantIDs) {
		t.Errorf("ids %v\nwant %v", got, wantIDs)
	}
	if c, _ := cur.Get(ctx, "mastodon.m"); c != nil {
		t.Fatalf("cursor moved before the ack: %s", c)
	}
	// A failed store does not move the cursor.
	if err := ack(ctx, errors.New("bus down")); err != nil {
		t.Fatal(err)
	}
	if c, _ := cur.Get(ctx, "mastodon.m"); c != nil {
		t.Fatalf("cursor moved after a failed store: %s", c)
	}
	if err := ack(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want := `{"servers":{"` + srv.ts.URL + `":{"choruslive":"113520000000000010"}}}`
	if c, _ := cur.Get(ctx, "mastodon.m"); string(c) != want {
		t.Fatalf("cursor %s, want %s", c, want)
	}

	// 95 new statuses: three pages with min_id, in order.
	srv.add(generated(t, 113530000000000000, 95)...)
	src.nextPoll = time.Time{}
	posts, ack, err = src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 95 || posts[0].Text != "رسالة رقم 0 #ChorusLive" || posts[94].Text != "رسالة رقم 94 #ChorusLive" {
		t.Fatalf("%d posts: first %q", len(posts), posts[0].Text)
	}
	for i := 1; i < len(posts); i++ {
		if posts[i].CreatedAt.Before(posts[i-1].CreatedAt) {
			t.Fatalf("posts out of order at %d", i)
		}
	}
	tl := srv.calls("/api/v1/timelines/tag/")
	if got := minIDs(tl[1:]); !slices.Equal(got, []string{"113520000000000010", "113530000000000039", "113530000000000079"}) {
		t.Errorf("min_id sequence %v", got)
	}
	if q := tl[1].URL.Query(); q.Get("limit") != "40" || tl[1].Header.Get("User-Agent") != connectors.DefaultUserAgent {
		t.Errorf("query %v, user agent %q", q, tl[1].Header.Get("User-Agent"))
	}
	if err := ack(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// Nothing new: one empty page, nothing returned, the cursor stays.
	src.nextPoll = time.Time{}
	posts, ack, err = src.Read(ctx)
	if err != nil || len(posts) != 0 {
		t.Fatalf("posts %v err %v", sourcetest.IDs(posts), err)
	}
	_ = ack(ctx, nil)
	if c, _ := cur.Get(ctx, "mastodon.m"); !strings.Contains(string(c), `"113530000000000094"`) {
		t.Errorf("cursor %s", c)
	}
	if got := minIDs(srv.calls("/api/v1/timelines/tag/")[4:]); !slices.Equal(got, []string{"113530000000000094"}) {
		t.Errorf("min_id %v", got)
	}
}

func TestPollWaitsForTheInterval(t *testing.T) {
	srv := newServer(t, nil)
	src, _ := build(t, "id: m\ntype: mastodon\nservers: ["+srv.ts.URL+"]\nhashtags: [x]\npoll_interval: 1h", &sourcetest.Cursors{})
	if err := src.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := src.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second read: %v, want the context's end", err)
	}
	if n := len(srv.calls("/")); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestOptions(t *testing.T) {
	srv := newServer(t, nil)
	src, _ := build(t, "id: m\ntype: mastodon\nservers: ["+srv.ts.URL+"]\nhashtags: [سلام]\nlocal_only: true\nonly_media: true", &sourcetest.Cursors{})
	_ = src.Connect(t.Context())
	if _, _, err := src.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := srv.calls("/")[0]
	if r.URL.Path != "/api/v1/timelines/tag/سلام" || r.URL.Query().Get("local") != "true" || r.URL.Query().Get("only_media") != "true" {
		t.Errorf("request %s", r.URL)
	}
}

func TestRateLimit(t *testing.T) {
	srv := newServer(t, timeline(t, "tag_timeline.json"))
	srv.limited, srv.reset = 1, 2*time.Second
	src, _ := build(t, "id: m\ntype: mastodon\nservers: ["+srv.ts.URL+"]\nhashtags: [ChorusLive, other]", &sourcetest.Cursors{})
	if err := src.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, _, err := src.Read(t.Context())
	var retry *connectors.RetryError
	if !errors.As(err, &retry) || retry.Wait < time.Second || retry.Wait > 3*time.Second {
		t.Fatalf("err %v, want a RetryError of about 2s", err)
	}
	// The second tag was not asked: the quota is known to be used up.
	if n := len(srv.calls("/")); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}

	// Driven by the runner: it waits for the reset, then gets everything.
	conn := bustest.Open(t)
	srv.limited = 1
	src, _ = build(t, "id: m\ntype: mastodon\nservers: ["+srv.ts.URL+"]\nhashtags: [ChorusLive]", &sourcetest.Cursors{})
	start := time.Now()
	got := sourcetest.Run(t, conn, "m", src, 20*time.Second, func(p []post.Post) bool { return len(p) >= 9 })
	if len(got) != 9 {
		t.Fatalf("got %d posts", len(got))
	}
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Errorf("took %s: the reset was not waited for", d)
	}
	if n := len(srv.calls("/")); n != 3 {
		t.Errorf("%d requests in all, want 3 (one refused, then one page)", n)
	}
}

func TestFederatedDuplicateStoredOnce(t *testing.T) {
	a := newServer(t, timeline(t, "tag_timeline.json"))
	b := newServer(t, timeline(t, "tag_timeline_server_b.json"))
	conn := bustest.Open(t)
	src, _ := build(t, "id: m\ntype: mastodon\nservers: ["+a.ts.URL+", "+b.ts.URL+"]\nhashtags: [ChorusLive]", &sourcetest.Cursors{})
	got := sourcetest.Run(t, conn, "m", src, 10*time.Second, func(p []post.Post) bool { return len(p) >= 10 })
	sourcetest.Unique(t, got)
	if len(got) != 10 {
		t.Fatalf("got %d posts: %v", len(got), sourcetest.IDs(got))
	}
	for _, p := range got {
		if p.ID == "mastodon:mastodon.social/113520000000000001" && (p.URL != "https://mastodon.social/@ana/113520000000000001" || p.Author.Handle != "ana@mastodon.social") {
			t.Errorf("federated copy: url %s author %+v", p.URL, p.Author)
		}
	}
	if !slices.Contains(sourcetest.IDs(got), "mastodon:fosstodon.example/112000000000000503") {
		t.Errorf("the status only on server b is missing: %v", sourcetest.IDs(got))
	}
}

func TestRestartExactlyOnce(t *testing.T) {
	srv := newServer(t, generated(t, 113540000000000000, 50))
	conn := bustest.Open(t)
	cur := &sourcetest.Cursors{}
	yaml := "id: m\ntype: mastodon\nservers: [" + srv.ts.URL + "]\nhashtags: [ChorusLive]\npoll_interval: 1s"
	src, _ := build(t, yaml, cur)
	got := sourcetest.Run(t, conn, "m", src, 10*time.Second, func(p []post.Post) bool { return len(p) >= 40 })
	if len(got) != 40 {
		t.Fatalf("first run: %d posts", len(got))
	}
	// While Chorus is down 75 statuses arrive (and the 10 oldest of the
	// first 50 were never seen: the first start reads the newest page only).
	srv.add(generated(t, 113540000000000100, 75)...)
	src, _ = build(t, yaml, cur)
	got = sourcetest.Run(t, conn, "m", src, 10*time.Second, func(p []post.Post) bool { return len(p) >= 115 })
	sourcetest.Unique(t, got)
	var want []string
	for i := 10; i < 50; i++ {
		want = append(want, "mastodon:mastodon.social/"+strconv.FormatInt(113540000000000000+int64(i), 10))
	}
	for i := range 75 {
		want = append(want, "mastodon:mastodon.social/"+strconv.FormatInt(113540000000000100+int64(i), 10))
	}
	if ids := sourcetest.IDs(got); !slices.Equal(ids, want) {
		t.Fatalf("got %d posts %v\nwant %v", len(ids), ids, want)
	}
}

func TestStreamResumesFromCursor(t *testing.T) {
	srv := newServer(t, timeline(t, "tag_timeline.json"))
	srv.streams = []string{string(sourcetest.Testdata(t, "stream_1.txt")), string(sourcetest.Testdata(t, "stream_2.txt"))}
	// The statuses the streams announce exist on the server too.
	var s12 json.RawMessage
	for _, line := range strings.Split(srv.streams[0], "\n") {
		if strings.HasPrefix(line, "data: {") && strings.Contains(line, `"113520000000000012"`) {
			s12 = json.RawMessage(strings.TrimPrefix(line, "data: "))
			break
		}
	}
	srv.add(s12)
	conn := bustest.Open(t)
	cur := &sourcetest.Cursors{}
	// The source stored status 2 last time.
	_ = cur.Put(t.Context(), "mastodon.m", []byte(`{"servers":{"`+srv.ts.URL+`":{"choruslive":"113520000000000002"}}}`))
	src, deps := build(t, "id: m\ntype: mastodon\nservers: ["+srv.ts.URL+"]\nhashtags: [ChorusLive]\naccess_token: sekrit", cur)
	done := func(p []post.Post) bool {
		return slices.Contains(sourcetest.IDs(p), "mastodon:mastodon.social/113520000000000013")
	}
	got := sourcetest.Run(t, conn, "m", src, 15*time.Second, done)
	sourcetest.Unique(t, got)
	want := []string{
		// Catch-up poll from the cursor when the stream opened.
		"mastodon:tooot.example/109999000000000777", "mastodon:mastodon.social/113520000000000004",
		"mastodon:mastodon.social/113520000000000005", "mastodon:mastodon.social/113520000000000007",
		// Status 8 was edited before it was first read: its edited version.
		"edited:mastodon:mastodon.social/113520000000000008",
		"mastodon:mastodon.social/113520000000000009", "mastodon:mastodon.social/113520000000000010",
		"mastodon:mastodon.social/113520000000000012",
		// The first stream: the update (already polled: deduped), the edit
		// of status 12 (a new version, judged again by curation), the
		// delete of the remote status as its takedown, the malformed update
		// skipped; then the stream drops.
		"edited:mastodon:mastodon.social/113520000000000012",
		"deleted:mastodon:tooot.example/109999000000000777",
		// The second stream, after the catch-up poll from the cursor.
		"mastodon:mastodon.social/113520000000000013",
	}
	if ids := sourcetest.IDs(got); !slices.Equal(ids, want) {
		t.Fatalf("got %v\nwant %v", ids, want)
	}
	if n := testutil.ToFloat64(deps.Skipped); n != 2 {
		t.Errorf("skipped %v, want 2 (one malformed status in the page, one in the stream)", n)
	}
	streams := srv.calls("/api/v1/streaming/")
	if len(streams) < 2 || streams[0].URL.Query().Get("tag") != "choruslive" || streams[0].URL.Path != "/api/v1/streaming/hashtag" {
		t.Fatalf("streams %v", streams)
	}
	// Each (re)connection polls the gap from the stored cursor: the first
	// from the old cursor, the second from the newest status stored.
	ids := minIDs(srv.calls("/api/v1/timelines/"))
	if len(ids) < 2 || ids[0] != "113520000000000002" || ids[len(ids)-1] != "113520000000000012" {
		t.Errorf("catch-up min_ids %v", ids)
	}
	if c, _ := cur.Get(t.Context(), "mastodon.m"); !strings.Contains(string(c), "113520000000000013") {
		t.Errorf("cursor %s", c)
	}
}

func TestStreamRefusedToken(t *testing.T) {
	srv := newServer(t, nil)
	src, _ := build(t, "id: m\ntype: mastodon\nservers: ["+srv.ts.URL+"]\nhashtags: [x]\naccess_token: wrong", &sourcetest.Cursors{})
	_ = src.Connect(t.Context())
	_, _, err := src.Read(t.Context())
	var auth *connectors.AuthError
	if !errors.As(err, &auth) || !strings.Contains(err.Error(), "Missing access token") {
		t.Fatalf("err %v, want an AuthError", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the token leaked into the error: %v", err)
	}
	_ = src.Close(t.Context())
}

func TestStreamSilentIsDropped(t *testing.T) {
	srv := newServer(t, nil)
	srv.streams = []string{":)\n"}
	src, _ := build(t, "id: m\ntype: mastodon\nservers: ["+srv.ts.URL+"]\nhashtags: [x]\naccess_token: sekrit", &sourcetest.Cursors{})
	src.idle = 200 * time.Millisecond
	_ = src.Connect(t.Context())
	// The gap poll, then the silent stream ends with an error.
	if _, ack, err := src.Read(t.Context()); err != nil {
		t.Fatal(err)
	} else {
		_ = ack(t.Context(), nil)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, _, err := src.Read(ctx)
	if err == nil || !strings.Contains(err.Error(), "silent") {
		t.Fatalf("err %v", err)
	}
	if err := src.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOneServerDownOthersGoOn(t *testing.T) {
	good := newServer(t, timeline(t, "tag_timeline_server_b.json"))
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
	}))
	t.Cleanup(down.Close)
	cur := &sourcetest.Cursors{}
	src, _ := build(t, "id: m\ntype: mastodon\nservers: ["+down.URL+", "+good.ts.URL+"]\nhashtags: [ChorusLive]", cur)
	_ = src.Connect(t.Context())
	posts, ack, err := src.Read(t.Context())
	if err != nil || len(posts) != 3 {
		t.Fatalf("posts %v err %v", sourcetest.IDs(posts), err)
	}
	_ = ack(t.Context(), nil)
	c, _ := cur.Get(t.Context(), "mastodon.m")
	if strings.Contains(string(c), down.URL) || !strings.Contains(string(c), "112000000000000503") {
		t.Errorf("cursor %s", c)
	}
	// With every server down, the error is returned.
	src, _ = build(t, "id: m\ntype: mastodon\nservers: ["+down.URL+"]\nhashtags: [ChorusLive]", cur)
	_ = src.Connect(t.Context())
	if _, _, err := src.Read(t.Context()); err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("err %v", err)
	}
}
