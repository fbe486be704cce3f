package bus

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// secretPrefix is where shared signing keys live in the chorus_config bucket.
const secretPrefix = "secrets."

// secretSize is the length of a generated key: 256 bits, as HMAC-SHA256 wants.
const secretSize = 32

// SharedSecret returns the signing key called name from the chorus_config
// bucket, creating a random one the first time. Every node of a cluster
// reads the same key (whichever node creates it first wins the race, the
// others read the winner's), so a URL or token signed by one node is
// accepted by all, and survives restarts. A key is never generated per node.
func SharedSecret(ctx context.Context, kv jetstream.KeyValue, name string) ([]byte, error) {
	v, err := SharedValue(ctx, kv, name, func() ([]byte, error) {
		fresh := make([]byte, secretSize)
		if _, err := rand.Read(fresh); err != nil {
			return nil, fmt.Errorf("bus: generate secret %s: %w", name, err)
		}
		return fresh, nil
	})
	if err == nil && len(v) < secretSize {
		return nil, fmt.Errorf("bus: secret %s in %s is %d bytes; want %d (delete the key to regenerate it)",
			name, ConfigBucket, len(v), secretSize)
	}
	return v, err
}

// SharedValue returns the value called name among the secrets of the
// chorus_config bucket, storing what create makes the first time. When
// several nodes start at once, the first to store wins and the others read
// its value.
func SharedValue(ctx context.Context, kv jetstream.KeyValue, name string, create func() ([]byte, error)) ([]byte, error) {
	key := secretPrefix + name
	for range 3 {
		entry, err := kv.Get(ctx, key)
		if err == nil {
			return entry.Value(), nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("bus: read secret %s: %w", name, err)
		}
		fresh, err := create()
		if err != nil {
			return nil, err
		}
		// Create fails when another node created the key meanwhile: read theirs.
		if _, err := kv.Create(ctx, key, fresh); err == nil {
			return fresh, nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("bus: store secret %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("bus: secret %s: could not read or create it", name)
}
