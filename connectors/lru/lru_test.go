package lru

import (
	"slices"
	"testing"
)

func TestCache(t *testing.T) {
	tests := []struct {
		name string
		ops  func(c *Cache[int])
		keys []string // least recently used first
	}{
		{name: "empty", ops: func(*Cache[int]) {}},
		{name: "within size", ops: func(c *Cache[int]) { c.Put("a", 1); c.Put("b", 2) }, keys: []string{"a", "b"}},
		{name: "oldest forgotten", ops: func(c *Cache[int]) { c.Put("a", 1); c.Put("b", 2); c.Put("c", 3); c.Put("d", 4) }, keys: []string{"b", "c", "d"}},
		{name: "get marks used", ops: func(c *Cache[int]) { c.Put("a", 1); c.Put("b", 2); c.Put("c", 3); c.Get("a"); c.Put("d", 4) }, keys: []string{"c", "a", "d"}},
		{name: "put again marks used", ops: func(c *Cache[int]) { c.Put("a", 1); c.Put("b", 2); c.Put("a", 9) }, keys: []string{"b", "a"}},
		{name: "remove", ops: func(c *Cache[int]) { c.Put("a", 1); c.Put("b", 2); c.Remove("a"); c.Remove("zz") }, keys: []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New[int](3)
			tt.ops(c)
			if got := c.Keys(); !slices.Equal(got, tt.keys) && len(got)+len(tt.keys) > 0 {
				t.Fatalf("keys %v, want %v", got, tt.keys)
			}
		})
	}
}

func TestCacheGet(t *testing.T) {
	c := New[string](2)
	if v, ok := c.Get("a"); ok || v != "" {
		t.Fatalf("empty cache gave %q, %v", v, ok)
	}
	c.Put("a", "1")
	c.Put("a", "2")
	if v, ok := c.Get("a"); !ok || v != "2" {
		t.Fatalf("got %q, %v; want the latest value", v, ok)
	}
}
