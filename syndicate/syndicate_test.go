package syndicate

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/display"
	"github.com/chorus-wall/chorus/media"
	"github.com/chorus-wall/chorus/post"
)

// snapshots serves fixed snapshots, as the display hub would.
type snapshots struct {
	posts  []*display.Item
	paused bool
	ready  chan struct{}
}

func (s *snapshots) PublicPosts(_ string, limit int) (display.Snapshot, bool) {
	select {
	case <-s.ready:
	default:
		return display.Snapshot{}, false
	}
	n := min(limit, len(s.posts))
	return display.Snapshot{Type: display.TypeSnapshot, Posts: s.posts[:n], Paused: s.paused}, true
}

type streams map[string]config.Stream

func (s streams) Get(id string) (config.Stream, bool) { st, ok := s[id]; return st, ok }

var created = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// hostile posts try every way into the markup; they are not normalized, so
// the renderer itself must hold.
func hostile() []*display.Item {
	return []*display.Item{
		{Post: post.Post{
			ID: "x:1", Network: "x", URL: "javascript:alert(1)",
			Author: post.Author{Name: `</td></tr></table><script>alert("name")</script>`, Handle: `"><svg onload=alert(2)>`,
				AvatarURL: "javascript:alert(3)", ProfileURL: "javascript:alert(4)"},
			Text:  "<script>alert(5)</script><img src=x onerror=alert(6)> & \"quotes\" 'single'",
			Media: []post.Media{{Kind: post.MediaImage, URL: "data:text/html,<script>alert(7)</script>", Alt: `" onerror="alert(8)`}},
			Lang:  "en", CreatedAt: created,
		}},
		{Post: post.Post{
			ID: "mastodon:2", Network: "mastodon", URL: "https://social.example/@ana/2",
			Author: post.Author{Name: "آنا", Handle: "ana@social.example", AvatarURL: "https://cdn.example/ana.png"},
			Text:   "مرحبا بالجميع في القمة! <b>not bold</b>",
			Media:  []post.Media{{Kind: post.MediaImage, URL: "https://cdn.example/p.jpg", Alt: "Stage </style><script>alert(9)</script>"}},
			Lang:   "ar", CreatedAt: created.Add(time.Minute), Hashtags: []string{"summit"},
		}},
		{Post: post.Post{
			ID: "bluesky:3", Network: "bluesky", Author: post.Author{Handle: "cw.example"},
			Text: "spoiler text", ContentWarning: `<script>alert(10)</script>`, CreatedAt: created,
			Media: []post.Media{{Kind: post.MediaImage, URL: "https://cdn.example/secret.jpg"}},
		}},
	}
}

func newHandlers(t testing.TB, items []*display.Item) (*Handlers, *snapshots, *echo.Echo) {
	t.Helper()
	proxy, err := media.New(bytes.Repeat([]byte{1}, 32), media.Options{Dir: t.TempDir(), PublicURL: "https://chorus.example"})
	if err != nil {
		t.Fatal(err)
	}
	snap := &snapshots{posts: items, ready: make(chan struct{})}
	close(snap.ready)
	h := &Handlers{
		Streams: streams{"summit": {ID: "summit", Title: "Summit <2026>"}},
		Posts:   snap, Media: proxy, PublicURL: "https://chorus.example",
		Now: func() time.Time { return created.Add(time.Hour) },
	}
	e := echo.New()
	e.GET("/api/v1/streams/:id/cards.html", h.Cards)
	e.GET("/feeds/:file", h.Feed)
	return h, snap, e
}

func get(e *echo.Echo, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// checkMarkup fails when doc carries a script, an event handler, a URL not
// on Chorus, or a text element without dir="auto".
func checkMarkup(t *testing.T, doc string) {
	t.Helper()
	// Escaped, a hostile text may still read "onerror=": the tokenizer
	// below checks that no attribute is a handler.
	for _, bad := range []string{"<script", "javascript:", "data:text", "<svg", "<img src=x", "<b>"} {
		if strings.Contains(strings.ToLower(doc), bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	z := html.NewTokenizer(strings.NewReader(doc))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if tok.Data == "script" || tok.Data == "iframe" || tok.Data == "object" {
			t.Errorf("element <%s> in output", tok.Data)
		}
		for _, a := range tok.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("event handler %s=%q", a.Key, a.Val)
			}
			if a.Key == "src" && !strings.HasPrefix(a.Val, "https://chorus.example/media/") {
				t.Errorf("<%s src=%q> is not a proxied Chorus URL", tok.Data, a.Val)
			}
			if a.Key == "href" && !strings.HasPrefix(a.Val, "https://") {
				t.Errorf("<%s href=%q>", tok.Data, a.Val)
			}
		}
	}
}

func TestCardsEscapeHostilePosts(t *testing.T) {
	_, _, e := newHandlers(t, hostile())
	rec := get(e, "/api/v1/streams/summit/cards.html?limit=10")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	doc := rec.Body.String()
	checkMarkup(t, doc)
	for _, want := range []string{
		"&lt;script&gt;alert(5)&lt;/script&gt;",              // text shows as typed
		`&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;`, // so does a hostile name
		"مرحبا بالجميع في القمة!",                            // right-to-left text kept
		`dir="auto"`, // and laid out by its own direction
		"Content warning: &lt;script&gt;alert(10)&lt;/script&gt;", // a warning replaces the sensitive post
		`href="https://social.example/@ana/2"`,                    // safe permalinks kept
		"Summit &lt;2026&gt;",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("cards lack %q", want)
		}
	}
	if strings.Contains(doc, "spoiler text") || strings.Contains(doc, "secret.jpg") {
		t.Error("a content-warned post's text or picture is shown")
	}
	if strings.Count(doc, `class="chorus-card"`) != 3 {
		t.Errorf("want 3 cards")
	}
	// Every inline style is allowed by hash, and nothing else is.
	csp := rec.Header().Get("Content-Security-Policy")
	if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	z := html.NewTokenizer(strings.NewReader(doc))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		for _, a := range z.Token().Attr {
			if a.Key == "style" {
				sum := sha256.Sum256([]byte(a.Val))
				if !strings.Contains(csp, base64.StdEncoding.EncodeToString(sum[:])) {
					t.Fatalf("style %q is not in the CSP", a.Val)
				}
			}
		}
	}
}

func TestCardsFragmentAndLimits(t *testing.T) {
	_, snap, e := newHandlers(t, hostile())
	rec := get(e, "/api/v1/streams/summit/cards.html?limit=1&fragment=true")
	doc := rec.Body.String()
	if rec.Code != http.StatusOK || strings.Contains(doc, "<html") || strings.Count(doc, `class="chorus-card"`) != 1 {
		t.Fatalf("fragment: %d %s", rec.Code, doc)
	}
	checkMarkup(t, doc)
	for path, code := range map[string]int{
		"/api/v1/streams/summit/cards.html?limit=0":        http.StatusBadRequest,
		"/api/v1/streams/summit/cards.html?limit=51":       http.StatusBadRequest,
		"/api/v1/streams/summit/cards.html?limit=x":        http.StatusBadRequest,
		"/api/v1/streams/summit/cards.html?fragment=maybe": http.StatusBadRequest,
		"/api/v1/streams/nope/cards.html":                  http.StatusNotFound,
	} {
		if rec := get(e, path); rec.Code != code {
			t.Errorf("%s: %d, want %d", path, rec.Code, code)
		}
	}
	snap.paused = true
	rec = get(e, "/api/v1/streams/summit/cards.html")
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "chorus-card\"") ||
		!strings.Contains(rec.Body.String(), "No posts to show right now.") {
		t.Fatalf("a paused stream's cards: %s", rec.Body)
	}
	snap.ready = make(chan struct{})
	if rec := get(e, "/api/v1/streams/summit/cards.html"); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("while loading: %d", rec.Code)
	}
}

func TestFeedsValidate(t *testing.T) {
	_, snap, e := newHandlers(t, hostile())
	parser := gofeed.NewParser()
	for _, format := range []string{"atom", "rss", "json"} {
		t.Run(format, func(t *testing.T) {
			rec := get(e, "/feeds/summit."+format+"?limit=10")
			if rec.Code != http.StatusOK {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			body := rec.Body.String()
			if strings.Contains(body, "<script") || strings.Contains(body, "javascript:") {
				t.Fatalf("unescaped markup or script URL in the feed:\n%s", body)
			}
			f, err := parser.ParseString(body)
			if err != nil {
				t.Fatalf("does not parse: %v\n%s", err, body)
			}
			wantType := map[string]string{"atom": "atom", "rss": "rss", "json": "json"}[format]
			if f.FeedType != wantType || f.Title != "Summit <2026>" || f.Link != "https://chorus.example/wall/summit" {
				t.Fatalf("feed %s %q %q", f.FeedType, f.Title, f.Link)
			}
			if format == "json" && f.FeedVersion != "https://jsonfeed.org/version/1.1" {
				t.Fatalf("JSON Feed version %q", f.FeedVersion)
			}
			if len(f.Items) != 3 {
				t.Fatalf("%d items", len(f.Items))
			}
			for _, it := range f.Items {
				if it.GUID == "" || it.Title == "" || it.Link == "" || it.PublishedParsed == nil && it.UpdatedParsed == nil {
					t.Errorf("item lacks a required element: %+v", it)
				}
				if !strings.HasPrefix(it.Link, "https://") {
					t.Errorf("item link %q", it.Link)
				}
				content := it.Description + it.Content
				if format == "json" {
					content = "" // content_text is plain text by definition; content_html is checked below
				}
				if strings.Contains(content, "<script") || strings.Contains(content, "<img src=x") || strings.Contains(content, "<b>") {
					t.Errorf("item content carries markup: %q", content)
				}
			}
			first := f.Items[0]
			if first.GUID != "urn:chorus:post:x:1" || first.Link != "https://chorus.example/wall/summit" {
				t.Errorf("item with an unsafe permalink: guid %q link %q", first.GUID, first.Link)
			}
			second := f.Items[1]
			if second.Link != "https://social.example/@ana/2" || !strings.Contains(second.Title, "آنا") {
				t.Errorf("second item: %q %q", second.Link, second.Title)
			}
			if format == "json" {
				if strings.Contains(body, "content_html") {
					t.Error("a JSON item carries content_html; post text is plain text")
				}
				if second.Image == nil || !strings.HasPrefix(second.Image.URL, "https://chorus.example/media/") {
					t.Errorf("JSON item image %+v", second.Image)
				}
			} else if !strings.Contains(second.Description, "https://chorus.example/media/") {
				t.Errorf("item HTML lacks the proxied picture: %q", second.Description)
			}
		})
	}
	// No posts: still a valid feed, JSON's items an empty array.
	snap.posts = nil
	rec := get(e, "/feeds/summit.json")
	var raw map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if items, ok := raw["items"].([]any); !ok || len(items) != 0 {
		t.Fatalf("empty JSON feed: %s", rec.Body)
	}
	for _, format := range []string{"atom", "rss", "json"} {
		if _, err := parser.ParseString(get(e, "/feeds/summit."+format).Body.String()); err != nil {
			t.Errorf("empty %s feed: %v", format, err)
		}
	}
	for path, code := range map[string]int{"/feeds/summit.xml": 404, "/feeds/summit": 404, "/feeds/nope.rss": 404, "/feeds/summit.rss?limit=-1": 400} {
		if rec := get(e, path); rec.Code != code {
			t.Errorf("%s: %d, want %d", path, rec.Code, code)
		}
	}
}
