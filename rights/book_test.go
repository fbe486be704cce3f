package rights

import (
	"testing"
	"time"

	"github.com/chorus-wall/chorus/post"
)

func TestCarries(t *testing.T) {
	for _, c := range []struct {
		name     string
		p        post.Post
		tag      string
		carrying bool
	}{
		{"in the text", post.Post{Text: "sure! #YesSummit"}, "YesSummit", true},
		{"any case", post.Post{Text: "#yessummit ok"}, "YesSummit", true},
		{"a longer tag", post.Post{Text: "#YesSummit2027"}, "YesSummit", false},
		{"a longer tag, then the tag", post.Post{Text: "#YesSummitX and #YesSummit."}, "YesSummit", true},
		{"followed by a letter beyond ASCII", post.Post{Text: "#YesSummité"}, "YesSummit", false},
		{"without #", post.Post{Text: "YesSummit"}, "YesSummit", false},
		{"among the hashtags", post.Post{Text: "ok", Hashtags: []string{"yessummit"}}, "YesSummit", true},
		{"no tag asked", post.Post{Text: "#"}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := carries(&c.p, c.tag); got != c.carrying {
				t.Errorf("carries(%q, %q) = %v", c.p.Text, c.tag, got)
			}
		})
	}
}

// TestConsentsMatchTheAuthorAfterTheRequest: only the author's posts
// written after the request grant it; a reply to one of two requested
// posts grants that one alone.
func TestConsentsMatchTheAuthorAfterTheRequest(t *testing.T) {
	b := NewBook(nil, nil)
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, id := range []string{"x:1", "x:2"} {
		b.set(key("s", id), &Request{Stream: "s", PostID: id, Authors: []string{"x:ana", "x:#42"}, Hashtag: "Yes", At: at})
	}
	ana := post.Author{ID: "42", Handle: "Ana"}
	for _, c := range []struct {
		name  string
		p     post.Post
		posts []string
	}{
		{"her reply to one", post.Post{ID: "x:9", Network: "x", Author: ana, Text: "#Yes", ReplyTo: "x:2", CreatedAt: at.Add(time.Hour)}, []string{"x:2"}},
		{"her post answering neither", post.Post{ID: "x:9", Network: "x", Author: ana, Text: "#Yes", CreatedAt: at.Add(time.Hour)}, []string{"x:1", "x:2"}},
		{"known by id only", post.Post{ID: "x:9", Network: "x", Author: post.Author{ID: "42"}, Text: "#Yes"}, []string{"x:1", "x:2"}},
		{"before the request", post.Post{ID: "x:9", Network: "x", Author: ana, Text: "#Yes", CreatedAt: at.Add(-time.Hour)}, nil},
		{"without the hashtag", post.Post{ID: "x:9", Network: "x", Author: ana, Text: "yes!", CreatedAt: at.Add(time.Hour)}, nil},
		{"someone else", post.Post{ID: "x:9", Network: "x", Author: post.Author{Handle: "bob"}, Text: "#Yes"}, nil},
		{"another network", post.Post{ID: "y:9", Network: "y", Author: ana, Text: "#Yes"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, e := range b.Consents(&c.p) {
				got = append(got, e.PostID)
				if e.Rights == nil || e.Rights.Proof == nil || e.Rights.Proof.PostID != c.p.ID {
					t.Errorf("grant without the reply as proof: %+v", e.Rights)
				}
			}
			if len(got) != len(c.posts) {
				t.Fatalf("granted %v, want %v", got, c.posts)
			}
			for _, id := range c.posts {
				found := false
				for _, g := range got {
					found = found || g == id
				}
				if !found {
					t.Errorf("granted %v, want %v", got, c.posts)
				}
			}
		})
	}
}
