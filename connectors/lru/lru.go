// Package lru is a small bounded map that forgets its least recently used
// entries, for the caches of sources that follow streams (statuses already
// seen, profiles looked up).
package lru

import "container/list"

// Cache maps string keys to values of type V, holding at most its size:
// adding one more forgets the entry least recently put or got. It is not
// safe for concurrent use.
type Cache[V any] struct {
	max   int
	order *list.List
	items map[string]*list.Element
}

type entry[V any] struct {
	key   string
	value V
}

// New returns an empty cache of at most max entries.
func New[V any](max int) *Cache[V] {
	return &Cache[V]{max: max, order: list.New(), items: map[string]*list.Element{}}
}

// Get returns the value of key and whether it is there, and marks it used.
func (c *Cache[V]) Get(key string) (V, bool) {
	e, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*entry[V]).value, true
}

// Put sets the value of key, marks it used and forgets the least recently
// used entries beyond the cache's size.
func (c *Cache[V]) Put(key string, value V) {
	if e, ok := c.items[key]; ok {
		e.Value.(*entry[V]).value = value
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&entry[V]{key, value})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*entry[V]).key)
	}
}

// Remove forgets key.
func (c *Cache[V]) Remove(key string) {
	if e, ok := c.items[key]; ok {
		c.order.Remove(e)
		delete(c.items, key)
	}
}

// Keys returns the keys, least recently used first.
func (c *Cache[V]) Keys() []string {
	out := make([]string, 0, c.order.Len())
	for e := c.order.Back(); e != nil; e = e.Prev() {
		out = append(out, e.Value.(*entry[V]).key)
	}
	return out
}
