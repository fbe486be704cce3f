package display

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/bus"
)

// onAirID is the id of the post on air in the wall's snapshot, "" for none.
func (f *fixture) onAirID(t *testing.T) string {
	t.Helper()
	snap := f.snapshot(t, 10)
	if snap.OnAir == nil {
		return ""
	}
	return snap.OnAir.Post.ID
}

// On air: air puts a post on screen on air, next walks the on-air queue
// (pinned, then featured, then newest first, each post once per round),
// clear takes it off, and a post that leaves the screens leaves the air.
// Screens get one air message per change.
func TestOnAir(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"a", "b", "c", "d"} {
		f.apply(approved(id))
	}
	f.apply(bus.Event{Kind: bus.EventPin, PostID: "b"})
	f.apply(bus.Event{Kind: bus.EventFeature, PostID: "a"})
	c, _, err := f.dial(t, "/ws/streams/wall", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, c)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

	// A post that is not on screen cannot go on air.
	f.apply(bus.Event{Kind: bus.EventAir, PostID: "nope", At: at})
	if id := f.onAirID(t); id != "" {
		t.Fatalf("%s on air", id)
	}
	f.apply(bus.Event{Kind: bus.EventAir, PostID: "c", At: at, Advance: 10 * time.Second})
	m := readAir(t, c)
	if m.OnAir == nil || m.OnAir.Post.ID != "c" || !m.OnAir.At.Equal(at) || m.OnAir.AdvanceMS != 10000 {
		t.Fatalf("air c: %+v", m.OnAir)
	}
	// The queue: pinned b, featured a, then d (c has been on air).
	var order []string
	for range 3 {
		f.apply(bus.Event{Kind: bus.EventAirNext, At: at})
		order = append(order, readAir(t, c).OnAir.Post.ID)
	}
	if got := join(order); got != "b,a,d" {
		t.Fatalf("next went %s, want b,a,d", got)
	}
	// Every post has been on air: a new round starts with the pinned one.
	f.apply(bus.Event{Kind: bus.EventAirNext, At: at})
	if id := readAir(t, c).OnAir.Post.ID; id != "b" {
		t.Fatalf("a new round starts with %s", id)
	}
	// A manual next without advance stopped auto-advance: a schedule's
	// next is ignored now.
	seq := f.apply(bus.Event{Kind: bus.EventAirNext, Actor: bus.ActorSchedule})
	if id := f.onAirID(t); id != "b" {
		t.Fatalf("a stopped schedule moved the air to %s (seq %d)", id, seq)
	}
	// With auto-advance, the schedule's next goes on and keeps the interval.
	f.apply(bus.Event{Kind: bus.EventAir, PostID: "a", At: at, Advance: 5 * time.Second})
	readAir(t, c)
	f.apply(bus.Event{Kind: bus.EventAirNext, Actor: bus.ActorSchedule, Stored: at.Add(5 * time.Second)})
	m = readAir(t, c)
	if m.OnAir == nil || m.OnAir.AdvanceMS != 5000 || !m.OnAir.At.Equal(at.Add(5*time.Second)) {
		t.Fatalf("scheduled next: %+v", m.OnAir)
	}
	// The post on air is removed: it is off air with the remove message.
	onAir := m.OnAir.Post.ID
	if onAir != "d" {
		t.Fatalf("the schedule's next put %s on air, want d (the newest not aired this round)", onAir)
	}
	f.apply(bus.Event{Kind: bus.EventRemove, PostID: onAir})
	if got := read(t, c); got.Type != TypeRemove || got.ID != onAir {
		t.Fatalf("got %s", describeMsg(got))
	}
	if id := f.onAirID(t); id != "" {
		t.Fatalf("%s still on air after its removal", id)
	}
	f.apply(bus.Event{Kind: bus.EventAir, PostID: "c", At: at})
	readAir(t, c)
	f.apply(bus.Event{Kind: bus.EventAirClear})
	if m := readAir(t, c); m.OnAir != nil {
		t.Fatalf("clear left %+v", m.OnAir)
	}
	// Clear again changes nothing and says nothing.
	f.apply(bus.Event{Kind: bus.EventAirClear})
	f.apply(bus.Event{Kind: bus.EventAir, PostID: "c", At: at})
	if m := readAir(t, c); m.OnAir == nil || m.OnAir.Post.ID != "c" {
		t.Fatalf("after a second clear: %+v", m)
	}
}

type airMsg struct {
	Type  string `json:"type"`
	Seq   uint64 `json:"seq"`
	OnAir *OnAir `json:"on_air"`
}

func readAir(t *testing.T, c interface{ ReadJSON(any) error }) airMsg {
	t.Helper()
	var m airMsg
	if err := c.ReadJSON(&m); err != nil {
		t.Fatalf("read: %v", err)
	}
	if m.Type != TypeAir {
		t.Fatalf("got a %s message, want air", m.Type)
	}
	return m
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

// The on-air state survives a restart: it is in the checkpoint.
func TestOnAirInCheckpoint(t *testing.T) {
	f := newFixture(t)
	f.apply(approved("a"))
	f.apply(approved("b"))
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.apply(bus.Event{Kind: bus.EventAir, PostID: "a", At: at, Advance: 7 * time.Second})
	st := f.hub.state("wall")
	st.mu.Lock()
	data, err := encodeCheckpoint(st.checkpoint("wall", time.Now()))
	st.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeCheckpoint(data)
	if err != nil {
		t.Fatal(err)
	}
	back := c.restore()
	got := back.onAir()
	if got == nil || got.Post.ID != "a" || !got.At.Equal(at) || got.AdvanceMS != 7000 {
		t.Fatalf("restored on air: %+v", got)
	}
	// The round goes on where it was: b is next, not a again.
	if next := back.nextOnAir(); next != "b" {
		t.Fatalf("next after a restart: %s", next)
	}
}

// GET .../posts?before=ID pages through older posts for "load more".
func TestPostsBefore(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		f.event("brand", bus.EventApprove, id)
	}
	f.apply(bus.Event{Kind: bus.EventPin, Stream: "brand", PostID: "c"})
	get := func(q string) (int, Page) {
		resp, err := http.Get(f.srv.URL + "/api/v1/streams/brand/posts?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p Page
		json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p
	}
	// Newest first, pinned c left out (screens have it).
	if code, p := get("before=e&limit=2"); code != 200 || p.Type != TypePage || ids(p.Posts) != "d,b" || !p.More {
		t.Fatalf("page 1: %d %+v", code, p)
	}
	if code, p := get("before=b&limit=2"); code != 200 || ids(p.Posts) != "a" || p.More {
		t.Fatalf("page 2: %d %s more=%v", code, ids(p.Posts), p.More)
	}
	// Before a pinned post: every other post.
	if code, p := get("before=c&limit=10"); code != 200 || ids(p.Posts) != "e,d,b,a" {
		t.Fatalf("before the pinned post: %d %s", code, ids(p.Posts))
	}
	if code, _ := get("before=zzz"); code != http.StatusNotFound {
		t.Fatalf("unknown post: %d", code)
	}
	if code, _ := get("before="); code != http.StatusBadRequest {
		t.Fatalf("empty before: %d", code)
	}
}
