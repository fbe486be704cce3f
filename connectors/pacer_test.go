package connectors_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/connectors"
)

func TestPacer(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()

	tests := []struct {
		name     string
		schedule func(p *connectors.Pacer)
		ctx      context.Context
		want     error
	}{
		{name: "zero pacer is due at once", schedule: func(*connectors.Pacer) {}, ctx: t.Context()},
		{name: "past time is due at once", schedule: func(p *connectors.Pacer) { p.Schedule(now.Add(-time.Hour)) }, ctx: t.Context()},
		{name: "reset to zero is due at once", schedule: func(p *connectors.Pacer) { p.After(time.Hour); p.Schedule(time.Time{}) }, ctx: t.Context()},
		{name: "short wait by the clock", schedule: func(p *connectors.Pacer) { p.After(10 * time.Millisecond) }, ctx: t.Context()},
		{name: "ended context while due", schedule: func(*connectors.Pacer) {}, ctx: cancelled, want: context.Canceled},
		{name: "ended context while waiting", schedule: func(p *connectors.Pacer) { p.After(time.Hour) }, ctx: cancelled, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &connectors.Pacer{Now: clock}
			tt.schedule(p)
			if err := p.Wait(tt.ctx); !errors.Is(err, tt.want) {
				t.Fatalf("Wait = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPacerWaitsUntilScheduled(t *testing.T) {
	var p connectors.Pacer // the wall clock
	start := time.Now()
	p.After(20 * time.Millisecond)
	if err := p.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Fatalf("Wait returned after %s, before the scheduled 20ms", waited)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := connectors.Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sleep = %v, want the context's deadline", err)
	}
}
