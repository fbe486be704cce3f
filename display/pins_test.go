package display

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/post"
)

// apply applies e (with the next seq) and returns its seq.
func (f *fixture) apply(e bus.Event) uint64 {
	f.seq++
	e.Seq = f.seq
	if e.Stream == "" {
		e.Stream = "wall"
	}
	f.hub.Apply(bus.Batch{Events: []bus.Event{e}, LastSeq: f.seq, CaughtUp: true})
	return f.seq
}

func (f *fixture) snapshot(t *testing.T, limit int) Snapshot {
	t.Helper()
	snap, ok := f.hub.Posts("wall", limit)
	if !ok {
		t.Fatal("hub not ready")
	}
	return snap
}

func describeMsg(m msg) string {
	var b strings.Builder
	b.WriteString(m.Type)
	if m.Post != nil {
		b.WriteString(" " + m.Post.ID)
	}
	if m.ID != "" {
		b.WriteString(" " + m.ID)
	}
	if m.Pins != nil {
		b.WriteString(" pins=" + strings.Join(m.Pins, ","))
	}
	return b.String()
}

func approved(id string) bus.Event {
	return bus.Event{Kind: bus.EventApprove, PostID: id, Post: &post.Post{ID: id, Text: "text of " + id}}
}

// A post a rule pinned stays on screen, first, however many posts follow,
// even more than the state keeps.
func TestRulePinnedPostStays(t *testing.T) {
	f := newFixture(t)
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, c)
	pinned := approved("pinned")
	pinned.Pinned = true
	f.apply(pinned)
	if m := read(t, c); describeMsg(m) != "add pinned pins=pinned" {
		t.Fatalf("got %q", describeMsg(m))
	}
	for i := range keep + 10 {
		f.apply(approved(fmt.Sprintf("p%d", i)))
	}
	snap := f.snapshot(t, 3)
	if ids(snap.Posts) != fmt.Sprintf("pinned,p%d,p%d", keep+9, keep+8) || strings.Join(snap.Pins, ",") != "pinned" {
		t.Fatalf("snapshot %s pins %v", ids(snap.Posts), snap.Pins)
	}
	if !snap.Posts[0].Pinned {
		t.Fatal("pinned post not marked pinned")
	}
	fresh, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := read(t, fresh); m.Type != TypeSnapshot || ids(m.Posts) != ids(snap.Posts) {
		t.Fatalf("a new screen got %s %s", m.Type, ids(m.Posts))
	}
}

// Pinning a post the display no longer holds brings it back on screen,
// from the post the pin event carries.
func TestPinBringsBackAnOlderPost(t *testing.T) {
	f := newFixture(t)
	f.apply(approved("old"))
	for i := range keep + 1 {
		f.apply(approved(fmt.Sprintf("p%d", i)))
	}
	if snap := f.snapshot(t, keep+50); strings.Contains(ids(snap.Posts), "old") {
		t.Fatal("the old post should have been trimmed")
	}
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, c)
	pin := approved("old")
	pin.Kind = bus.EventPin
	f.apply(pin)
	if m := read(t, c); describeMsg(m) != "add old pins=old" || !m.Post.Pinned {
		t.Fatalf("got %q", describeMsg(m))
	}
	if snap := f.snapshot(t, 3); ids(snap.Posts) != fmt.Sprintf("old,p%d,p%d", keep, keep-1) {
		t.Fatalf("snapshot %s", ids(snap.Posts))
	}

	// Unpinned, it goes back to being the newest of the others.
	f.apply(bus.Event{Kind: bus.EventUnpin, PostID: "old"})
	if m := read(t, c); describeMsg(m) != "update old pins=" || m.Post.Pinned {
		t.Fatalf("got %q", describeMsg(m))
	}
	// Two newer posts later it is the last on a screen of three; one more
	// and the screen drops it itself, as with any post.
	f.apply(approved("n1"))
	f.apply(approved("n2"))
	if snap := f.snapshot(t, 3); ids(snap.Posts) != "n2,n1,old" {
		t.Fatalf("snapshot %s", ids(snap.Posts))
	}
}

// Pins come first in pin order: the newest pin first, until an order_pins
// event says otherwise. Unpinning a post that is past what screens show
// removes it from them.
func TestPinOrder(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		f.apply(approved(id))
	}
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, c)
	f.apply(bus.Event{Kind: bus.EventPin, PostID: "a"})
	f.apply(bus.Event{Kind: bus.EventPin, PostID: "b"})
	f.apply(bus.Event{Kind: bus.EventPin, PostID: "b"}) // again: nothing changes
	f.apply(bus.Event{Kind: bus.EventOrderPins, Pins: []string{"a", "nope", "b", "a"}})
	f.apply(bus.Event{Kind: bus.EventOrderPins, Pins: []string{"a", "b"}}) // same order: nothing
	f.apply(bus.Event{Kind: bus.EventUnpin, PostID: "b"})
	want := []string{"update a pins=a", "update b pins=b,a", "pins pins=a,b", "remove b pins=a"}
	for _, w := range want {
		if m := read(t, c); describeMsg(m) != w {
			t.Fatalf("got %q, want %q", describeMsg(m), w)
		}
	}
	if snap := f.snapshot(t, 3); ids(snap.Posts) != "a,e,d" || strings.Join(snap.Pins, ",") != "a" {
		t.Fatalf("snapshot %s pins %v", ids(snap.Posts), snap.Pins)
	}
	// A removed pinned post leaves the pins.
	f.apply(bus.Event{Kind: bus.EventRemove, PostID: "a"})
	if m := read(t, c); describeMsg(m) != "remove a pins=" {
		t.Fatalf("got %q", describeMsg(m))
	}
}

// A pin written just after a removal (the moderator read the post before
// it was removed) never brings the removed post back.
func TestPinAfterRemovalDoesNotResurrect(t *testing.T) {
	f := newFixture(t)
	f.apply(approved("a"))
	f.apply(approved("b"))
	f.apply(bus.Event{Kind: bus.EventRemove, PostID: "a"})
	pin := approved("a")
	pin.Kind = bus.EventPin
	f.apply(pin)
	if snap := f.snapshot(t, 3); ids(snap.Posts) != "b" {
		t.Fatalf("snapshot %s", ids(snap.Posts))
	}
	// Approved again, it can be pinned again.
	f.apply(approved("a"))
	f.apply(pin)
	if snap := f.snapshot(t, 3); ids(snap.Posts) != "a,b" || !snap.Posts[0].Pinned {
		t.Fatalf("snapshot %s", ids(snap.Posts))
	}
}

// A pin during a post's delay takes effect when it is released.
func TestPinDuringDelay(t *testing.T) {
	f := newFixture(t)
	delayed := approved("d")
	delayed.ShowAt = delayed.At.AddDate(1, 0, 0)
	f.apply(delayed)
	f.apply(bus.Event{Kind: bus.EventPin, PostID: "d"})
	f.apply(approved("x"))
	f.apply(bus.Event{Kind: bus.EventRelease, PostID: "d"})
	f.apply(approved("y"))
	if snap := f.snapshot(t, 3); ids(snap.Posts) != "d,y,x" || strings.Join(snap.Pins, ",") != "d" {
		t.Fatalf("snapshot %s pins %v", ids(snap.Posts), snap.Pins)
	}
}

// Hidden authors' pinned posts are not shown and not in the pin order
// screens get; banned authors' pins are gone.
func TestPinsOfHiddenAndBannedAuthors(t *testing.T) {
	f := newFixture(t)
	e := approved("h")
	e.Post.Network, e.Post.Author.Handle, e.Pinned = "x", "troll", true
	f.apply(e)
	f.apply(approved("a"))
	f.apply(bus.Event{Kind: bus.EventHideAuthor, Author: "x:troll"})
	if snap := f.snapshot(t, 3); ids(snap.Posts) != "a" || len(snap.Pins) != 0 {
		t.Fatalf("hidden: %s pins %v", ids(snap.Posts), snap.Pins)
	}
	f.apply(bus.Event{Kind: bus.EventShowAuthor, Author: "x:troll"})
	if snap := f.snapshot(t, 3); ids(snap.Posts) != "h,a" {
		t.Fatalf("shown: %s", ids(snap.Posts))
	}
	f.apply(bus.Event{Kind: bus.EventBanAuthor, Author: "x:troll"})
	st := f.hub.state("wall")
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.pins) != 0 || ids(st.visible(3)) != "a" {
		t.Fatalf("banned: pins %v posts %s", st.pins, ids(st.visible(3)))
	}
}

// More than maxPins pins unpin the last in pin order, and count it.
func TestPinsAreBounded(t *testing.T) {
	f := newFixture(t)
	for i := range maxPins + 1 {
		e := approved(fmt.Sprintf("p%d", i))
		e.Pinned = true
		f.apply(e)
	}
	st := f.hub.state("wall")
	st.mu.Lock()
	pins, first, evicted := len(st.pins), st.pins[0], st.posts[st.find("p0")].Pinned
	st.mu.Unlock()
	if pins != maxPins || first != fmt.Sprintf("p%d", maxPins) || evicted {
		t.Fatalf("pins %d first %s p0 pinned %v", pins, first, evicted)
	}
	if got := testutilCountOf(f.hub.evicted); got != 1 {
		t.Fatalf("evicted %v", got)
	}
}
