//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package document

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// mmapMemory is a linear memory reserved with mmap at its cap: pages use
// physical memory only once written, and Free returns them to the OS at
// once (they are never part of the Go heap).
type mmapMemory struct {
	g   *memGuard
	buf []byte
}

func newLinearMemory(g *memGuard, capBytes uint64) experimental.LinearMemory {
	if capBytes == 0 || capBytes > 1<<32 {
		return newSliceMemory(g, capBytes)
	}
	buf, err := syscall.Mmap(-1, 0, int(capBytes), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapNoReserve)
	if err != nil {
		return newSliceMemory(g, capBytes)
	}
	return &mmapMemory{g: g, buf: buf}
}

// Reallocate implements experimental.LinearMemory: it grows in place, and
// refuses (nil) beyond the cap.
func (m *mmapMemory) Reallocate(size uint64) []byte { return m.g.grow(m.buf, size) }

// Free implements experimental.LinearMemory.
func (m *mmapMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf = nil
	}
}
