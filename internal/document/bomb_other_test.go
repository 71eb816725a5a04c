//go:build !linux

package document

import "os"

// maxRSSKiB is not measured outside Linux (BenchmarkBombRefusal skips).
func maxRSSKiB(*os.ProcessState) int64 { return 0 }
