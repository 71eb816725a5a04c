//go:build windows

package atomicfile

import (
	"errors"

	"golang.org/x/sys/windows"
)

// busy reports whether err is Windows refusing to replace or remove a file
// because another handle has it open without FILE_SHARE_DELETE. Windows
// reports that as "access denied" (and a sharing or lock violation from
// some file systems); a real permission problem gives the same code, so
// Rename's wait is bounded.
func busy(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}
