package connectors_test

import (
	"context"
	"errors"
	"testing"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/connectors/sourcetest"
)

type cursor struct {
	Since string `json:"since"`
}

// failing is a store that fails every call.
type failing struct{ err error }

func (f failing) Get(context.Context, string) ([]byte, error) { return nil, f.err }
func (f failing) Put(context.Context, string, []byte) error   { return f.err }

func TestCursor(t *testing.T) {
	ctx := t.Context()
	store := &sourcetest.Cursors{}

	t.Run("nothing stored", func(t *testing.T) {
		v := cursor{Since: "kept"}
		unreadable, err := connectors.LoadCursor(ctx, store, "none", &v)
		if unreadable != nil || err != nil || v.Since != "kept" {
			t.Fatalf("got %+v, unreadable %v, err %v", v, unreadable, err)
		}
	})
	t.Run("round trip", func(t *testing.T) {
		if err := connectors.StoreCursor(ctx, store, "k", cursor{Since: "42"}); err != nil {
			t.Fatal(err)
		}
		if raw, _ := store.Get(ctx, "k"); string(raw) != `{"since":"42"}` {
			t.Fatalf("stored %s", raw)
		}
		var v cursor
		unreadable, err := connectors.LoadCursor(ctx, store, "k", &v)
		if unreadable != nil || err != nil || v.Since != "42" {
			t.Fatalf("got %+v, unreadable %v, err %v", v, unreadable, err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if err := store.Put(ctx, "bad", []byte("not json")); err != nil {
			t.Fatal(err)
		}
		var v cursor
		unreadable, err := connectors.LoadCursor(ctx, store, "bad", &v)
		if unreadable == nil || err != nil {
			t.Fatalf("unreadable %v, err %v; want only unreadable", unreadable, err)
		}
	})
	t.Run("store fails", func(t *testing.T) {
		boom := errors.New("boom")
		var v cursor
		unreadable, err := connectors.LoadCursor(ctx, failing{boom}, "k", &v)
		if unreadable != nil || !errors.Is(err, boom) {
			t.Fatalf("unreadable %v, err %v; want only the store's error", unreadable, err)
		}
		if err := connectors.StoreCursor(ctx, failing{boom}, "k", v); !errors.Is(err, boom) {
			t.Fatalf("store err %v", err)
		}
	})
	t.Run("unencodable", func(t *testing.T) {
		if err := connectors.StoreCursor(ctx, store, "k", func() {}); err == nil {
			t.Fatal("no error for a value JSON cannot hold")
		}
	})
	t.Run("no store", func(t *testing.T) {
		v := cursor{Since: "kept"}
		unreadable, err := connectors.LoadCursor(ctx, nil, "k", &v)
		if unreadable != nil || err != nil || v.Since != "kept" {
			t.Fatalf("got %+v, unreadable %v, err %v", v, unreadable, err)
		}
		if err := connectors.StoreCursor(ctx, nil, "k", v); err != nil {
			t.Fatal(err)
		}
	})
}
