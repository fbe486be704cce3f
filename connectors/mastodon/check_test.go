package mastodon

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// checkStatus is a status as GET /api/v1/statuses/:id returns it.
func checkStatus(base, id, visibility string, sensitive bool, spoiler, content, editedAt string) string {
	edited := "null"
	if editedAt != "" {
		edited = `"` + editedAt + `"`
	}
	return fmt.Sprintf(`{"id":%q,"uri":"%s/users/ana/statuses/%s","url":"%s/@ana/%s","created_at":"2026-11-23T09:00:00.000Z",
		"edited_at":%s,"visibility":%q,"sensitive":%t,"spoiler_text":%q,"content":%q,"language":"en",
		"account":{"id":"7","username":"ana","acct":"ana","display_name":"Ana","url":"%s/@ana","followers_count":3},
		"media_attachments":[],"mentions":[],"tags":[],"emojis":[],"reblog":null,"card":null,"poll":null,"application":{"name":"Web"}}`,
		id, base, id, base, id, edited, visibility, sensitive, spoiler, content, base)
}

// TestCheckReadsWhatMastodonSays: the compliance check asks the server for
// each status and reads the shapes Mastodon answers with: 404 (deleted, or
// no longer visible to the public) and 410 are gone, a visibility other
// than public or unlisted is private, a new content warning or sensitive
// flag is sensitive, a later edited_at is an edit; a server that wants a
// sign-in (401), or a status on a server the source does not read, says
// nothing; a failing server is an error, and nothing is taken down for it.
func TestCheckReadsWhatMastodonSays(t *testing.T) {
	var base string
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		id := strings.TrimPrefix(r.URL.Path, "/api/v1/statuses/")
		w.Header().Set("Content-Type", "application/json")
		switch id {
		case "1":
			fmt.Fprint(w, checkStatus(base, id, "public", false, "", "<p>hello</p>", ""))
		case "2":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":"Record not found"}`)
		case "3":
			w.WriteHeader(http.StatusGone)
			fmt.Fprint(w, `{"error":"Gone"}`)
		case "4":
			fmt.Fprint(w, checkStatus(base, id, "private", false, "", "<p>hello</p>", ""))
		case "5":
			fmt.Fprint(w, checkStatus(base, id, "public", true, "spoilers", "<p>hello</p>", ""))
		case "6":
			fmt.Fprint(w, checkStatus(base, id, "unlisted", false, "", "<p>hello, edited</p>", "2026-11-23T10:00:00.000Z"))
		case "7":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"This API requires an authenticated user"}`)
		case "8":
			fmt.Fprint(w, checkStatus(base, id, "direct", false, "", "<p>hello</p>", ""))
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer ts.Close()
	base = ts.URL
	src, _ := build(t, "id: m\ntype: mastodon\nservers: ["+ts.URL+"]\nhashtags: [x]", nil)
	host := strings.TrimPrefix(ts.URL, "http://")
	shown := func(id string) post.Post {
		return post.Post{ID: "mastodon:" + host + "/" + id, Network: Network, Text: "hello", Source: "m"}
	}
	for _, tt := range []struct {
		name string
		p    post.Post
		want connectors.Standing
		edit string
	}{
		{"stands", shown("1"), connectors.Standing{}, ""},
		{"404", shown("2"), connectors.Standing{Gone: post.GoneDeleted}, ""},
		{"410", shown("3"), connectors.Standing{Gone: post.GoneDeleted}, ""},
		{"private", shown("4"), connectors.Standing{Gone: post.GonePrivate}, ""},
		{"direct", shown("8"), connectors.Standing{Gone: post.GonePrivate}, ""},
		{"content warning added", shown("5"), connectors.Standing{Gone: post.GoneSensitive}, ""},
		{"sensitive already when shown", func() post.Post { p := shown("5"); p.Sensitive = true; return p }(), connectors.Standing{}, ""},
		{"edited", shown("6"), connectors.Standing{}, "hello, edited"},
		{"sign-in required", shown("7"), connectors.Standing{Unknown: true}, ""},
		{"another server", post.Post{ID: "mastodon:elsewhere.example/9", Source: "m"}, connectors.Standing{Unknown: true}, ""},
		{"not a mastodon id", post.Post{ID: "mastodon:" + host + "/users/ana/notes/x", Source: "m"}, connectors.Standing{Unknown: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := src.Check(t.Context(), []post.Post{tt.p})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d standings", len(got))
			}
			g := got[0]
			if g.ID != tt.p.ID || g.Gone != tt.want.Gone || g.Unknown != tt.want.Unknown || (g.Edit != nil) != (tt.edit != "") {
				t.Fatalf("got %+v, want %+v (edit %q)", g, tt.want, tt.edit)
			}
			if tt.edit != "" && (g.Edit.Text != tt.edit || g.Edit.ID != tt.p.ID || !g.Edit.EditedAt.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))) {
				t.Errorf("edit: %+v", g.Edit)
			}
		})
	}
	before := calls.Load()
	if _, err := src.Check(t.Context(), []post.Post{shown("500")}); err == nil {
		t.Error("a server error is not an error")
	}
	if calls.Load() != before+1 {
		t.Errorf("%d calls for one post", calls.Load()-before)
	}
}
