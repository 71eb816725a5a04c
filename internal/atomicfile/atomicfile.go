// Package atomicfile writes small files so that a crash or a full disk
// leaves either the old content or the new, never a torn file; creates the
// files patient data leaves Triage Desk in (exports, saved copies, CSV)
// new, owner-only and never through a link; and reads files that must be
// private to their owner (settings, development key and session files).
//
// Libraries such as renameio do the first part but do not support Windows,
// where Triage Desk mostly runs.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
	name, err := writeTemp(path, data, perm)
	if name != "" {
		defer os.Remove(name)
	}
	if err == nil {
		err = Rename(name, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return SyncDir(dir)
}

// writeTemp writes data, with permissions perm, to a new temporary file
// beside path and syncs it. It returns the file's name (for the caller to
// remove) even when writing failed.
func writeTemp(path string, data []byte, perm os.FileMode) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return "", err
	}
	err = tmp.Chmod(perm)
	if err != nil && runtime.GOOS == "windows" {
		err = nil // Windows has no Unix modes; the folder's ACLs apply.
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
	return tmp.Name(), err
}

// CreateNew writes data to a new file at path with permissions perm (0600
// for patient data), atomically and without replacing anything: the data
// is written and synced beside path under a temporary name, then linked
// into place only if nothing at all is at path (a file, a folder, or a
// symbolic link, which is never followed). So patient data never goes
// through a link to somewhere else, never inherits an existing file's
// permissions, and never appears half-written. On a filesystem without
// hard links (FAT, some network shares) the file is created exclusively
// instead. An existing path is an error wrapping fs.ErrExist; on any error
// nothing is left at path.
func CreateNew(path string, data []byte, perm os.FileMode) error {
	name := filepath.Base(path)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("create %s: %w", name, fs.ErrExist)
	}
	tmpName, err := writeTemp(path, data, perm)
	if tmpName != "" {
		defer os.Remove(tmpName)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", name, fs.ErrExist)
		}
		if err := createExclusive(path, data, perm); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
	}
	return SyncDir(filepath.Dir(path))
}

// createExclusive creates path with O_EXCL (which never follows a link),
// writes and syncs data, and removes the file again if that fails.
func createExclusive(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		_ = os.Remove(path)
		return err
	}
	return nil
}

// CreateNewIn writes data as a new file called name in dir with CreateNew,
// choosing "name (2).ext", "name (3).ext", ... when the name is taken. It
// returns the path written.
func CreateNewIn(dir, name string, data []byte, perm os.FileMode) (string, error) {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for n := 1; n < 1000; n++ {
		candidate := name
		if n > 1 {
			candidate = fmt.Sprintf("%s (%d)%s", stem, n, ext)
		}
		path := filepath.Join(dir, candidate)
		err := CreateNew(path, data, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return path, nil
	}
	return "", fmt.Errorf("create %s: too many files with this name in the folder", name)
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
