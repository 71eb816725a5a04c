//go:build !unix

package main

// printPeakMemory is Unix-only; elsewhere it prints nothing.
func printPeakMemory(*Globals) {}
