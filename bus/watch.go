package bus

import "github.com/nats-io/nats.go/jetstream"

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
