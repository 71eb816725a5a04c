//go:build !linux

package store

// noBusAutolaunch is Linux-only: other keychains need no session bus.
func noBusAutolaunch() {}
