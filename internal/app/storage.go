package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// storeOptions are the options of user's store in this environment's data
// folder (DataDir), under its keys.
func (rt *Runtime) storeOptions(user string) store.Options {
	keys := rt.storeKeys()
	if scope := dataScope(rt.Environment); scope != "" {
		keys = scopedKeys{inner: keys, prefix: "env:" + scope + ":"}
	}
	return store.Options{ProfileDir: rt.DataDir(), UserID: user, Keys: keys, Logger: rt.Logger,
		Retention: RetentionFor(rt.Config.Settings())}
}

// DataDir is the folder the clinicians' stores of this environment are
// kept in: the profile for INT and live e-RS; for the demo, a local server
// or the NHS sandbox, a folder of its own under the profile's
// "environments" folder (see dataScope).
func (rt *Runtime) DataDir() string {
	if scope := dataScope(rt.Environment); scope != "" {
		return filepath.Join(rt.Profile, "environments", scope)
	}
	return rt.Profile
}

// dataScope names the data of a synthetic environment, kept apart from
// every other environment's and server's: their test users, and from the
// same seed their UBRNs, are the same, and a decision queued for one must
// never be sent to another. It is "" for INT and live e-RS, whose data stays
// directly in the profile; "demo" for the demo (whose server moves every
// run); otherwise the environment's name and a hash of its e-RS address.
func dataScope(env config.Environment) string {
	switch env.Name {
	case config.EnvDemo:
		return string(env.Name)
	case config.EnvLocal, config.EnvNHSSandbox:
		sum := sha256.Sum256([]byte(env.FHIRBaseURL))
		return string(env.Name) + "-" + hex.EncodeToString(sum[:6])
	}
	return ""
}

// scopedKeys keeps a synthetic environment's store keys under accounts of
// their own, so removing one environment's data never removes the key of
// another's.
type scopedKeys struct {
	inner  store.KeyProvider
	prefix string
}

// Get implements store.KeyProvider.
func (k scopedKeys) Get(ctx context.Context, account string) ([]byte, error) {
	return k.inner.Get(ctx, k.prefix+account)
}

// Put implements store.KeyProvider.
func (k scopedKeys) Put(ctx context.Context, account string, key []byte) error {
	return k.inner.Put(ctx, k.prefix+account, key)
}

// Delete implements store.KeyProvider.
func (k scopedKeys) Delete(ctx context.Context, account string) error {
	return k.inner.Delete(ctx, k.prefix+account)
}

// openStore opens user's store in the profile; in demo mode without a
// keychain, in the throwaway folder under an in-memory key instead.
func (rt *Runtime) openStore(ctx context.Context, user string, onChange func(store.Change)) (*store.Store, error) {
	o := rt.storeOptions(user)
	o.OnChange = onChange
	rt.mu.Lock()
	eph := rt.eph
	rt.mu.Unlock()
	if eph == nil {
		s, err := store.Open(ctx, o)
		if err == nil || !rt.demo || !errors.Is(err, store.ErrKeychainUnavailable) {
			return s, err
		}
		if eph, err = rt.ephemeral(); err != nil {
			return nil, err
		}
	}
	o.ProfileDir, o.Keys = eph.dir, eph.keys
	return store.Open(ctx, o)
}

// openExisting opens user's store for UnsentCount or Logout, or returns nil
// when there is none to read (never created, or the demo's data without a
// keychain).
func (rt *Runtime) openExisting(ctx context.Context, user string) (*store.Store, error) {
	if user == "" {
		return nil, nil
	}
	rt.mu.Lock()
	eph := rt.eph
	rt.mu.Unlock()
	o := rt.storeOptions(user)
	if eph != nil {
		o.ProfileDir, o.Keys = eph.dir, eph.keys
	}
	if fi, err := os.Stat(store.UserDir(o.ProfileDir, user)); err != nil || !fi.IsDir() {
		return nil, nil
	}
	s, err := store.Open(ctx, o)
	if err != nil && rt.demo && eph == nil && errors.Is(err, store.ErrKeychainUnavailable) {
		return nil, nil
	}
	return s, err
}

// sessionUser is the clinician the session (or the saved one) names.
func (rt *Runtime) sessionUser(ctx context.Context) string {
	user := rt.authStatus().Identity.SDSUserID
	if user == "" && rt.auth != nil {
		if saved, err := rt.auth.SavedStatus(ctx); err == nil {
			user = saved.Identity.SDSUserID
		}
	}
	return user
}

// ephemeralStore is the demo's data without a keychain: a throwaway folder
// and master keys held in memory only, never written anywhere.
type ephemeralStore struct {
	dir  string
	keys *memoryKeys
}

// ephemeral returns the throwaway store folder, creating it on first use.
func (rt *Runtime) ephemeral() (*ephemeralStore, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.eph != nil {
		return rt.eph, nil
	}
	if rt.closed {
		return nil, errors.New("app: runtime closed")
	}
	dir, err := os.MkdirTemp("", "triagedesk-demo-")
	if err != nil {
		return nil, &triage.Error{Code: triage.EUNAVAILABLE, Err: fmt.Errorf("demo data folder: %w", err),
			Message: "The demo could not create a folder for its data. Check that the disk is not full, then try again."}
	}
	rt.eph = &ephemeralStore{dir: dir, keys: &memoryKeys{keys: map[string][]byte{}}}
	rt.Logger.Warn("keychain unavailable: demo data is kept under a throwaway key and removed at exit")
	rt.signal()
	return rt.eph, nil
}

// remove forgets the keys and deletes the folder.
func (e *ephemeralStore) remove() error {
	e.keys.forget()
	if err := os.RemoveAll(e.dir); err != nil {
		return fmt.Errorf("remove the demo's data: %w", err)
	}
	return nil
}

// memoryKeys is a store.KeyProvider that holds master keys in memory only.
type memoryKeys struct {
	mu   sync.Mutex
	keys map[string][]byte
}

// Get implements store.KeyProvider.
func (k *memoryKeys) Get(_ context.Context, account string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.keys[account]
	if !ok {
		return nil, store.ErrKeyNotFound
	}
	return append([]byte(nil), v...), nil
}

// Put implements store.KeyProvider.
func (k *memoryKeys) Put(_ context.Context, account string, key []byte) error {
	if len(key) != store.MasterKeySize {
		return fmt.Errorf("store key: want %d bytes, got %d", store.MasterKeySize, len(key))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		return fmt.Errorf("%w: the demo's keys were already forgotten", store.ErrKeychainUnavailable)
	}
	k.keys[account] = append([]byte(nil), key...)
	return nil
}

// Delete implements store.KeyProvider.
func (k *memoryKeys) Delete(_ context.Context, account string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v, ok := k.keys[account]; ok {
		clear(v)
		delete(k.keys, account)
	}
	return nil
}

// forget overwrites and drops every key.
func (k *memoryKeys) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, v := range k.keys {
		clear(v)
	}
	k.keys = nil
}

// DataFolder is one environment's folder of clinicians' stores inside a
// profile: the profile itself for INT and live e-RS, or a synthetic
// environment's folder under "environments" (see dataScope).
type DataFolder struct {
	// Dir holds the folder's "users" folder.
	Dir string
	// Scope is "" for the profile itself, otherwise the folder's name under
	// "environments" (for example "demo").
	Scope string
}

// Keys is the key provider for the stores in f: a synthetic environment's
// keys live under accounts of their own.
func (f DataFolder) Keys(inner store.KeyProvider) store.KeyProvider {
	if f.Scope == "" || inner == nil {
		return inner
	}
	return scopedKeys{inner: inner, prefix: "env:" + f.Scope + ":"}
}

// Label names the folder's environment for a person reading a report.
func (f DataFolder) Label() string {
	if f.Scope == "" {
		return "INT or live e-RS"
	}
	return f.Scope
}

// DataFolders lists every environment's data folder in profile that holds
// clinicians' stores: the profile itself first, then each synthetic
// environment's in name order. A missing profile has none.
func DataFolders(profile string) ([]DataFolder, error) {
	var out []DataFolder
	if fi, err := os.Stat(filepath.Join(profile, "users")); err == nil && fi.IsDir() {
		out = append(out, DataFolder{Dir: profile})
	}
	entries, err := os.ReadDir(filepath.Join(profile, "environments"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list environments' data: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(profile, "environments", e.Name())
		if fi, err := os.Stat(filepath.Join(dir, "users")); err == nil && fi.IsDir() {
			out = append(out, DataFolder{Dir: dir, Scope: e.Name()})
		}
	}
	return out, nil
}
