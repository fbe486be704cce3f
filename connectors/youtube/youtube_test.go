package youtube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var _ connectors.Factory = New

const testKey = "AIzaSyTEST-key-0123456789abcdefghijk"

func TestSettings(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, s Settings)
	}{
		{
			name: "defaults",
			yaml: "id: yt\ntype: youtube\napi_key: k\nkeywords: [harbour festival]",
			check: func(t *testing.T, s Settings) {
				if s.BaseURL != DefaultBaseURL || s.PollInterval != 15*time.Minute || !*s.Statistics || s.Lookback != time.Hour || s.ChatMinInterval != 0 {
					t.Errorf("settings %+v", s)
				}
			},
		},
		{
			name: "chat only, statistics off",
			yaml: "id: yt\ntype: youtube\napi_key: k\nlive_video_id: hArb0urL1v3\nstatistics: false\nchat_min_interval: 10s",
			check: func(t *testing.T, s Settings) {
				if s.LiveVideoID != "hArb0urL1v3" || *s.Statistics || s.ChatMinInterval != 10*time.Second {
					t.Errorf("settings %+v", s)
				}
			},
		},
		{name: "api key required", yaml: "id: yt\ntype: youtube\nkeywords: [x]", wantErr: []string{"sources[0].api_key: is required"}},
		{name: "unknown key", yaml: "id: yt\ntype: youtube\napi_key: k\nkeywords: [x]\nchannel: y", wantErr: []string{"sources[0].channel", "unknown key"}},
		{
			name:    "every error at once",
			yaml:    "id: yt\ntype: youtube\napi_key: k\naccounts: [harbourfest]\nlive_chat_id: abc\nlive_video_id: short\nlookback: -1h\npoll_interval: 0.5s\nchat_min_interval: 5m",
			wantErr: []string{"sources[0].accounts[0]: \"harbourfest\" is not a channel id", "sources[0].live_video_id: set live_chat_id or live_video_id, not both", "sources[0].live_video_id: \"short\"", "sources[0].lookback", "sources[0].poll_interval", "sources[0].chat_min_interval"},
		},
		{name: "nothing to gather", yaml: "id: yt\ntype: youtube\napi_key: k", wantErr: []string{"sources[0]: set at least one of keywords, hashtags, accounts, live_chat_id or live_video_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := New(sourcetest.Spec(t, tt.yaml), sourcetest.Deps(t, &sourcetest.Cursors{}))
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

// fakeAPI serves /youtube/v3/<endpoint>: each endpoint answers with the
// next step of its script (the last repeats). Requests are recorded.
type fakeAPI struct {
	*httptest.Server
	mu       sync.Mutex
	scripts  map[string][]http.HandlerFunc
	requests map[string][]*http.Request
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{scripts: map[string][]http.HandlerFunc{}, requests: map[string][]*http.Request{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep := strings.TrimPrefix(r.URL.Path, "/youtube/v3/")
		f.mu.Lock()
		f.requests[ep] = append(f.requests[ep], r.Clone(context.Background()))
		n := len(f.requests[ep])
		script := f.scripts[ep]
		f.mu.Unlock()
		if r.URL.Query().Get("key") != testKey {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(sourcetest.Testdata(t, "error_key_invalid.json"))
			return
		}
		if len(script) == 0 {
			http.NotFound(w, r)
			return
		}
		script[min(n, len(script))-1](w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) script(endpoint string, steps ...http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts[endpoint] = steps
}

func (f *fakeAPI) got(endpoint string) []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests[endpoint])
}

func answer(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

func ok(t testing.TB, name string) http.HandlerFunc {
	return answer(http.StatusOK, sourcetest.Testdata(t, name))
}

func newSource(t *testing.T, f *fakeAPI, extra string, cursors connectors.Cursors, now func() time.Time) (*Source, connectors.Deps) {
	t.Helper()
	deps := sourcetest.Deps(t, cursors)
	if now != nil {
		deps.Now = now
	}
	src, err := New(sourcetest.Spec(t, "id: yt\ntype: youtube\napi_key: "+testKey+"\nbase_url: "+f.URL+"\n"+extra), deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	return src.(*Source), deps
}

// due makes the searches and the chat due at once.
func (s *Source) due() {
	s.mu.Lock()
	s.searchDue, s.chatDue, s.idleDue = time.Time{}, time.Time{}, time.Time{}
	s.mu.Unlock()
}

func read(t *testing.T, s *Source) []post.Post {
	t.Helper()
	s.due()
	posts, ack, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	return posts
}

func TestSearch(t *testing.T) {
	f := newFakeAPI(t)
	f.script("search", ok(t, "search.json"))
	f.script("videos", ok(t, "videos.json"))
	cursors := &sourcetest.Cursors{}
	s, deps := newSource(t, f, "keywords: [harbour festival]", cursors, nil)

	posts := read(t, s)
	want := []string{"youtube:ag3R3str1ct", "youtube:l0ngD3scr1p", "youtube:ar4b1cV1de0", "youtube:dR0n3Sh0t01", "youtube:hArb0urL1v3"}
	if !slices.Equal(sourcetest.IDs(posts), want) {
		t.Fatalf("posts %v, want %v", sourcetest.IDs(posts), want)
	}
	if n := testutil.ToFloat64(deps.Skipped); n != 2 {
		t.Errorf("skipped %v, want 2 (a channel and a broken item)", n)
	}
	if posts[4].Counts.Likes != 512 || !posts[0].Sensitive {
		t.Errorf("videos.list details missing: %+v", posts[4].Counts)
	}
	q := f.got("search")[0].URL.Query()
	if q.Get("part") != "snippet" || q.Get("type") != "video" || q.Get("order") != "date" || q.Get("q") != "harbour festival" || q.Get("maxResults") != "50" || q.Has("publishedAfter") || q.Has("pageToken") {
		t.Errorf("search query %v", q)
	}
	if len(f.got("search")) != 1 {
		t.Errorf("first poll read %d pages, want the newest only", len(f.got("search")))
	}
	vq := f.got("videos")[0].URL.Query()
	if vq.Get("part") != "snippet,statistics,contentDetails" || vq.Get("id") != "hArb0urL1v3,dR0n3Sh0t01,ar4b1cV1de0,l0ngD3scr1p,ag3R3str1ct" {
		t.Errorf("videos query %v", vq)
	}

	// The next poll looks back an hour from the newest video; what it saw
	// is not published again, not looked up again, and ends the paging.
	if posts := read(t, s); len(posts) != 0 {
		t.Errorf("second poll %v", sourcetest.IDs(posts))
	}
	reqs := f.got("search")
	if len(reqs) != 2 || reqs[1].URL.Query().Get("publishedAfter") != "2026-11-23T09:00:00Z" || reqs[1].URL.Query().Has("pageToken") {
		t.Errorf("second poll requests %d, last %v", len(reqs), reqs[len(reqs)-1].URL.Query())
	}
	if len(f.got("videos")) != 1 {
		t.Errorf("videos.list called again for known videos")
	}
	raw, _ := cursors.Get(t.Context(), s.searches[0].key)
	var c searchCursor
	_ = json.Unmarshal(raw, &c)
	if !c.Newest.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) || len(c.Seen) != 5 {
		t.Errorf("cursor %+v", c)
	}
}

// page makes a search.list page of n new videos (shaped like the fixture's
// first hit) numbered from first, newest first, with next as its token.
func page(t *testing.T, first, n int, next string) []byte {
	t.Helper()
	var resp map[string]any
	if err := json.Unmarshal(sourcetest.Testdata(t, "search.json"), &resp); err != nil {
		t.Fatal(err)
	}
	template := resp["items"].([]any)[1].(map[string]any)
	var items []any
	for i := first + n - 1; i >= first; i-- {
		b, _ := json.Marshal(template)
		var it map[string]any
		_ = json.Unmarshal(b, &it)
		it["id"].(map[string]any)["videoId"] = fmt.Sprintf("gen%08d", i)
		sn := it["snippet"].(map[string]any)
		sn["title"] = fmt.Sprintf("Video %d", i)
		sn["publishedAt"] = time.Date(2026, 11, 23, 11, 0, i, 0, time.UTC).Format(time.RFC3339)
		items = append(items, it)
	}
	resp["items"] = items
	if next == "" {
		delete(resp, "nextPageToken")
	} else {
		resp["nextPageToken"] = next
	}
	b, _ := json.Marshal(resp)
	return b
}

func TestSearchPagination(t *testing.T) {
	f := newFakeAPI(t)
	f.script("search", ok(t, "search.json"), func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("pageToken") {
		case "":
			answer(http.StatusOK, page(t, 51, 50, "CDIQAA"))(w, r)
		case "CDIQAA":
			answer(http.StatusOK, page(t, 1, 50, "CGQQAA"))(w, r)
		default:
			answer(http.StatusOK, sourcetest.Testdata(t, "search.json"))(w, r)
		}
	})
	s, _ := newSource(t, f, "hashtags: [HarbourFest26]\nstatistics: false", &sourcetest.Cursors{}, nil)
	read(t, s)
	posts := read(t, s)
	if len(posts) != 100 || posts[0].ID != "youtube:gen00000001" || posts[99].ID != "youtube:gen00000100" {
		t.Fatalf("%d posts %v", len(posts), sourcetest.IDs(posts)[:3])
	}
	var tokens []string
	for _, r := range f.got("search") {
		tokens = append(tokens, r.URL.Query().Get("q")+"|"+r.URL.Query().Get("pageToken"))
	}
	// The third page holds known videos: paging stops there.
	if want := []string{"#HarbourFest26|", "#HarbourFest26|", "#HarbourFest26|CDIQAA", "#HarbourFest26|CGQQAA"}; !slices.Equal(tokens, want) {
		t.Errorf("requests %q, want %q", tokens, want)
	}
	if len(f.got("videos")) != 0 {
		t.Errorf("statistics: false still called videos.list")
	}
}

func TestEmptySearch(t *testing.T) {
	f := newFakeAPI(t)
	f.script("search", ok(t, "search_empty.json"))
	cursors := &sourcetest.Cursors{}
	s, _ := newSource(t, f, "accounts: [UCa1b2c3d4e5f6g7h8i9j0kL]", cursors, nil)
	if posts := read(t, s); len(posts) != 0 {
		t.Errorf("posts %v", sourcetest.IDs(posts))
	}
	if q := f.got("search")[0].URL.Query(); q.Get("channelId") != "UCa1b2c3d4e5f6g7h8i9j0kL" || q.Has("q") {
		t.Errorf("query %v", q)
	}
	if len(f.got("videos")) != 0 {
		t.Errorf("videos.list for no videos")
	}
}

func TestAPIErrors(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) // 04:00 in Los Angeles
	tests := []struct {
		name  string
		h     http.HandlerFunc
		check func(t *testing.T, err error)
	}{
		{name: "quota exceeded waits for midnight Pacific", h: answer(http.StatusForbidden, sourcetest.Testdata(t, "error_quota.json")), check: func(t *testing.T, err error) {
			var retry *connectors.RetryError
			if !errors.As(err, &retry) || retry.Wait != 20*time.Hour || !errors.Is(err, ErrQuota) || fetchIsAuth(err) {
				t.Errorf("err %v", err)
			}
			if !strings.Contains(err.Error(), "youtube: daily quota exceeded") {
				t.Errorf("message %q", err)
			}
		}},
		{name: "rate limit waits a minute", h: answer(http.StatusForbidden, sourcetest.Testdata(t, "error_rate_limit.json")), check: func(t *testing.T, err error) {
			var retry *connectors.RetryError
			if !errors.As(err, &retry) || retry.Wait != time.Minute || fetchIsAuth(err) {
				t.Errorf("err %v", err)
			}
		}},
		{name: "invalid key is an auth error", h: answer(http.StatusBadRequest, sourcetest.Testdata(t, "error_key_invalid.json")), check: func(t *testing.T, err error) {
			var auth *connectors.AuthError
			if !errors.As(err, &auth) || auth.Status != 400 {
				t.Errorf("err %v", err)
			}
		}},
		{name: "forbidden is an auth error", h: answer(http.StatusForbidden, sourcetest.Testdata(t, "error_forbidden.json")), check: func(t *testing.T, err error) {
			var auth *connectors.AuthError
			if !errors.As(err, &auth) || !strings.Contains(err.Error(), "forbidden") {
				t.Errorf("err %v", err)
			}
		}},
		{name: "server error is a plain error", h: answer(http.StatusInternalServerError, []byte(`{"error":{"code":500,"message":"Backend Error","errors":[{"message":"Backend Error","domain":"global","reason":"backendError"}]}}`)), check: func(t *testing.T, err error) {
			var retry *connectors.RetryError
			if err == nil || errors.As(err, &retry) || fetchIsAuth(err) || strings.Contains(err.Error(), testKey) {
				t.Errorf("err %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.script("search", tt.h)
			s, _ := newSource(t, f, "keywords: [harbour]", &sourcetest.Cursors{}, func() time.Time { return now })
			s.due()
			_, _, err := s.Read(t.Context())
			tt.check(t, err)
		})
	}
}

func fetchIsAuth(err error) bool {
	var auth *connectors.AuthError
	return errors.As(err, &auth)
}

// TestQuotaInStatus runs the source under the real runner: the quota
// message is what an operator sees in GET /api/v1/sources.
func TestQuotaInStatus(t *testing.T) {
	f := newFakeAPI(t)
	f.script("search", answer(http.StatusForbidden, sourcetest.Testdata(t, "error_quota.json")))
	s, _ := newSource(t, f, "keywords: [harbour]", &sourcetest.Cursors{}, nil)
	r := connectors.NewRunner(map[string]connectors.Source{"yt": s}, bustest.Open(t), slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := r.Statuses()[0]
		if strings.Contains(st.LastError, "youtube: daily quota exceeded") {
			if until := time.Until(st.NextRetry); until < time.Minute || until > 25*time.Hour {
				t.Errorf("next retry in %s", until)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(f.got("search")); n != 1 {
		t.Errorf("%d calls after the quota ran out", n)
	}
}

func TestTooManyRequests(t *testing.T) {
	f := newFakeAPI(t)
	f.script("search", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "90")
		answer(http.StatusTooManyRequests, sourcetest.Testdata(t, "error_rate_limit.json"))(w, r)
	})
	s, _ := newSource(t, f, "keywords: [harbour]", &sourcetest.Cursors{}, nil)
	for range 3 {
		s.due()
		_, _, err := s.Read(t.Context())
		var retry *connectors.RetryError
		if !errors.As(err, &retry) || retry.Wait < 60*time.Second || retry.Wait > 90*time.Second {
			t.Fatalf("err %v", err)
		}
	}
	if n := len(f.got("search")); n != 1 {
		t.Errorf("%d calls while told to wait", n)
	}
}

func TestLiveChat(t *testing.T) {
	f := newFakeAPI(t)
	f.script("videos", ok(t, "live_details.json"))
	f.script("liveChat/messages", ok(t, "chat.json"), ok(t, "chat_page2.json"), ok(t, "chat_offline.json"))
	cursors := &sourcetest.Cursors{}
	s, deps := newSource(t, f, "live_video_id: hArb0urL1v3", cursors, nil)

	posts := read(t, s)
	if want := []string{"youtube:LCC.msg-001", "youtube:LCC.msg-002", "youtube:LCC.msg-003", "youtube:LCC.msg-006"}; !slices.Equal(sourcetest.IDs(posts), want) {
		t.Fatalf("page 1 %v, want %v", sourcetest.IDs(posts), want)
	}
	if n := testutil.ToFloat64(deps.Skipped); n != 1 {
		t.Errorf("skipped %v, want 1", n)
	}
	s.mu.Lock()
	wait, bans := time.Until(s.chatDue), s.bansSeen
	s.mu.Unlock()
	if wait < 4*time.Second || wait > 5096*time.Millisecond {
		t.Errorf("next chat poll in %s, want pollingIntervalMillis (5096ms)", wait)
	}
	if bans != 1 {
		t.Errorf("bans seen %d", bans)
	}
	vq := f.got("videos")[0].URL.Query()
	if vq.Get("part") != "liveStreamingDetails" || vq.Get("id") != "hArb0urL1v3" {
		t.Errorf("videos query %v", vq)
	}

	posts = read(t, s)
	if want := []string{"deleted:youtube:LCC.msg-002", "youtube:LCC.msg-008"}; !slices.Equal(sourcetest.IDs(posts), want) {
		t.Fatalf("page 2 %v, want %v", sourcetest.IDs(posts), want)
	}
	posts = read(t, s)
	if want := []string{"youtube:LCC.msg-009"}; !slices.Equal(sourcetest.IDs(posts), want) {
		t.Fatalf("page 3 %v", sourcetest.IDs(posts))
	}
	var tokens []string
	for _, r := range f.got("liveChat/messages") {
		q := r.URL.Query()
		if q.Get("liveChatId") != "Cg0KC2hBcmIwdXJMMXYzKicKGFVDYTFiMmMzZDRlNWY2ZzdoOGk5ajBrTBILaEFyYjB1ckwxdjM" || q.Get("part") != "snippet,authorDetails" {
			t.Errorf("chat query %v", q)
		}
		tokens = append(tokens, q.Get("pageToken"))
	}
	if want := []string{"", "GOCdsPbQ4ooDIP6U0obR4ooD", "GKm7tPbQ4ooDIKXZ0obR4ooD"}; !slices.Equal(tokens, want) {
		t.Errorf("page tokens %q, want %q", tokens, want)
	}
	raw, _ := cursors.Get(t.Context(), "youtube.yt.chat")
	var c chatCursor
	_ = json.Unmarshal(raw, &c)
	if !c.Ended || c.PageToken != "GLastPbQ4ooDILast0obR4ooD" {
		t.Errorf("cursor %+v", c)
	}
	// Offline: the chat is not read again, even after a restart.
	s2, _ := newSource(t, f, "live_video_id: hArb0urL1v3", cursors, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := s2.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read of an ended chat: %v", err)
	}
	if n := len(f.got("liveChat/messages")); n != 3 {
		t.Errorf("%d chat calls after it ended", n)
	}
}

func TestLiveChatStates(t *testing.T) {
	tests := []struct {
		name     string
		extra    string
		videos   http.HandlerFunc
		chat     http.HandlerFunc
		wantChat int
		ended    bool
	}{
		{name: "chat ended error ends gracefully", extra: "live_chat_id: Cg0KC2hBcmIwdXJMMXYz", chat: answer(http.StatusForbidden, sourcetest.Testdata(t, "error_chat_ended.json")), wantChat: 1, ended: true},
		{name: "broadcast over: no chat call", extra: "live_video_id: hArb0urL1v3", videos: ok(t, "live_details_ended.json"), ended: true},
		{name: "not started yet: retried later", extra: "live_video_id: hArb0urL1v3", videos: answer(http.StatusOK, []byte(`{"kind":"youtube#videoListResponse","etag":"x","items":[{"kind":"youtube#video","etag":"y","id":"hArb0urL1v3","liveStreamingDetails":{"scheduledStartTime":"2026-11-24T18:00:00Z"}}],"pageInfo":{"totalResults":1,"resultsPerPage":1}}`))},
		{name: "empty page", extra: "live_chat_id: Cg0KC2hBcmIwdXJMMXYz", chat: ok(t, "chat_empty.json"), wantChat: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			if tt.videos != nil {
				f.script("videos", tt.videos)
			}
			if tt.chat != nil {
				f.script("liveChat/messages", tt.chat)
			}
			cursors := &sourcetest.Cursors{}
			s, _ := newSource(t, f, tt.extra, cursors, nil)
			if posts := read(t, s); len(posts) != 0 {
				t.Errorf("posts %v", sourcetest.IDs(posts))
			}
			if n := len(f.got("liveChat/messages")); n != tt.wantChat {
				t.Errorf("%d chat calls, want %d", n, tt.wantChat)
			}
			if s.chatEnded() != tt.ended {
				t.Errorf("ended %v, want %v", s.chatEnded(), tt.ended)
			}
		})
	}
}

// TestChatResumesAfterError: a failed chat call (the poll's "dropped
// connection") is retried from the last stored page token, also by a
// restarted source.
func TestChatResumesAfterError(t *testing.T) {
	f := newFakeAPI(t)
	f.script("liveChat/messages", ok(t, "chat.json"), answer(http.StatusServiceUnavailable, []byte(`{"error":{"code":503,"message":"The service is currently unavailable.","errors":[{"message":"The service is currently unavailable.","domain":"global","reason":"backendError"}]}}`)), ok(t, "chat_page2.json"))
	cursors := &sourcetest.Cursors{}
	s, _ := newSource(t, f, "live_chat_id: Cg0KC2hBcmIwdXJMMXYz", cursors, nil)
	read(t, s)
	s.due()
	if _, _, err := s.Read(t.Context()); err == nil {
		t.Fatal("no error from a 503")
	}
	s2, _ := newSource(t, f, "live_chat_id: Cg0KC2hBcmIwdXJMMXYz", cursors, nil)
	if posts := read(t, s2); len(posts) != 2 {
		t.Errorf("posts %v", sourcetest.IDs(posts))
	}
	reqs := f.got("liveChat/messages")
	if got := reqs[2].URL.Query().Get("pageToken"); got != "GOCdsPbQ4ooDIP6U0obR4ooD" {
		t.Errorf("resumed with page token %q", got)
	}
}

func TestRestartExactlyOnce(t *testing.T) {
	f := newFakeAPI(t)
	// Each page token gives the next three messages, up to twelve.
	f.script("liveChat/messages", func(w http.ResponseWriter, r *http.Request) {
		var n int
		if tok := r.URL.Query().Get("pageToken"); tok != "" {
			fmt.Sscanf(tok, "tok-%d", &n)
		}
		var items []any
		for i := n + 1; i <= min(n+3, 12); i++ {
			items = append(items, map[string]any{
				"kind": "youtube#liveChatMessage", "etag": fmt.Sprint("m", i), "id": fmt.Sprintf("LCC.gen-%02d", i),
				"snippet": map[string]any{"type": "textMessageEvent", "liveChatId": "chat", "authorChannelId": "UCfan1aaaaaaaaaaaaaaaaaa",
					"publishedAt": time.Date(2026, 11, 23, 10, 0, i, 0, time.UTC).Format(time.RFC3339Nano), "hasDisplayContent": true,
					"displayMessage": fmt.Sprintf("message %d 🎶", i), "textMessageDetails": map[string]any{"messageText": fmt.Sprintf("message %d 🎶", i)}},
				"authorDetails": map[string]any{"channelId": "UCfan1aaaaaaaaaaaaaaaaaa", "channelUrl": "http://www.youtube.com/channel/UCfan1aaaaaaaaaaaaaaaaaa", "displayName": "@fan", "profileImageUrl": "https://yt4.ggpht.com/a", "isVerified": false},
			})
		}
		next := min(n+3, 12)
		b, _ := json.Marshal(map[string]any{"kind": "youtube#liveChatMessageListResponse", "etag": "e", "pollingIntervalMillis": 100,
			"pageInfo": map[string]any{"totalResults": len(items), "resultsPerPage": len(items)}, "nextPageToken": fmt.Sprintf("tok-%d", next), "items": items})
		answer(http.StatusOK, b)(w, r)
	})
	conn := bustest.Open(t)
	cursors := &sourcetest.Cursors{}
	build := func() connectors.Source {
		src, err := New(sourcetest.Spec(t, "id: yt\ntype: youtube\napi_key: "+testKey+"\nbase_url: "+f.URL+"\nlive_chat_id: chat"), sourcetest.Deps(t, cursors))
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	first := sourcetest.Run(t, conn, "yt", build(), 20*time.Second, func(p []post.Post) bool { return len(p) >= 4 })
	if len(first) < 4 || len(first) >= 12 {
		t.Fatalf("first run stored %d", len(first))
	}
	calls := len(f.got("liveChat/messages"))
	got := sourcetest.Run(t, conn, "yt", build(), 30*time.Second, func(p []post.Post) bool { return len(p) >= 12 })
	sourcetest.Unique(t, got)
	var want []string
	for i := 1; i <= 12; i++ {
		want = append(want, fmt.Sprintf("youtube:LCC.gen-%02d", i))
	}
	if !slices.Equal(sourcetest.IDs(got), want) {
		t.Fatalf("stored %v\nwant %v", sourcetest.IDs(got), want)
	}
	if tok := f.got("liveChat/messages")[calls].URL.Query().Get("pageToken"); tok == "" {
		t.Errorf("restart did not resume from the stored page token")
	}
}
