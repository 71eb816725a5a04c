// Package atomicfile writes small files so that a crash or a full disk
// leaves either the old content or the new, never a torn file, and reads
// files that must be private to their owner (settings, development key and
// session files).
//
// Libraries such as renameio do the first part but do not support Windows,
// where Triage Desk mostly runs.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFile writes data to path atomically with permissions perm: it
// creates the parent folder (0700) if needed, writes a temporary file
// beside path, syncs it, renames it over path and syncs the folder where
// the OS allows. On any error path is unchanged and the temporary file is
// removed.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	name := tmp.Name()
	defer os.Remove(name)
	err = tmp.Chmod(perm)
	if err != nil && runtime.GOOS == "windows" {
		err = nil // Windows has no Unix modes; the profile's ACLs apply.
	}
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = Rename(name, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a folder so a rename or create in it is durable. Windows
// cannot open folders for syncing; NTFS journals the rename.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	return nil
}

// ErrNotPrivate is returned by ReadPrivate for a file other users can read.
var ErrNotPrivate = errors.New("can be read by other users")

// ReadPrivate reads a file that must be readable by its owner only. A
// missing file is an error wrapping os.ErrNotExist; on Unix a file that
// group or others can read is refused with an error wrapping ErrNotPrivate
// that says to run chmod 600.
func ReadPrivate(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s %w (mode %v): run chmod 600 on it", path, ErrNotPrivate, fi.Mode().Perm())
	}
	return os.ReadFile(path)
}
