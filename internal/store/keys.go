package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/triagedesk/triagedesk/internal/keychain"
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

// Keyring is the part of a go-keyring backend a KeychainProvider uses
// (keychain.Ring). The zero KeychainProvider uses the OS keychain.
type Keyring = keychain.Ring

// KeychainProvider keeps master keys in the OS keychain (Windows Credential
// Manager, macOS Keychain, Secret Service on Linux) as base64 text, 44
// characters, far below the 2560-byte Windows limit. Every call goes
// through keychain.Do (one lock, a timeout).
type KeychainProvider struct {
	// Service overrides KeychainService (tests).
	Service string
	// Ring overrides the OS keychain (tests); nil means go-keyring.
	Ring Keyring
}

func (k KeychainProvider) ring() (Keyring, string) {
	r, s := k.Ring, k.Service
	if r == nil {
		r = keychain.OS{}
	}
	if s == "" {
		s = KeychainService
	}
	return r, s
}

// keyError is a keychain error as a KeyProvider returns it: a development
// file that cannot be used as it is stays that (ErrKeyFileUnusable, not
// ErrKeychainUnavailable); anything else wraps ErrKeychainUnavailable.
func keyError(err error, what string) error {
	var fe *keychain.FileError
	if errors.As(err, &fe) {
		return fe
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Get reads the account's key. Errors: ErrKeyNotFound, ErrKeychainUnavailable
// (wrapping the backend's error), or a malformed-key error.
func (k KeychainProvider) Get(ctx context.Context, account string) ([]byte, error) {
	r, s := k.ring()
	v, err := keychain.Get(ctx, r, s, account)
	if errors.Is(err, keychain.ErrNotFound) {
		return nil, ErrKeyNotFound
	}
	if err != nil {
		return nil, keyError(err, "read key")
	}
	return decodeKey(v)
}

// Put stores the key. Errors wrap ErrKeychainUnavailable.
func (k KeychainProvider) Put(ctx context.Context, account string, key []byte) error {
	if len(key) != MasterKeySize {
		return fmt.Errorf("store key: want %d bytes, got %d", MasterKeySize, len(key))
	}
	r, s := k.ring()
	if err := keychain.Set(ctx, r, s, account, base64.StdEncoding.EncodeToString(key)); err != nil {
		return keyError(err, "store key")
	}
	return nil
}

// Delete removes the key; a missing key is not an error. Other errors wrap
// ErrKeychainUnavailable.
func (k KeychainProvider) Delete(ctx context.Context, account string) error {
	r, s := k.ring()
	err := keychain.Delete(ctx, r, s, account)
	if err == nil || errors.Is(err, keychain.ErrNotFound) {
		return nil
	}
	return keyError(err, "delete key")
}

func decodeKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != MasterKeySize {
		return nil, fmt.Errorf("%w: the stored key is not a %d-byte key", ErrKeyMismatch, MasterKeySize)
	}
	return b, nil
}

// DevKeyFileProvider keeps master keys in a plain file, for headless
// development and CI only (--dev-insecure-keyfile): a keychain.DevFile
// under the file's own layout. Anyone who can read the file can read the
// cached patient data, so it prints a warning every time a key is read or
// written, refuses a file that others may read, and is never a default.
// Errors from a file that cannot be used wrap ErrKeyFileUnusable and name
// the file and the fix.
type DevKeyFileProvider struct {
	Path string
	// Warn receives the warning; nil means standard error.
	Warn io.Writer
}

// DevKeyFileWarning is printed every time a development key file is used.
const DevKeyFileWarning = "WARNING: --dev-insecure-keyfile is in use. The data key is kept in a plain file, not the OS keychain: " +
	"anyone who can read that file can read the cached data. Use it for development and testing with synthetic data only, never with real patients."

func (p DevKeyFileProvider) provider() KeychainProvider {
	return KeychainProvider{Ring: keychain.DevFile{Path: p.Path, Warn: p.Warn, Warning: DevKeyFileWarning, Name: "development key file", Flat: true}}
}

// Get reads the account's key, printing DevKeyFileWarning. Errors:
// ErrKeyNotFound, or an error wrapping ErrKeyFileUnusable that names the file
// and the fix.
func (p DevKeyFileProvider) Get(ctx context.Context, account string) ([]byte, error) {
	return p.provider().Get(ctx, account)
}

// Put stores the key in the file (created with mode 0600).
func (p DevKeyFileProvider) Put(ctx context.Context, account string, key []byte) error {
	return p.provider().Put(ctx, account, key)
}

// Delete removes the account's key from the file; a missing key is not an
// error.
func (p DevKeyFileProvider) Delete(ctx context.Context, account string) error {
	return p.provider().Delete(ctx, account)
}
