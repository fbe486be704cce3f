package reddit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var _ connectors.Factory = New

const newPath = "/r/HarbourFest/new"

func TestSettings(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, s Settings)
	}{
		{
			name: "anonymous defaults",
			yaml: "id: fest\ntype: reddit\nsubreddits: [r/HarbourFest, festivals]",
			check: func(t *testing.T, s Settings) {
				if s.BaseURL != AnonymousBaseURL || s.PollInterval != time.Minute || s.TokenURL != DefaultTokenURL || !slices.Equal(s.Subreddits, []string{"HarbourFest", "festivals"}) {
					t.Errorf("settings %+v", s)
				}
			},
		},
		{
			name: "oauth switches the API root",
			yaml: "id: fest\ntype: reddit\nkeywords: [harbour fest]\nclient_id: abc\nclient_secret: def",
			check: func(t *testing.T, s Settings) {
				if s.BaseURL != OAuthBaseURL || s.ClientID.Reveal() != "abc" {
					t.Errorf("settings %+v", s)
				}
			},
		},
		{name: "nothing to gather", yaml: "id: fest\ntype: reddit", wantErr: []string{"sources[0]: set at least one of subreddits, keywords, hashtags or accounts"}},
		{name: "unknown key", yaml: "id: fest\ntype: reddit\nsubreddit: x", wantErr: []string{"sources[0].subreddit", "unknown key"}},
		{
			name:    "every error at once",
			yaml:    "id: fest\ntype: reddit\nsubreddits: ['bad name!']\naccounts: ['u/x']\nclient_id: abc\npoll_interval: 1ms\nbase_url: 'ftp://x'\ntoken_url: nope",
			wantErr: []string{"sources[0].subreddits[0]: \"bad name!\"", "sources[0].accounts[0]: \"x\"", "sources[0].client_secret: is required with client_id", "sources[0].poll_interval", "sources[0].base_url", "sources[0].token_url"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := New(sourcetest.Spec(t, tt.yaml), sourcetest.Deps(t, &sourcetest.Cursors{}))
			if len(tt.wantErr) > 0 {
				sourcetest.WantError(t, err, tt.wantErr)
				if strings.Contains(err.Error(), "abc") {
					t.Errorf("secret in error %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, src.(*Source).Settings())
		})
	}
}

func newSource(t *testing.T, yaml string, cursors connectors.Cursors) (*Source, connectors.Deps) {
	t.Helper()
	deps := sourcetest.Deps(t, cursors)
	src, err := New(sourcetest.Spec(t, yaml), deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	return src.(*Source), deps
}

func (s *Source) pollNow() {
	s.pace.Schedule(time.Time{})
}

func read(t *testing.T, s *Source) []post.Post {
	t.Helper()
	s.pollNow()
	posts, ack, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	return posts
}

func cursorOf(t *testing.T, c *sourcetest.Cursors, key string) queryCursor {
	t.Helper()
	raw, _ := c.Get(t.Context(), key)
	var qc queryCursor
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &qc); err != nil {
			t.Fatal(err)
		}
	}
	return qc
}

// listingRequests are the requests to path, as "before=..&after=.." strings.
func listingRequests(f *fakeReddit, path string) []string {
	var out []string
	for _, r := range f.got() {
		if r.URL.Path == path+".json" {
			q := r.URL.Query()
			out = append(out, "before="+q.Get("before")+" after="+q.Get("after"))
		}
	}
	return out
}

func yamlFor(f *fakeReddit, extra string) string {
	if !strings.Contains(extra, "subreddits:") {
		extra += "\nsubreddits: [HarbourFest]"
	}
	return "id: fest\ntype: reddit\nbase_url: " + f.URL + "\n" + extra
}

func TestPollingWithBefore(t *testing.T) {
	f := newFakeReddit(t)
	f.set(newPath, fixtureChildren(t, "new.json"))
	cursors := &sourcetest.Cursors{}
	s, deps := newSource(t, yamlFor(f, ""), cursors)

	posts := read(t, s)
	want := []string{"reddit:1h8longi", "reddit:1h8linkh", "reddit:1h8xpose", "reddit:1h8galld", "reddit:1h8imgc", "reddit:1h8rtlb", "reddit:1h8selfa"}
	if !slices.Equal(sourcetest.IDs(posts), want) {
		t.Fatalf("first poll %v, want %v (oldest first, removed and malformed left out)", sourcetest.IDs(posts), want)
	}
	if n := testutil.ToFloat64(deps.Skipped); n != 1 {
		t.Errorf("skipped %v, want 1", n)
	}
	c := cursorOf(t, cursors, "reddit.fest.r_harbourfest")
	if c.Before != "t3_1h8selfa" || c.Created != 1795426200 || len(c.Recent) != 7 {
		t.Errorf("cursor %+v", c)
	}

	// Quiet: "before" answers empty; the top is checked and nothing is new.
	if posts := read(t, s); len(posts) != 0 {
		t.Errorf("quiet poll %v", sourcetest.IDs(posts))
	}
	// Two new posts.
	f.prepend(newPath, generated(t, "1h8new02", "Second new 🎺", 1795426400), generated(t, "1h8new01", "First new", 1795426300))
	posts = read(t, s)
	if !slices.Equal(sourcetest.IDs(posts), []string{"reddit:1h8new01", "reddit:1h8new02"}) {
		t.Errorf("new posts %v", sourcetest.IDs(posts))
	}
	got := listingRequests(f, newPath)
	wantReqs := []string{"before= after=", "before=t3_1h8selfa after=", "before= after=", "before=t3_1h8selfa after="}
	if !slices.Equal(got, wantReqs) {
		t.Errorf("requests %q, want %q", got, wantReqs)
	}
	for _, r := range f.got() {
		if r.URL.Query().Get("limit") != "100" || !strings.HasPrefix(r.Header.Get("User-Agent"), "Chorus/") || r.Header.Get("Authorization") != "" {
			t.Errorf("request %s headers %v", r.URL, r.Header)
		}
	}
	if c := cursorOf(t, cursors, "reddit.fest.r_harbourfest"); c.Before != "t3_1h8new02" {
		t.Errorf("cursor %+v", c)
	}
}

func TestDeletedAnchorFallsBackToAfter(t *testing.T) {
	f := newFakeReddit(t)
	var pool []json.RawMessage
	for i := 140; i >= 1; i-- { // newest first
		pool = append(pool, generated(t, fmt.Sprintf("p%03d", i), fmt.Sprintf("Post %d", i), 1795420000+float64(i)*10))
	}
	f.set(newPath, pool[100:]) // posts 1..40
	cursors := &sourcetest.Cursors{}
	s, _ := newSource(t, yamlFor(f, ""), cursors)
	if posts := read(t, s); len(posts) != 40 {
		t.Fatalf("first poll %d posts", len(posts))
	}
	// The anchor (post 40) is deleted and 100 newer posts arrive: "before"
	// finds nothing, so the listing is read from the top with "after"
	// down to the anchor's time, over two pages.
	f.set(newPath, slices.Concat(pool[:100], pool[101:]))
	posts := read(t, s)
	var want []string
	for i := 41; i <= 140; i++ {
		want = append(want, fmt.Sprintf("reddit:p%03d", i))
	}
	if !slices.Equal(sourcetest.IDs(posts), want) {
		t.Fatalf("after a deleted anchor got %d posts %v", len(posts), sourcetest.IDs(posts))
	}
	reqs := listingRequests(f, newPath)
	if want := []string{"before= after=", "before=t3_p040 after=", "before= after=", "before= after=t3_p041"}; !slices.Equal(reqs, want) {
		// The first top page ends at post 41, still newer than the anchor.
		t.Errorf("requests %q, want %q", reqs, want)
	}
	if c := cursorOf(t, cursors, "reddit.fest.r_harbourfest"); c.Before != "t3_p140" {
		t.Errorf("cursor %+v", c)
	}
	// Back on "before" at once.
	f.prepend(newPath, generated(t, "p141", "Post 141", 1795420000+1410))
	if posts := read(t, s); !slices.Equal(sourcetest.IDs(posts), []string{"reddit:p141"}) {
		t.Errorf("next poll %v", sourcetest.IDs(posts))
	}
	if reqs := listingRequests(f, newPath); reqs[len(reqs)-1] != "before=t3_p140 after=" {
		t.Errorf("last request %q", reqs[len(reqs)-1])
	}
}

func TestPaginationBefore(t *testing.T) {
	f := newFakeReddit(t)
	var pool []json.RawMessage
	for i := 250; i >= 1; i-- {
		pool = append(pool, generated(t, fmt.Sprintf("q%03d", i), fmt.Sprintf("Post %d", i), 1795420000+float64(i)*10))
	}
	f.set(newPath, pool[249:]) // post 1 only
	s, _ := newSource(t, yamlFor(f, ""), &sourcetest.Cursors{})
	if posts := read(t, s); len(posts) != 1 {
		t.Fatalf("first poll %d", len(posts))
	}
	f.set(newPath, pool)
	posts := read(t, s)
	if len(posts) != 249 || posts[0].ID != "reddit:q002" || posts[248].ID != "reddit:q250" {
		t.Fatalf("%d posts, first %s", len(posts), sourcetest.IDs(posts)[0])
	}
	for i := 1; i < len(posts); i++ {
		if !posts[i].CreatedAt.After(posts[i-1].CreatedAt) {
			t.Fatalf("not oldest first at %d", i)
		}
	}
	reqs := listingRequests(f, newPath)
	if want := []string{"before= after=", "before=t3_q001 after=", "before=t3_q101 after=", "before=t3_q201 after="}; !slices.Equal(reqs, want) {
		t.Errorf("requests %q, want %q", reqs, want)
	}
}

func TestTakedownWhenSeenRemoved(t *testing.T) {
	f := newFakeReddit(t)
	f.set(newPath, fixtureChildren(t, "new.json"))
	s, _ := newSource(t, yamlFor(f, ""), &sourcetest.Cursors{})
	read(t, s)
	f.edit("t3_1h8galld", func(d map[string]any) {
		d["removed_by_category"] = "moderator"
		d["is_gallery"] = false
	})
	f.edit("t3_1h8rtlb", func(d map[string]any) {
		d["author"], d["selftext"], d["removed_by_category"] = "[deleted]", "[deleted]", "deleted"
	})
	posts := read(t, s)
	if got := sourcetest.IDs(posts); !slices.Equal(got, []string{"deleted:reddit:1h8rtlb", "deleted:reddit:1h8galld"}) && !slices.Equal(got, []string{"deleted:reddit:1h8galld", "deleted:reddit:1h8rtlb"}) {
		t.Fatalf("got %v, want two takedowns", got)
	}
	for _, p := range posts {
		if p.Network != "reddit" || p.Source != "fest" || p.Text != "" {
			t.Errorf("takedown %+v", p)
		}
	}
	if posts := read(t, s); len(posts) != 0 {
		t.Errorf("takedowns repeated: %v", sourcetest.IDs(posts))
	}
}

func TestEmptyListing(t *testing.T) {
	f := newFakeReddit(t)
	f.set(newPath, nil)
	cursors := &sourcetest.Cursors{}
	s, _ := newSource(t, yamlFor(f, ""), cursors)
	if posts := read(t, s); len(posts) != 0 {
		t.Errorf("posts %v", sourcetest.IDs(posts))
	}
	if raw, _ := cursors.Get(t.Context(), "reddit.fest.r_harbourfest"); len(raw) != 0 {
		t.Errorf("cursor %s", raw)
	}
	f.set(newPath, fixtureChildren(t, "new.json")[:2])
	if posts := read(t, s); len(posts) != 2 {
		t.Errorf("posts %v", sourcetest.IDs(posts))
	}
}

func TestFailedAckKeepsCursor(t *testing.T) {
	f := newFakeReddit(t)
	f.set(newPath, fixtureChildren(t, "new.json"))
	cursors := &sourcetest.Cursors{}
	s, _ := newSource(t, yamlFor(f, ""), cursors)
	s.pollNow()
	first, ack, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_ = ack(t.Context(), errors.New("bus down"))
	if raw, _ := cursors.Get(t.Context(), "reddit.fest.r_harbourfest"); len(raw) != 0 {
		t.Fatalf("cursor moved: %s", raw)
	}
	if again := read(t, s); !slices.Equal(sourcetest.IDs(again), sourcetest.IDs(first)) {
		t.Errorf("re-read %v, want %v", sourcetest.IDs(again), sourcetest.IDs(first))
	}
}

func TestQueries(t *testing.T) {
	f := newFakeReddit(t)
	kids := fixtureChildren(t, "new.json")
	f.set("/search", kids[:2])
	f.set("/user/ana_souza/submitted", kids[:1])
	f.set(newPath, kids[1:3])
	s, _ := newSource(t, yamlFor(f, "keywords: [lost & found]\nhashtags: [HarbourFest26]\naccounts: [u/ana_souza]\nsubreddits: [HarbourFest, secretclub]"), &sourcetest.Cursors{})
	posts := read(t, s)
	// The bus drops the repeats across queries by id.
	if len(posts) != 7 {
		t.Errorf("posts %v", sourcetest.IDs(posts))
	}
	var got []string
	for _, r := range f.got() {
		got = append(got, r.URL.Path+"?"+r.URL.RawQuery)
	}
	want := []string{
		"/r/HarbourFest/new.json?limit=100",
		"/r/secretclub/new.json?limit=100",
		"/user/ana_souza/submitted.json?limit=100&sort=new",
		"/search.json?limit=100&q=lost+%26+found&sort=new&type=link",
		"/search.json?limit=100&q=%23HarbourFest26&sort=new&type=link",
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests\n%q\nwant\n%q", got, want)
	}
}

func TestOAuth(t *testing.T) {
	f := newFakeReddit(t)
	f.oauth, f.clientID, f.secret = true, "my-app", "s3cret"
	f.set(newPath, fixtureChildren(t, "new.json")[:3])
	yaml := yamlFor(f, "client_id: my-app\nclient_secret: s3cret\ntoken_url: "+f.URL+"/api/v1/access_token")
	s, _ := newSource(t, yaml, &sourcetest.Cursors{})
	if posts := read(t, s); len(posts) != 3 {
		t.Fatalf("posts %v", sourcetest.IDs(posts))
	}
	read(t, s)
	f.mu.Lock()
	tokens := f.tokens
	f.mu.Unlock()
	if tokens != 1 {
		t.Errorf("%d tokens fetched for two polls, want 1", tokens)
	}
	// A token revoked early: the 401 fetches a new one and retries once.
	f.revokeToken()
	f.prepend(newPath, generated(t, "1h8oauth", "After refresh", 1795426900))
	if posts := read(t, s); !slices.Equal(sourcetest.IDs(posts), []string{"reddit:1h8oauth"}) {
		t.Errorf("posts %v", sourcetest.IDs(posts))
	}
	f.mu.Lock()
	tokens = f.tokens
	f.mu.Unlock()
	if tokens != 2 {
		t.Errorf("%d tokens, want 2", tokens)
	}

	t.Run("bad credentials are an auth error", func(t *testing.T) {
		yaml := yamlFor(f, "client_id: my-app\nclient_secret: wrong\ntoken_url: "+f.URL+"/api/v1/access_token")
		s, _ := newSource(t, yaml, &sourcetest.Cursors{})
		s.pollNow()
		_, _, err := s.Read(t.Context())
		var auth *connectors.AuthError
		if !errors.As(err, &auth) || strings.Contains(err.Error(), "wrong") {
			t.Errorf("err %v", err)
		}
	})
}

func TestRateLimited(t *testing.T) {
	f := newFakeReddit(t)
	f.set(newPath, fixtureChildren(t, "new.json"))
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			w.Header().Set("x-ratelimit-remaining", "0.0")
			w.Header().Set("x-ratelimit-used", "100")
			w.Header().Set("x-ratelimit-reset", "120")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message": "Too Many Requests", "error": 429}`))
			return true
		}
		return false
	}
	s, _ := newSource(t, yamlFor(f, ""), &sourcetest.Cursors{})
	for i := range 3 {
		s.pollNow()
		_, _, err := s.Read(t.Context())
		var retry *connectors.RetryError
		if !errors.As(err, &retry) || retry.Wait < 100*time.Second || retry.Wait > 120*time.Second {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if n := len(f.got()); n != 1 {
		t.Errorf("%d requests while rate limited, want 1", n)
	}
}

func TestPrivateSubredditDoesNotStopOthers(t *testing.T) {
	f := newFakeReddit(t)
	f.set(newPath, fixtureChildren(t, "new.json")[:2])
	s, _ := newSource(t, yamlFor(f, "subreddits: [secretclub, HarbourFest]"), &sourcetest.Cursors{})
	if posts := read(t, s); len(posts) != 2 {
		t.Errorf("posts %v", sourcetest.IDs(posts))
	}
	s2, _ := newSource(t, yamlFor(f, "subreddits: [secretclub]"), &sourcetest.Cursors{})
	s2.pollNow()
	if _, _, err := s2.Read(t.Context()); err == nil || !strings.Contains(err.Error(), "r/secretclub") {
		t.Errorf("err %v", err)
	}
}

func TestRestartExactlyOnce(t *testing.T) {
	f := newFakeReddit(t)
	var pool []json.RawMessage
	for i := 12; i >= 1; i-- {
		pool = append(pool, generated(t, fmt.Sprintf("r%03d", i), fmt.Sprintf("Post %d", i), 1795420000+float64(i)*10))
	}
	// Three more posts appear at every listing request.
	served := 0
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		f.mu.Lock()
		if r.URL.Query().Get("after") == "" {
			served = min(served+3, 12)
		}
		f.listings[newPath] = slices.Clone(pool[12-served:])
		f.mu.Unlock()
		return false
	}
	conn := bustest.Open(t)
	cursors := &sourcetest.Cursors{}
	build := func() connectors.Source {
		src, err := New(sourcetest.Spec(t, yamlFor(f, "poll_interval: 1s")), sourcetest.Deps(t, cursors))
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	first := sourcetest.Run(t, conn, "fest", build(), 20*time.Second, func(p []post.Post) bool { return len(p) >= 4 })
	if len(first) < 4 || len(first) >= 12 {
		t.Fatalf("first run stored %d", len(first))
	}
	got := sourcetest.Run(t, conn, "fest", build(), 30*time.Second, func(p []post.Post) bool { return len(p) >= 12 })
	sourcetest.Unique(t, got)
	var want []string
	for i := 1; i <= 12; i++ {
		want = append(want, fmt.Sprintf("reddit:r%03d", i))
	}
	if !slices.Equal(sourcetest.IDs(got), want) {
		t.Fatalf("stored %v\nwant %v", sourcetest.IDs(got), want)
	}
}

// TestSkippedChildrenCountedOnce: comments (t1) mixed into a listing, and a
// post that does not decode, are skipped and counted once each, not again
// at every quiet poll that reads the top of the listing, nor after a
// restart from the stored cursor.
func TestSkippedChildrenCountedOnce(t *testing.T) {
	f := newFakeReddit(t)
	bad := json.RawMessage(`{"kind":"t3","data":{"id":12345,"name":"t3_1h8badz","title":"A post whose id is a number","created_utc":1795426100.0}}`)
	f.set(newPath, append(fixtureChildren(t, "overview.json"), bad))
	cursors := &sourcetest.Cursors{}
	s, deps := newSource(t, yamlFor(f, ""), cursors)
	if posts := read(t, s); !slices.Equal(sourcetest.IDs(posts), []string{"reddit:1h8rtlb", "reddit:1h8selfa"}) {
		t.Fatalf("first poll %v", sourcetest.IDs(posts))
	}
	if n := testutil.ToFloat64(deps.Skipped); n != 3 {
		t.Fatalf("skipped %v after the first poll, want 3 (two comments, one bad post)", n)
	}
	for i := range 3 {
		if posts := read(t, s); len(posts) != 0 {
			t.Fatalf("quiet poll %d: %v", i, sourcetest.IDs(posts))
		}
	}
	if n := testutil.ToFloat64(deps.Skipped); n != 3 {
		t.Fatalf("skipped %v after three quiet polls, want still 3", n)
	}
	// A new comment is counted; the old ones are not.
	f.prepend(newPath, json.RawMessage(strings.Replace(string(fixtureChildren(t, "overview.json")[0]), "mq1c0a1", "mq1c0a2", -1)))
	read(t, s)
	if n := testutil.ToFloat64(deps.Skipped); n != 4 {
		t.Fatalf("skipped %v after a new comment, want 4", n)
	}
	// After a restart, the stored cursor remembers them.
	s2, deps2 := newSource(t, yamlFor(f, ""), cursors)
	if posts := read(t, s2); len(posts) != 0 {
		t.Fatalf("after restart: %v", sourcetest.IDs(posts))
	}
	if n := testutil.ToFloat64(deps2.Skipped); n != 0 {
		t.Fatalf("skipped %v again after a restart", n)
	}
}
