package document

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
)

// LeaveStoreWarning must be shown, and accepted, before a file is opened
// with another program or saved as a copy.
const LeaveStoreWarning = "This file will leave Triage Desk's encrypted store. " +
	"The copy is not encrypted: anyone with access to this computer account may be able to read it, " +
	"and the other program may keep its own copies. Only continue if your organisation allows it. " +
	"Triage Desk deletes the files it opened for you when it closes, but not copies you save yourself."

// maxFilenameBytes bounds a sanitised file name (most file systems allow 255).
const maxFilenameBytes = 120

// windowsReserved are device names Windows will not use as file names, with
// or without an extension.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
	"COM¹": true, "COM²": true, "COM³": true, "LPT¹": true, "LPT²": true, "LPT³": true,
}

// SanitizeFilename turns an attachment's name (which comes from outside and
// may be hostile) into a safe single file name on Windows, macOS and Linux:
// no path separators or parent references, no control or reserved
// characters, no leading dots or trailing dots and spaces, no reserved
// Windows device names, at most maxFilenameBytes bytes with the extension
// kept. ext, when the name has no extension (or a misleading one is
// replaced by the caller), is appended, e.g. ".pdf". An unusable name
// becomes "document" + ext.
func SanitizeFilename(name, ext string) string {
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "_")
	}
	// Keep only the last path element, whatever the separator.
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(' ')
		case r < 32 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) && r != 0x200d:
			// control and invisible formatting characters (incl. bidi overrides)
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteRune('_')
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.Join(strings.Fields(b.String()), " ")
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")
	ext = sanitizeExt(ext)
	base, nameExt := splitExt(name)
	if nameExt == "" && ext != "" {
		nameExt = ext
	}
	if base == "" {
		base = "document"
	}
	if stem, _, _ := strings.Cut(base, "."); windowsReserved[strings.ToUpper(strings.TrimSpace(stem))] {
		base = "_" + base
	}
	if len(nameExt) > 16 {
		nameExt = ""
	}
	if room := maxFilenameBytes - len(nameExt); len(base) > room {
		cut := room
		for cut > 0 && !utf8.RuneStart(base[cut]) {
			cut--
		}
		base = strings.TrimRight(base[:cut], ". ")
	}
	return base + nameExt
}

func sanitizeExt(ext string) string {
	ext = strings.TrimPrefix(strings.TrimSpace(ext), ".")
	var b strings.Builder
	for _, r := range ext {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 || b.Len() > 10 {
		return ""
	}
	return "." + strings.ToLower(b.String())
}

// splitExt splits "report.final.pdf" into "report.final" and ".pdf"; an
// extension is 1-10 ASCII letters or digits.
func splitExt(name string) (string, string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return name, ""
	}
	if e := sanitizeExt(name[i:]); e != "" && len(e) == len(name)-i {
		return strings.TrimRight(name[:i], ". "), name[i:]
	}
	return name, ""
}

// TempFiles holds the decrypted copies made for "Open with another
// program": each in its own private folder (0700) under one session folder,
// each file 0600. Cleanup removes them all; NewTempFiles removes any left by
// a previous run that crashed.
type TempFiles struct {
	mu      sync.Mutex
	root    string // the parent folder, e.g. <cache>/TriageDesk/open
	session string // root/session-<random>
	closed  bool
}

// NewTempFiles prepares parent (created 0700 if missing) and deletes every
// session folder a previous run left in it. parent must be private to this
// user and used by one Triage Desk instance at a time (the app holds its
// profile lock); it is normally inside the user's cache folder, never a
// shared temporary folder.
func NewTempFiles(parent string) (*TempFiles, error) {
	if parent == "" {
		return nil, errors.New("temp files: no folder given")
	}
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("temp files: create folder: %w", err)
	}
	fi, err := os.Lstat(parent)
	if err != nil {
		return nil, fmt.Errorf("temp files: %w", err)
	}
	if !fi.IsDir() || fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("temp files: %s is not a folder", parent)
	}
	// Decrypted documents go in here: owner-only on every OS (on Windows an
	// access list; a Unix mode alone would leave them readable there).
	if err := atomicfile.MkdirPrivate(parent); err != nil {
		return nil, fmt.Errorf("temp files: %w", err)
	}
	t := &TempFiles{root: parent}
	if err := t.removeSessions(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *TempFiles) removeSessions() error {
	entries, err := os.ReadDir(t.root)
	if err != nil {
		return fmt.Errorf("temp files: list: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "session-") {
			if err := os.RemoveAll(filepath.Join(t.root, e.Name())); err != nil {
				errs = append(errs, fmt.Errorf("temp files: remove stale: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// Write decrypts-to-disk: it writes data as a new 0600 file named
// SanitizeFilename(name, ext) inside a fresh 0700 folder and returns its
// path for the OS to open. Call it only after the clinician accepted
// LeaveStoreWarning.
func (t *TempFiles) Write(name, ext string, data []byte) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return "", errors.New("temp files: already cleaned up")
	}
	if t.session == "" {
		s := filepath.Join(t.root, "session-"+randomHex(8))
		if err := os.Mkdir(s, 0o700); err != nil {
			return "", fmt.Errorf("temp files: create session folder: %w", err)
		}
		t.session = s
	}
	dir := filepath.Join(t.session, randomHex(6))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("temp files: create folder: %w", err)
	}
	path := filepath.Join(dir, SanitizeFilename(name, ext))
	if err := writeNew(path, data); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("temp files: %w", err)
	}
	return path, nil
}

// Cleanup deletes every file written and the session folder. Call it when
// the app exits (and on sign-out). Later Writes fail.
func (t *TempFiles) Cleanup() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	if t.session == "" {
		return nil
	}
	err := os.RemoveAll(t.session)
	t.session = ""
	if err != nil {
		return fmt.Errorf("temp files: clean up: %w", err)
	}
	return nil
}

// SaveCopy writes data into dir (a folder the clinician chose) as
// SanitizeFilename(name, ext): a new, owner-only file, never overwriting
// (an existing name gets " (2)", " (3)"...) and never written through a
// link. It returns the path written. Call it only after the clinician
// accepted LeaveStoreWarning.
func SaveCopy(dir, name, ext string, data []byte) (string, error) {
	path, err := atomicfile.CreateNewIn(dir, SanitizeFilename(name, ext), data, 0o600)
	if err != nil {
		return "", fmt.Errorf("save copy: %w", err)
	}
	return path, nil
}

// writeNew creates path as a new owner-only file (never through a link)
// holding data.
func writeNew(path string, data []byte) error {
	return atomicfile.CreateNew(path, data, 0o600)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
