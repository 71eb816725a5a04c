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
