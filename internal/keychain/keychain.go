// Package keychain is Triage Desk's one way to the OS keychain (Windows
// Credential Manager, macOS Keychain, the Secret Service on Linux) and to
// the development file that stands in for it (--dev-insecure-keyfile).
// Every call goes through Do: one lock serialises all keychain calls in
// the process (go-keyring's mock and some backends are not safe for
// concurrent use), and each call gives way after Timeout, because a
// locked D-Bus session can hang. The sign-in session (internal/auth) and
// the data keys (internal/store) both keep their items here; neither
// package depends on the other.
package keychain

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Timeout bounds one keychain call.
const Timeout = 10 * time.Second

var (
	// ErrNotFound is a missing item. It is go-keyring's own, so a Ring
	// built on go-keyring (or its mock) returns it as it is.
	ErrNotFound = keyring.ErrNotFound
	// ErrUnavailable means the keychain could not be used: its backend
	// failed, or a call did not finish in time.
	ErrUnavailable = errors.New("keychain unavailable")
)

// Ring is a keychain: the method set of go-keyring. Get returns
// ErrNotFound for a missing item, as does Delete.
type Ring interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// OS is the OS keychain through go-keyring's package functions, so
// keyring.MockInit and keyring.MockInitWithError affect it. On Linux it
// never starts a D-Bus session bus of its own (see noBusAutolaunch).
type OS struct{}

// Get reads an item.
func (OS) Get(s, u string) (string, error) {
	noBusAutolaunch()
	return keyring.Get(s, u)
}

// Set writes an item.
func (OS) Set(s, u, p string) error {
	noBusAutolaunch()
	return keyring.Set(s, u, p)
}

// Delete removes an item.
func (OS) Delete(s, u string) error {
	noBusAutolaunch()
	return keyring.Delete(s, u)
}

// mu serialises every keychain call of the process.
var mu sync.Mutex

// unavailableError is a keychain failure: it wraps ErrUnavailable and the
// cause, so a caller can still find a *FileError in it.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string   { return ErrUnavailable.Error() + ": " + e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// Do runs fn, holding the process's keychain lock, on its own goroutine, so
// that a keychain that hangs gives way to ctx, bounded by Timeout. Errors:
// ErrNotFound for a missing item; otherwise an error wrapping both
// ErrUnavailable and fn's error (or the context's).
func Do[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		mu.Lock()
		defer mu.Unlock()
		v, err := fn()
		ch <- result{v, err}
	}()
	var zero T
	select {
	case r := <-ch:
		switch {
		case r.err == nil:
			return r.v, nil
		case errors.Is(r.err, ErrNotFound):
			return zero, ErrNotFound
		}
		return zero, &unavailableError{r.err}
	case <-ctx.Done():
		return zero, &unavailableError{fmt.Errorf("keychain call: %w", ctx.Err())}
	}
}

// Get reads service/user from ring through Do. Errors as Do's.
func Get(ctx context.Context, ring Ring, service, user string) (string, error) {
	return Do(ctx, func() (string, error) { return ring.Get(service, user) })
}

// Set writes service/user to ring through Do. Errors as Do's.
func Set(ctx context.Context, ring Ring, service, user, secret string) error {
	_, err := Do(ctx, func() (struct{}, error) { return struct{}{}, ring.Set(service, user, secret) })
	return err
}

// Delete removes service/user from ring through Do; a missing item is
// ErrNotFound. Errors as Do's.
func Delete(ctx context.Context, ring Ring, service, user string) error {
	_, err := Do(ctx, func() (struct{}, error) { return struct{}{}, ring.Delete(service, user) })
	return err
}
