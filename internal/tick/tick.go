// Package tick runs a function at a fixed interval until a context ends:
// the one ticker loop shared by the memory limit's follower and the UI's
// periodic refreshes.
package tick

import (
	"context"
	"time"
)

// Every calls fn every d until ctx ends, and returns then. It blocks: run
// it on its own goroutine. d must be positive (as for time.NewTicker).
func Every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
