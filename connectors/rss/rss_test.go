package rss

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

var _ connectors.Factory = New

func TestSettings(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
		check   func(t *testing.T, s Settings)
	}{
		{
			name: "defaults",
			yaml: "id: news\ntype: rss\nfeeds: [https://news.example/feed.xml]",
			check: func(t *testing.T, s Settings) {
				if s.PollInterval != 5*time.Minute || s.TextLimit != 1000 || s.BaseURL != "" || len(s.Feeds) != 1 {
					t.Errorf("settings %+v", s)
				}
			},
		},
		{
			name: "filters and limits",
			yaml: "id: news\ntype: rss\nfeeds: [https://a.example/rss, 'http://b.example/atom']\nkeywords: [stage]\nhashtags: ['#harbour']\npoll_interval: 90s\ntext_limit: 300",
			check: func(t *testing.T, s Settings) {
				if s.PollInterval != 90*time.Second || s.TextLimit != 300 || !slices.Equal(s.Hashtags, []string{"harbour"}) || len(s.Feeds) != 2 {
					t.Errorf("settings %+v", s)
				}
			},
		},
		{name: "feeds required", yaml: "id: news\ntype: rss", wantErr: []string{"sources[0].feeds: is required"}},
		{name: "base_url rejected", yaml: "id: news\ntype: rss\nfeeds: [https://a.example/rss]\nbase_url: https://a.example", wantErr: []string{"sources[0].base_url: not used"}},
		{name: "accounts rejected", yaml: "id: news\ntype: rss\nfeeds: [https://a.example/rss]\naccounts: [x]", wantErr: []string{"sources[0].accounts: not used"}},
		{name: "unknown key", yaml: "id: news\ntype: rss\nfeeds: [https://a.example/rss]\nfeed: x", wantErr: []string{"sources[0].feed", "unknown key"}},
		{
			name:    "every error at once",
			yaml:    "id: news\ntype: rss\nfeeds: ['ftp://a.example/rss', 'https://b.example/x', 'https://b.example/x', '/relative']\npoll_interval: 10ms\ntext_limit: 5",
			wantErr: []string{"sources[0].feeds[0]: \"ftp://a.example/rss\" is not an absolute http(s) URL", "sources[0].feeds[2]: \"https://b.example/x\" is listed twice", "sources[0].feeds[3]", "sources[0].poll_interval", "sources[0].text_limit: 5 must be between 100 and 5000"},
		},
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

// feedServer serves feed documents. Each path answers with the next
// response of its script (the last one repeats); requests are recorded.
type feedServer struct {
	*httptest.Server
	mu       sync.Mutex
	scripts  map[string][]func(w http.ResponseWriter, r *http.Request)
	requests map[string][]*http.Request
}

func newFeedServer(t *testing.T) *feedServer {
	t.Helper()
	fs := &feedServer{scripts: map[string][]func(http.ResponseWriter, *http.Request){}, requests: map[string][]*http.Request{}}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.requests[r.URL.Path] = append(fs.requests[r.URL.Path], r.Clone(context.Background()))
		n := len(fs.requests[r.URL.Path])
		script := fs.scripts[r.URL.Path]
		fs.mu.Unlock()
		if len(script) == 0 {
			http.NotFound(w, r)
			return
		}
		script[min(n, len(script))-1](w, r)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) script(path string, steps ...func(http.ResponseWriter, *http.Request)) string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.scripts[path] = steps
	return fs.URL + path
}

func (fs *feedServer) got(path string) []*http.Request {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return slices.Clone(fs.requests[path])
}

// serve answers with body; with an etag it answers 304 to a request that
// sends it back.
func serve(body []byte, contentType, etag, lastModified string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if etag != "" {
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		if lastModified != "" {
			w.Header().Set("Last-Modified", lastModified)
		}
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
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

// pollNow makes the next Read poll at once instead of after poll_interval.
func (s *Source) pollNow() {
	s.pace.Schedule(time.Time{})
}

func read(t *testing.T, s *Source) ([]post.Post, connectors.AckFunc) {
	t.Helper()
	s.pollNow()
	posts, ack, err := s.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return posts, ack
}

func texts(posts []post.Post) []string {
	var out []string
	for _, p := range posts {
		out = append(out, strings.SplitN(p.Text, "\n", 2)[0])
	}
	return out
}

func TestConditionalGet(t *testing.T) {
	fs := newFeedServer(t)
	const lm = "Mon, 23 Nov 2026 10:30:00 GMT"
	u := fs.script("/feed.xml", serve(sourcetest.Testdata(t, "rss2.xml"), "application/rss+xml", `"v1"`, lm))
	cursors := &sourcetest.Cursors{}
	s, deps := newSource(t, "id: news\ntype: rss\nfeeds: ["+u+"]", cursors)

	posts, ack := read(t, s)
	// Oldest first; the empty item is skipped and counted.
	want := []string{"The full programme, day by day", "After-party (18+)", "Photo gallery: night one", "مرحبا بكم في المهرجان — ברוכים הבאים", "Main stage opens at noon 🎉"}
	if !slices.Equal(texts(posts), want) {
		t.Fatalf("titles %q, want %q", texts(posts), want)
	}
	if n := testutil.ToFloat64(deps.Skipped); n != 1 {
		t.Errorf("skipped %v, want 1 (the empty item)", n)
	}
	for _, p := range posts {
		if p.Source != "news" || p.Network != "rss" {
			t.Errorf("post %s source %q network %q", p.ID, p.Source, p.Network)
		}
	}
	if err := ack(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	raw, _ := cursors.Get(t.Context(), CursorKey("news", u))
	var c feedCursor
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if c.ETag != `"v1"` || c.LastModified != lm || len(c.Seen) != 6 {
		t.Errorf("cursor %+v", c)
	}

	posts, ack = read(t, s)
	if len(posts) != 0 {
		t.Errorf("after 304: %q", texts(posts))
	}
	_ = ack(t.Context(), nil)
	reqs := fs.got("/feed.xml")
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	if reqs[0].Header.Get("If-None-Match") != "" || reqs[1].Header.Get("If-None-Match") != `"v1"` || reqs[1].Header.Get("If-Modified-Since") != lm {
		t.Errorf("conditional headers: first %v, second %v", reqs[0].Header, reqs[1].Header)
	}
	if ua := reqs[0].Header.Get("User-Agent"); !strings.HasPrefix(ua, "Chorus/") {
		t.Errorf("user agent %q", ua)
	}
	if !strings.Contains(reqs[0].Header.Get("Accept"), "application/rss+xml") {
		t.Errorf("accept %q", reqs[0].Header.Get("Accept"))
	}
	if testutil.ToFloat64(deps.Skipped) != 1 {
		t.Errorf("a 304 skipped items")
	}

	// A restarted source sends the stored validators at once.
	s2, _ := newSource(t, "id: news\ntype: rss\nfeeds: ["+u+"]", cursors)
	if posts, _ := read(t, s2); len(posts) != 0 {
		t.Errorf("restart re-read %q", texts(posts))
	}
	if r := fs.got("/feed.xml")[2]; r.Header.Get("If-None-Match") != `"v1"` {
		t.Errorf("restart sent %v", r.Header)
	}
}

func TestFailedAckRereads(t *testing.T) {
	fs := newFeedServer(t)
	u := fs.script("/atom.xml", serve(sourcetest.Testdata(t, "atom.xml"), "application/atom+xml", `W/"a1"`, ""))
	cursors := &sourcetest.Cursors{}
	s, _ := newSource(t, "id: kai\ntype: rss\nfeeds: ["+u+"]", cursors)
	posts, ack := read(t, s)
	if len(posts) != 2 {
		t.Fatalf("posts %q", texts(posts))
	}
	if err := ack(t.Context(), errors.New("bus down")); err != nil {
		t.Fatal(err)
	}
	if raw, _ := cursors.Get(t.Context(), CursorKey("kai", u)); len(raw) != 0 {
		t.Fatalf("cursor moved on a failed store: %s", raw)
	}
	again, ack := read(t, s)
	if !slices.Equal(sourcetest.IDs(again), sourcetest.IDs(posts)) {
		t.Fatalf("after a failed store got %v, want %v", sourcetest.IDs(again), sourcetest.IDs(posts))
	}
	if r := fs.got("/atom.xml")[1]; r.Header.Get("If-None-Match") != "" {
		t.Errorf("validators sent before the posts were stored: %v", r.Header)
	}
	_ = ack(t.Context(), nil)
}

func TestReorderedFeedWithoutDates(t *testing.T) {
	fs := newFeedServer(t)
	u := fs.script("/board.rss",
		serve(sourcetest.Testdata(t, "nodates.xml"), "application/rss+xml", "", ""),
		serve(sourcetest.Testdata(t, "nodates-reordered.xml"), "application/rss+xml", "", ""),
	)
	s, _ := newSource(t, "id: pier\ntype: rss\nfeeds: ["+u+"]", &sourcetest.Cursors{})
	posts, ack := read(t, s)
	// Undated: reverse document order, fetch time as date.
	if want := []string{"Food trucks by the crane", "Lost & found at gate B", "Ferry runs every 20 minutes"}; !slices.Equal(texts(posts), want) {
		t.Fatalf("first poll %q, want %q", texts(posts), want)
	}
	for _, p := range posts {
		if p.CreatedAt.IsZero() || time.Since(p.CreatedAt) > time.Minute {
			t.Errorf("undated item created %v, want the fetch time", p.CreatedAt)
		}
	}
	_ = ack(t.Context(), nil)
	posts, ack = read(t, s)
	if want := []string{"Fireworks moved to 22:15"}; !slices.Equal(texts(posts), want) {
		t.Fatalf("reordered feed gave %q, want only the new item %q", texts(posts), want)
	}
	_ = ack(t.Context(), nil)
	if posts, _ := read(t, s); len(posts) != 0 {
		t.Errorf("third poll %q", texts(posts))
	}
}

func TestFilters(t *testing.T) {
	fs := newFeedServer(t)
	u := fs.script("/feed.xml", serve(sourcetest.Testdata(t, "rss2.xml"), "application/rss+xml", "", ""))
	tests := []struct {
		name   string
		filter string
		want   []string
	}{
		{name: "keyword in title or summary", filter: "keywords: [gallery, WAREHOUSE]", want: []string{"After-party (18+)", "Photo gallery: night one"}},
		{name: "hashtag as category", filter: "hashtags: ['#harbour26', photos]", want: []string{"Photo gallery: night one", "Main stage opens at noon 🎉"}},
		{name: "nothing matches", filter: "keywords: [ferry]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newSource(t, "id: news\ntype: rss\nfeeds: ["+u+"]\n"+tt.filter, &sourcetest.Cursors{})
			posts, _ := read(t, s)
			if !slices.Equal(texts(posts), tt.want) {
				t.Errorf("got %q, want %q", texts(posts), tt.want)
			}
		})
	}
}

func TestFeedErrors(t *testing.T) {
	fs := newFeedServer(t)
	good := fs.script("/good.json", serve(sourcetest.Testdata(t, "feed.json"), "application/feed+json", "", ""))
	broken := fs.script("/broken.xml", serve([]byte("<html><body>not a feed</body></html>"), "text/html", "", ""))
	missing := fs.URL + "/missing.xml"

	t.Run("a failing feed does not stop the others", func(t *testing.T) {
		s, deps := newSource(t, "id: mix\ntype: rss\nfeeds: ["+missing+", "+good+", "+broken+"]", &sourcetest.Cursors{})
		posts, _ := read(t, s)
		if len(posts) != 2 {
			t.Errorf("posts %q", texts(posts))
		}
		if testutil.ToFloat64(deps.Skipped) != 1 {
			t.Errorf("skipped %v, want 1 (the page that is not a feed)", testutil.ToFloat64(deps.Skipped))
		}
	})
	t.Run("every feed failing is an error naming them", func(t *testing.T) {
		s, _ := newSource(t, "id: bad\ntype: rss\nfeeds: ["+missing+", "+broken+"]", &sourcetest.Cursors{})
		s.pollNow()
		_, _, err := s.Read(t.Context())
		if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "detect feed type") {
			t.Errorf("err %v", err)
		}
	})
}

func TestRateLimited(t *testing.T) {
	fs := newFeedServer(t)
	u := fs.script("/busy.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	s, _ := newSource(t, "id: busy\ntype: rss\nfeeds: ["+u+"]", &sourcetest.Cursors{})
	for i := range 3 {
		s.pollNow()
		_, _, err := s.Read(t.Context())
		var retry *connectors.RetryError
		if !errors.As(err, &retry) || retry.Wait < 100*time.Second || retry.Wait > 120*time.Second {
			t.Fatalf("read %d: %v, want a RetryError of about 120s", i, err)
		}
	}
	if n := len(fs.got("/busy.xml")); n != 1 {
		t.Errorf("%d requests while told to wait, want 1", n)
	}
}

func TestPollInterval(t *testing.T) {
	fs := newFeedServer(t)
	u := fs.script("/feed.xml", serve(sourcetest.Testdata(t, "nodates.xml"), "application/rss+xml", `"e"`, ""))
	s, _ := newSource(t, "id: slow\ntype: rss\nfeeds: ["+u+"]\npoll_interval: 1h", &sourcetest.Cursors{})
	if _, _, err := s.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := s.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second read before the interval: %v", err)
	}
	if n := len(fs.got("/feed.xml")); n != 1 {
		t.Errorf("%d requests within one poll interval", n)
	}
}

// growingFeed serves an RSS feed that gains three items at every request,
// up to total, newest first.
func growingFeed(total int) func(http.ResponseWriter, *http.Request) {
	var calls atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		n := min(int(calls.Add(1))*3, total)
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Live blog</title><link>https://live.example/</link><description>d</description>`)
		for i := n; i >= 1; i-- {
			fmt.Fprintf(&b, `<item><title>Update %d</title><guid isPermaLink="false">update-%d</guid><pubDate>%s</pubDate><description>Minute %d &#x26BD;</description></item>`,
				i, i, time.Date(2026, 11, 23, 9, i, 0, 0, time.UTC).Format(time.RFC1123Z), i)
		}
		b.WriteString(`</channel></rss>`)
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write([]byte(b.String()))
	}
}

func TestRestartExactlyOnce(t *testing.T) {
	fs := newFeedServer(t)
	u := fs.script("/live.xml", growingFeed(12))
	conn := bustest.Open(t)
	cursors := &sourcetest.Cursors{}
	const yaml = "id: live\ntype: rss\npoll_interval: 1s\nfeeds: [%s]"
	build := func() connectors.Source {
		src, err := New(sourcetest.Spec(t, fmt.Sprintf(yaml, u)), sourcetest.Deps(t, cursors))
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	first := sourcetest.Run(t, conn, "live", build(), 20*time.Second, func(p []post.Post) bool { return len(p) >= 4 })
	if len(first) < 4 || len(first) >= 12 {
		t.Fatalf("first run stored %d posts", len(first))
	}
	got := sourcetest.Run(t, conn, "live", build(), 30*time.Second, func(p []post.Post) bool { return len(p) >= 12 })
	sourcetest.Unique(t, got)
	var want, have []string
	for i := 1; i <= 12; i++ {
		want = append(want, fmt.Sprintf("Update %d", i))
	}
	have = texts(got)
	if !slices.Equal(have, want) {
		t.Fatalf("stored %q\nwant %q", have, want)
	}
	if !strings.Contains(got[0].Text, "⚽") {
		t.Errorf("text %q", got[0].Text)
	}
}
