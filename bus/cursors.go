package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// GetCursor returns a connector's stored cursor, or nil when none is stored.
func (c *Conn) GetCursor(ctx context.Context, key string) ([]byte, error) {
	e, err := c.Cursors.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bus: cursor %s: %w", key, err)
	}
	return e.Value(), nil
}

// PutCursor stores a connector's cursor.
func (c *Conn) PutCursor(ctx context.Context, key string, value []byte) error {
	if _, err := c.Cursors.Put(ctx, key, value); err != nil {
		return fmt.Errorf("bus: cursor %s: %w", key, err)
	}
	return nil
}
