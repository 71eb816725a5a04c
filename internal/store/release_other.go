//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped does nothing outside Linux (see release_linux.go).
func releaseMapped(*bolt.Tx) {}
