package document

import (
	"container/list"
	"image"
	"sync"
)

// pageKey identifies one rendered page.
type pageKey struct {
	doc  uint64
	page int
	dpi  float64
}

type cacheEntry struct {
	key   pageKey
	img   *image.RGBA
	bytes int64
}

// CacheStats describes the rendered-page cache.
type CacheStats struct {
	Bytes, MaxBytes   int64 // pixel bytes held, and the cap
	Entries, MaxPages int   // pages held, and the cap
	Hits, Misses      int64
	Evictions         int64
	PeakBytes         int64 // the most bytes ever held at once
	Rejected          int64 // pages too large to cache at all
}

// pageCache is a least-recently-used cache of rendered pages bounded by
// total pixel bytes and by entry count.
type pageCache struct {
	mu    sync.Mutex
	ll    *list.List // front = most recent
	items map[pageKey]*list.Element
	st    CacheStats
}

func newPageCache(maxBytes int64, maxPages int) *pageCache {
	return &pageCache{
		ll: list.New(), items: map[pageKey]*list.Element{},
		st: CacheStats{MaxBytes: maxBytes, MaxPages: maxPages},
	}
}

func (c *pageCache) get(k pageKey) *image.RGBA {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.MoveToFront(el)
		c.st.Hits++
		return el.Value.(*cacheEntry).img
	}
	c.st.Misses++
	return nil
}

func (c *pageCache) put(k pageKey, img *image.RGBA) {
	n := int64(len(img.Pix))
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.st.MaxBytes {
		c.st.Rejected++
		return
	}
	if el, ok := c.items[k]; ok {
		c.removeLocked(el)
	}
	c.items[k] = c.ll.PushFront(&cacheEntry{key: k, img: img, bytes: n})
	c.st.Bytes += n
	c.st.Entries++
	for c.st.Bytes > c.st.MaxBytes || c.st.Entries > c.st.MaxPages {
		c.removeLocked(c.ll.Back())
		c.st.Evictions++
	}
	c.st.PeakBytes = max(c.st.PeakBytes, c.st.Bytes)
}

func (c *pageCache) removeLocked(el *list.Element) {
	e := c.ll.Remove(el).(*cacheEntry)
	delete(c.items, e.key)
	c.st.Bytes -= e.bytes
	c.st.Entries--
}

func (c *pageCache) dropDoc(doc uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*cacheEntry).key.doc == doc {
			c.removeLocked(el)
		}
		el = next
	}
}

func (c *pageCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ll.Init()
	clear(c.items)
	c.st.Bytes, c.st.Entries = 0, 0
}

func (c *pageCache) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}
