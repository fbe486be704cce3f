package bus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/post"
)

// TestScanEndsWhenWhatIsLeftIsDeleted: a scan whose messages are deleted
// before it reads them (a retention sweep or an erasure running beside an
// export) ends, instead of waiting for messages that will never come.
// Before the fix it waited until its context ended: an export request hung
// for good when a sweep deleted the author's last post at that moment
// (TestRetentionPurgesOnSchedule, once under the race detector).
func TestScanEndsWhenWhatIsLeftIsDeleted(t *testing.T) {
	conn, err := Open(t.Context(), Options{DataDir: t.TempDir(), Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	ana := post.Post{Network: "webhook", Author: post.Author{Handle: "ana"}}
	part := IngestPartition(ana.AuthorKey())
	stream := PartitionStream(part)
	for _, c := range []struct{ name, filter string }{{"whole stream", ""}, {"one subject", PartitionSubject("webhook", part)}} {
		t.Run(c.name, func(t *testing.T) {
			var posts []post.Post
			for i := range 3 {
				posts = append(posts, post.Post{ID: fmt.Sprintf("webhook:%s%d", c.name, i), Network: "webhook", Text: "hello", Author: post.Author{Handle: "ana"}})
			}
			if _, err := conn.PublishPosts(t.Context(), posts); err != nil {
				t.Fatal(err)
			}
			// Keep one message of another network, so the stream is never
			// empty: the scan must end on what it is told, not on that.
			if _, err := conn.PublishPosts(t.Context(), []post.Post{{ID: "x:" + c.name, Network: "x", Text: "other", Author: post.Author{Handle: "ana"}}}); err != nil {
				t.Fatal(err)
			}
			// A bound so that a hang fails the test instead of stalling it.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			var seen []string
			err := conn.scan(ctx, stream, c.filter, 0, 0, func(m Stored) error {
				seen = append(seen, m.Subject)
				return nil
			}, func() {
				// Every webhook post goes after the scan looked and before it reads.
				if err := conn.Scan(ctx, stream, PartitionSubject("webhook", part), func(m Stored) error {
					return conn.Erase(ctx, stream, m.Seq)
				}); err != nil {
					t.Error(err)
				}
			})
			if err != nil {
				t.Fatalf("scan: %v (saw %v)", err, seen)
			}
			for _, s := range seen {
				if s == PartitionSubject("webhook", part) {
					t.Errorf("saw a deleted message on %s", s)
				}
			}
		})
	}
}

// TestEraseTwice: erasing a message already erased (a sweep and an
// erasure at once, an erasure run again) is not an error. Before the fix
// the second erasure failed with "sequence 1 not found".
func TestEraseTwice(t *testing.T) {
	conn, err := Open(t.Context(), Options{DataDir: t.TempDir(), Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.PublishPosts(t.Context(), []post.Post{{ID: "webhook:1", Network: "webhook", Text: "a"}, {ID: "webhook:2", Network: "webhook", Text: "b"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := conn.Erase(t.Context(), IngestStream, 1); err != nil {
			t.Fatal(err)
		}
	}
}
