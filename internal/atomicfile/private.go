package atomicfile

import (
	"fmt"
	"os"
)

// MkdirPrivate creates dir (and any missing parents) and makes dir usable
// by the current user only, so the patient data Triage Desk keeps inside
// cannot be read by other accounts on the computer even though it is
// encrypted:
//   - on Unix the folder's mode becomes 0700;
//   - on Windows the folder gets a protected access list that grants the
//     current user full control and nobody else anything, inherited by
//     every file and folder inside (existing ones are updated). What the
//     folder would otherwise inherit from its parent, for example
//     "Users: read" on a folder made outside the user's profile, no longer
//     applies.
//
// Use it only on folders that belong to Triage Desk: a folder that is
// already private is left as it is.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create private folder: %w", err)
	}
	private, err := IsPrivate(dir)
	if err == nil && private {
		return nil
	}
	if err := restrictToOwner(dir); err != nil {
		return fmt.Errorf("make %s private: %w", dir, err)
	}
	return nil
}

// IsPrivate reports whether only the current user can use path: on Unix,
// no group or other permission bits; on Windows, an access list that
// allows nobody but the current user (a missing list, which allows
// everyone, is not private).
func IsPrivate(path string) (bool, error) {
	return ownerOnly(path)
}
