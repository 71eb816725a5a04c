//go:build unix

package main

import (
	"fmt"
	"runtime"
	"syscall"
)

// printPeakMemory prints the process's peak resident memory.
func printPeakMemory(g *Globals) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return
	}
	kb := ru.Maxrss // kilobytes on Linux, bytes on macOS and the BSDs
	if runtime.GOOS == "darwin" || runtime.GOOS == "freebsd" || runtime.GOOS == "openbsd" || runtime.GOOS == "netbsd" {
		kb /= 1024
	}
	fmt.Fprintf(g.Stdout, "memory:    peak %.0f MB resident\n", float64(kb)/1024)
}
