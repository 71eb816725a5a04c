//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

import "os"

// releaseLock is a no-op where closing the file releases bbolt's lock
// (Windows LockFileEx locks belong to the handle).
func releaseLock(*os.File) {}
