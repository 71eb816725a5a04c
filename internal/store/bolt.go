package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
)

// damagedError says a bbolt file cannot be used safely: it failed to open,
// its size does not match its own metadata, tx.Check found problems, or
// bbolt panicked reading it.
type damagedError struct {
	file   string
	reason string
	err    error
	// short is set when the file is shorter than its own records say: its
	// end was cut off.
	short bool
}

func (e *damagedError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s is damaged: %s: %v", e.file, e.reason, e.err)
	}
	return fmt.Sprintf("%s is damaged: %s", e.file, e.reason)
}

func (e *damagedError) Unwrap() error { return e.err }

func isDamaged(err error) bool {
	var d *damagedError
	return errors.As(err, &d)
}

// panicError is a panic recovered from bbolt (or from code reading its
// pages), turned into an error.
type panicError struct{ v any }

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.v) }

// guard runs fn with page faults turned into panics and recovers any panic
// as a *panicError. bbolt can panic (or fault on the memory map) reading a
// corrupt file; nothing of that may escape to the app.
func guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{r}
		}
	}()
	return fn()
}

// openBolt opens an existing bbolt file with a lock timeout and fsync on, inside
// guard. A lock timeout is ErrAlreadyRunning; a file bbolt cannot read is a
// *damagedError; anything else (permissions, disk) is returned as it is.
func openBolt(path string, timeout time.Duration, readOnly bool) (*bolt.DB, error) {
	name := filepath.Base(path)
	// bbolt would silently initialise an empty file as a new database; an
	// existing file that has become empty has lost its contents.
	if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
		return nil, &damagedError{file: name, reason: "it is empty (0 bytes)"}
	}
	var db *bolt.DB
	var file *os.File
	err := guard(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout:      timeout,
			ReadOnly:     readOnly,
			FreelistType: bolt.FreelistMapType,
			NoSync:       false,
			OpenFile: func(p string, flag int, mode os.FileMode) (*os.File, error) {
				f, err := os.OpenFile(p, flag, mode)
				file = f
				return f, err
			},
		})
		return err
	})
	var pe *panicError
	switch {
	case err == nil:
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w", name, ErrAlreadyRunning)
	case errors.As(err, &pe):
		// bbolt panicked after taking the file lock and never returned the
		// DB: closing the file releases the lock, so a later attempt (or
		// triagectl doctor) is not told the app is running.
		if file != nil {
			releaseLock(file)
			_ = file.Close()
		}
		return nil, &damagedError{file: name, reason: "reading it crashed the database library", err: err}
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping),
		isBoltFormatError(err):
		return nil, &damagedError{file: name, reason: "it is not a readable database", err: err}
	default:
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if err := checkSize(db, name); err != nil {
		closeQuietly(db)
		return nil, err
	}
	return db, nil
}

// isBoltFormatError recognises bbolt's unexported open errors about the
// file's contents (as opposed to the OS refusing to open it).
func isBoltFormatError(err error) bool {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return false
	}
	msg := err.Error()
	for _, s := range []string{"file size too small", "page size", "invalid", "meta", "mmap", "freelist"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// checkSize compares the file's size with the high-water mark in its
// metadata: a truncated file would otherwise fault when a missing page is
// read.
func checkSize(db *bolt.DB, name string) error {
	fi, err := os.Stat(db.Path())
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	var need int64
	err = guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			need = tx.Size()
			return nil
		})
	})
	if err != nil {
		return &damagedError{file: name, reason: "its metadata cannot be read", err: err}
	}
	if fi.Size() < need {
		return &damagedError{file: name, reason: fmt.Sprintf("it is shorter (%d bytes) than its own records say (%d bytes)", fi.Size(), need), short: true}
	}
	return nil
}

// checkBolt runs bbolt's consistency check (every page reachable or free,
// none twice) inside guard.
func checkBolt(db *bolt.DB) error {
	name := filepath.Base(db.Path())
	var problems []string
	err := guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			for e := range tx.Check() {
				if len(problems) < 5 {
					problems = append(problems, e.Error())
				}
			}
			return nil
		})
	})
	if err != nil {
		return &damagedError{file: name, reason: "checking it failed", err: err}
	}
	if len(problems) > 0 {
		return &damagedError{file: name, reason: "its pages are inconsistent", err: errors.New(strings.Join(problems, "; "))}
	}
	return nil
}

func closeQuietly(db *bolt.DB) {
	if db != nil {
		_ = guard(db.Close)
	}
}

// createBolt makes a new database file durably: it is built under a
// temporary name, initialised, closed, renamed into place and the folder
// fsynced, so a power cut during creation leaves either no file or a
// complete one (bbolt's known weak spot).
func createBolt(path string, initFn func(tx *bolt.Tx) error) error {
	tmp := path + ".init-tmp"
	_ = os.Remove(tmp)
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	if err := db.Update(initFn); err != nil {
		db.Close()
		os.Remove(tmp)
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	if err := db.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	if err := atomicfile.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}

// beforeCompactRename, if set (tests), runs just before the compacted copy
// is renamed over the file.
var beforeCompactRename func(path string)

// compactFile copies db into a fresh file with bbolt.Compact (which leaves
// deleted and freed pages behind), fsyncs it and atomically renames the
// copy over the original, then closes db; the caller reopens the path. db
// is closed whatever happens. The rename happens while db is still open,
// so its lock is held until the new file is in place: no other process can
// open the old file in between and write to it after it was replaced.
// Windows cannot rename over an open file, so there db is closed first;
// the store's other file stays locked meanwhile, and a process opening the
// store takes the outbox first and writes nothing before it also has the
// cache, so it gives up without writing.
func compactFile(db *bolt.DB) (before, after int64, err error) {
	path := db.Path()
	name := filepath.Base(path)
	tmp := path + ".compact-tmp"
	if fi, err := os.Stat(path); err == nil {
		before = fi.Size()
	}
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		closeQuietly(db)
		return before, 0, fmt.Errorf("compact %s: %w", name, err)
	}
	err = guard(func() error { return bolt.Compact(dst, db, 8<<20) })
	if err == nil {
		err = guard(dst.Sync)
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		closeQuietly(db)
		os.Remove(tmp)
		return before, 0, fmt.Errorf("compact %s: %w", name, err)
	}
	if runtime.GOOS == "windows" {
		closeQuietly(db)
	}
	if beforeCompactRename != nil {
		beforeCompactRename(path)
	}
	err = atomicfile.Rename(tmp, path)
	if runtime.GOOS != "windows" {
		closeQuietly(db)
	}
	if err != nil {
		os.Remove(tmp)
		return before, 0, fmt.Errorf("compact %s: %w", name, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return before, 0, fmt.Errorf("compact %s: %w", name, err)
	}
	if fi, err := os.Stat(path); err == nil {
		after = fi.Size()
	}
	return before, after, nil
}

// freeRatio is the share of the file's pages that are free.
func freeRatio(db *bolt.DB) float64 {
	var ratio float64
	_ = guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			st := db.Stats()
			pages := tx.Size() / int64(db.Info().PageSize)
			if pages > 0 {
				ratio = float64(st.FreePageN+st.PendingPageN) / float64(pages)
			}
			return nil
		})
	})
	return ratio
}
