//go:build !linux

package keychain

// noBusAutolaunch is Linux-only: other keychains need no session bus.
func noBusAutolaunch() {}
