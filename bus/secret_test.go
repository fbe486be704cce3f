package bus_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
)

// Concurrent callers (nodes of a cluster starting together) all get the one
// key that was stored, and it is still the same after a restart.
func TestSharedSecretIsOnePerBucket(t *testing.T) {
	dir := t.TempDir()
	conn := bustest.OpenAt(t, dir)
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := bus.SharedSecret(t.Context(), conn.Config, "media")
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i, k := range keys {
		if len(k) != 32 || !bytes.Equal(k, keys[0]) {
			t.Fatalf("caller %d got key %x, caller 0 got %x", i, k, keys[0])
		}
	}
	other, err := bus.SharedSecret(t.Context(), conn.Config, "viewer")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other, keys[0]) {
		t.Fatal("two names share one key")
	}
	again, err := bus.SharedSecret(t.Context(), conn.Config, "media")
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("second read: %x, %v", again, err)
	}
}
