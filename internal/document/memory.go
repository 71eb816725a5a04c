package document

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// memGuard backs one PDFium instance's WebAssembly memory and enforces its
// cap. Each instance gets its own guard, so after a call the engine can tell
// whether the document asked for more memory than the cap allowed (a
// decompression bomb, or a page too large to draw) and recycle the
// instance instead of retrying.
//
// The memory is reserved once at its cap and grows in place (mmap where the
// OS has it), so growing never copies the old memory into a new Go slice:
// wazero's default does, which left several gigabytes of garbage behind a
// 1 GiB instance.
type memGuard struct {
	limit   uint64
	refused atomic.Bool   // a grow beyond the cap was refused
	high    atomic.Uint64 // the most memory in use, bytes
}

func newMemGuard(limit int64) *memGuard { return &memGuard{limit: uint64(limit)} }

// Allocate implements experimental.MemoryAllocator.
func (g *memGuard) Allocate(_, maxBytes uint64) experimental.LinearMemory {
	return newLinearMemory(g, min(maxBytes, g.limit))
}

// grow returns buf (reserved at the cap) at size bytes, recording the
// high-water mark, or nil, recording a refusal, beyond the cap.
func (g *memGuard) grow(buf []byte, size uint64) []byte {
	if size > uint64(cap(buf)) {
		g.refused.Store(true)
		return nil
	}
	for {
		h := g.high.Load()
		if size <= h || g.high.CompareAndSwap(h, size) {
			break
		}
	}
	return buf[:size:size]
}

// sliceMemory is a linear memory in one Go slice allocated at its cap, so
// growing never copies; the OS backs its pages only once they are written.
// It is the fallback where mmap is missing or fails.
type sliceMemory struct {
	g   *memGuard
	buf []byte
}

func newSliceMemory(g *memGuard, capBytes uint64) *sliceMemory {
	return &sliceMemory{g: g, buf: make([]byte, 0, capBytes)}
}

// Reallocate implements experimental.LinearMemory: it grows in place, and
// refuses (nil) beyond the cap.
func (m *sliceMemory) Reallocate(size uint64) []byte { return m.g.grow(m.buf, size) }

// Free implements experimental.LinearMemory.
func (m *sliceMemory) Free() { m.buf = nil }
