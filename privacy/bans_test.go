package privacy

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/post"
)

func TestParseAuthor(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"mastodon:Ana@Social.Example", "mastodon:ana@social.example"},
		{" x:@Eve ", "x:eve"},
		{"bluesky:#did:plc:abc", "bluesky:#did:plc:abc"},
		{"eve", ""},
		{"x:", ""},
		{"x:#", ""},
		{"X Y:eve", ""},
	} {
		got, err := ParseAuthor(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("ParseAuthor(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestBansReachEveryNode: a ban written by one node is applied by
// another that watches the bucket, by handle and by account id, and the
// gate before the ingest stream drops the author's posts.
func TestBansReachEveryNode(t *testing.T) {
	conn := bustest.Open(t)
	h, err := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	here, there := NewBans(conn.Erasures, h, log), NewBans(conn.Erasures, h, log)
	var fired atomic.Int32
	there.OnBan(func() { fired.Add(1) })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	loaded := make(chan struct{})
	go there.Watch(ctx, func() { close(loaded) })
	<-loaded
	eve := &post.Post{Network: "x", Author: post.Author{ID: "42", Handle: "Eve"}}
	renamed := &post.Post{Network: "x", Author: post.Author{ID: "42", Handle: "eve2"}}
	if there.Banned(eve, "") || !there.Empty() {
		t.Fatal("banned before any ban")
	}
	if err := here.Add(t.Context(), []string{h.Hash("x:eve"), h.Hash("x:#42")}, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := here.Add(t.Context(), []string{h.Hash("x:ana")}, "wall", time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !there.BannedKey("x:ana", "wall") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ana := &post.Post{Network: "x", Author: post.Author{Handle: "ana"}}
	for _, tt := range []struct {
		p      *post.Post
		stream string
		want   bool
	}{
		{eve, "", true}, {renamed, "wall", true}, {ana, "wall", true}, {ana, "other", false}, {ana, "", false},
	} {
		if got := there.Banned(tt.p, tt.stream); got != tt.want {
			t.Errorf("Banned(%s, %q) = %v", tt.p.AuthorKey(), tt.stream, got)
		}
	}
	if fired.Load() != 3 {
		t.Errorf("OnBan ran %d times, want 3", fired.Load())
	}
	bans, err := there.Lookup(t.Context(), "x:eve")
	if err != nil || len(bans) != 1 || bans[0].Stream != "" {
		t.Errorf("lookup: %+v %v", bans, err)
	}
	gate := NewGate(conn, there, prometheus.NewRegistry())
	n, err := gate.PublishPosts(t.Context(), []post.Post{
		{ID: "x:1", Network: "x", Text: "mine", Author: eve.Author, Source: "s"},
		{ID: "x:2", Network: "x", Text: "hers", Author: ana.Author, Source: "s"},
		{ID: "x:3", Network: "x", Deleted: true, Source: "s"},
	})
	if err != nil || n != 2 {
		t.Fatalf("gate stored %d (%v), want ana's post and the takedown", n, err)
	}
}
