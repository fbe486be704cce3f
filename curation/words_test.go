package curation

import (
	"testing"

	"github.com/chorus-wall/chorus/post"
)

func TestWordList(t *testing.T) {
	list := NewWordList([]string{"idiot", "Buy Followers", "scam", "  "})
	tests := []struct {
		name      string
		post      post.Post
		wantWord  string
		wantField string
	}{
		{name: "plain", post: post.Post{Text: "what an idiot"}, wantWord: "idiot", wantField: "text"},
		{name: "case and punctuation", post: post.Post{Text: "IDIOT!!!"}, wantWord: "idiot", wantField: "text"},
		{name: "phrase across spaces", post: post.Post{Text: "Buy   followers now"}, wantWord: "buy followers", wantField: "text"},
		{name: "phrase across newline", post: post.Post{Text: "buy\nfollowers"}, wantWord: "buy followers", wantField: "text"},
		{name: "handle parts", post: post.Post{Text: "hi", Author: post.Author{Handle: "total_idiot_42"}}, wantWord: "idiot", wantField: "author handle"},
		{name: "name", post: post.Post{Text: "hi", Author: post.Author{Name: "Scam Central"}}, wantWord: "scam", wantField: "author name"},
		{name: "hashtag", post: post.Post{Text: "hi", Hashtags: []string{"Scam"}}, wantWord: "scam", wantField: "hashtag"},
		{name: "not inside a word", post: post.Post{Text: "idiotic scampi", Author: post.Author{Handle: "scammer"}}},
		{name: "phrase needs every word", post: post.Post{Text: "buy tickets, gain followers"}},
		{name: "other scripts untouched", post: post.Post{Text: "مرحبا بالجميع 🎉 #ChorusLive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			word, field, ok := findInPost(list, &tt.post, tokenize(tt.post.Text))
			if tt.wantWord == "" {
				if ok {
					t.Fatalf("unexpected match %q in %s", word, field)
				}
				return
			}
			if !ok || word != tt.wantWord || field != tt.wantField {
				t.Fatalf("got %q in %q (%v), want %q in %q", word, field, ok, tt.wantWord, tt.wantField)
			}
		})
	}
	if !NewWordList(nil).Empty() || NewWordList([]string{"x"}).Empty() {
		t.Fatal("Empty is wrong")
	}
}

func TestTokenizeKeepsCombiningMarks(t *testing.T) {
	got := tokenize("नमस्ते, Zoë!")
	if len(got) != 2 || got[0] != "नमस्ते" || got[1] != "zoë" {
		t.Fatalf("tokenize = %q", got)
	}
}
