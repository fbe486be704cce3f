package x

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
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
	"github.com/chorus-wall/chorus/connectors/wirejson"
	"github.com/chorus-wall/chorus/connectors/x/xtext"
	"github.com/chorus-wall/chorus/post"
)

const token = "AAAAAAAAAAAAAAAAAAAAAChorusTestBearerToken"

// fakeX is an httptest X API v2: recent search over a timeline of tweets
// (with since_id, until_id and next_token as X documents them), stream
// rules, and a filtered stream whose connections a test scripts.
type fakeX struct {
	t        *testing.T
	srv      *httptest.Server
	pageSize int

	mu       sync.Mutex
	timeline []string // searchable tweet ids, oldest first
	searches []url.Values
	searchAt []time.Time
	rules    []Rule
	ruleSeq  int
	ruleGets int
	changes  []RulesRequest
	conns    int
	// hold, when set, names a channel that search n (kind "search") or
	// rules listing n ("rules") waits on before it is answered: a test
	// stops a run at a known point this way, however slow the machine. A
	// request abandoned while it waits is neither answered nor counted.
	hold      func(kind string, n int) <-chan struct{}
	fail      func(n int, w http.ResponseWriter) bool // answers search n instead when true
	stream    func(n int, f *fakeX, w *lineWriter, r *http.Request)
	streamErr error
}

func newFakeX(t *testing.T) *fakeX {
	f := &fakeX{t: t, pageSize: 100}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+searchPath, f.search)
	mux.HandleFunc("GET "+rulesPath, f.listRules)
	mux.HandleFunc("POST "+rulesPath, f.changeRules)
	mux.HandleFunc("GET "+streamPath, f.serveStream)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeX) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+token || !strings.HasPrefix(r.Header.Get("User-Agent"), "Chorus/") {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`)
		return false
	}
	return true
}

// post makes ids searchable.
func (f *fakeX) post(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.timeline = append(f.timeline, ids...)
	sort.Slice(f.timeline, func(i, j int) bool { return xtext.Less(f.timeline[i], f.timeline[j]) })
}

// wait holds a request while the test's hold says so, and reports
// whether to answer it (false once the client gave up).
func (f *fakeX) wait(r *http.Request, kind string, n func() int) bool {
	f.mu.Lock()
	hold := f.hold
	var c <-chan struct{}
	if hold != nil {
		c = hold(kind, n())
	}
	f.mu.Unlock()
	if c == nil {
		return true
	}
	select {
	case <-c:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (f *fakeX) search(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) || !f.wait(r, "search", func() int { return len(f.searches) }) {
		return
	}
	q := r.URL.Query()
	f.mu.Lock()
	n := len(f.searches)
	f.searches = append(f.searches, q)
	f.searchAt = append(f.searchAt, time.Now())
	fail := f.fail
	var match []string
	for _, id := range slices.Backward(f.timeline) {
		if s := q.Get("since_id"); s != "" && !xtext.Less(s, id) {
			continue
		}
		if u := q.Get("until_id"); u != "" && !xtext.Less(id, u) {
			continue
		}
		match = append(match, id)
	}
	f.mu.Unlock()
	if fail != nil && fail(n, w) {
		return
	}
	offset := 0
	if tok := q.Get("next_token"); tok != "" {
		offset, _ = strconv.Atoi(strings.TrimPrefix(tok, "b26v89c19zqg8o3fo"))
	}
	page := match[min(offset, len(match)):min(offset+f.pageSize, len(match))]
	resp := map[string]any{}
	meta := map[string]any{"result_count": len(page)}
	if len(page) > 0 {
		var data []json.RawMessage
		for _, id := range page {
			data = append(data, tweetJSON(id))
		}
		resp["data"] = data
		resp["includes"] = map[string]any{"users": []json.RawMessage{json.RawMessage(userJSON)}}
		meta["newest_id"], meta["oldest_id"] = page[0], page[len(page)-1]
	}
	if offset+f.pageSize < len(match) {
		meta["next_token"] = fmt.Sprintf("b26v89c19zqg8o3fo%d", offset+f.pageSize)
	}
	resp["meta"] = meta
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-rate-limit-limit", "450")
	w.Header().Set("x-rate-limit-remaining", "449")
	w.Header().Set("x-rate-limit-reset", strconv.FormatInt(time.Now().Add(15*time.Minute).Unix(), 10))
	json.NewEncoder(w).Encode(resp)
}

const userJSON = `{"id":"1502345678901234567","name":"Ana Silva","username":"ana_silva","profile_image_url":"https://pbs.twimg.com/profile_images/1502345678/ana_silva_normal.jpg","verified":false,"public_metrics":{"followers_count":15300,"following_count":311,"tweet_count":5210,"listed_count":12,"like_count":8800}}`

func tweetJSON(id string) json.RawMessage {
	created := "2026-11-23T10:00:00.000Z"
	if n, err := strconv.ParseUint(id, 10, 64); err == nil {
		created = time.UnixMilli(int64(n>>22) + twitterEpoch).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	text := "Post " + id[len(id)-4:] + " from the hall #Summit26"
	return json.RawMessage(fmt.Sprintf(`{"edit_history_tweet_ids":[%q],"id":%q,"text":%q,"author_id":"1502345678901234567","created_at":%q,"lang":"en","conversation_id":%q,"possibly_sensitive":false,"public_metrics":{"retweet_count":0,"reply_count":0,"like_count":1,"quote_count":0,"bookmark_count":0,"impression_count":9},"entities":{"hashtags":[{"start":%d,"end":%d,"tag":"Summit26"}]}}`,
		id, id, text, created, id, len([]rune(text))-9, len([]rune(text))))
}

func (f *fakeX) listRules(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) || !f.wait(r, "rules", func() int { return f.ruleGets }) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ruleGets++
	resp := map[string]any{"meta": map[string]any{"sent": "2026-11-23T10:00:00.000Z", "result_count": len(f.rules)}}
	if len(f.rules) > 0 {
		resp["data"] = f.rules
	}
	json.NewEncoder(w).Encode(resp)
}

func (f *fakeX) changeRules(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "content type", http.StatusBadRequest)
		return
	}
	var req RulesRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, req)
	resp := RulesResponse{Meta: RulesMeta{Sent: "2026-11-23T10:00:00.000Z", Summary: &RulesSummary{}}}
	for _, add := range req.Add {
		f.ruleSeq++
		add.ID = wirejson.ID(fmt.Sprintf("18590000000000%05d", f.ruleSeq))
		f.rules = append(f.rules, add)
		resp.Data = append(resp.Data, add)
		resp.Meta.Summary.Created++
		resp.Meta.Summary.Valid++
	}
	if req.Delete != nil {
		f.rules = slices.DeleteFunc(f.rules, func(r Rule) bool { return slices.Contains(req.Delete.IDs, string(r.ID)) })
		resp.Meta.Summary.Deleted = len(req.Delete.IDs)
	}
	json.NewEncoder(w).Encode(resp)
}

// lineWriter writes stream lines the way X does: each message followed by
// \r\n and flushed.
type lineWriter struct {
	w http.ResponseWriter
}

func (l *lineWriter) line(s string) {
	fmt.Fprint(l.w, s+"\r\n")
	l.w.(http.Flusher).Flush()
}

func (f *fakeX) serveStream(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	if r.URL.Query().Get("tweet.fields") != tweetFields || r.URL.Query().Get("expansions") != expansionParam {
		f.mu.Lock()
		f.streamErr = fmt.Errorf("stream fields %v", r.URL.Query())
		f.mu.Unlock()
	}
	f.mu.Lock()
	n := f.conns
	f.conns++
	script := f.stream
	f.mu.Unlock()
	script(n, f, &lineWriter{w: w}, r)
}

// streamLine is one filtered-stream message with a tweet matching rule.
func streamLine(id string, rule Rule) string {
	return fmt.Sprintf(`{"data":%s,"includes":{"users":[%s]},"matching_rules":[{"id":%q,"tag":%q}]}`, tweetJSON(id), userJSON, rule.ID, rule.Tag)
}

// at is the id of a post made at minute m after 10:00 on the test day.
func at(m int) string {
	return snowflakeAt(time.Date(2026, 11, 23, 10, m, 0, 0, time.UTC))
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

func sourceYAML(f *fakeX, extra string) string {
	return "id: x-test\ntype: x\nbearer_token: " + token + "\nhashtags: [Summit26]\npoll_interval: 1s\nbase_url: " + f.srv.URL + extra
}

func seed(t *testing.T, cursors *sourcetest.Cursors, st cursorState) {
	t.Helper()
	raw, _ := json.Marshal(st)
	if err := cursors.Put(t.Context(), "x.x-test", raw); err != nil {
		t.Fatal(err)
	}
}

func stored(t *testing.T, cursors *sourcetest.Cursors) cursorState {
	t.Helper()
	raw, err := cursors.Get(t.Context(), "x.x-test")
	if err != nil {
		t.Fatal(err)
	}
	var st cursorState
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func ids(posts []post.Post) []string { return sourcetest.IDs(posts) }

func xids(native ...string) []string {
	out := make([]string, len(native))
	for i, id := range native {
		out[i] = "x:" + id
	}
	return out
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "no token", yaml: "hashtags: [a]", want: []string{"sources[0].bearer_token: is required"}},
		{name: "no query", yaml: "bearer_token: t", want: []string{"sources[0]: set at least one of hashtags, keywords or accounts"}},
		{name: "unknown key", yaml: "bearer_token: t\nhashtags: [a]\nbearer: t", want: []string{"sources[0].bearer (line"}},
		{name: "every error at once", yaml: "hashtags: ['two words']\naccounts: ['not a handle!']\npoll_interval: 10ms\nmax_pages: 0\nbase_url: ftp://x", want: []string{
			"sources[0].bearer_token: is required",
			"sources[0].hashtags[0]: \"two words\"",
			"sources[0].accounts[0]: \"not a handle!\" is not an X username",
			"sources[0].poll_interval: 10ms must be between",
			"sources[0].max_pages: 0 must be between 1 and 100",
			"sources[0].base_url:",
		}},
		{name: "query too long", yaml: "bearer_token: t\nkeywords: ['" + strings.Repeat("long phrase ", 50) + "']", want: []string{"sources[0].max_query_length: the query made from hashtags, keywords and accounts has 613 characters, more than 512"}},
		{name: "query length limit itself", yaml: "bearer_token: t\nhashtags: [a]\nmax_query_length: 10000", want: []string{"sources[0].max_query_length: 10000 must be between 64 and 4096"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(sourcetest.Spec(t, "id: x-test\ntype: x\n"+tt.yaml), sourcetest.Deps(t, &sourcetest.Cursors{}))
			sourcetest.WantError(t, err, tt.want)
		})
	}
	src, err := New(sourcetest.Spec(t, "id: x-ok\ntype: x\nbearer_token: "+token+"\nhashtags: ['#Summit26']\naccounts: ['@choruslive']"), sourcetest.Deps(t, &sourcetest.Cursors{}))
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source).settings
	if s.PollInterval != DefaultPollInterval || s.MaxPages != DefaultMaxPages || s.BaseURL != DefaultBaseURL || s.Stream || s.IncludeReposts {
		t.Fatalf("defaults %+v", s)
	}
	if q := src.(*Source).query; q != "(#Summit26 OR from:choruslive) -is:retweet" {
		t.Fatalf("query %q", q)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", s, s, s), token) {
		t.Fatal("the bearer token prints")
	}
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name                        string
		hashtags, keywords, account []string
		reposts                     bool
		want                        string
	}{
		{name: "one hashtag", hashtags: []string{"Summit26"}, want: "#Summit26 -is:retweet"},
		{name: "one hashtag with reposts", hashtags: []string{"Summit26"}, reposts: true, want: "#Summit26"},
		{name: "everything", hashtags: []string{"Summit26", "كورس_لايف"}, keywords: []string{"chorus live", `say "hi"`}, account: []string{"choruslive"},
			want: `(#Summit26 OR #كورس_لايف OR "chorus live" OR "say \"hi\"" OR from:choruslive) -is:retweet`},
		{name: "accounts with reposts", account: []string{"a", "b"}, reposts: true, want: "from:a OR from:b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Query(tt.hashtags, tt.keywords, tt.account, tt.reposts); got != tt.want {
				t.Fatalf("%q, want %q", got, tt.want)
			}
		})
	}
}

// read calls Read and fails the test on an error.
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

func TestPollPagination(t *testing.T) {
	f := newFakeX(t)
	f.pageSize = 2
	f.post(at(0), at(1), at(2), at(3), at(4))
	cursors := &sourcetest.Cursors{}
	seed(t, cursors, cursorState{SinceID: at(0)})
	s := newSource(t, sourceYAML(f, ""), cursors)
	if err := s.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	posts, ack := read(t, s)
	if got, want := ids(posts), xids(at(1), at(2), at(3), at(4)); !reflect.DeepEqual(got, want) {
		t.Fatalf("posts %v, want oldest first %v", got, want)
	}
	if len(f.searches) != 2 {
		t.Fatalf("%d searches, want 2 pages", len(f.searches))
	}
	first, second := f.searches[0], f.searches[1]
	for k, v := range map[string]string{"query": "#Summit26 -is:retweet", "since_id": at(0), "max_results": "100", "tweet.fields": tweetFields, "expansions": expansionParam, "user.fields": userFields, "media.fields": mediaFields} {
		if first.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, first.Get(k), v)
		}
	}
	if first.Has("next_token") || second.Get("next_token") != "b26v89c19zqg8o3fo2" || second.Get("since_id") != at(0) {
		t.Fatalf("pagination: %v then %v", first, second)
	}
	// Not stored: the cursor stays.
	if err := ack(t.Context(), errors.New("bus down")); err != nil {
		t.Fatal(err)
	}
	if st := stored(t, cursors); st.SinceID != at(0) {
		t.Fatalf("cursor moved without a store: %+v", st)
	}
	s.pace.Schedule(time.Time{})
	posts, ack = read(t, s)
	if len(posts) != 4 {
		t.Fatalf("re-read %v", ids(posts))
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if st := stored(t, cursors); st != (cursorState{SinceID: at(4)}) {
		t.Fatalf("cursor %+v", st)
	}
	// The next poll waits for poll_interval, then asks from the cursor.
	f.post(at(5))
	start := time.Now()
	posts, ack = read(t, s)
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Fatalf("polled again after %s, before poll_interval", waited)
	}
	if got := ids(posts); !reflect.DeepEqual(got, xids(at(5))) || f.searches[len(f.searches)-1].Get("since_id") != at(4) {
		t.Fatalf("posts %v after since_id %s", got, f.searches[len(f.searches)-1].Get("since_id"))
	}
	ack(t.Context(), nil)
	// An empty page moves nothing.
	s.pace.Schedule(time.Time{})
	if posts, ack = read(t, s); len(posts) != 0 {
		t.Fatalf("posts %v", ids(posts))
	}
	ack(t.Context(), nil)
	if st := stored(t, cursors); st != (cursorState{SinceID: at(5)}) {
		t.Fatalf("cursor %+v", st)
	}
}

func TestFreshStartTakesTheNewestPage(t *testing.T) {
	f := newFakeX(t)
	f.pageSize = 2
	f.post(at(0), at(1), at(2), at(3))
	cursors := &sourcetest.Cursors{}
	s := newSource(t, sourceYAML(f, ""), cursors)
	if err := s.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	posts, ack := read(t, s)
	if got := ids(posts); !reflect.DeepEqual(got, xids(at(2), at(3))) || len(f.searches) != 1 || f.searches[0].Has("since_id") {
		t.Fatalf("posts %v after %d searches", got, len(f.searches))
	}
	ack(t.Context(), nil)
	if st := stored(t, cursors); st != (cursorState{SinceID: at(3)}) {
		t.Fatalf("cursor %+v", st)
	}
}

func TestCatchUpOverSeveralReads(t *testing.T) {
	f := newFakeX(t)
	f.pageSize = 2
	f.post(at(0), at(1), at(2), at(3), at(4), at(5), at(6))
	cursors := &sourcetest.Cursors{}
	seed(t, cursors, cursorState{SinceID: at(0)})
	// An hour between polls: a catch-up read that waited for the next poll
	// would run into the read's bound below, however slow the machine.
	yaml := strings.Replace(sourceYAML(f, "\nmax_pages: 1"), "poll_interval: 1s", "poll_interval: 1h", 1)
	s := newSource(t, yaml, cursors)
	if err := s.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		posts  []string
		until  string
		cursor cursorState
	}{
		{posts: xids(at(5), at(6)), cursor: cursorState{SinceID: at(0), UntilID: at(5), NewestID: at(6)}},
		{posts: xids(at(3), at(4)), until: at(5), cursor: cursorState{SinceID: at(0), UntilID: at(3), NewestID: at(6)}},
		{posts: xids(at(1), at(2)), until: at(3), cursor: cursorState{SinceID: at(6)}},
	}
	for i, step := range steps {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		posts, ack, err := s.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("step %d: %v (a read while catching up waited for the hourly poll)", i, err)
		}
		q := f.searches[len(f.searches)-1]
		if got := ids(posts); !reflect.DeepEqual(got, step.posts) || q.Get("until_id") != step.until || q.Get("since_id") != at(0) {
			t.Fatalf("step %d: posts %v with %v", i, got, q)
		}
		ack(t.Context(), nil)
		if st := stored(t, cursors); st != step.cursor {
			t.Fatalf("step %d: cursor %+v, want %+v", i, st, step.cursor)
		}
	}
}

func TestRestartMidRunExactlyOnce(t *testing.T) {
	conn := bustest.Open(t)
	f := newFakeX(t)
	f.pageSize = 2
	// The first run stops while its third search waits: after two pages,
	// four posts, with seven to go.
	third := make(chan struct{})
	f.hold = func(kind string, n int) <-chan struct{} {
		if kind == "search" && n == 2 {
			return third
		}
		return nil
	}
	var all []string
	for m := range 12 {
		all = append(all, at(m))
	}
	f.post(all...)
	cursors := &sourcetest.Cursors{}
	seed(t, cursors, cursorState{SinceID: all[0]})
	want := xids(all[1:]...)

	got := sourcetest.Run(t, conn, "x-test", newSource(t, sourceYAML(f, "\nmax_pages: 1"), cursors), 20*time.Second, func(p []post.Post) bool { return len(p) >= 4 })
	if len(got) < 4 || len(got) == len(want) {
		t.Fatalf("first run stored %d posts; the test wants a stop in the middle", len(got))
	}
	mid := stored(t, cursors)
	f.mu.Lock()
	before := len(f.searches)
	f.mu.Unlock()
	close(third)

	got = sourcetest.Run(t, conn, "x-test", newSource(t, sourceYAML(f, "\nmax_pages: 1"), cursors), 20*time.Second, func(p []post.Post) bool { return len(p) >= len(want) })
	sourcetest.Unique(t, got)
	gotIDs := ids(got)
	sort.Strings(gotIDs)
	if !reflect.DeepEqual(gotIDs, want) {
		t.Fatalf("stored %v\nwant %v", gotIDs, want)
	}
	// The second run resumed where the first stored its cursor.
	resume := f.searches[before]
	if resume.Get("since_id") != mid.SinceID || resume.Get("until_id") != mid.UntilID {
		t.Fatalf("resumed with since_id %s until_id %s, cursor was %+v", resume.Get("since_id"), resume.Get("until_id"), mid)
	}
	if st := stored(t, cursors); st != (cursorState{SinceID: all[11]}) {
		t.Fatalf("final cursor %+v", st)
	}
}

func TestRateLimitIsWaitedFor(t *testing.T) {
	conn := bustest.Open(t)
	f := newFakeX(t)
	f.post(at(1))
	f.fail = func(n int, w http.ResponseWriter) bool {
		if n > 0 {
			return false
		}
		w.Header().Set("x-rate-limit-limit", "450")
		w.Header().Set("x-rate-limit-remaining", "0")
		w.Header().Set("x-rate-limit-reset", strconv.FormatInt(time.Now().Add(2*time.Second).Unix(), 10))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`)
		return true
	}
	got := sourcetest.Run(t, conn, "x-test", newSource(t, sourceYAML(f, ""), &sourcetest.Cursors{}), 15*time.Second, func(p []post.Post) bool { return len(p) >= 1 })
	if !reflect.DeepEqual(ids(got), xids(at(1))) {
		t.Fatalf("posts %v", ids(got))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.searches) != 2 {
		t.Fatalf("%d requests; a limited source must wait for the reset, not hammer", len(f.searches))
	}
	if gap := f.searchAt[1].Sub(f.searchAt[0]); gap < 900*time.Millisecond {
		t.Fatalf("asked again after %s, before the reset", gap)
	}
}

func TestUnauthorized(t *testing.T) {
	f := newFakeX(t)
	s := newSource(t, strings.Replace(sourceYAML(f, ""), token, "wrong-token", 1), &sourcetest.Cursors{})
	if err := s.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Read(t.Context())
	var auth *connectors.AuthError
	if !errors.As(err, &auth) || auth.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "x: search recent") {
		t.Fatalf("err = %v, want an AuthError", err)
	}
	// Under the runner, one refusal and then a long wait.
	conn := bustest.Open(t)
	s = newSource(t, strings.Replace(sourceYAML(f, ""), token, "wrong-token", 1), &sourcetest.Cursors{})
	sourcetest.Run(t, conn, "x-test", s, 1500*time.Millisecond, func([]post.Post) bool { return false })
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.searches) != 0 {
		t.Fatalf("%d searches answered; refused calls are not searches", len(f.searches))
	}
}

func TestStreamRulesReconnectAndBackfill(t *testing.T) {
	conn := bustest.Open(t)
	f := newFakeX(t)
	cursors := &sourcetest.Cursors{}
	const tag = "chorus:x-test"
	other := Rule{ID: "1859000000000000200", Value: "#SomethingElse", Tag: "another-app-feature"}
	f.rules = []Rule{{ID: "1859000000000000100", Value: "#OldTag -is:retweet", Tag: tag}, other}
	// z is on the wall before the stream starts; b matches another tag's
	// rule only; d is posted while the stream is down and reaches the wall
	// only through the backfill.
	z, a, b, c, d, e, g, h := at(0), at(2), at(3), at(4), at(6), at(8), at(10), at(12)
	f.post(z)
	// The first run stops before it can reconnect: the second connection's
	// rules listing waits until the restart.
	restart := make(chan struct{})
	f.hold = func(kind string, n int) <-chan struct{} {
		if kind == "rules" && n == 1 {
			return restart
		}
		return nil
	}
	f.stream = func(n int, f *fakeX, w *lineWriter, r *http.Request) {
		ours := f.rules[len(f.rules)-1]
		switch n {
		case 0: // a, b (not ours), a malformed line and c, then the connection drops
			f.post(a, c)
			w.w.WriteHeader(http.StatusOK)
			w.line("")
			w.line(streamLine(a, ours))
			w.line(streamLine(b, other))
			w.line(`{"data":{"id":"` + at(3) + `","text":"cut off mid-`)
			w.line(streamLine(c, ours))
		case 1: // d was posted in the gap; e (its rule named by id only, as a JSON number, as X has sent it), then X asks for a reconnect
			f.post(d, e)
			w.w.WriteHeader(http.StatusOK)
			w.line(strings.Replace(streamLine(e, ours), fmt.Sprintf(`{"id":%q,"tag":%q}`, ours.ID, ours.Tag), `{"id":`+string(ours.ID)+`,"tag":null}`, 1))
			w.line(`{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect","detail":"This stream has been disconnected upstream for operational reasons.","type":"https://api.twitter.com/2/problems/operational-disconnect"}]}`)
			<-r.Context().Done()
		case 2: // g, then silence without keep-alives: a stall
			f.post(g)
			w.w.WriteHeader(http.StatusOK)
			w.line(streamLine(g, ours))
			<-r.Context().Done()
		default: // h, then keep-alives until the client leaves
			f.post(h)
			w.w.WriteHeader(http.StatusOK)
			w.line(streamLine(h, ours))
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					w.line("")
				case <-r.Context().Done():
					return
				}
			}
		}
	}
	yaml := sourceYAML(f, "\nstream: true")
	s := newSource(t, yaml, cursors)
	s.stall = 300 * time.Millisecond
	// First run: until a and c are stored, then a restart.
	got := sourcetest.Run(t, conn, "x-test", s, 20*time.Second, func(p []post.Post) bool { return len(p) >= 3 })
	if !reflect.DeepEqual(ids(got), xids(z, a, c)) {
		t.Fatalf("first run stored %v", ids(got))
	}
	if st := stored(t, cursors); st.SinceID != c {
		t.Fatalf("cursor %+v, want since_id %s", st, c)
	}
	close(restart)
	s = newSource(t, yaml, cursors)
	s.stall = 300 * time.Millisecond
	got = sourcetest.Run(t, conn, "x-test", s, 20*time.Second, func(p []post.Post) bool { return len(p) >= 7 })
	sourcetest.Unique(t, got)
	if !reflect.DeepEqual(ids(got), xids(z, a, c, d, e, g, h)) {
		t.Fatalf("stored %v", ids(got))
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streamErr != nil {
		t.Fatal(f.streamErr)
	}
	// Rules: the stale rule of this source deleted, the query added once,
	// the other tag's rule left alone; checked before every connection.
	wantChanges := []RulesRequest{
		{Delete: &DeleteIDs{IDs: []string{"1859000000000000100"}}},
		{Add: []Rule{{Value: "#Summit26 -is:retweet", Tag: tag}}},
	}
	if !reflect.DeepEqual(f.changes, wantChanges) || f.ruleGets != f.conns {
		t.Fatalf("rule changes %+v after %d listings", f.changes, f.ruleGets)
	}
	if len(f.rules) != 2 || f.rules[0] != other {
		t.Fatalf("rules %+v", f.rules)
	}
	// Every connection was backfilled from the cursor, a minute early.
	var since []string
	for _, q := range f.searches {
		since = append(since, q.Get("since_id"))
	}
	wantSince := []string{"", snowflakeBefore(c, backfillOverlap), snowflakeBefore(e, backfillOverlap), snowflakeBefore(g, backfillOverlap)}
	if !reflect.DeepEqual(since, wantSince) || f.conns != 4 {
		t.Fatalf("backfill since_id %v after %d connections\nwant %v", since, f.conns, wantSince)
	}
	if snowflakeBefore(c, backfillOverlap) != at(3) {
		t.Fatalf("overlap: %s", snowflakeBefore(c, backfillOverlap))
	}
}

func TestStreamBatch(t *testing.T) {
	s := newSource(t, "id: x-stream\ntype: x\nbearer_token: t\nhashtags: [Summit26]\nstream: true", &sourcetest.Cursors{})
	lines := strings.Split(strings.TrimRight(string(sourcetest.Testdata(t, "stream_lines.jsonl")), "\r\n"), "\r\n")
	var nonEmpty [][]byte
	for _, l := range lines {
		if l != "" {
			nonEmpty = append(nonEmpty, []byte(l))
		}
	}
	posts, newest, disconnect := s.streamBatch(nonEmpty)
	if !reflect.DeepEqual(ids(posts), []string{"x:2124807291663437835"}) || newest != "2124807291663437835" {
		t.Fatalf("posts %v newest %s", ids(posts), newest)
	}
	if posts[0].Text != "Line check at the Lantern Room 🎤 #Summit26 chorus.example/lantern" {
		t.Fatalf("text %q", posts[0].Text)
	}
	if !strings.Contains(disconnect, "operational-disconnect") {
		t.Fatalf("disconnect %q", disconnect)
	}
}

func TestSnowflakes(t *testing.T) {
	id := "2124806180172877835" // 2026-11-23T10:04:05Z
	if got := snowflakeAt(time.Date(2026, 11, 23, 10, 4, 5, 0, time.UTC)); !xtext.Less(got, id) || xtext.Less(got, snowflakeBefore(id, time.Second)) {
		t.Fatalf("snowflakeAt %s for %s", got, id)
	}
	if snowflakeBefore("12", time.Minute) != "12" || snowflakeAt(time.Unix(0, 0)) != "" {
		t.Fatal("small ids")
	}
}

// TestStreamLinesWithOddFields: lines as X has really sent them, with side
// fields in another JSON type than documented (rule ids as numbers, counts
// as strings, ...). Each keeps its tweet; a field that guards what may be
// shown (sensitive, withheld) is read on the safe side.
func TestStreamLinesWithOddFields(t *testing.T) {
	s := newSource(t, "id: x-stream\ntype: x\nbearer_token: t\nhashtags: [Summit26]\nstream: true", &sourcetest.Cursors{})
	s.ruleIDs = map[string]bool{"1859000000000000777": true} // as syncRules found it
	var lines [][]byte
	for _, l := range bytes.Split(sourcetest.Testdata(t, "stream_odd_lines.jsonl"), []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, l)
		}
	}
	before := testutil.ToFloat64(s.skipped)
	posts, newest, _ := s.streamBatch(lines)
	want := []string{"x:2124807400000000001", "x:2124807400000000002", "x:2124807400000000003", "x:2124807400000000004", "deleted:x:2124807400000000005"}
	if !reflect.DeepEqual(ids(posts), want) || newest != "2124807400000000005" {
		t.Fatalf("posts %v newest %s, want %v", ids(posts), newest, want)
	}
	if n := testutil.ToFloat64(s.skipped) - before; n != 0 {
		t.Fatalf("%v lines counted as unparsed", n)
	}
	if p := posts[0]; p.Author.Handle != "noa_levi" || p.Text != "Doors open at the Lantern Room #Summit26" || p.Sensitive {
		t.Fatalf("first post %+v", p)
	}
	if p := posts[2]; p.Kind != post.KindReply || p.Author.Handle != "noa_levi" || p.Author.Followers != 0 || p.Counts.Reposts != 1 {
		t.Fatalf("post with string counts %+v", p)
	}
	if !posts[3].Sensitive {
		t.Fatal(`possibly_sensitive "true" was not read as sensitive`)
	}
	if !posts[4].Deleted {
		t.Fatalf("tweet withheld in \"DE, FR\" is not a takedown: %+v", posts[4])
	}
}
