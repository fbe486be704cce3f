// Package bustest starts a real embedded NATS server with JetStream in a
// test's temporary directory, like httptest does for HTTP.
package bustest

import (
	"context"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/bus"
)

// Open returns a bus on an embedded server storing under a fresh temporary
// directory; it is closed when the test ends.
func Open(t testing.TB) *bus.Conn {
	t.Helper()
	return OpenAt(t, t.TempDir())
}

// OpenAt is Open on a given data directory, to test restarts.
func OpenAt(t testing.TB, dir string) *bus.Conn {
	t.Helper()
	conn, err := bus.Open(t.Context(), bus.Options{DataDir: dir, Retention: 24 * time.Hour, Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := conn.Close(ctx); err != nil {
			t.Errorf("close bus: %v", err)
		}
	})
	return conn
}
