// Package memlimit sets Triage Desk's soft memory limit for the Go
// runtime, once, at process start.
//
// Without a limit the Go collector lets the heap grow to twice what is
// live before collecting, and keeps freed memory from the OS for minutes:
// with 10,000 referrals and a 50-page letter paged through, the heap held
// about 150 MB of which about 60 MB was live (48 MB since the emoji font
// went). With the soft limit the collector runs earlier and returns freed
// memory to the OS as the heap nears it. It is soft: a larger live heap (a
// much larger worklist) is never refused, the collector only runs more
// often, using at most about half the CPU (the runtime's own cap), and
// Follow raises it when the live heap grows past two thirds of it.
package memlimit

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/triagedesk/triagedesk/internal/tick"
)

// Soft is the limit on the memory the Go runtime manages (heap, stacks
// and its own structures; not the binary, the PDF engine's compiled code or
// its WebAssembly memory): the live heap with 10,000 referrals and a long
// letter open (about 48 MB) with two thirds as much again for the
// collector to work in.
const Soft = 80 << 20

// Set applies Soft unless the GOMEMLIMIT environment variable already
// sets a limit (which the runtime has applied). It returns the limit now in
// force. Call it once, first thing in main.
func Set() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(Soft)
	return Soft
}

// LimitFor is the limit for a live heap of live bytes: Soft, or half as
// much again as what is live when that is more, so a large trust's
// worklist (30,000 referrals) never leaves the collector running without
// pause just under the limit.
func LimitFor(live uint64) int64 {
	return max(int64(Soft), int64(live)*3/2)
}

// Follow keeps the limit at LimitFor of the live heap, checking every
// interval until ctx ends (run it on its own goroutine after Set). It does
// nothing when GOMEMLIMIT chose the limit.
func Follow(ctx context.Context, interval time.Duration) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick.Every(ctx, interval, func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(LimitFor(sample[0].Value.Uint64()))
		}
	})
}
