package instagram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
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
	"github.com/chorus-wall/chorus/connectors/facebook/graph"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var _ connectors.Factory = New

const (
	account = "17841405309211844"
	token   = "EAAig-test-token"
	tagID   = "17843826142043131"
)

// fakeGraph is an httptest Graph API with a handler per path; it records
// every request and checks the token, account and User-Agent.
type fakeGraph struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []*http.Request
	routes map[string]http.HandlerFunc
}

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{routes: map[string]http.HandlerFunc{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.got = append(g.got, r.Clone(context.Background()))
		h := g.routes[strings.TrimPrefix(r.URL.Path, "/v21.0")]
		g.mu.Unlock()
		q := r.URL.Query()
		// Every call but a media lookup (the compliance sweep) names the
		// business account.
		lookup := q.Get("fields") == "id"
		if q.Get("access_token") != token || !lookup && q.Get("user_id") != account {
			t.Errorf("%s: access_token %q user_id %q", r.URL.Path, q.Get("access_token"), q.Get("user_id"))
		}
		if r.Header.Get("User-Agent") != connectors.DefaultUserAgent {
			t.Errorf("user agent %q", r.Header.Get("User-Agent"))
		}
		if h == nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":{"message":"Unknown path components: %s","type":"OAuthException","code":2500,"fbtrace_id":"x"}}`, r.URL.Path)
			return
		}
		h(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) route(path string, h http.HandlerFunc) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.routes[path] = h
}

func (g *fakeGraph) requests(path string) []*http.Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*http.Request
	for _, r := range g.got {
		if path == "" || strings.TrimPrefix(r.URL.Path, "/v21.0") == path {
			out = append(out, r)
		}
	}
	return out
}

func fixture(t *testing.T, name string, status int, header map[string]string) http.HandlerFunc {
	body := sourcetest.Testdata(t, name)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		w.Write(body)
	}
}

// search answers ig_hashtag_search with an id per tag.
func search(t *testing.T, ids map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := ids[r.URL.Query().Get("q")]
		if !ok {
			w.Write([]byte(`{"data":[]}`))
			return
		}
		fmt.Fprintf(w, `{"data":[{"id":%q}]}`, id)
	}
}

// paged serves page 1, then page 2 for any after cursor (the edge's after
// cursor is the same on every page, as Instagram documents).
func paged(t *testing.T) http.HandlerFunc {
	one, two := fixture(t, "recent_media_page1.json", 200, nil), fixture(t, "recent_media_page2.json", 200, nil)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("after") == "" {
			one(w, r)
			return
		}
		two(w, r)
	}
}

func newSource(t *testing.T, g *fakeGraph, tags string, cur connectors.Cursors, now func() time.Time) *Source {
	t.Helper()
	spec := sourcetest.Spec(t, "id: ig\ntype: instagram\nbusiness_account_id: \""+account+"\"\naccess_token: "+token+
		"\nhashtags: "+tags+"\nbase_url: "+g.srv.URL+"/v21.0\npoll_interval: 1s")
	deps := sourcetest.Deps(t, cur)
	if now != nil {
		deps.Now = now
	}
	s, err := New(spec, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s.(*Source)
}

func seed(t *testing.T, cur connectors.Cursors, tag, id string, at time.Time) {
	t.Helper()
	raw, _ := json.Marshal(tagState{HashtagID: id, Cursor: graph.Cursor{Time: at.Unix()}})
	if err := cur.Put(t.Context(), CursorKey("ig", tag), raw); err != nil {
		t.Fatal(err)
	}
}

func ids(posts []post.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = strings.TrimPrefix(p.ID, "instagram:")
	}
	return out
}

func TestSettings(t *testing.T) {
	many := make([]string, 31)
	for i := range many {
		many[i] = "tag" + strconv.Itoa(i)
	}
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, s *Source)
	}{
		{
			name: "defaults",
			yaml: "id: ig\ntype: instagram\nbusiness_account_id: \"17841405309211844\"\naccess_token: abc\nhashtags: [\"#ChorusLive\", كورس_لايف]",
			check: func(t *testing.T, s *Source) {
				if s.settings.PollInterval != 5*time.Minute || s.settings.BaseURL != "https://graph.facebook.com/v21.0" ||
					!slices.Equal(s.tags, []string{"choruslive", "كورس_لايف"}) {
					t.Errorf("settings %+v tags %v", s.settings, s.tags)
				}
				natsKey := regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`)
				for _, tag := range s.tags {
					if k := CursorKey("ig", tag); !natsKey.MatchString(k) {
						t.Errorf("cursor key %q is no NATS key", k)
					}
				}
				if CursorKey("ig", "ChorusLive") != "instagram.ig.choruslive" {
					t.Errorf("key %q", CursorKey("ig", "ChorusLive"))
				}
			},
		},
		{
			name:    "missing everything",
			yaml:    "id: ig\ntype: instagram",
			wantErr: []string{"sources[0].hashtags: is required", "sources[0].business_account_id: is required", "sources[0].access_token: is required"},
		},
		{
			name:    "thirty-one hashtags",
			yaml:    "id: ig\ntype: instagram\nbusiness_account_id: \"1\"\naccess_token: abc\nhashtags: [" + strings.Join(many, ", ") + "]",
			wantErr: []string{"sources[0].hashtags: 31 hashtags, at most 30"},
		},
		{
			name:    "thirty distinct hashtags are fine, repeats are named",
			yaml:    "id: ig\ntype: instagram\nbusiness_account_id: \"1\"\naccess_token: abc\nhashtags: [" + strings.Join(many[:30], ", ") + ", TAG0]",
			wantErr: []string{`sources[0].hashtags[30]: "TAG0" is listed twice`},
		},
		{
			name: "bad values",
			yaml: "id: ig\ntype: instagram\nbusiness_account_id: chorus\naccess_token: abc\nhashtags: [\"🎉\", \"two words\"]\nkeywords: [x]\naccounts: [y]",
			wantErr: []string{`sources[0].hashtags[0]: "🎉" is not a hashtag`, `sources[0].hashtags[1]: "two words"`, "sources[0].keywords: not supported",
				"sources[0].accounts: not supported", "sources[0].business_account_id:"},
		},
		{
			name:    "unknown key",
			yaml:    "id: ig\ntype: instagram\nbusiness_account_id: \"1\"\naccess_token: abc\nhashtags: [x]\nusername: y",
			wantErr: []string{"username", "unknown key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(sourcetest.Spec(t, tt.yaml), sourcetest.Deps(t, &sourcetest.Cursors{}))
			if len(tt.wantErr) > 0 {
				sourcetest.WantError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s.(*Source))
		})
	}
}

// TestReadAndCacheHashtagID: the hashtag is looked up once, its id kept in
// the cursor bucket so a restart does not look it up again; pages are
// followed to the cursor; a malformed item is skipped and counted.
func TestReadAndCacheHashtagID(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/ig_hashtag_search", fixture(t, "hashtag_search.json", 200, nil))
	g.route("/"+tagID+"/recent_media", paged(t))
	cur := &sourcetest.Cursors{}
	seed(t, cur, "choruslive", "", time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	s := newSource(t, g, "[ChorusLive]", cur, func() time.Time { return fixedNow })

	posts, ack, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"18055566677788899", "17999988877766655", "18111122233344455", "17890455512345678", "18260001234077219", "17952234117862304", "18047713480916622"}
	if !slices.Equal(ids(posts), want) {
		t.Errorf("posts\n got %v\nwant %v", ids(posts), want)
	}
	if n := testutil.ToFloat64(s.client.skipped); n != 1 {
		t.Errorf("skipped %v, want 1", n)
	}
	lookups := g.requests("/ig_hashtag_search")
	if len(lookups) != 1 || lookups[0].URL.Query().Get("q") != "choruslive" {
		t.Fatalf("lookups %v", lookups)
	}
	media := g.requests("/" + tagID + "/recent_media")
	if len(media) != 2 || media[0].URL.Query().Get("fields") != mediaFields || media[0].URL.Query().Get("limit") != "50" || media[1].URL.Query().Get("after") == "" {
		t.Errorf("%d media requests, first %v", len(media), media[0].URL.Query())
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	raw, _ := cur.Get(t.Context(), CursorKey("ig", "choruslive"))
	var st tagState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if st.HashtagID != tagID || st.Time != time.Date(2026, 11, 23, 10, 20, 11, 0, time.UTC).Unix() || !slices.Equal(st.IDs, []string{"18047713480916622"}) {
		t.Errorf("stored %s", raw)
	}

	s = newSource(t, g, "[ChorusLive]", cur, func() time.Time { return fixedNow })
	posts, _, err = s.Read(t.Context())
	if err != nil || len(posts) != 0 {
		t.Fatalf("after restart: %v %v", ids(posts), err)
	}
	if n := len(g.requests("/ig_hashtag_search")); n != 1 {
		t.Errorf("looked the hashtag up %d times", n)
	}
	if n := len(g.requests("/" + tagID + "/recent_media")); n != 3 {
		t.Errorf("%d media requests: the first page reached the cursor, no second wanted", n)
	}
}

func TestFirstPollAndSharedMedia(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/ig_hashtag_search", search(t, map[string]string{"choruslive": tagID, "summit26": "17841562906103814"}))
	g.route("/"+tagID+"/recent_media", paged(t))
	g.route("/17841562906103814/recent_media", fixture(t, "recent_media_page1.json", 200, nil))
	s := newSource(t, g, "[ChorusLive, Summit26]", &sourcetest.Cursors{}, func() time.Time { return fixedNow })
	posts, _, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// First poll: one page per hashtag; media under both tags come once.
	if len(posts) != 5 || len(g.requests("/"+tagID+"/recent_media")) != 1 {
		t.Errorf("posts %v", ids(posts))
	}
	sourcetest.Unique(t, posts)
}

func TestEmptyAndUnknownHashtags(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/ig_hashtag_search", search(t, map[string]string{"choruslive": tagID, "quiet": "17800000000000001", "banned": "17800000000000002"}))
	g.route("/"+tagID+"/recent_media", fixture(t, "recent_media_page1.json", 200, nil))
	g.route("/17800000000000001/recent_media", fixture(t, "empty.json", 200, nil))
	g.route("/17800000000000002/recent_media", fixture(t, "error_invalid_hashtag.json", 400, nil))
	cur := &sourcetest.Cursors{}
	s := newSource(t, g, "[ChorusLive, quiet, banned, nosuchtag]", cur, func() time.Time { return fixedNow })
	posts, ack, err := s.Read(t.Context())
	if err != nil || len(posts) != 5 {
		t.Fatalf("posts %v err %v", ids(posts), err)
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	raw, _ := cur.Get(t.Context(), CursorKey("ig", "quiet"))
	var st tagState
	json.Unmarshal(raw, &st)
	if st.HashtagID != "17800000000000001" || st.Time != fixedNow.Add(-emptyMargin).Unix() {
		t.Errorf("empty hashtag stored %s", raw)
	}
	if raw, _ := cur.Get(t.Context(), CursorKey("ig", "banned")); len(raw) != 0 {
		t.Errorf("a failed hashtag moved: %s", raw)
	}

	// Alone, a refused hashtag fails the poll with its name.
	s = newSource(t, g, "[banned]", &sourcetest.Cursors{}, nil)
	_, _, err = s.Read(t.Context())
	if err == nil || !strings.Contains(err.Error(), `hashtag "banned"`) || !strings.Contains(err.Error(), "Invalid parameter") {
		t.Errorf("err %v", err)
	}
	s = newSource(t, g, "[nosuchtag]", &sourcetest.Cursors{}, nil)
	_, _, err = s.Read(t.Context())
	if err == nil || !strings.Contains(err.Error(), `hashtag "nosuchtag": Instagram knows no such hashtag`) {
		t.Errorf("err %v", err)
	}
}

func TestGraphErrors(t *testing.T) {
	buc := `{"` + account + `":[{"type":"instagram","call_count":100,"total_cputime":4,"total_time":9,"estimated_time_to_regain_access":12}]}`
	tests := []struct {
		name     string
		fixture  string
		status   int
		header   map[string]string
		wantWait time.Duration
		wantAuth bool
		wantMsg  string
	}{
		{name: "instagram business use case limit", fixture: "error_rate_limit.json", status: 400, header: map[string]string{"X-Business-Use-Case-Usage": buc}, wantWait: 12 * time.Minute, wantMsg: "80002"},
		{name: "limit without usage headers", fixture: "error_rate_limit.json", status: 400, wantWait: graph.DefaultRateLimitWait, wantMsg: "too many calls"},
		{name: "token invalidated", fixture: "error_token_expired.json", status: 400, wantAuth: true, wantMsg: "access token has expired or is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t)
			g.route("/ig_hashtag_search", fixture(t, tt.fixture, tt.status, tt.header))
			s := newSource(t, g, "[choruslive, summit26]", &sourcetest.Cursors{}, nil)
			_, _, err := s.Read(t.Context())
			var retry *connectors.RetryError
			var auth *connectors.AuthError
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.wantAuth && !errors.As(err, &auth):
				t.Fatalf("want AuthError, got %T %v", err, err)
			case !tt.wantAuth && (!errors.As(err, &retry) || retry.Wait != tt.wantWait):
				t.Fatalf("want RetryError of %s, got %T %v", tt.wantWait, err, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), `hashtag "choruslive"`) || strings.Contains(err.Error(), token) {
				t.Errorf("message %q", err)
			}
			if n := len(g.requests("")); n != 1 {
				t.Errorf("%d requests, want 1: the poll stops at once", n)
			}
		})
	}
}

// TestRateLimitWaitedFor: with the real runner, a limited API is called
// once and then left alone for the announced 12 minutes.
func TestRateLimitWaitedFor(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/ig_hashtag_search", search(t, map[string]string{"choruslive": tagID}))
	g.route("/"+tagID+"/recent_media", fixture(t, "error_rate_limit.json", 400, map[string]string{
		"X-Business-Use-Case-Usage": `{"` + account + `":[{"type":"instagram","call_count":100,"total_cputime":4,"total_time":9,"estimated_time_to_regain_access":12}]}`,
	}))
	conn := bustest.Open(t)
	s := newSource(t, g, "[choruslive]", &sourcetest.Cursors{}, nil)
	sourcetest.Run(t, conn, "ig", s, 1500*time.Millisecond, func([]post.Post) bool { return false })
	if n := len(g.requests("/" + tagID + "/recent_media")); n != 1 {
		t.Errorf("%d media requests in 1.5s, want 1", n)
	}
	if n := len(g.requests("/ig_hashtag_search")); n != 1 {
		t.Errorf("%d lookups", n)
	}
}

// timeline is a hashtag whose media appear in phases, one per poll, listed
// newest first two per page.
type timeline struct {
	mu     sync.Mutex
	phases [][]fake
	shown  int
	// hold, when set, keeps the poll that would show the second phase
	// waiting until it is closed: a test stops a run after the first phase
	// this way, however slow the machine. A poll abandoned while it waits
	// shows nothing and is not counted.
	hold chan struct{}
}

type fake struct {
	id string
	at time.Time
}

// wait locks tl once the poll may go on, and reports false, unlocked, when
// the client gave up while the poll was held.
func (tl *timeline) wait(r *http.Request) bool {
	tl.mu.Lock()
	if hold := tl.hold; hold != nil && tl.shown == 1 && r.URL.Query().Get("after") == "" {
		tl.mu.Unlock()
		select {
		case <-hold:
		case <-r.Context().Done():
			return false
		}
		tl.mu.Lock()
	}
	return true
}

func (tl *timeline) handler(w http.ResponseWriter, r *http.Request) {
	if !tl.wait(r) {
		return
	}
	defer tl.mu.Unlock()
	q := r.URL.Query()
	if q.Get("after") == "" && tl.shown < len(tl.phases) {
		tl.shown++
	}
	var visible []fake
	for _, ph := range tl.phases[:tl.shown] {
		visible = append(visible, ph...)
	}
	sort.SliceStable(visible, func(i, j int) bool { return visible[i].at.After(visible[j].at) })
	start, _ := strconv.Atoi(q.Get("after"))
	end := min(start+2, len(visible))
	type item struct {
		ID        string `json:"id"`
		Caption   string `json:"caption"`
		MediaType string `json:"media_type"`
		MediaURL  string `json:"media_url"`
		Permalink string `json:"permalink"`
		Timestamp string `json:"timestamp"`
	}
	page := map[string]any{}
	data := []item{}
	for _, f := range visible[start:end] {
		data = append(data, item{ID: f.id, Caption: "#choruslive " + f.id, MediaType: "IMAGE", MediaURL: "https://scontent.cdninstagram.com/v/" + f.id + ".jpg",
			Permalink: "https://www.instagram.com/p/" + f.id + "/", Timestamp: f.at.Format(graph.TimeLayout)})
	}
	page["data"] = data
	paging := map[string]any{"cursors": map[string]string{"after": strconv.Itoa(end)}}
	if end < len(visible) {
		q.Set("after", strconv.Itoa(end))
		paging["next"] = "https://graph.facebook.com" + r.URL.Path + "?" + q.Encode()
	}
	page["paging"] = paging
	json.NewEncoder(w).Encode(page)
}

// TestRestartMidRun: two runs of the real runner on one bus and one cursor
// store; media sharing the boundary second arrive, every one exactly once.
func TestRestartMidRun(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tl := &timeline{phases: [][]fake{
		{{"1", t0}, {"2", t0.Add(time.Minute)}},
		{{"3", t0.Add(time.Minute)}, {"4", t0.Add(2 * time.Minute)}},
		{{"5", t0.Add(3 * time.Minute)}, {"6", t0.Add(3 * time.Minute)}, {"7", t0.Add(4 * time.Minute)}, {"8", t0.Add(5 * time.Minute)}},
	}, hold: make(chan struct{})} // the first run ends after the first poll
	g := newFakeGraph(t)
	g.route("/ig_hashtag_search", search(t, map[string]string{"choruslive": tagID}))
	g.route("/"+tagID+"/recent_media", tl.handler)
	conn := bustest.Open(t)
	cur := &sourcetest.Cursors{}
	key := CursorKey("ig", "choruslive")

	got := sourcetest.Run(t, conn, "ig", newSource(t, g, "[choruslive]", cur, nil), 10*time.Second, func(p []post.Post) bool {
		raw, _ := cur.Get(context.Background(), key)
		return len(p) >= 2 && len(raw) > 0
	})
	if !slices.Equal(ids(got), []string{"1", "2"}) {
		t.Fatalf("first run %v", ids(got))
	}
	close(tl.hold)
	want := []string{"1", "2", "3", "4", "5", "6", "7", "8"}
	got = sourcetest.Run(t, conn, "ig", newSource(t, g, "[choruslive]", cur, nil), 20*time.Second, func(p []post.Post) bool { return len(p) >= len(want) })
	sourcetest.Unique(t, got)
	if !slices.Equal(ids(got), want) {
		t.Fatalf("got %v\nwant %v", ids(got), want)
	}
	if n := len(g.requests("/ig_hashtag_search")); n != 1 {
		t.Errorf("%d hashtag lookups across the restart, want 1", n)
	}
}

// TestBoundaryExactlyOnce: after a restart the media that shares the
// cursor's second is returned and the one read before is not.
func TestBoundaryExactlyOnce(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tl := &timeline{phases: [][]fake{
		{{"1", t0}, {"2", t0.Add(time.Minute)}},
		{{"3", t0.Add(time.Minute)}, {"4", t0.Add(2 * time.Minute)}},
	}}
	g := newFakeGraph(t)
	g.route("/ig_hashtag_search", search(t, map[string]string{"choruslive": tagID}))
	g.route("/"+tagID+"/recent_media", tl.handler)
	cur := &sourcetest.Cursors{}
	s := newSource(t, g, "[choruslive]", cur, nil)
	posts, ack, err := s.Read(t.Context())
	if err != nil || !slices.Equal(ids(posts), []string{"1", "2"}) {
		t.Fatalf("%v %v", ids(posts), err)
	}
	ack(t.Context(), nil)
	s = newSource(t, g, "[choruslive]", cur, nil)
	posts, _, err = s.Read(t.Context())
	if err != nil || !slices.Equal(ids(posts), []string{"3", "4"}) {
		t.Fatalf("after restart %v %v", ids(posts), err)
	}
}
