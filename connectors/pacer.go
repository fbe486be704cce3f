package connectors

import (
	"context"
	"sync"
	"time"
)

// Pacer spaces a polling source's reads: Wait blocks until the time set by
// Schedule or After. The zero Pacer is due at once and reads the wall
// clock. It is safe for concurrent use.
type Pacer struct {
	// Now is the clock the scheduled time is read against (a source's
	// Deps.Now); nil is time.Now. Set it before the Pacer is used.
	Now func() time.Time

	mu   sync.Mutex
	next time.Time
}

// Schedule makes Wait return at next; the zero time means at once.
func (p *Pacer) Schedule(next time.Time) {
	p.mu.Lock()
	p.next = next
	p.mu.Unlock()
}

// After makes Wait return d from now.
func (p *Pacer) After(d time.Duration) {
	p.Schedule(p.now().Add(d))
}

// Wait blocks until the scheduled time and returns nil, or returns
// ctx.Err() when ctx ends first. When the time has come already it
// returns at once: ctx.Err(), nil while ctx lives.
func (p *Pacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	next := p.next
	p.mu.Unlock()
	return Sleep(ctx, next.Sub(p.now()))
}

func (p *Pacer) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// Sleep waits d and returns nil, or returns ctx.Err() when ctx ends first.
// A d of zero or less returns ctx.Err() at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
