package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chorus-wall/chorus/connectors"
)

type item struct {
	ID   string `json:"id"`
	Time int64  `json:"t"`
}

func parseItem(raw []byte) (item, time.Time, error) {
	var it item
	if err := json.Unmarshal(raw, &it); err != nil || it.ID == "" {
		return item{}, time.Time{}, fmt.Errorf("bad item %s", raw)
	}
	return it, time.Unix(it.Time, 0), nil
}

func TestUnseen(t *testing.T) {
	page := func(items ...string) []json.RawMessage {
		out := make([]json.RawMessage, len(items))
		for i, s := range items {
			out[i] = json.RawMessage(s)
		}
		return out
	}
	tests := []struct {
		name    string
		cursor  Cursor
		pages   [][]json.RawMessage
		want    []string
		more    []bool
		skipped int
	}{
		{
			name:  "first run keeps all",
			pages: [][]json.RawMessage{page(`{"id":"b","t":20}`, `{"id":"a","t":10}`)},
			want:  []string{"b", "a"}, more: []bool{true},
		},
		{
			name:   "boundary second: unseen ids kept, paging goes on",
			cursor: Cursor{Time: 10, IDs: []string{"a"}},
			pages:  [][]json.RawMessage{page(`{"id":"c","t":11}`, `{"id":"a","t":10}`, `{"id":"b","t":10}`)},
			want:   []string{"c", "b"}, more: []bool{true},
		},
		{
			name:   "an older item ends the paging",
			cursor: Cursor{Time: 10, IDs: []string{"a"}},
			pages:  [][]json.RawMessage{page(`{"id":"c","t":11}`), page(`{"id":"d","t":12}`, `{"id":"z","t":9}`)},
			want:   []string{"c", "d"}, more: []bool{true, false},
		},
		{
			name:  "unreadable items skipped",
			pages: [][]json.RawMessage{page(`{"id":"a","t":10}`, `{}`, `nope`)},
			want:  []string{"a"}, more: []bool{true}, skipped: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skipped := 0
			u := Unseen[item]{Cursor: tt.cursor, Parse: parseItem, ID: func(it item) string { return it.ID }, Skip: func(error) { skipped++ }}
			var more []bool
			for _, p := range tt.pages {
				more = append(more, u.Visit(p))
			}
			var ids []string
			for _, it := range u.Items {
				ids = append(ids, it.Wire.ID)
				if it.Created.Unix() != it.Wire.Time {
					t.Errorf("item %s created %v", it.Wire.ID, it.Created)
				}
			}
			if !slices.Equal(ids, tt.want) || !slices.Equal(more, tt.more) || skipped != tt.skipped {
				t.Errorf("ids %v more %v skipped %d, want %v %v %d", ids, more, skipped, tt.want, tt.more, tt.skipped)
			}
		})
	}
}

func TestFatal(t *testing.T) {
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		err   error
		fatal bool
	}{
		{name: "one query's error", ctx: t.Context(), err: &APIError{Code: 100}},
		{name: "rate limit", ctx: t.Context(), err: fmt.Errorf("wrapped: %w", &connectors.RetryError{Wait: time.Minute, Err: errors.New("slow down")}), fatal: true},
		{name: "refused token", ctx: t.Context(), err: &connectors.AuthError{Status: 401, Err: errors.New("no")}, fatal: true},
		{name: "ended context", ctx: ended, err: errors.New("anything"), fatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fatal(tt.ctx, tt.err); got != tt.fatal {
				t.Errorf("Fatal = %v, want %v", got, tt.fatal)
			}
		})
	}
}
