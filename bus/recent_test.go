package bus_test

import (
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
)

// EventIDsSince reads back the message ids of the events stored since a
// time, or after a sequence, and returns when there are none.
func TestEventIDsSince(t *testing.T) {
	conn := bustest.Open(t)
	publish := func(ids ...string) uint64 {
		t.Helper()
		var msgs []*nats.Msg
		for _, id := range ids {
			m := &nats.Msg{Subject: bus.EventSubject("wall", "approve"), Data: []byte(`{}`), Header: nats.Header{}}
			if id != "" {
				m.Header.Set(jetstream.MsgIDHeader, id)
			}
			msgs = append(msgs, m)
		}
		acks, err := conn.PublishAll(t.Context(), msgs)
		if err != nil {
			t.Fatal(err)
		}
		return acks[len(acks)-1].Sequence
	}
	read := func(since time.Time, after uint64) (uint64, []string) {
		t.Helper()
		var ids []string
		last, n, err := conn.EventIDsSince(t.Context(), since, after, func(id string) { ids = append(ids, id) })
		if err != nil {
			t.Fatal(err)
		}
		if n < len(ids) {
			t.Fatalf("read %d messages, %d ids", n, len(ids))
		}
		return last, ids
	}
	if last, ids := read(time.Now().Add(-time.Hour), 0); last != 0 || len(ids) != 0 {
		t.Fatalf("empty stream: last %d, ids %v", last, ids)
	}
	first := publish("decide.wall.a", "", "decide.wall.b")
	// Stream timestamps are the server's; wait until its clock has moved on.
	s, err := conn.JS.Stream(t.Context(), bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(t.Context(), first)
	if err != nil {
		t.Fatal(err)
	}
	for !time.Now().After(m.Time.Add(time.Millisecond)) {
		time.Sleep(time.Millisecond)
	}
	between := time.Now()
	last := publish("takedown.wall.c", "decide.wall.d")

	if got, ids := read(between, 0); got != last || !slices.Equal(ids, []string{"takedown.wall.c", "decide.wall.d"}) {
		t.Errorf("since a time: last %d (want %d), ids %v", got, last, ids)
	}
	if got, ids := read(time.Time{}, first); got != last || !slices.Equal(ids, []string{"takedown.wall.c", "decide.wall.d"}) {
		t.Errorf("after a sequence: last %d (want %d), ids %v", got, last, ids)
	}
	if _, ids := read(m.Time.Add(-time.Second), 0); len(ids) != 4 {
		t.Errorf("since before everything: ids %v", ids)
	}
	if got, ids := read(time.Now().Add(time.Hour), 0); got != last || len(ids) != 0 {
		t.Errorf("since later than every event: last %d, ids %v", got, ids)
	}
	if got, ids := read(time.Time{}, last); got != last || len(ids) != 0 {
		t.Errorf("after the last: last %d, ids %v", got, ids)
	}
}
