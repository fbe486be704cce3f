package rss

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

// TestCheckAsksTheItemsPage: the compliance check asks each item's page on
// the feed's own host: 404 and 410 are gone, 401 is private (behind a
// sign-in), 200 stands, a site refusing HEAD is asked with GET; a 403 (a
// bot wall as often as a private page) and a page on another host say
// nothing, and the other host is never called; a failing site is an error.
func TestCheckAsksTheItemsPage(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/feed.xml", "/p/ok":
		case "/p/deleted":
			http.NotFound(w, r)
		case "/p/gone":
			w.WriteHeader(http.StatusGone)
		case "/p/private":
			w.WriteHeader(http.StatusUnauthorized)
		case "/p/walled":
			w.WriteHeader(http.StatusForbidden)
		case "/p/nohead":
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMethodNotAllowed)
			}
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer ts.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("another host was called: %s", r.URL)
	}))
	defer other.Close()
	s, err := New(sourcetest.Spec(t, "id: blog\ntype: rss\nfeeds: ["+ts.URL+"/feed.xml]"), sourcetest.Deps(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	src := s.(*Source)
	item := func(u string) post.Post { return post.Post{ID: "rss:" + u, URL: u, Source: "blog"} }
	for _, tt := range []struct {
		url     string
		gone    string
		unknown bool
	}{
		{ts.URL + "/p/ok", "", false},
		{ts.URL + "/p/deleted", post.GoneDeleted, false},
		{ts.URL + "/p/gone", post.GoneDeleted, false},
		{ts.URL + "/p/private", post.GonePrivate, false},
		{ts.URL + "/p/nohead", "", false},
		{ts.URL + "/p/walled", "", true},
		{other.URL + "/p/deleted", "", true},
		{"", "", true},
	} {
		got, err := src.Check(t.Context(), []post.Post{item(tt.url)})
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		if len(got) != 1 || got[0].Gone != tt.gone || got[0].Unknown != tt.unknown || got[0].ID != "rss:"+tt.url {
			t.Errorf("%s: %+v, want gone %q unknown %t", tt.url, got, tt.gone, tt.unknown)
		}
	}
	if _, err := src.Check(t.Context(), []post.Post{item(ts.URL + "/p/broken")}); err == nil {
		t.Error("a 500 is not an error")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(asked, ","), "HEAD /p/nohead,GET /p/nohead") {
		t.Errorf("asked: %v", asked)
	}
	var _ connectors.Checker = src
}
