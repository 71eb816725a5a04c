package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"sync"
)

// startProfileEnv names a file prefix: with ui.TraceStartEnv set, a CPU
// profile (PREFIX.cpu) and an execution trace (PREFIX.trace) of the start,
// up to the first frame showing worklist rows, are written there.
const startProfileEnv = "TRIAGEDESK_START_PROFILE"

// startProfile starts profiling into files prefixed prefix (none when it
// is "") and returns the writer for the start trace's line: writing it
// stops the profiles, then passes the line to w.
func startProfile(prefix string, w io.Writer) io.Writer {
	if prefix == "" {
		return w
	}
	cpu, err := os.Create(prefix + ".cpu")
	if err != nil {
		fmt.Fprintln(os.Stderr, "start profile:", err)
		return w
	}
	tr, err := os.Create(prefix + ".trace")
	if err != nil {
		fmt.Fprintln(os.Stderr, "start profile:", err)
		cpu.Close()
		return w
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		fmt.Fprintln(os.Stderr, "start profile:", err)
	}
	if err := trace.Start(tr); err != nil {
		fmt.Fprintln(os.Stderr, "start profile:", err)
	}
	return &stopOnWrite{w: w, stop: func() {
		trace.Stop()
		pprof.StopCPUProfile()
		tr.Close()
		cpu.Close()
	}}
}

// stopOnWrite calls stop once, before the first write to w.
type stopOnWrite struct {
	w    io.Writer
	once sync.Once
	stop func()
}

func (s *stopOnWrite) Write(p []byte) (int, error) {
	s.once.Do(s.stop)
	return s.w.Write(p)
}
