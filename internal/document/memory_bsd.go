//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package document

// mapNoReserve: these systems commit anonymous pages on first write anyway.
const mapNoReserve = 0
