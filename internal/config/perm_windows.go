//go:build windows

package config

import "os"

// permissionWarnings does not inspect Windows ACLs; the deployment guide
// says how to protect %ProgramData%\TriageDesk.
func permissionWarnings(*os.File) []Problem { return nil }
