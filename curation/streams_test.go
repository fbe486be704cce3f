package curation

import (
	"slices"
	"testing"

	"github.com/chorus-wall/chorus/config"
	"github.com/chorus-wall/chorus/post"
)

func TestBannedIn(t *testing.T) {
	s := NewStreams(NewLists())
	for _, st := range []config.Stream{
		{ID: "main", Moderation: config.ModerationAuto, Filters: config.Filters{BlockedAuthors: []string{"x:Ana"}}},
		{ID: "side", Moderation: config.ModerationAuto},
		{ID: "kids", Moderation: config.ModerationAuto, Filters: config.Filters{BlockedAuthors: []string{"ana", "mastodon:bo@social.example"}}},
	} {
		if err := config.ValidateStream(&st, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(st); err != nil {
			t.Fatal(err)
		}
	}
	ana := post.Post{ID: "x:1", Network: "x", Author: post.Author{Handle: "ana"}}
	bo := post.Post{ID: "mastodon:2", Network: "mastodon", Author: post.Author{Handle: "bo@social.example"}}
	cy := post.Post{ID: "x:3", Network: "x", Author: post.Author{Handle: "cy"}}
	for _, tt := range []struct {
		p    post.Post
		want []string
	}{{ana, []string{"main", "kids"}}, {bo, []string{"kids"}}, {cy, []string{}}} {
		if got := s.BannedIn(&tt.p); !slices.Equal(got, tt.want) {
			t.Errorf("%s: banned in %v, want %v", tt.p.Author.Handle, got, tt.want)
		}
	}
}
