package media

import (
	"container/list"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// cache keeps fetched images on disk, one file per upstream URL named by
// the URL's hash with the image type as extension, bounded in total bytes:
// storing past the bound removes the least recently used files. A file's
// modification time is when it was fetched. The order of use lives in
// memory; after a restart it starts from the fetch times.
type cache struct {
	dir string
	max int64

	mu    sync.Mutex
	size  int64
	order *list.List // of *cached, most recently used first
	items map[string]*list.Element
}

// cached is one image on disk.
type cached struct {
	key     string
	ext     string
	size    int64
	fetched time.Time
	// body holds an image too large to keep, served once from memory.
	body []byte
}

func (c *cached) typ() string {
	for t, ext := range imageTypes {
		if ext == c.ext {
			return t
		}
	}
	return ""
}

// openCache loads what dir already holds, removes leftovers of interrupted
// writes and evicts down to max.
func openCache(dir string, max int64) (*cache, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("media: cache directory: %w", err)
	}
	c := &cache{dir: dir, max: max, order: list.New(), items: map[string]*list.Element{}}
	var found []*cached
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		key, ext, _ := strings.Cut(name, ".")
		if strings.HasSuffix(name, ".tmp") || len(key) != 64 || (&cached{ext: "." + ext}).typ() == "" {
			return os.Remove(path)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		found = append(found, &cached{key: key, ext: "." + ext, size: info.Size(), fetched: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("media: load cache: %w", err)
	}
	slices.SortFunc(found, func(a, b *cached) int { return a.fetched.Compare(b.fetched) })
	for _, e := range found {
		c.items[e.key] = c.order.PushFront(e)
		c.size += e.size
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictLocked(nil)
	return c, nil
}

func (c *cache) path(e *cached) string {
	return filepath.Join(c.dir, e.key[:2], e.key+e.ext)
}

// get returns the entry for key and marks it used.
func (c *cache) get(key string) (*cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cached), true
}

// open opens the file of e; false when it is gone (evicted meanwhile).
func (c *cache) open(e *cached) (*os.File, bool) {
	f, err := os.Open(c.path(e))
	if err != nil {
		c.forget(e.key)
		return nil, false
	}
	return f, true
}

// put stores an image fetched at when, replacing any older copy.
func (c *cache) put(key string, img *fetched, when time.Time) (*cached, error) {
	e := &cached{key: key, ext: imageTypes[img.Type], size: int64(len(img.Body)), fetched: when}
	if e.size > c.max {
		e.body = img.Body // larger than the whole cache: served, not kept
		return e, nil
	}
	if err := os.MkdirAll(filepath.Dir(c.path(e)), 0o750); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path(e)), key+".*.tmp")
	if err != nil {
		return nil, err
	}
	_, werr := tmp.Write(img.Body)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("media: write cache: %w", errOr(werr, cerr))
	}
	_ = os.Chtimes(tmp.Name(), when, when)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[key]; ok {
		oe := old.Value.(*cached)
		if oe.ext != e.ext {
			os.Remove(c.path(oe))
		}
		c.size -= oe.size
		c.order.Remove(old)
		delete(c.items, key)
	}
	if err := os.Rename(tmp.Name(), c.path(e)); err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("media: write cache: %w", err)
	}
	c.items[key] = c.order.PushFront(e)
	c.size += e.size
	c.evictLocked(e)
	return e, nil
}

// evictLocked removes least recently used files until the cache fits,
// never keep (the entry just stored).
func (c *cache) evictLocked(keep *cached) {
	for c.size > c.max {
		el := c.order.Back()
		if el == nil {
			return
		}
		e := el.Value.(*cached)
		if e == keep {
			return
		}
		c.order.Remove(el)
		delete(c.items, e.key)
		c.size -= e.size
		os.Remove(c.path(e))
	}
}

func (c *cache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.size -= el.Value.(*cached).size
		c.order.Remove(el)
		delete(c.items, key)
	}
}

// remove deletes the file of key and reports whether there was one.
func (c *cache) remove(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return false
	}
	e := el.Value.(*cached)
	c.size -= e.size
	c.order.Remove(el)
	delete(c.items, key)
	os.Remove(c.path(e))
	return true
}

// bytes is the cache's total size.
func (c *cache) bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

func errOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
