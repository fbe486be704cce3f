package connectors

import (
	"context"
	"encoding/json"
)

// LoadCursor decodes the JSON cursor stored at key into v. err is the
// store's failure, returned as it is for the caller to wrap with its own
// package name. A stored value that does not decode into v is not an
// error: unreadable is then json.Unmarshal's error, for the caller to log
// before it starts fresh, and v is as json.Unmarshal left it. When nothing
// is stored, or c is nil, v is left alone and both are nil.
func LoadCursor(ctx context.Context, c Cursors, key string, v any) (unreadable, err error) {
	if c == nil {
		return nil, nil
	}
	raw, err := c.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, nil
	}
	return json.Unmarshal(raw, v), nil
}

// StoreCursor stores v at key as JSON. Its error (encoding v, or the
// store's failure) is returned as it is, for the caller to wrap with its
// own package name. A nil c stores nothing.
func StoreCursor(ctx context.Context, c Cursors, key string, v any) error {
	if c == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Put(ctx, key, raw)
}
