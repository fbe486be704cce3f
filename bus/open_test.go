package bus_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/chorus-wall/chorus/bus"
)

// A node opening the bus on a NATS that already has every stream and
// bucket with its settings changes nothing: an update each time a node
// starts raced, in the server, with another node creating its consumers.
func TestOpenAgainUpdatesNothingUnchanged(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	first, err := bus.Open(t.Context(), bus.Options{DataDir: t.TempDir(), Retention: time.Hour, Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Close(t.Context()) })

	var changes atomic.Int32
	var subjects atomic.Value
	for _, subject := range []string{"$JS.API.STREAM.UPDATE.>", "$JS.API.STREAM.CREATE.>"} {
		sub, err := first.NC.Subscribe(subject, func(m *nats.Msg) { changes.Add(1); subjects.Store(m.Subject) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sub.Unsubscribe() })
	}
	if err := first.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	second, err := bus.Open(t.Context(), bus.Options{URL: "nats://" + addr, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close(t.Context())
	if err := first.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := changes.Load(); n != 0 {
		t.Fatalf("a second node's start sent %d stream changes (the last %v); want none", n, subjects.Load())
	}

	// A setting that differs is still applied.
	third, err := bus.Open(t.Context(), bus.Options{URL: "nats://" + addr, Retention: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close(t.Context())
	if err := first.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	if changes.Load() == 0 {
		t.Fatal("a changed retention sent no update")
	}
}
