package facebook

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
	"github.com/chorus-wall/chorus/connectors/facebook/graph"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var _ connectors.Factory = New

const (
	pageA = "104689318914162"
	token = "EAAtest-token-123"
)

// fakeGraph is an httptest Graph API: a handler per path, and every
// request recorded.
type fakeGraph struct {
	t   *testing.T
	srv *httptest.Server
	mu  sync.Mutex
	got []*http.Request
	// routes answer a path (below /v21.0) and return true when handled.
	routes map[string]http.HandlerFunc
}

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{t: t, routes: map[string]http.HandlerFunc{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.got = append(g.got, r.Clone(context.Background()))
		h := g.routes[strings.TrimPrefix(r.URL.Path, "/v21.0")]
		g.mu.Unlock()
		if r.URL.Query().Get("access_token") != token {
			t.Errorf("%s: access_token %q", r.URL.Path, r.URL.Query().Get("access_token"))
		}
		if ua := r.Header.Get("User-Agent"); ua != connectors.DefaultUserAgent {
			t.Errorf("user agent %q", ua)
		}
		if h == nil {
			w.Header().Set("Content-Type", "application/json")
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

// fixture answers with a testdata file, status and headers.
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

// paged serves the first fixture, and the second for the after cursor of
// the first.
func paged(t *testing.T, first, second string) http.HandlerFunc {
	var list graph.List
	if err := json.Unmarshal(sourcetest.Testdata(t, first), &list); err != nil {
		t.Fatal(err)
	}
	one, two := fixture(t, first, 200, nil), fixture(t, second, 200, nil)
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("after") {
		case "":
			one(w, r)
		case list.Paging.Cursors.After:
			two(w, r)
		default:
			t.Errorf("unexpected after %q", r.URL.Query().Get("after"))
			w.WriteHeader(http.StatusBadRequest)
		}
	}
}

func newSource(t *testing.T, g *fakeGraph, extra string, cur connectors.Cursors, now func() time.Time) *Source {
	t.Helper()
	if !strings.Contains(extra, "poll_interval") {
		extra += "\npoll_interval: 1s"
	}
	spec := sourcetest.Spec(t, "id: fb\ntype: facebook\npages: [\""+pageA+"\"]\naccess_token: "+token+"\nbase_url: "+g.srv.URL+"/v21.0\n"+extra)
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

// seed stores a cursor for pageA's edge at t.
func seed(t *testing.T, cur connectors.Cursors, edge string, at time.Time) {
	t.Helper()
	raw, _ := json.Marshal(edgeState{Cursor: graph.Cursor{Time: at.Unix()}})
	if err := cur.Put(t.Context(), CursorKey("fb", pageA, edge), raw); err != nil {
		t.Fatal(err)
	}
}

func ids(posts []post.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = strings.TrimPrefix(p.ID, "facebook:")
	}
	return out
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, s *Source)
	}{
		{
			name: "defaults",
			yaml: "id: fb\ntype: facebook\npages: [\"104689318914162\", chorus.live]\naccess_token: abc",
			check: func(t *testing.T, s *Source) {
				st := s.settings
				if st.PollInterval != 2*time.Minute || st.BaseURL != "https://graph.facebook.com/v21.0" || st.IncludeTagged || st.IncludeComments {
					t.Errorf("settings %+v", st)
				}
				if fmt.Sprint(st.AccessToken) == "abc" {
					t.Error("the token prints")
				}
				if got := CursorKey("fb", "chorus.live", "posts"); got != "facebook.fb.b64-Y2hvcnVzLmxpdmU.posts" {
					t.Errorf("cursor key %q", got)
				}
			},
		},
		{
			name: "everything set",
			yaml: "id: fb\ntype: facebook\npages: [\"1\"]\naccess_token: abc\ninclude_tagged: true\ninclude_comments: true\npoll_interval: 5m\nbase_url: https://graph.facebook.com/v22.0/",
			check: func(t *testing.T, s *Source) {
				st := s.settings
				if !st.IncludeTagged || !st.IncludeComments || st.PollInterval != 5*time.Minute || st.BaseURL != "https://graph.facebook.com/v22.0" {
					t.Errorf("settings %+v", st)
				}
			},
		},
		{
			name:    "missing pages and token",
			yaml:    "id: fb\ntype: facebook",
			wantErr: []string{"sources[0].pages: is required", "sources[0].access_token: is required"},
		},
		{
			name: "bad values",
			yaml: "id: fb\ntype: facebook\npages: [\"1\", \"1\", \"a/b?x=1\"]\naccess_token: abc\nhashtags: [x]\npoll_interval: 10ms\nbase_url: ftp://x",
			wantErr: []string{
				`sources[0].pages[1]: "1" is listed twice`, `sources[0].pages[2]: "a/b?x=1" is not a page id`,
				"sources[0].hashtags: not supported", "sources[0].poll_interval:", "sources[0].base_url:",
			},
		},
		{
			name:    "unknown key",
			yaml:    "id: fb\ntype: facebook\npages: [\"1\"]\naccess_token: abc\ninclude_tags: true",
			wantErr: []string{"include_tags", "unknown key"},
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

func TestReadPagesTaggedAndComments(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/"+pageA+"/posts", paged(t, "posts_page1.json", "posts_page2.json"))
	g.route("/"+pageA+"/tagged", fixture(t, "tagged.json", 200, nil))
	comments, empty := fixture(t, "comments.json", 200, nil), fixture(t, "empty.json", 200, nil)
	for _, id := range []string{"122104338020142351", "122104337511142351", "122104336912142351", "122104335881142351",
		"122104333452142351", "122104331006142351", "122104320113142351", "122104318222142351"} {
		g.route("/"+pageA+"_"+id+"/comments", empty)
	}
	g.route("/"+pageA+"_122104327328142351/comments", comments)
	g.route("/100064812233901_1094821559334180/comments", empty)
	cur := &sourcetest.Cursors{}
	since := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	seed(t, cur, "posts", since)
	seed(t, cur, "tagged", since)
	s := newSource(t, g, "include_tagged: true\ninclude_comments: true", cur, func() time.Time { return fixedNow })

	posts, ack, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		// the page's posts, oldest first, across both pages of the edge
		pageA + "_122104318222142351", pageA + "_122104320113142351", pageA + "_122104327328142351", pageA + "_122104331006142351",
		pageA + "_122104333452142351", pageA + "_122104335881142351", pageA + "_122104336912142351", pageA + "_122104337511142351",
		pageA + "_122104338020142351",
		// comments of the page's posts
		"122104327328142351_1587299935512590", "122104327328142351_1587301192179136", "122104327328142351_1587322465510342",
		// the post the page is tagged in
		"100064812233901_1094821559334180",
	}
	if got := ids(posts); !slices.Equal(got, want) {
		t.Errorf("posts\n got %v\nwant %v", got, want)
	}
	if n := testutil.ToFloat64(s.client.skipped); n != 1 {
		t.Errorf("skipped %v, want 1 (the post with a broken time)", n)
	}
	// The edge was asked since one second before the cursor, with every
	// field; the second page by the first's after cursor, on our server.
	reqs := g.requests("/" + pageA + "/posts")
	if len(reqs) != 2 {
		t.Fatalf("%d requests for posts", len(reqs))
	}
	q := reqs[0].URL.Query()
	if q.Get("since") != strconv.FormatInt(since.Unix()-1, 10) || q.Get("fields") != postFields || q.Get("limit") != "100" {
		t.Errorf("first request %v", q)
	}
	if reqs[1].URL.Query().Get("after") == "" || reqs[1].URL.Query().Get("fields") != postFields {
		t.Errorf("second request %v", reqs[1].URL.Query())
	}
	cq := g.requests("/" + pageA + "_122104327328142351/comments")[0].URL.Query()
	if cq.Get("order") != "reverse_chronological" || cq.Get("filter") != "stream" || cq.Get("fields") != commentFields {
		t.Errorf("comments request %v", cq)
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	raw, _ := cur.Get(t.Context(), CursorKey("fb", pageA, "posts"))
	var st edgeState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if st.Time != time.Date(2026, 11, 23, 10, 12, 0, 0, time.UTC).Unix() || !slices.Equal(st.IDs, []string{pageA + "_122104338020142351"}) {
		t.Errorf("cursor %+v", st.Cursor)
	}
	if len(st.Watch) != 9 {
		t.Errorf("watching %d posts' comments, want 9", len(st.Watch))
	}
	for _, w := range st.Watch {
		if w.ID == pageA+"_122104327328142351" && w.Comments.Time != time.Date(2026, 11, 23, 9, 12, 30, 0, time.UTC).Unix() {
			t.Errorf("comment cursor %+v", w.Comments)
		}
	}
}

func TestFirstPollTakesNewestPageOnly(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/"+pageA+"/posts", paged(t, "posts_page1.json", "posts_page2.json"))
	s := newSource(t, g, "", &sourcetest.Cursors{}, func() time.Time { return fixedNow })
	posts, _, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	reqs := g.requests("")
	if len(reqs) != 1 || reqs[0].URL.Query().Get("limit") != "25" || reqs[0].URL.Query().Has("since") {
		t.Errorf("requests %d, first %v", len(reqs), reqs[0].URL.Query())
	}
	if len(posts) != 7 {
		t.Errorf("got %d posts, want the 7 readable ones of the first page", len(posts))
	}
}

func TestEmptyPage(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/"+pageA+"/posts", fixture(t, "empty.json", 200, nil))
	cur := &sourcetest.Cursors{}
	s := newSource(t, g, "", cur, func() time.Time { return fixedNow })
	posts, ack, err := s.Read(t.Context())
	if err != nil || len(posts) != 0 {
		t.Fatalf("posts %v err %v", posts, err)
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	// An empty first poll still fixes a starting point, so a later burst
	// is read in full rather than as a first page.
	raw, _ := cur.Get(t.Context(), CursorKey("fb", pageA, "posts"))
	var st edgeState
	json.Unmarshal(raw, &st)
	if st.Time != fixedNow.Add(-emptyMargin).Unix() {
		t.Errorf("cursor %+v", st)
	}
}

// TestGraphErrors: Graph reports rate limits in the body, often with HTTP
// 400 (or 403), so the body decides.
func TestGraphErrors(t *testing.T) {
	buc := `{"` + pageA + `":[{"type":"pages","call_count":100,"total_cputime":9,"total_time":14,"estimated_time_to_regain_access":7}]}`
	tests := []struct {
		name     string
		fixture  string
		status   int
		header   map[string]string
		wantWait time.Duration
		wantAuth bool
		wantMsg  string
	}{
		{name: "app limit, code 4, business use case header", fixture: "error_rate_limit_app.json", status: 400,
			header: map[string]string{"X-App-Usage": `{"call_count":100,"total_cputime":12,"total_time":34}`, "X-Business-Use-Case-Usage": buc}, wantWait: 7 * time.Minute, wantMsg: "(#4) Application request limit reached"},
		{name: "code 613 without an estimate waits the default", fixture: "error_rate_limit_613.json", status: 400,
			header: map[string]string{"X-App-Usage": `{"call_count":100,"total_cputime":40,"total_time":61}`}, wantWait: graph.DefaultRateLimitWait, wantMsg: "613"},
		{name: "page business use case limit with HTTP 403 is a rate limit, not auth", fixture: "error_page_rate_limit.json", status: 403,
			header: map[string]string{"X-Business-Use-Case-Usage": buc}, wantWait: 7 * time.Minute, wantMsg: "80001"},
		{name: "code 4 with HTTP 429", fixture: "error_rate_limit_app.json", status: 429,
			header: map[string]string{"X-App-Usage": `{"call_count":100,"total_cputime":12,"total_time":34,"estimated_time_to_regain_access":2}`}, wantWait: 2 * time.Minute, wantMsg: "Application request limit"},
		{name: "expired token, HTTP 400", fixture: "error_token_expired.json", status: 400, wantAuth: true, wantMsg: "access token has expired"},
		{name: "expired token, HTTP 401", fixture: "error_token_expired.json", status: 401, wantAuth: true, wantMsg: "access token has expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newFakeGraph(t)
			g.route("/"+pageA+"/posts", fixture(t, tt.fixture, tt.status, tt.header))
			g.route("/2/posts", fixture(t, "posts_page1.json", 200, nil))
			spec := sourcetest.Spec(t, "id: fb\ntype: facebook\npages: [\""+pageA+"\", \"2\"]\naccess_token: "+token+"\nbase_url: "+g.srv.URL+"/v21.0")
			src, err := New(spec, sourcetest.Deps(t, &sourcetest.Cursors{}))
			if err != nil {
				t.Fatal(err)
			}
			src.Connect(t.Context())
			_, _, err = src.Read(t.Context())
			var retry *connectors.RetryError
			var auth *connectors.AuthError
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.wantAuth && !errors.As(err, &auth):
				t.Fatalf("want an AuthError, got %T %v", err, err)
			case !tt.wantAuth && (!errors.As(err, &retry) || retry.Wait != tt.wantWait):
				t.Fatalf("want a RetryError of %s, got %T %v", tt.wantWait, err, err)
			case tt.wantAuth && errors.As(err, &retry):
				t.Fatalf("an expired token is no rate limit: %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), `page "`+pageA+`"`) {
				t.Errorf("message %q lacks %q or the page", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("message shows the token: %q", err)
			}
			// The whole poll stops at once: the other page is not called.
			if n := len(g.requests("")); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// TestUnknownPage: a page the token cannot read is named in the log and
// skipped; the other pages keep flowing. Alone, it fails the poll.
func TestUnknownPage(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/999000111222333/posts", fixture(t, "error_unknown_page.json", 400, nil))
	g.route("/"+pageA+"/posts", fixture(t, "posts_page1.json", 200, nil))
	for _, tt := range []struct {
		name    string
		pages   string
		wantErr bool
	}{
		{name: "with a good page", pages: `["999000111222333", "` + pageA + `"]`},
		{name: "alone", pages: `["999000111222333"]`, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := sourcetest.Spec(t, "id: fb\ntype: facebook\npages: "+tt.pages+"\naccess_token: "+token+"\nbase_url: "+g.srv.URL+"/v21.0")
			src, err := New(spec, sourcetest.Deps(t, &sourcetest.Cursors{}))
			if err != nil {
				t.Fatal(err)
			}
			src.Connect(t.Context())
			posts, _, err := src.Read(t.Context())
			if !tt.wantErr {
				if err != nil || len(posts) != 7 {
					t.Fatalf("posts %d err %v", len(posts), err)
				}
				return
			}
			var apiErr *graph.APIError
			if !errors.As(err, &apiErr) || !apiErr.InvalidQuery() || !strings.Contains(err.Error(), `page "999000111222333"`) ||
				!strings.Contains(err.Error(), "does not exist") || graph.Fatal(t.Context(), err) {
				t.Errorf("err %v", err)
			}
		})
	}
}

// TestRateLimitWaitedFor drives the source with the real runner against a
// Graph API that is over its limit for 7 minutes: one call, then the
// runner waits; the API is not hammered.
func TestRateLimitWaitedFor(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/"+pageA+"/posts", fixture(t, "error_rate_limit_app.json", 400, map[string]string{
		"X-Business-Use-Case-Usage": `{"` + pageA + `":[{"type":"pages","call_count":100,"total_cputime":9,"total_time":14,"estimated_time_to_regain_access":7}]}`,
	}))
	conn := bustest.Open(t)
	s := newSource(t, g, "", &sourcetest.Cursors{}, nil)
	sourcetest.Run(t, conn, "fb", s, 1500*time.Millisecond, func([]post.Post) bool { return false })
	if n := len(g.requests("")); n != 1 {
		t.Errorf("%d requests in 1.5s, want 1 (then wait 7 minutes)", n)
	}
}

// timeline is a Graph API page whose posts appear in phases: each poll
// (a request without a paging cursor) reveals the next phase. It answers
// since (inclusive) and pages two posts at a time with after cursors, as
// the edge does.
type timeline struct {
	mu     sync.Mutex
	phases [][]fake
	shown  int
	// hold, when set, keeps the poll that would show the second phase
	// waiting until it is closed: a test stops a run after the first phase
	// this way, however slow the machine. A poll abandoned while it waits
	// shows nothing and is not counted.
	hold   chan struct{}
	sinces []string
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

func (tl *timeline) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !tl.wait(r) {
			return
		}
		defer tl.mu.Unlock()
		if q.Get("after") == "" {
			tl.sinces = append(tl.sinces, q.Get("since"))
			if tl.shown < len(tl.phases) {
				tl.shown++
			}
		}
		var visible []fake
		for _, ph := range tl.phases[:tl.shown] {
			visible = append(visible, ph...)
		}
		sort.SliceStable(visible, func(i, j int) bool { return visible[i].at.After(visible[j].at) })
		if s := q.Get("since"); s != "" {
			n, _ := strconv.ParseInt(s, 10, 64)
			kept := visible[:0]
			for _, f := range visible {
				if f.at.Unix() >= n {
					kept = append(kept, f)
				}
			}
			visible = kept
		}
		start, _ := strconv.Atoi(q.Get("after"))
		end := min(start+2, len(visible))
		type item struct {
			ID          string `json:"id"`
			Message     string `json:"message"`
			CreatedTime string `json:"created_time"`
		}
		var page struct {
			Data   []item `json:"data"`
			Paging struct {
				Cursors struct {
					Before string `json:"before"`
					After  string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next,omitempty"`
			} `json:"paging"`
		}
		page.Data = []item{}
		for _, f := range visible[start:end] {
			page.Data = append(page.Data, item{ID: f.id, Message: "post " + f.id, CreatedTime: f.at.Format(graph.TimeLayout)})
		}
		page.Paging.Cursors.After = strconv.Itoa(end)
		if end < len(visible) {
			q.Set("after", strconv.Itoa(end))
			page.Paging.Next = "https://graph.facebook.com/v21.0" + strings.TrimPrefix(r.URL.Path, "/v21.0") + "?" + q.Encode()
		}
		json.NewEncoder(w).Encode(page)
	}
}

func (tl *timeline) since() []string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return slices.Clone(tl.sinces)
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// boundaryTimeline: B and C share a second, and C appears only after B
// was read.
func boundaryTimeline() *timeline {
	return &timeline{phases: [][]fake{
		{{pageA + "_1", t0}, {pageA + "_2", t0.Add(time.Minute)}},
		{{pageA + "_3", t0.Add(time.Minute)}, {pageA + "_4", t0.Add(2 * time.Minute)}},
		{{pageA + "_5", t0.Add(3 * time.Minute)}, {pageA + "_6", t0.Add(3 * time.Minute)}, {pageA + "_7", t0.Add(4 * time.Minute)},
			{pageA + "_8", t0.Add(5 * time.Minute)}, {pageA + "_9", t0.Add(6 * time.Minute)}},
	}}
}

// TestRestartAtSameSecondBoundary: read, acknowledge, restart; the post
// that shares the boundary second arrives, the one read before does not
// come again; a failed store moves nothing.
func TestRestartAtSameSecondBoundary(t *testing.T) {
	g := newFakeGraph(t)
	tl := boundaryTimeline()
	g.route("/"+pageA+"/posts", tl.handler(t))
	cur := &sourcetest.Cursors{}

	s := newSource(t, g, "", cur, nil)
	posts, ack, err := s.Read(t.Context())
	if err != nil || !slices.Equal(ids(posts), []string{pageA + "_1", pageA + "_2"}) {
		t.Fatalf("first read %v %v", ids(posts), err)
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}

	s = newSource(t, g, "", cur, nil) // restart
	posts, ack, err = s.Read(t.Context())
	if err != nil || !slices.Equal(ids(posts), []string{pageA + "_3", pageA + "_4"}) {
		t.Fatalf("after restart %v %v", ids(posts), err)
	}
	if got := tl.since(); got[1] != strconv.FormatInt(t0.Add(time.Minute).Unix()-1, 10) {
		t.Errorf("since %v", got)
	}
	ack(t.Context(), errors.New("bus down")) // not stored: nothing moves

	s = newSource(t, g, "", cur, nil)
	posts, ack, err = s.Read(t.Context())
	want := []string{pageA + "_3", pageA + "_4", pageA + "_5", pageA + "_6", pageA + "_7", pageA + "_8", pageA + "_9"}
	if err != nil || !slices.Equal(ids(posts), want) {
		t.Fatalf("after a failed store %v %v", ids(posts), err)
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	posts, _, err = s.Read(t.Context()) // waits the 1s poll interval
	if err != nil || len(posts) != 0 {
		t.Fatalf("nothing new: %v %v", ids(posts), err)
	}
}

// TestRestartMidRun runs the source with the real runner and bus, stops it
// after the first poll, and starts a new one on the same cursors: every
// post arrives once, none is lost.
func TestRestartMidRun(t *testing.T) {
	g := newFakeGraph(t)
	tl := boundaryTimeline()
	tl.hold = make(chan struct{}) // the first run ends after the first poll
	g.route("/"+pageA+"/posts", tl.handler(t))
	conn := bustest.Open(t)
	cur := &sourcetest.Cursors{}
	key := CursorKey("fb", pageA, "posts")

	got := sourcetest.Run(t, conn, "fb", newSource(t, g, "", cur, nil), 10*time.Second, func(p []post.Post) bool {
		raw, _ := cur.Get(context.Background(), key)
		return len(p) >= 2 && len(raw) > 0
	})
	if !slices.Equal(ids(got), []string{pageA + "_1", pageA + "_2"}) {
		t.Fatalf("first run %v", ids(got))
	}
	close(tl.hold)
	want := []string{pageA + "_1", pageA + "_2", pageA + "_3", pageA + "_4", pageA + "_5", pageA + "_6", pageA + "_7", pageA + "_8", pageA + "_9"}
	got = sourcetest.Run(t, conn, "fb", newSource(t, g, "", cur, nil), 20*time.Second, func(p []post.Post) bool { return len(p) >= len(want) })
	sourcetest.Unique(t, got)
	if !slices.Equal(ids(got), want) {
		t.Fatalf("got %v\nwant %v", ids(got), want)
	}
	for _, p := range got {
		if p.Source != "fb" || p.Network != "facebook" {
			t.Errorf("%s: source %q network %q", p.ID, p.Source, p.Network)
		}
	}
}

func TestReadStopsWithContext(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/"+pageA+"/posts", fixture(t, "empty.json", 200, nil))
	s := newSource(t, g, "poll_interval: 1h", &sourcetest.Cursors{}, nil)
	if _, _, err := s.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { _, _, err := s.Read(ctx); done <- err }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read ignored the context")
	}
}

func TestAppSecretProof(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/"+pageA+"/posts", fixture(t, "posts_page1.json", 200, nil))
	s := newSource(t, g, "app_secret: s3cret-app", &sourcetest.Cursors{}, nil)
	if _, _, err := s.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := graph.AppSecretProof(token, "s3cret-app")
	if got := g.requests("")[0].URL.Query().Get("appsecret_proof"); got != want || len(want) != 64 {
		t.Errorf("appsecret_proof %q, want %q", got, want)
	}
	if fmt.Sprint(s.settings.AppSecret) == "s3cret-app" {
		t.Error("the app secret prints")
	}
}

// TestCommentWatch: comments are followed for a day after a post, at most
// for the newest posts; a post that vanished is dropped from the watch.
func TestCommentWatch(t *testing.T) {
	g := newFakeGraph(t)
	g.route("/"+pageA+"/posts", fixture(t, "empty.json", 200, nil))
	g.route("/"+pageA+"_gone/comments", fixture(t, "error_unknown_page.json", 400, nil))
	g.route("/"+pageA+"_fresh/comments", fixture(t, "comments.json", 200, nil))
	cur := &sourcetest.Cursors{}
	st := edgeState{Cursor: graph.Cursor{Time: fixedNow.Add(-time.Hour).Unix()}, Watch: []watched{
		{ID: pageA + "_old", Created: fixedNow.Add(-25 * time.Hour).Unix()},
		{ID: pageA + "_gone", Created: fixedNow.Add(-2 * time.Hour).Unix()},
		{ID: pageA + "_fresh", Created: fixedNow.Add(-90 * time.Minute).Unix(),
			Comments: graph.Cursor{Time: time.Date(2026, 11, 23, 9, 5, 12, 0, time.UTC).Unix(), IDs: []string{"122104327328142351_1587301192179136"}}},
	}}
	raw, _ := json.Marshal(st)
	cur.Put(t.Context(), CursorKey("fb", pageA, "posts"), raw)
	s := newSource(t, g, "include_comments: true", cur, func() time.Time { return fixedNow })
	posts, ack, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(posts); !slices.Equal(got, []string{"122104327328142351_1587322465510342"}) {
		t.Errorf("comments %v: only the one after the comment cursor", got)
	}
	if n := len(g.requests("/" + pageA + "_old/comments")); n != 0 {
		t.Errorf("a post older than a day was asked for comments")
	}
	ack(t.Context(), nil)
	raw, _ = cur.Get(t.Context(), CursorKey("fb", pageA, "posts"))
	var got edgeState
	json.Unmarshal(raw, &got)
	if len(got.Watch) != 1 || got.Watch[0].ID != pageA+"_fresh" || got.Watch[0].Comments.Time != time.Date(2026, 11, 23, 9, 12, 30, 0, time.UTC).Unix() {
		t.Errorf("watch %+v", got.Watch)
	}
	if got.Time != st.Time {
		t.Errorf("the edge cursor moved without posts: %+v", got.Cursor)
	}
}
