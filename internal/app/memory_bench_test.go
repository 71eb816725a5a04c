package app

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
)

// rowBytesTarget is the goal for the worklist's memory per row
// outside the GUI (the whole worklist was about 12 KB a row with the GUI).
const rowBytesTarget = 2048

// writeHeapProfile writes the heap profile (what is alive now) to path.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReviewListBytesPerRow measures the heap a 10,000-row worklist
// keeps alive through the workspace (ReviewList's rows and the workspace's
// own index of the worklist), as bytes per row, beside its target. With
// TRIAGEDESK_HEAP_PROFILE=file it writes the heap profile taken while the
// rows are alive (go tool pprof -sample_index=inuse_space -top).
func BenchmarkReviewListBytesPerRow(b *testing.B) {
	ctx := context.Background()
	a := openDemoWorkspace(b, 10_000)
	if _, err := a.engine.Pull(ctx); err != nil {
		b.Fatal(err)
	}
	var perRow float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rl, err := a.ReviewList(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.worklistItems(ctx); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perRow = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(max(1, len(rl.Rows)))
		if path := os.Getenv("TRIAGEDESK_HEAP_PROFILE"); path != "" {
			writeHeapProfile(b, path)
		}
		runtime.KeepAlive(rl)
		a.wlMu.Lock()
		a.wlItems = nil // measure the index again next time
		a.wlMu.Unlock()
	}
	b.ReportMetric(perRow, "B/row")
	b.ReportMetric(rowBytesTarget, "target-B/row")
}
