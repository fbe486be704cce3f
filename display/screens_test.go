package display

import (
	"testing"
	"time"

	"github.com/chorus-wall/chorus/bus"
)

func TestScreensCountsConnectedClients(t *testing.T) {
	f := newFixture(t)
	f.event("wall", bus.EventApprove, "a")
	if n := f.hub.Screens("wall"); n != 0 {
		t.Fatalf("before any screen: %d", n)
	}
	a, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, a)
	b, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, b)
	if n := f.hub.Screens("wall"); n != 2 {
		t.Fatalf("two screens: %d", n)
	}
	if n := f.hub.Screens("brand"); n != 0 {
		t.Fatalf("another stream: %d", n)
	}
	a.Close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for f.hub.Screens("wall") != 1 {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("a closed screen still counts: %d", f.hub.Screens("wall"))
		}
	}
}
