package vetting

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// printSmaps prints, when TRIAGEDESK_SMAPS is set, the resident memory of
// the process grouped by what it maps (the heap and other anonymous
// memory, the binary, shared libraries, the compiled PDFium code), the ten
// largest groups first, so a measurement shows where the memory outside the
// Go heap goes.
func printSmaps(at string) {
	if os.Getenv("TRIAGEDESK_SMAPS") == "" {
		return
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	rss := map[string]float64{}
	name := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			name = "[anon]"
			if len(fields) >= 6 {
				name = strings.Join(fields[5:], " ")
			} else if lo, hi, ok := strings.Cut(fields[0], "-"); ok {
				// The PDFium instance's memory is one mapping of its cap.
				a, _ := strconv.ParseUint(lo, 16, 64)
				b, _ := strconv.ParseUint(hi, 16, 64)
				if b-a == 320<<20 {
					name = "[wasm]"
				}
			}
			name += " " + fields[1]
		case len(fields) >= 2 && fields[0] == "Rss:":
			kb, _ := strconv.ParseFloat(fields[1], 64)
			rss[name] += kb / 1024
		}
	}
	names := make([]string, 0, len(rss))
	for n := range rss {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return rss[names[i]] > rss[names[j]] })
	parts := make([]string, 0, 8)
	for _, n := range names[:min(8, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.1f", filepath.Base(n), rss[n]))
	}
	fmt.Printf("SMAPS %s MB: %s\n", at, strings.Join(parts, ", "))
}
