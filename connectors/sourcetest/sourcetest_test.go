package sourcetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/bus/bustest"
	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
	"github.com/chorus-wall/chorus/post"
)

// counter is a tiny source: it emits posts 1..n, one per read, committing
// its position in the cursor on ack.
type counter struct {
	n       int
	next    int
	cursors connectors.Cursors
}

func (c *counter) Connect(ctx context.Context) error {
	v, err := c.cursors.Get(ctx, "counter")
	if len(v) > 0 {
		c.next = int(v[0])
	}
	return err
}

func (c *counter) Read(ctx context.Context) ([]post.Post, connectors.AckFunc, error) {
	if c.next >= c.n {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	n := c.next + 1
	p := post.Post{ID: "webhook:" + string(rune('a'+n)), Network: "webhook", Text: "x"}
	return []post.Post{p}, func(ctx context.Context, err error) error {
		if err != nil {
			return nil
		}
		c.next = n
		return c.cursors.Put(ctx, "counter", []byte{byte(n)})
	}, nil
}

func (c *counter) Close(context.Context) error { return nil }

func TestRunAndRestart(t *testing.T) {
	conn := bustest.Open(t)
	cur := &sourcetest.Cursors{}
	got := sourcetest.Run(t, conn, "c", &counter{n: 3, cursors: cur}, 10*time.Second, func(p []post.Post) bool { return len(p) >= 2 })
	if len(got) < 2 {
		t.Fatalf("got %v", sourcetest.IDs(got))
	}
	got = sourcetest.Run(t, conn, "c", &counter{n: 5, cursors: cur}, 10*time.Second, func(p []post.Post) bool { return len(p) >= 5 })
	sourcetest.Unique(t, got)
	if len(got) != 5 {
		t.Fatalf("got %v", sourcetest.IDs(got))
	}
	spec := sourcetest.Spec(t, "id: x\ntype: t\nrate: 2")
	if spec.ID != "x" || spec.Type != "t" {
		t.Fatalf("spec %+v", spec)
	}
}
