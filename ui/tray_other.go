//go:build !(linux || freebsd || openbsd || netbsd)

package ui

// systemTrayHost reports whether this desktop shows tray icons: Windows
// and macOS always do.
func systemTrayHost() bool { return true }
