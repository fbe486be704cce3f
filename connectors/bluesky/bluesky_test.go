package bluesky

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var _ connectors.Factory = New

// network is Jetstream, the public AppView and a PDS in one test server.
// Jetstream replays its events from the cursor a connection asks for, like
// the real one, and records every connection's query.
type network struct {
	t  *testing.T
	ts *httptest.Server

	mu     sync.Mutex
	events [][]byte
	conns  []url.Values
	// plan says, per connection, how many events to send before dropping
	// it (0 or missing: send all and stay open); before runs first.
	plan   []int
	before func()
	// limit says, per connection, how many events to send and then stay
	// open without sending more (0 or missing: no limit).
	limit []int
	// refuse answers the next websocket upgrades with 429.
	refuse int
	// profiles429 answers getProfiles with 429 and a reset header.
	profiles429 bool
	requests    map[string][]*http.Request
}

func newNetwork(t *testing.T) *network {
	n := &network{t: t, events: lines(t), requests: map[string][]*http.Request{}}
	n.ts = httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(n.ts.Close)
	return n
}

func (n *network) calls(path string) []*http.Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.requests[path])
}

func (n *network) serve(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	n.requests[r.URL.Path] = append(n.requests[r.URL.Path], r.Clone(context.Background()))
	n.mu.Unlock()
	switch r.URL.Path {
	case "/subscribe":
		n.subscribe(w, r)
	case "/xrpc/app.bsky.actor.getProfiles":
		n.mu.Lock()
		limited := n.profiles429
		n.mu.Unlock()
		if limited {
			w.Header().Set("RateLimit-Limit", "3000")
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
			w.Header().Set("RateLimit-Policy", "3000;w=300")
			http.Error(w, `{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}`, http.StatusTooManyRequests)
			return
		}
		var all ProfilesResponse
		_ = json.Unmarshal(sourcetest.Testdata(n.t, "profiles.json"), &all)
		want := r.URL.Query()["actors"]
		if len(want) > 25 {
			http.Error(w, `{"error":"InvalidRequest","message":"Error: actors must not have more than 25 elements"}`, http.StatusBadRequest)
			return
		}
		var out ProfilesResponse
		for _, p := range all.Profiles {
			if slices.Contains(want, p.DID) {
				out.Profiles = append(out.Profiles, p)
			}
		}
		writeJSON(w, out)
	case "/xrpc/com.atproto.identity.resolveHandle":
		var all ProfilesResponse
		_ = json.Unmarshal(sourcetest.Testdata(n.t, "profiles.json"), &all)
		for _, p := range all.Profiles {
			if p.Handle == r.URL.Query().Get("handle") {
				writeJSON(w, ResolveHandleResponse{DID: p.DID})
				return
			}
		}
		http.Error(w, `{"error":"InvalidRequest","message":"Unable to resolve handle"}`, http.StatusBadRequest)
	case "/xrpc/com.atproto.server.createSession":
		var body struct{ Identifier, Password string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.Method != http.MethodPost || body.Identifier != "me.bsky.social" || body.Password != "abcd-efgh-ijkl-mnop" {
			http.Error(w, `{"error":"AuthenticationRequired","message":"Invalid identifier or password"}`, http.StatusUnauthorized)
			return
		}
		_, _ = w.Write(sourcetest.Testdata(n.t, "session.json"))
	case "/xrpc/app.bsky.feed.searchPosts":
		var sess Session
		_ = json.Unmarshal(sourcetest.Testdata(n.t, "session.json"), &sess)
		if r.Header.Get("Authorization") != "Bearer "+sess.AccessJwt {
			http.Error(w, `{"error":"AuthMissing","message":"Authentication Required"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("cursor") == "2" {
			_, _ = w.Write(sourcetest.Testdata(n.t, "search_posts_2.json"))
			return
		}
		_, _ = w.Write(sourcetest.Testdata(n.t, "search_posts_1.json"))
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (n *network) subscribe(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	if n.refuse > 0 {
		n.refuse--
		n.mu.Unlock()
		w.Header().Set("Retry-After", "2")
		http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
		return
	}
	k := len(n.conns)
	n.conns = append(n.conns, r.URL.Query())
	events := slices.Clone(n.events)
	drop, limit := at(n.plan, k), at(n.limit, k)
	before := n.before
	n.mu.Unlock()
	up := websocket.Upgrader{}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	cursor, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	sent := 0
	replaying := false
	for _, e := range events {
		var ev struct {
			TimeUS int64 `json:"time_us"`
		}
		if json.Unmarshal(e, &ev) == nil {
			replaying = ev.TimeUS >= cursor
		}
		if !replaying {
			continue
		}
		if (drop > 0 && sent == drop) || (limit > 0 && sent == limit) {
			break
		}
		if err := conn.WriteMessage(websocket.TextMessage, e); err != nil {
			return
		}
		sent++
	}
	if drop > 0 && sent == drop {
		if before != nil {
			before()
		}
		return // the connection drops
	}
	// Stay open until the client leaves (answering its pings).
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			return
		}
	}
}

func at(list []int, i int) int {
	if i < len(list) {
		return list[i]
	}
	return 0
}

func (n *network) connections() []url.Values {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.conns)
}

func build(t *testing.T, yaml string, deps connectors.Deps) *Source {
	t.Helper()
	src, err := New(sourcetest.Spec(t, yaml), deps)
	if err != nil {
		t.Fatal(err)
	}
	return src.(*Source)
}

func yaml(n *network, extra string) string {
	return "id: b\ntype: bluesky\nbase_url: " + n.ts.URL + "\npublic_api_url: " + n.ts.URL + "\napi_url: " + n.ts.URL + "\n" + extra
}

func ids(refs map[string]ref, names ...string) []string {
	var out []string
	for _, name := range names {
		if d, ok := strings.CutPrefix(name, "deleted:"); ok {
			out = append(out, "deleted:"+refs[d].id())
			continue
		}
		if e, ok := strings.CutPrefix(name, "edited:"); ok {
			out = append(out, "edited:"+refs[e].id())
			continue
		}
		out = append(out, refs[name].id())
	}
	return out
}

func TestSettings(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, s Settings)
	}{
		{
			name: "defaults",
			yaml: "id: b\ntype: bluesky\nhashtags: [ChorusLive]",
			check: func(t *testing.T, s Settings) {
				if s.BaseURL != DefaultJetstreamURL || s.PublicAPIURL != DefaultPublicAPIURL || s.APIURL != DefaultAPIURL || s.Backfill != 0 {
					t.Errorf("settings %+v", s)
				}
			},
		},
		{
			name: "credentials bring a one-hour backfill",
			yaml: "id: b\ntype: bluesky\nkeywords: [keynote]\nidentifier: me.bsky.social\napp_password: abcd-efgh-ijkl-mnop",
			check: func(t *testing.T, s Settings) {
				if s.Backfill != time.Hour || s.Identifier.Reveal() != "me.bsky.social" {
					t.Errorf("settings %+v", s)
				}
				if strings.Contains(fmt.Sprintf("%v %+v", s, s), "abcd-efgh") {
					t.Error("the app password prints")
				}
			},
		},
		{name: "unknown key", yaml: "id: b\ntype: bluesky\nhashtags: [x]\npassword: y", wantErr: []string{"sources[0].password", "unknown key"}},
		{name: "no query", yaml: "id: b\ntype: bluesky", wantErr: []string{"sources[0]: set at least one of hashtags, keywords or accounts"}},
		{
			name:    "every error at once",
			yaml:    "id: b\ntype: bluesky\naccounts: ['not a handle']\nbase_url: ftp://x\npublic_api_url: wss://x.example\nbackfill: 2h\npoll_interval: 1m\napp_password: x",
			wantErr: []string{"sources[0].accounts[0]", "sources[0].base_url", "sources[0].public_api_url", "sources[0].identifier: is required", "sources[0].poll_interval"},
		},
		{name: "backfill without credentials", yaml: "id: b\ntype: bluesky\nhashtags: [x]\nbackfill: 2h", wantErr: []string{"sources[0].backfill: needs identifier"}},
		{name: "backfill too long", yaml: "id: b\ntype: bluesky\nhashtags: [x]\nidentifier: a\napp_password: b\nbackfill: 200h", wantErr: []string{"sources[0].backfill"}},
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

func TestStream(t *testing.T) {
	n := newNetwork(t)
	refs := keys(t)
	cur := &sourcetest.Cursors{}
	// The last run stored the moment just before the first event.
	_ = cur.Put(t.Context(), "bluesky.b", []byte(strconv.FormatInt(refs["en"].TimeUS-1, 10)))
	deps := sourcetest.Deps(t, cur)
	src := build(t, yaml(n, "hashtags: [ChorusLive]\nkeywords: [keynote]\naccounts: [chorus-live.example]"), deps)
	want := ids(refs, "en", "ar", "he", "reply", "quote", "video", "external", "sensitive", "tagsonly", "keyword", "account",
		"long", "badfacets", "deleted:sensitive", "edited:external", "last")
	got := sourcetest.Run(t, bustest.Open(t), "b", src, 15*time.Second, func(p []post.Post) bool { return len(p) >= len(want) })
	sourcetest.Unique(t, got)
	if g := sourcetest.IDs(got); !slices.Equal(g, want) {
		t.Fatalf("got  %v\nwant %v", g, want)
	}
	if s := testutil.ToFloat64(deps.Skipped); s != 2 {
		t.Errorf("skipped %v, want 2 (a malformed record, a line that is not JSON)", s)
	}
	// The record update is a new version, dated by its commit: curation
	// judges it again.
	if e := got[len(got)-2]; e.Text != "Tickets are out (edited) #ChorusLive" || !e.EditedAt.Equal(time.UnixMicro(1795424421000000)) {
		t.Errorf("the edit: %q edited at %s", e.Text, e.EditedAt)
	}
	for _, p := range got {
		switch p.ID {
		case refs["en"].id():
			if p.Author.Handle != "ana.bsky.social" || p.Author.Name != "Ana Lima 🎤" {
				t.Errorf("author %+v", p.Author)
			}
		case refs["keyword"].id():
			// No profile for this author: the DID stands in.
			if p.Author.Handle != refs["keyword"].DID {
				t.Errorf("author %+v", p.Author)
			}
		}
	}
	conns := n.connections()
	if len(conns) != 1 || conns[0].Get("wantedCollections") != "app.bsky.feed.post" || conns[0].Get("wantedDids") != "" ||
		conns[0].Get("cursor") != strconv.FormatInt(refs["en"].TimeUS-1-5_000_000, 10) {
		t.Errorf("connections %v", conns)
	}
	for _, r := range n.calls("/xrpc/app.bsky.actor.getProfiles") {
		if k := len(r.URL.Query()["actors"]); k == 0 || k > 25 {
			t.Errorf("getProfiles with %d actors", k)
		}
	}
	if c, _ := cur.Get(t.Context(), "bluesky.b"); string(c) != strconv.FormatInt(refs["last"].TimeUS, 10) {
		t.Errorf("cursor %s, want the last event's time_us %d", c, refs["last"].TimeUS)
	}
}

func TestDropResumesFromCursor(t *testing.T) {
	n := newNetwork(t)
	refs := keys(t)
	cur := &sourcetest.Cursors{}
	_ = cur.Put(t.Context(), "bluesky.b", []byte(strconv.FormatInt(refs["en"].TimeUS-1, 10)))
	// The first connection drops after five events, once their posts are
	// stored (so the cursor has moved).
	fifth := refs["he"].TimeUS
	n.plan = []int{5}
	n.before = func() {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if c, _ := cur.Get(context.Background(), "bluesky.b"); string(c) == strconv.FormatInt(fifth, 10) {
				return
			}
		}
	}
	src := build(t, yaml(n, "hashtags: [ChorusLive]"), sourcetest.Deps(t, cur))
	want := ids(refs, "en", "ar", "he", "reply", "quote", "video", "external", "sensitive", "tagsonly", "long", "badfacets", "deleted:sensitive", "edited:external", "last")
	got := sourcetest.Run(t, bustest.Open(t), "b", src, 20*time.Second, func(p []post.Post) bool { return len(p) >= len(want) })
	sourcetest.Unique(t, got)
	if g := sourcetest.IDs(got); !slices.Equal(g, want) {
		t.Fatalf("got  %v\nwant %v", g, want)
	}
	conns := n.connections()
	if len(conns) < 2 {
		t.Fatalf("connections %v", conns)
	}
	// The reconnect asks for the stored time_us less the five-second rewind.
	if got, want := conns[1].Get("cursor"), strconv.FormatInt(fifth-5_000_000, 10); got != want {
		t.Errorf("reconnect cursor %s, want %s", got, want)
	}
}

func TestRestartExactlyOnce(t *testing.T) {
	n := newNetwork(t)
	refs := keys(t)
	conn := bustest.Open(t)
	cur := &sourcetest.Cursors{}
	_ = cur.Put(t.Context(), "bluesky.b", []byte(strconv.FormatInt(refs["en"].TimeUS-1, 10)))
	y := yaml(n, "hashtags: [ChorusLive]")
	// First run: Jetstream has sent eight events when Chorus stops.
	n.limit = []int{8}
	got := sourcetest.Run(t, conn, "b", build(t, y, sourcetest.Deps(t, cur)), 10*time.Second, func(p []post.Post) bool { return len(p) >= 5 })
	if len(got) != 5 {
		t.Fatalf("first run: %v", sourcetest.IDs(got))
	}
	// While Chorus is down the rest arrives, and the first post is deleted.
	late := fmt.Sprintf(`{"did":%q,"time_us":%d,"kind":"commit","commit":{"rev":"3n2xrzzzzzz2a","operation":"delete","collection":"app.bsky.feed.post","rkey":%q}}`,
		refs["en"].DID, refs["last"].TimeUS+60_000_000, refs["en"].RKey)
	n.mu.Lock()
	n.events = append(n.events, []byte(late))
	n.limit = nil
	n.mu.Unlock()
	want := ids(refs, "en", "ar", "he", "reply", "quote", "video", "external", "sensitive", "tagsonly", "long", "badfacets",
		"deleted:sensitive", "edited:external", "last", "deleted:en")
	got = sourcetest.Run(t, conn, "b", build(t, y, sourcetest.Deps(t, cur)), 15*time.Second, func(p []post.Post) bool { return len(p) >= len(want) })
	sourcetest.Unique(t, got)
	if g := sourcetest.IDs(got); !slices.Equal(g, want) {
		t.Fatalf("got  %v\nwant %v", g, want)
	}
}

func TestBackfill(t *testing.T) {
	n := newNetwork(t)
	refs := keys(t)
	cur := &sourcetest.Cursors{}
	start := time.UnixMicro(refs["en"].TimeUS).Add(10 * time.Second)
	deps := sourcetest.Deps(t, cur)
	deps.Now = func() time.Time { return start }
	src := build(t, yaml(n, "hashtags: [ChorusLive]\nidentifier: me.bsky.social\napp_password: abcd-efgh-ijkl-mnop"), deps)
	var search SearchResponse
	_ = json.Unmarshal(sourcetest.Testdata(t, "search_posts_2.json"), &search)
	var v PostView
	_ = json.Unmarshal(search.Posts[0], &v)
	first := "bluesky:" + strings.TrimPrefix(strings.Replace(v.URI, "/app.bsky.feed.post/", "/", 1), "at://")
	// Jetstream resumes at the start less the rewind: from the sixth event.
	live := ids(refs, "reply", "quote", "video", "external", "sensitive", "tagsonly", "long", "badfacets", "deleted:sensitive", "edited:external", "last")
	got := sourcetest.Run(t, bustest.Open(t), "b", src, 15*time.Second, func(p []post.Post) bool { return len(p) >= 3+len(live) })
	sourcetest.Unique(t, got)
	g := sourcetest.IDs(got)
	if len(g) != 3+len(live) || g[0] != first || !slices.Equal(g[3:], live) {
		t.Fatalf("got %v", g)
	}
	if got[2].Author.Handle != "ana.bsky.social" || got[2].Counts.Likes != 40 || len(got[2].Media) != 1 {
		t.Errorf("backfilled post %+v", got[2])
	}
	searches := n.calls("/xrpc/app.bsky.feed.searchPosts")
	if len(searches) != 2 {
		t.Fatalf("%d searches", len(searches))
	}
	q := searches[0].URL.Query()
	if q.Get("q") != "#ChorusLive" || q.Get("sort") != "latest" || q.Get("until") != start.UTC().Format(time.RFC3339) ||
		q.Get("since") != start.Add(-time.Hour).UTC().Format(time.RFC3339) || searches[1].URL.Query().Get("cursor") != "2" {
		t.Errorf("search %v, then %v", q, searches[1].URL.Query())
	}
	if c := n.connections(); len(c) != 1 || c[0].Get("cursor") != strconv.FormatInt(start.Add(-Rewind).UnixMicro(), 10) {
		t.Errorf("connections %v", c)
	}
}

func TestBackfillRefusedGoesLive(t *testing.T) {
	n := newNetwork(t)
	refs := keys(t)
	deps := sourcetest.Deps(t, &sourcetest.Cursors{})
	deps.Now = func() time.Time { return time.UnixMicro(refs["last"].TimeUS).Add(Rewind) }
	src := build(t, yaml(n, "hashtags: [ChorusLive]\nidentifier: me.bsky.social\napp_password: wrong"), deps)
	if err := src.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, _, err := src.Read(t.Context())
	var auth *connectors.AuthError
	if !errors.As(err, &auth) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err %v, want an AuthError without the password", err)
	}
	// The next Read goes live (from the start less the rewind).
	posts, _, err := src.Read(t.Context())
	if err != nil || !slices.Equal(sourcetest.IDs(posts), ids(refs, "last")) {
		t.Fatalf("posts %v err %v", sourcetest.IDs(posts), err)
	}
	_ = src.Close(t.Context())
}

func TestRateLimits(t *testing.T) {
	n := newNetwork(t)
	refs := keys(t)
	n.refuse = 1
	n.profiles429 = true
	cur := &sourcetest.Cursors{}
	_ = cur.Put(t.Context(), "bluesky.b", []byte(strconv.FormatInt(refs["en"].TimeUS-1, 10)))
	src := build(t, yaml(n, "hashtags: [ChorusLive]"), sourcetest.Deps(t, cur))
	src.linger = 10 * time.Millisecond // several batches
	if err := src.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Jetstream refuses with Retry-After: a RetryError of that length.
	_, _, err := src.Read(t.Context())
	var retry *connectors.RetryError
	if !errors.As(err, &retry) || retry.Wait != 2*time.Second {
		t.Fatalf("err %v, want a RetryError of 2s", err)
	}
	// Profiles are rate limited: posts still flow, with DIDs, and the
	// AppView is asked once, then left alone until its reset.
	var all []post.Post
	for len(all) < 10 {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		posts, ack, err := src.Read(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		_ = ack(t.Context(), nil)
		all = append(all, posts...)
	}
	for _, p := range all {
		if !p.Deleted && p.Author.Handle != p.Author.ID {
			t.Errorf("author %+v", p.Author)
		}
	}
	if k := len(n.calls("/xrpc/app.bsky.actor.getProfiles")); k != 1 {
		t.Errorf("getProfiles called %d times, want 1", k)
	}
	_ = src.Close(t.Context())
}

func TestAccountsOnly(t *testing.T) {
	n := newNetwork(t)
	refs := keys(t)
	src := build(t, yaml(n, "accounts: [chorus-live.example, '"+refs["en"].DID+"', gone.bsky.social]"), sourcetest.Deps(t, &sourcetest.Cursors{}))
	if err := src.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Read until the stream is connected, however long that takes on a
	// busy machine.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	read := make(chan struct{})
	go func() { defer close(read); _, _, _ = src.Read(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); len(n.connections()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no Jetstream connection after 30s of reading")
		}
	}
	cancel()
	<-read
	c := n.connections()
	if len(c) != 1 || !slices.Equal(c[0]["wantedDids"], []string{refs["quote"].DID, refs["en"].DID}) {
		t.Errorf("connections %v", c)
	}
	// A fresh start without backfill begins a rewind before now.
	cursor, _ := strconv.ParseInt(c[0].Get("cursor"), 10, 64)
	if d := time.Since(time.UnixMicro(cursor)); d < Rewind || d > Rewind+5*time.Second {
		t.Errorf("cursor %d is %s ago", cursor, d)
	}
	_ = src.Close(t.Context())
}

func TestStreamSilentIsDropped(t *testing.T) {
	n := newNetwork(t)
	n.limit = []int{1}
	src := build(t, yaml(n, "hashtags: [nothing-matches]"), sourcetest.Deps(t, &sourcetest.Cursors{}))
	src.idle = 300 * time.Millisecond
	if err := src.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The test server answers pings, so the stream stays up...
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if _, _, err := src.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's end", err)
	}
	// ...but one that answers nothing is dropped.
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := websocket.Upgrader{}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		<-r.Context().Done()
		_, _ = io.Copy(io.Discard, strings.NewReader(""))
	}))
	defer silent.Close()
	src = build(t, "id: b\ntype: bluesky\nhashtags: [x]\nbase_url: "+silent.URL+"\npublic_api_url: "+n.ts.URL, sourcetest.Deps(t, &sourcetest.Cursors{}))
	src.idle = 300 * time.Millisecond
	_ = src.Connect(t.Context())
	ctx2, cancel2 := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel2()
	if _, _, err := src.Read(ctx2); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the stream dropped", err)
	}
	_ = src.Close(t.Context())
}

func TestQuietStreamMovesTheCursor(t *testing.T) {
	n := newNetwork(t)
	refs := keys(t)
	n.limit = []int{3}
	cur := &sourcetest.Cursors{}
	_ = cur.Put(t.Context(), "bluesky.b", []byte(strconv.FormatInt(refs["en"].TimeUS-1, 10)))
	src := build(t, yaml(n, "hashtags: [nothing-matches]"), sourcetest.Deps(t, cur))
	src.every = 300 * time.Millisecond
	if err := src.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	// No match: an empty batch, whose ack moves the cursor past what was read.
	posts, ack, err := src.Read(t.Context())
	if err != nil || len(posts) != 0 {
		t.Fatalf("posts %v err %v", sourcetest.IDs(posts), err)
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if c, _ := cur.Get(t.Context(), "bluesky.b"); string(c) != strconv.FormatInt(refs["nomatch"].TimeUS, 10) {
		t.Errorf("cursor %s, want the third event's %d", c, refs["nomatch"].TimeUS)
	}
	_ = src.Close(t.Context())
}

// TestLinkCardsReachTheBus: bare shared links (empty text, a link card)
// arriving on Jetstream are stored with the card's title and link; only a
// card whose link is not a web link is skipped and counted.
func TestLinkCardsReachTheBus(t *testing.T) {
	n := newNetwork(t)
	var events [][]byte
	for _, l := range strings.Split(strings.TrimSpace(string(sourcetest.Testdata(t, "jetstream_cards.jsonl"))), "\n") {
		events = append(events, []byte(l))
	}
	n.events = events
	cur := &sourcetest.Cursors{}
	_ = cur.Put(t.Context(), "bluesky.b", []byte("1795424499999999"))
	deps := sourcetest.Deps(t, cur)
	src := build(t, yaml(n, "accounts: [chorus-live.example, ana.bsky.social]"), deps)
	const live, ana = "bluesky:did:plc:lzmdxrnuc2ao73rd2njkxce2/", "bluesky:did:plc:pk75xs6wxdzbzcezeeemkt6u/"
	want := []string{live + "3n2xrf2card2b", live + "3n2xrf3card2b", live + "3n2xrf4card2b", ana + "3n2xrf6card2b", ana + "3n2xrf7card2b"}
	got := sourcetest.Run(t, bustest.Open(t), "b", src, 15*time.Second, func(p []post.Post) bool { return len(p) >= len(want) })
	if g := sourcetest.IDs(got); !slices.Equal(g, want) {
		t.Fatalf("got  %v\nwant %v", g, want)
	}
	if got[0].Text != "Saturday programme: every stage, every set\nchorus-live.example/programme/saturday?…" || got[0].Author.Handle != "chorus-live.example" {
		t.Fatalf("first card post %+v", got[0])
	}
	if s := testutil.ToFloat64(deps.Skipped); s != 1 {
		t.Errorf("skipped %v, want 1 (the card whose link is javascript:)", s)
	}
}
