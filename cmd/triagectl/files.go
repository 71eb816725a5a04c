package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// writePatientFile writes a file holding patient data (an export, a saved
// document, a rendered page) as a new file, owner-only (0600), through the
// atomic writer: never over an existing file, never through a symbolic
// link, never half-written.
func writePatientFile(path string, data []byte) error {
	err := atomicfile.CreateNew(path, data, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return &triage.Error{Code: triage.EINVALID, Err: err,
			Message: fmt.Sprintf("%s already exists (or is a link), so nothing was written. Choose a new file name.", path)}
	}
	if err != nil {
		return &triage.Error{Code: triage.EUNAVAILABLE, Err: err,
			Message: fmt.Sprintf("%s could not be written: %v. Check the folder and the free space, then try again.", path, errors.Unwrap(err))}
	}
	return nil
}

// replacePatientFile is writePatientFile for --force: an existing regular
// file is replaced whole (the new file is owner-only, whatever the old one
// was), but a link or anything else that is not a plain file is refused.
func replacePatientFile(path string, data []byte) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return writePatientFile(path, data)
	case err != nil:
		return &triage.Error{Code: triage.EINVALID, Err: err, Message: fmt.Sprintf("%s cannot be checked: %v.", path, err)}
	case !fi.Mode().IsRegular():
		return triage.Errorf(triage.EINVALID, "%s is a link or not a plain file, so it was not overwritten. Choose a new file name.", path)
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return &triage.Error{Code: triage.EUNAVAILABLE, Err: err,
			Message: fmt.Sprintf("%s could not be written: %v. Check the folder and the free space, then try again.", path, errors.Unwrap(err))}
	}
	return nil
}

// readInputFile reads a file a command was given, at most limit bytes: a
// folder, device, pipe or socket is refused (it could be endless, or never
// answer), and so is a file larger than limit, even one that grows while
// it is read. what names the file in messages ("policy file").
func readInputFile(path, what string, limit int64) ([]byte, error) {
	f, err := openNoBlock(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &triage.Error{Code: triage.ENOTFOUND, Message: fmt.Sprintf("There is no file %s.", path), Err: err}
	case err != nil:
		return nil, &triage.Error{Code: triage.EINVALID, Message: fmt.Sprintf("%s cannot be read: %v.", path, errors.Unwrap(err)), Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, &triage.Error{Code: triage.EINVALID, Message: fmt.Sprintf("%s cannot be read: %v.", path, err), Err: err}
	case fi.IsDir():
		return nil, triage.Errorf(triage.EINVALID, "%s is a folder; give the %s itself.", path, what)
	case !fi.Mode().IsRegular():
		return nil, triage.Errorf(triage.EINVALID, "%s is not a regular file (it is a device, pipe or socket); give the %s itself.", path, what)
	case fi.Size() > limit:
		return nil, triage.Errorf(triage.EINVALID, "%s is larger than %s, more than a %s can be.", path, byteCount(limit), what)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &triage.Error{Code: triage.EINVALID, Message: fmt.Sprintf("%s cannot be read: %v.", path, err), Err: err}
	}
	if int64(len(data)) > limit {
		return nil, triage.Errorf(triage.EINVALID, "%s is larger than %s, more than a %s can be.", path, byteCount(limit), what)
	}
	return data, nil
}
