package memlimit

import (
	"runtime/debug"
	"testing"
)

func TestSetAppliesTheSoftLimitUnlessGOMEMLIMITIsSet(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	t.Setenv("GOMEMLIMIT", "")
	if got := Set(); got != Soft || debug.SetMemoryLimit(-1) != Soft {
		t.Fatalf("limit %d, want %d", debug.SetMemoryLimit(-1), Soft)
	}
	debug.SetMemoryLimit(1 << 30)
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := Set(); got != 1<<30 || debug.SetMemoryLimit(-1) != 1<<30 {
		t.Fatalf("with GOMEMLIMIT set the limit became %d", debug.SetMemoryLimit(-1))
	}
}

// TestLimitFollowsALargeLiveHeap: the limit stays at Soft for the usual
// heap and keeps half as much again as a large trust's live heap, so the
// collector is never left running just under it.
func TestLimitFollowsALargeLiveHeap(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, Soft},
		{40 << 20, Soft},
		{Soft * 2 / 3, Soft},
		{100 << 20, 150 << 20},
		{300 << 20, 450 << 20},
	} {
		if got := LimitFor(c.live); got != c.want {
			t.Errorf("live %d MB: limit %d MB, want %d MB", c.live>>20, got>>20, c.want>>20)
		}
	}
}
