package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/zalando/go-keyring"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
)

// MasterKeySize is the length of a user's master key in bytes.
const MasterKeySize = 32

// KeychainService is the OS keychain service name the master keys are
// stored under.
const KeychainService = "io.github.triagedesk"

// UserDirName returns the folder name and key account suffix for a CIS2 user:
// the first 16 bytes of SHA-256 of the SDS user id, in hex (32 characters).
// It is the same on every computer and contains no patient data.
func UserDirName(sdsUserID string) string {
	sum := sha256.Sum256([]byte(sdsUserID))
	return hex.EncodeToString(sum[:16])
}

// MasterKeyAccount returns the keychain account that holds the master key of
// the user whose folder is named userDir (see UserDirName).
func MasterKeyAccount(userDir string) string { return "master-key:" + userDir }

// KeyProvider keeps each user's 32-byte master key outside the data files.
//
// Get returns ErrKeyNotFound (possibly wrapped) when the account has no key,
// an error wrapping ErrKeychainUnavailable when the key store cannot be
// used at all, and (DevKeyFileProvider) an error wrapping
// ErrKeyFileUnusable, whose message names the file and the fix, when the
// key file cannot be used as it is. Put stores a key, replacing any
// existing one. Delete removes the key; deleting a missing key is not an
// error.
type KeyProvider interface {
	Get(ctx context.Context, account string) ([]byte, error)
	Put(ctx context.Context, account string, key []byte) error
	Delete(ctx context.Context, account string) error
}

// Keyring is the part of a go-keyring backend a KeychainProvider uses. The
// zero KeychainProvider uses the OS keychain through go-keyring.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// OSKeyring is the OS keychain through go-keyring's package functions
// (Windows Credential Manager, macOS Keychain, the Secret Service on Linux),
// so keyring.MockInit and keyring.MockInitWithError affect it. On Linux it
// never starts a D-Bus session bus of its own (noBusAutolaunch).
type OSKeyring struct{}

// Get reads an item.
func (OSKeyring) Get(s, u string) (string, error) {
	noBusAutolaunch()
	return keyring.Get(s, u)
}

// Set writes an item.
func (OSKeyring) Set(s, u, p string) error {
	noBusAutolaunch()
	return keyring.Set(s, u, p)
}

// Delete removes an item.
func (OSKeyring) Delete(s, u string) error {
	noBusAutolaunch()
	return keyring.Delete(s, u)
}

// KeychainProvider keeps master keys in the OS keychain (Windows Credential
// Manager, macOS Keychain, Secret Service on Linux) as base64 text, 44
// characters, far below the 2560-byte Windows limit.
type KeychainProvider struct {
	// Service overrides KeychainService (tests).
	Service string
	// Ring overrides the OS keychain (tests); nil means go-keyring.
	Ring Keyring
}

// keyringMu serialises keychain calls: some backends (and go-keyring's mock)
// are not safe for concurrent use.
var keyringMu sync.Mutex

func (k KeychainProvider) ring() (Keyring, string) {
	r, s := k.Ring, k.Service
	if r == nil {
		r = OSKeyring{}
	}
	if s == "" {
		s = KeychainService
	}
	return r, s
}

// call runs fn on its own goroutine so a keychain that hangs (a locked D-Bus
// session, for example) gives way to ctx.
func keychainCall[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		keyringMu.Lock()
		defer keyringMu.Unlock()
		v, err := fn()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("%w: %w", ErrKeychainUnavailable, ctx.Err())
	}
}

// Get reads the account's key. Errors: ErrKeyNotFound, ErrKeychainUnavailable
// (wrapping the backend's error), or a malformed-key error.
func (k KeychainProvider) Get(ctx context.Context, account string) ([]byte, error) {
	r, s := k.ring()
	v, err := keychainCall(ctx, func() (string, error) { return r.Get(s, account) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, ErrKeyNotFound
	}
	if err != nil {
		if errors.Is(err, ErrKeychainUnavailable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: read key: %w", ErrKeychainUnavailable, err)
	}
	return decodeKey(v)
}

// Put stores the key. Errors wrap ErrKeychainUnavailable.
func (k KeychainProvider) Put(ctx context.Context, account string, key []byte) error {
	if len(key) != MasterKeySize {
		return fmt.Errorf("store key: want %d bytes, got %d", MasterKeySize, len(key))
	}
	r, s := k.ring()
	_, err := keychainCall(ctx, func() (struct{}, error) {
		return struct{}{}, r.Set(s, account, base64.StdEncoding.EncodeToString(key))
	})
	if err != nil && !errors.Is(err, ErrKeychainUnavailable) {
		return fmt.Errorf("%w: store key: %w", ErrKeychainUnavailable, err)
	}
	return err
}

// Delete removes the key; a missing key is not an error. Other errors wrap
// ErrKeychainUnavailable.
func (k KeychainProvider) Delete(ctx context.Context, account string) error {
	r, s := k.ring()
	_, err := keychainCall(ctx, func() (struct{}, error) { return struct{}{}, r.Delete(s, account) })
	switch {
	case err == nil, errors.Is(err, keyring.ErrNotFound):
		return nil
	case errors.Is(err, ErrKeychainUnavailable):
		return err
	}
	return fmt.Errorf("%w: delete key: %w", ErrKeychainUnavailable, err)
}

func decodeKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != MasterKeySize {
		return nil, fmt.Errorf("%w: the stored key is not a %d-byte key", ErrKeyMismatch, MasterKeySize)
	}
	return b, nil
}

// DevKeyFileProvider keeps master keys in a plain file, for headless
// development and CI only (--dev-insecure-keyfile). Anyone who can read the
// file can read the cached patient data, so it prints a warning every time a
// key is read, refuses a file that others may read, and is never a default.
type DevKeyFileProvider struct {
	Path string
	// Warn receives the warning; nil means standard error.
	Warn io.Writer
}

// DevKeyFileWarning is printed every time a development key file is used.
const DevKeyFileWarning = "WARNING: --dev-insecure-keyfile is in use. The data key is kept in a plain file, not the OS keychain: " +
	"anyone who can read that file can read the cached data. Use it for development and testing with synthetic data only, never with real patients."

type devKeyFile struct {
	Keys map[string]string `json:"keys"`
}

var devKeyFileMu sync.Mutex

func (p DevKeyFileProvider) warn() {
	w := p.Warn
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "%s (%s)\n", DevKeyFileWarning, p.Path)
}

// keyFileError is a development key file that cannot be used as it is. Its
// message names the file (a path, not patient data) and what to do; it
// wraps ErrKeyFileUnusable and the cause.
type keyFileError struct {
	msg string
	err error
}

func (e *keyFileError) Error() string   { return e.msg }
func (e *keyFileError) Unwrap() []error { return []error{ErrKeyFileUnusable, e.err} }

func (p DevKeyFileProvider) load() (devKeyFile, error) {
	f := devKeyFile{Keys: map[string]string{}}
	b, err := atomicfile.ReadPrivate(p.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return f, nil
	case errors.Is(err, atomicfile.ErrNotPrivate):
		mode := "readable by others"
		if fi, serr := os.Stat(p.Path); serr == nil {
			mode = fi.Mode().Perm().String()
		}
		return f, &keyFileError{err: err, msg: fmt.Sprintf("The development key file %s can be read by other users (%s), so Triage Desk will not use it. "+
			"Run chmod 600 %s, then start Triage Desk again.", p.Path, mode, p.Path)}
	case err != nil:
		return f, &keyFileError{err: err, msg: fmt.Sprintf("The development key file %s could not be read (%v). Check that it exists and is yours, then start Triage Desk again.", p.Path, err)}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, &keyFileError{err: err, msg: fmt.Sprintf("The development key file %s is not a Triage Desk key file. Point --dev-insecure-keyfile at the right file, then start Triage Desk again.", p.Path)}
	}
	if f.Keys == nil {
		f.Keys = map[string]string{}
	}
	return f, nil
}

func (p DevKeyFileProvider) save(f devKeyFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(p.Path, b, 0o600); err != nil {
		return &keyFileError{err: err, msg: fmt.Sprintf("The development key file %s could not be written (%v). Check the disk and the folder's permissions, then start Triage Desk again.", p.Path, err)}
	}
	return nil
}

// Get reads the account's key, printing DevKeyFileWarning. Errors:
// ErrKeyNotFound, or an error wrapping ErrKeyFileUnusable that names the file
// and the fix.
func (p DevKeyFileProvider) Get(_ context.Context, account string) ([]byte, error) {
	devKeyFileMu.Lock()
	defer devKeyFileMu.Unlock()
	p.warn()
	f, err := p.load()
	if err != nil {
		return nil, err
	}
	v, ok := f.Keys[account]
	if !ok {
		return nil, ErrKeyNotFound
	}
	return decodeKey(v)
}

// Put stores the key in the file (created with mode 0600).
func (p DevKeyFileProvider) Put(_ context.Context, account string, key []byte) error {
	if len(key) != MasterKeySize {
		return fmt.Errorf("store key: want %d bytes, got %d", MasterKeySize, len(key))
	}
	devKeyFileMu.Lock()
	defer devKeyFileMu.Unlock()
	f, err := p.load()
	if err != nil {
		return err
	}
	f.Keys[account] = base64.StdEncoding.EncodeToString(key)
	return p.save(f)
}

// Delete removes the account's key from the file.
func (p DevKeyFileProvider) Delete(_ context.Context, account string) error {
	devKeyFileMu.Lock()
	defer devKeyFileMu.Unlock()
	f, err := p.load()
	if err != nil {
		return err
	}
	if _, ok := f.Keys[account]; !ok {
		return nil
	}
	delete(f.Keys, account)
	return p.save(f)
}
