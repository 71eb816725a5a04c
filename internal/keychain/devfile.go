package keychain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
)

// ErrFileUnusable means a development file (DevFile) cannot be used as it
// is: other users can read it, it cannot be read or written, or it is not
// a Triage Desk file.
var ErrFileUnusable = errors.New("development key file unusable")

// FileError is a development file that cannot be used as it is. Its
// message names the file (a path, never patient data) and what to do; it
// wraps ErrFileUnusable and the cause.
type FileError struct {
	msg string
	err error
}

// Error is the message naming the file and the fix.
func (e *FileError) Error() string { return e.msg }

// Unwrap returns ErrFileUnusable and the cause.
func (e *FileError) Unwrap() []error { return []error{ErrFileUnusable, e.err} }

// DevFile is a Ring kept in a plain JSON file instead of the OS keychain,
// for headless development and CI with synthetic data only
// (--dev-insecure-keyfile). Anyone who can read the file can read what is
// in it, so it prints Warning on every Get and Set, creates the file with
// mode 0600 and refuses a file that other users may access (any group or
// other permission, as atomicfile.ReadPrivate). It is never a default.
//
// Its methods do not lock: use it through Do (or Get, Set and Delete of
// this package), which serialise every keychain call.
type DevFile struct {
	Path string
	// Warn receives the warning; nil means standard error.
	Warn io.Writer
	// Warning is printed, followed by the path, on every Get and Set.
	Warning string
	// Name says what the file is in messages, e.g. "development key file".
	Name string
	// Flat keeps items by user alone, ignoring the service, under "keys":
	// the layout of the data-key file. Otherwise items are kept by service
	// and user under "items": the layout of the session file.
	Flat bool
}

type devFileData struct {
	Items map[string]map[string]string `json:"items,omitempty"`
	Keys  map[string]string            `json:"keys,omitempty"`
}

// item returns the map holding service's items, making it when create is set.
func (k DevFile) item(f *devFileData, service string, create bool) map[string]string {
	if k.Flat {
		if f.Keys == nil && create {
			f.Keys = map[string]string{}
		}
		return f.Keys
	}
	if f.Items[service] == nil && create {
		if f.Items == nil {
			f.Items = map[string]map[string]string{}
		}
		f.Items[service] = map[string]string{}
	}
	return f.Items[service]
}

func (k DevFile) name() string {
	if k.Name == "" {
		return "development key file"
	}
	return k.Name
}

func (k DevFile) warn() {
	w := k.Warn
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "%s (%s)\n", k.Warning, k.Path)
}

func (k DevFile) load() (devFileData, error) {
	var f devFileData
	b, err := atomicfile.ReadPrivate(k.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return f, nil
	case errors.Is(err, atomicfile.ErrNotPrivate):
		mode := "readable by others"
		if fi, serr := os.Stat(k.Path); serr == nil {
			mode = fi.Mode().Perm().String()
		}
		return f, &FileError{err: err, msg: fmt.Sprintf("The %s %s can be read by other users (%s), so Triage Desk will not use it. "+
			"Run chmod 600 %s, then start Triage Desk again.", k.name(), k.Path, mode, k.Path)}
	case err != nil:
		return f, &FileError{err: err, msg: fmt.Sprintf("The %s %s could not be read (%v). Check that it exists and is yours, then start Triage Desk again.", k.name(), k.Path, err)}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, &FileError{err: err, msg: fmt.Sprintf("The %s %s is not a Triage Desk file. Point --dev-insecure-keyfile at the right file, then start Triage Desk again.", k.name(), k.Path)}
	}
	return f, nil
}

func (k DevFile) save(f devFileData) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", k.name(), err)
	}
	if err := atomicfile.WriteFile(k.Path, b, 0o600); err != nil {
		return &FileError{err: err, msg: fmt.Sprintf("The %s %s could not be written (%v). Check the disk and the folder's permissions, then start Triage Desk again.", k.name(), k.Path, err)}
	}
	return nil
}

// Get reads an item, printing Warning. A missing item is ErrNotFound; a
// file that cannot be used a *FileError.
func (k DevFile) Get(service, user string) (string, error) {
	k.warn()
	f, err := k.load()
	if err != nil {
		return "", err
	}
	v, ok := k.item(&f, service, false)[user]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

// Set writes an item, printing Warning; the file is created with mode 0600.
func (k DevFile) Set(service, user, secret string) error {
	k.warn()
	f, err := k.load()
	if err != nil {
		return err
	}
	k.item(&f, service, true)[user] = secret
	return k.save(f)
}

// Delete removes an item; a missing item is ErrNotFound.
func (k DevFile) Delete(service, user string) error {
	f, err := k.load()
	if err != nil {
		return err
	}
	items := k.item(&f, service, false)
	if _, ok := items[user]; !ok {
		return ErrNotFound
	}
	delete(items, user)
	if !k.Flat && len(items) == 0 {
		delete(f.Items, service)
	}
	return k.save(f)
}
