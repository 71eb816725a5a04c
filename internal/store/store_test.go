package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// failingRing is a keychain that cannot be reached, like a headless Linux
// session without Secret Service.
type failingRing struct{}

var errNoSecretService = errors.New("the name org.freedesktop.secrets was not provided by any .service files")

func (failingRing) Get(string, string) (string, error) { return "", errNoSecretService }
func (failingRing) Set(string, string, string) error   { return errNoSecretService }
func (failingRing) Delete(string, string) error        { return errNoSecretService }

// writeOnlyRing accepts writes and forgets them.
type writeOnlyRing struct{}

func (writeOnlyRing) Get(string, string) (string, error) { return "", keyring.ErrNotFound }
func (writeOnlyRing) Set(string, string, string) error   { return nil }
func (writeOnlyRing) Delete(string, string) error        { return nil }

func TestKeychainUnavailableMeansOnlineOnly(t *testing.T) {
	cases := []struct {
		name  string
		keys  KeyProvider
		setup func(t *testing.T)
	}{
		{"keychain cannot be reached", KeychainProvider{Ring: failingRing{}}, nil},
		{"keychain drops what is written", KeychainProvider{Ring: writeOnlyRing{}}, nil},
		{"go-keyring reports an error", KeychainProvider{}, func(t *testing.T) {
			keyring.MockInitWithError(errNoSecretService)
			t.Cleanup(keyring.MockInit)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				c.setup(t)
			}
			env := newEnv(t)
			env.keys = c.keys
			s, err := Open(context.Background(), env.options())
			if err == nil {
				s.Close()
				t.Fatal("opened without a keychain")
			}
			if !errors.Is(err, ErrKeychainUnavailable) {
				t.Errorf("err = %v, want ErrKeychainUnavailable", err)
			}
			if triage.ErrorCodeOf(err) != triage.EUNAVAILABLE {
				t.Errorf("code = %s", triage.ErrorCodeOf(err))
			}
			msg := triage.ErrorMessage(err)
			if !strings.Contains(msg, "cannot be stored on this computer") || !strings.Contains(msg, "online-only") {
				t.Errorf("message does not say so plainly: %q", msg)
			}
			// Nothing was written: no plaintext fallback, no empty files.
			if _, err := os.Stat(env.dir()); !errors.Is(err, os.ErrNotExist) {
				entries, _ := os.ReadDir(env.dir())
				t.Errorf("user folder exists after refusal: %v", entries)
			}
		})
	}
}

func TestKeychainProviderStoresBase64Key(t *testing.T) {
	ctx := context.Background()
	k := KeychainProvider{Service: "io.github.triagedesk.test"}
	acct := MasterKeyAccount(UserDirName("user-a"))
	if _, err := k.Get(ctx, acct); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	key := bytes.Repeat([]byte{7}, MasterKeySize)
	mustNoErr(t, k.Put(ctx, acct, key), "put")
	raw, err := keyring.Get("io.github.triagedesk.test", acct)
	mustNoErr(t, err, "raw get")
	if len(raw) != 44 || len(raw) > 2560 {
		t.Errorf("stored %d characters", len(raw))
	}
	got, err := k.Get(ctx, acct)
	mustNoErr(t, err, "get")
	if !bytes.Equal(got, key) {
		t.Error("key changed")
	}
	mustNoErr(t, k.Delete(ctx, acct), "delete")
	mustNoErr(t, k.Delete(ctx, acct), "delete twice")
	if err := k.Put(ctx, acct, []byte("short")); err == nil {
		t.Error("accepted a short key")
	}
	_ = keyring.Set("io.github.triagedesk.test", acct, "not base64!")
	if _, err := k.Get(ctx, acct); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("malformed key: %v", err)
	}
}

func TestDevKeyFileWarnsAndStaysPrivate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dev.key")
	var warn bytes.Buffer
	p := DevKeyFileProvider{Path: path, Warn: &warn}
	env := newEnv(t)
	env.keys = p
	s := env.open(t)
	s.Close()
	s = env.open(t)
	s.Close()
	if n := strings.Count(warn.String(), "--dev-insecure-keyfile"); n < 2 {
		t.Errorf("warning printed %d times over two opens: %q", n, warn.String())
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		mustNoErr(t, err, "stat key file")
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("key file mode %v", fi.Mode().Perm())
		}
		mustNoErr(t, os.Chmod(path, 0o644), "chmod")
		if _, err := p.Get(ctx, "x"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("world-readable key file accepted: %v", err)
		}
	}
}

func TestSecondInstanceGetsClearErrorWithinTimeout(t *testing.T) {
	env := newEnv(t)
	first := env.open(t)
	_ = first
	start := time.Now()
	s, err := Open(context.Background(), env.options())
	took := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("second instance opened the same files")
	}
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("err = %v", err)
	}
	if msg := triage.ErrorMessage(err); !strings.Contains(msg, "Triage Desk is already running") {
		t.Errorf("message %q", msg)
	}
	if limit := env.options().LockTimeout + 2*time.Second; took > limit {
		t.Errorf("took %v, more than the timeout allows (%v)", took, limit)
	}
	// Once the first closes, it opens.
	first.Close()
	s = env.open(t)
	s.Close()
}

// closedWithRejection opens a store in a new test environment, caches one
// synthetic referral with a rejection queued for it, and closes the store.
func closedWithRejection(t *testing.T, seed uint64) (*testEnv, *Store, context.Context, fixture) {
	t.Helper()
	env, s, ctx, f := openWith(t, makeFixture, seed)
	fillReferral(t, s, f)
	_, err := s.Enqueue(ctx, rejectFor(f))
	mustNoErr(t, err, "enqueue")
	s.Close()
	return env, s, ctx, f
}

func TestUsersAreSeparate(t *testing.T) {
	env, a, ctx, f := closedWithRejection(t, 11)

	envB := *env
	envB.user = otherClinician
	b := envB.open(t)
	if b.Dir() == a.Dir() {
		t.Fatal("same folder for two users")
	}
	if _, err := b.Referral(ctx, f.UBRN); !errors.Is(err, ErrNotFound) {
		t.Errorf("other user sees the referral: %v", err)
	}
	if n, _ := b.UnsentCount(ctx); n != 0 {
		t.Errorf("other user sees %d unsent decisions", n)
	}
	if _, err := b.Enqueue(ctx, rejectFor(f)); !errors.Is(err, ErrWrongUser) {
		t.Errorf("decision by user A accepted in B's store: %v", err)
	}
	// Both users' keys are distinct keychain entries.
	ka, _ := KeychainProvider{}.Get(ctx, MasterKeyAccount(UserDirName(clinician.SDSUserID)))
	kb, _ := KeychainProvider{}.Get(ctx, MasterKeyAccount(UserDirName(otherClinician.SDSUserID)))
	if len(ka) != MasterKeySize || len(kb) != MasterKeySize || bytes.Equal(ka, kb) {
		t.Error("users share a master key")
	}
	// The folder name reveals nothing and is the SHA-256 prefix.
	if name := filepath.Base(a.Dir()); len(name) != 32 || strings.Contains(name, clinician.SDSUserID) {
		t.Errorf("user folder %q", name)
	}
}

func TestMissingKeyNeverOpensOrReplacesSavedDecisions(t *testing.T) {
	env, _, ctx, _ := closedWithRejection(t, 12)
	obBefore, _ := os.ReadFile(filepath.Join(env.dir(), OutboxFile))

	acct := MasterKeyAccount(UserDirName(clinician.SDSUserID))
	old, _ := KeychainProvider{}.Get(ctx, acct)
	mustNoErr(t, KeychainProvider{}.Delete(ctx, acct), "delete key")
	_, err := Open(ctx, env.options())
	if !errors.Is(err, ErrKeyMismatch) || !strings.Contains(triage.ErrorMessage(err), "triagectl doctor") {
		t.Fatalf("open without key: %v", err)
	}
	if _, err := (KeychainProvider{}).Get(ctx, acct); !errors.Is(err, ErrKeyNotFound) {
		t.Error("a new key was created over the saved decisions")
	}
	// A different key is refused too.
	mustNoErr(t, KeychainProvider{}.Put(ctx, acct, bytes.Repeat([]byte{1}, 32)), "put other key")
	if _, err := Open(ctx, env.options()); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("open with another key: %v", err)
	}
	obAfter, _ := os.ReadFile(filepath.Join(env.dir(), OutboxFile))
	if !bytes.Equal(obBefore, obAfter) {
		t.Error("outbox.db was changed")
	}
	// With the right key back, everything is there.
	mustNoErr(t, KeychainProvider{}.Put(ctx, acct, old), "restore key")
	s := env.open(t)
	if n, _ := s.UnsentCount(ctx); n != 1 {
		t.Errorf("unsent = %d", n)
	}
}

func TestNewerOutboxRefusedNewerCacheRebuilt(t *testing.T) {
	env := newEnv(t)
	s := env.open(t)
	s.Close()
	bump := func(name string) {
		db, err := bolt.Open(filepath.Join(env.dir(), name), 0o600, nil)
		mustNoErr(t, err, "open raw")
		mustNoErr(t, db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte(bMeta)).Put(mSchema, binary.BigEndian.AppendUint32(nil, 99))
		}), "bump")
		db.Close()
	}
	bump(CacheFile)
	s = env.open(t)
	if r := s.Report(); r.CacheSetAside == "" || !strings.Contains(r.CacheProblem, "newer version") {
		t.Errorf("report %+v", r)
	}
	s.Close()
	bump(OutboxFile)
	_, err := Open(context.Background(), env.options())
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(triage.ErrorMessage(err), "newer version") {
		t.Errorf("newer outbox: %v", err)
	}
}

func TestMigrationFromEmptyFileAndSchemaRecorded(t *testing.T) {
	env := newEnv(t)
	mustNoErr(t, os.MkdirAll(env.dir(), 0o700), "mkdir")
	// A version-0 file: bbolt file with no buckets at all (as an interrupted
	// first start might leave).
	for _, name := range []string{CacheFile, OutboxFile} {
		db, err := bolt.Open(filepath.Join(env.dir(), name), 0o600, nil)
		mustNoErr(t, err, "create raw")
		db.Close()
	}
	s := env.open(t)
	ctx := context.Background()
	f := makeFixture(rand.New(rand.NewPCG(13, 13)), 0)
	fillReferral(t, s, f)
	_, err := s.Enqueue(ctx, acceptFor(f))
	mustNoErr(t, err, "enqueue after migration")
	s.Close()
	for _, c := range []struct {
		name   string
		format string
		want   uint32
	}{{CacheFile, cacheFormat, CacheSchemaVersion}, {OutboxFile, outboxFormat, OutboxSchemaVersion}} {
		db, err := bolt.Open(filepath.Join(env.dir(), c.name), 0o600, &bolt.Options{ReadOnly: true})
		mustNoErr(t, err, "open raw")
		_ = db.View(func(tx *bolt.Tx) error {
			v, f := schemaOf(tx)
			if v != c.want || f != c.format {
				t.Errorf("%s: schema %d format %q", c.name, v, f)
			}
			return nil
		})
		db.Close()
	}
}

func TestSwappedFilesAreNotConfused(t *testing.T) {
	env := newEnv(t)
	s := env.open(t)
	s.Close()
	cache := filepath.Join(env.dir(), CacheFile)
	ob := filepath.Join(env.dir(), OutboxFile)
	b, _ := os.ReadFile(cache)
	mustNoErr(t, os.WriteFile(ob, b, 0o600), "overwrite outbox with cache")
	_, err := Open(context.Background(), env.options())
	if err == nil || !errors.Is(err, ErrOutboxDamaged) {
		t.Errorf("cache file accepted as outbox: %v", err)
	}
}

func TestClosedStoreAndCancelledContext(t *testing.T) {
	env := newEnv(t)
	s := env.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Worklist(ctx, triage.ListReferralsForReview); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	mustNoErr(t, s.Close(), "close")
	mustNoErr(t, s.Close(), "close twice")
	if _, err := s.UnsentCount(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("after close: %v", err)
	}
}

func TestOpenRequiresProfileUserAndKeys(t *testing.T) {
	base := newEnv(t).options()
	for _, mod := range []func(*Options){
		func(o *Options) { o.ProfileDir = "" },
		func(o *Options) { o.UserID = "" },
		func(o *Options) { o.Keys = nil },
	} {
		o := base
		mod(&o)
		if s, err := Open(context.Background(), o); err == nil {
			s.Close()
			t.Errorf("opened with %+v", o)
		}
	}
}
