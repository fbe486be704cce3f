package bus

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
)

// StopWatch ends a KV watch without waiting for NATS. Stopping a watch
// deletes its consumer: a request that, while NATS is unreachable, waits
// out its whole timeout (5 s), so stages stopping their watches one after
// another on the way out would hold up the process's stop by as much each.
// The delete is sent in the background instead and the caller goes on at
// once; a consumer the delete cannot reach is removed by the server by
// itself once its subscriber is gone.
func StopWatch(w jetstream.KeyWatcher) {
	go func() { _ = w.Stop() }()
}

// Follow reads a KV watch: it calls apply with each entry, loaded once the
// bucket's current values are all in (nil: nothing to tell), and returns
// when ctx ends or the watch closes (the connection is gone). The watch is
// stopped with StopWatch on the way out.
func Follow(ctx context.Context, w jetstream.KeyWatcher, loaded func(), apply func(jetstream.KeyValueEntry)) {
	defer StopWatch(w)
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil { // the initial values are all in
				if loaded != nil {
					loaded()
					loaded = nil
				}
				continue
			}
			apply(e)
		}
	}
}
