package bus_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chorus-wall/chorus/bus"
	"github.com/chorus-wall/chorus/bus/bustest"
)

// TestAirAutoAdvance: an air event with Advance starts a repeating
// schedule that writes air_next events; a later air, next or clear without
// Advance purges it.
func TestAirAutoAdvance(t *testing.T) {
	conn := bustest.Open(t)
	if !conn.Schedules {
		t.Skip("this NATS server cannot schedule messages")
	}
	ctx := t.Context()
	msgs, err := conn.AirMsgs(bus.Event{Kind: bus.EventAir, Stream: "s", PostID: "x:1", Advance: 2 * time.Second, Actor: "p", At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want the event and its schedule", len(msgs))
	}
	if _, err := conn.PublishAll(ctx, msgs); err != nil {
		t.Fatalf("publish: %v", err)
	}
	// The schedule writes air_next events, read like any other.
	got := make(chan bus.Event, 16)
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go conn.TailEvents(tctx, 1, 100, func() {}, func(b bus.Batch) error {
		for _, e := range b.Events {
			got <- e
		}
		return nil
	})
	deadline := time.After(15 * time.Second)
	nexts := 0
	for nexts < 2 {
		select {
		case e := <-got:
			switch e.Kind {
			case bus.EventAir:
			case bus.EventAirNext:
				if e.Actor != bus.ActorSchedule {
					t.Fatalf("air_next by %q", e.Actor)
				}
				nexts++
			default:
				t.Fatalf("unexpected %s", e.Kind)
			}
		case <-deadline:
			t.Fatalf("the schedule wrote %d air_next events", nexts)
		}
	}
	// A clear purges the schedule.
	msgs, err = conn.AirMsgs(bus.Event{Kind: bus.EventAirClear, Stream: "s", Actor: "p", At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.PublishAll(ctx, msgs); err != nil {
		t.Fatalf("publish clear: %v", err)
	}
	stream, err := conn.JS.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.GetLastMsgForSubject(ctx, "chorus.events.s.schedule.air"); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("the schedule is still there after clear: %v", err)
	}
	// Bad intervals are refused.
	for _, d := range []time.Duration{time.Second, 2 * time.Hour} {
		if _, err := conn.AirMsgs(bus.Event{Kind: bus.EventAirNext, Stream: "s", Advance: d}); err == nil {
			t.Errorf("advance %s accepted", d)
		}
	}
	if _, err := conn.AirMsgs(bus.Event{Kind: bus.EventPause, Stream: "s"}); err == nil {
		t.Error("a pause accepted as an on-air event")
	}
}
