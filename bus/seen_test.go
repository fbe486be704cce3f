package bus_test

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
)

// SeenAmong answers for many keys at once, across requests of 1024, and
// agrees with the bucket: keys put one way or the other are seen, deleted
// and purged keys and keys never put are not.
func TestSeenAmong(t *testing.T) {
	conn := bustest.Open(t)
	ctx := t.Context()
	if got, err := conn.SeenAmong(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("no keys: %v %v", got, err)
	}
	var keys []string
	want := map[string]bool{}
	var msgs []*nats.Msg
	for i := range 2500 {
		key := fmt.Sprintf("wall.%032x", i)
		keys = append(keys, key)
		switch {
		case i%7 == 0: // put through the KV API
			if _, err := conn.Seen.Put(ctx, key, nil); err != nil {
				t.Fatal(err)
			}
			want[key] = true
		case i%5 == 0: // put as curation does, pipelined
			msgs = append(msgs, bus.SeenMsg(key))
			want[key] = true
		}
	}
	if _, err := conn.PublishAll(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if got, err := conn.SeenAmong(ctx, keys[1:5]); err != nil || len(got) != 0 {
		t.Fatalf("keys never put: %v %v", got, err)
	}
	// Deleted and purged keys are not seen.
	for _, k := range []string{keys[0], keys[5]} {
		if err := conn.Seen.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		delete(want, k)
	}
	if err := conn.Seen.Purge(ctx, keys[7]); err != nil {
		t.Fatal(err)
	}
	delete(want, keys[7])
	got, err := conn.SeenAmong(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%d seen, want %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("%s not seen", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s seen, never put or deleted", k)
		}
	}
}
