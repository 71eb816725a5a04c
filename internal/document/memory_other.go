//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package document

import "github.com/tetratelabs/wazero/experimental"

func newLinearMemory(g *memGuard, capBytes uint64) experimental.LinearMemory {
	return newSliceMemory(g, capBytes)
}
