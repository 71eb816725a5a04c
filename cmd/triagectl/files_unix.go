//go:build unix

package main

import (
	"os"
	"syscall"
)

// openNoBlock opens path for reading without waiting for a writer: opening
// a FIFO would otherwise block until one appears (readInputFile then
// refuses it as not a regular file).
func openNoBlock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
