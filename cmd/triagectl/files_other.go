//go:build !unix

package main

import "os"

// openNoBlock opens path for reading (Windows has no FIFOs that block on
// open).
func openNoBlock(path string) (*os.File, error) { return os.Open(path) }
