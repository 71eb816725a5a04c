// Package version reports which build of Triage Desk is running. The values
// are set at build time by the Makefile from `git describe`.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release version, e.g. "v1.2.0" or "v1.2.0-3-gabc1234-dirty".
// Set with -ldflags "-X github.com/triagedesk/triagedesk/internal/version.Version=...".
var Version = "dev"

// Commit is the git commit the build came from, when known.
var Commit = ""

// String describes the build in one line for `triagectl version` and About.
func String() string {
	commit := Commit
	if commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					commit = s.Value[:12]
				}
			}
		}
	}
	s := fmt.Sprintf("Triage Desk %s (%s, %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if commit != "" {
		s += " commit " + commit
	}
	return s
}
