package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// File names inside a user's folder.
const (
	CacheFile  = "cache.db"
	OutboxFile = "outbox.db"
)

// DefaultLockTimeout is how long Open waits for another process to release
// the files before it reports ErrAlreadyRunning.
const DefaultLockTimeout = 2 * time.Second

// Options configure Open.
type Options struct {
	// ProfileDir is the data folder (config.DefaultProfileDir or --profile).
	ProfileDir string
	// UserID is the CIS2 user's SDS user id. Each user has their own files
	// and master key.
	UserID string
	// Keys holds the master keys: KeychainProvider in the app,
	// DevKeyFileProvider with --dev-insecure-keyfile.
	Keys KeyProvider
	// Clock returns the current time; nil means time.Now. Retention and
	// audit times use it.
	Clock func() time.Time
	// Logger receives operational logs (never patient data); nil means
	// slog.Default().
	Logger *slog.Logger
	// LockTimeout bounds the wait for another process's file lock; zero
	// means DefaultLockTimeout.
	LockTimeout time.Duration
	// Retention is the purge policy; zero fields take the defaults.
	Retention Retention
	// OnChange, if set, is called after each committed change, on the
	// calling goroutine, with no lock held. It must not block for long.
	OnChange func(Change)
}

// ChangeKind says what a Change is about.
type ChangeKind string

// The change kinds.
const (
	ChangeWorklist      ChangeKind = "worklist"
	ChangeReferral      ChangeKind = "referral"
	ChangeDocument      ChangeKind = "document"
	ChangeLocalState    ChangeKind = "local-state"
	ChangePatient       ChangeKind = "patient"
	ChangeReferenceData ChangeKind = "reference-data"
	ChangeOutbox        ChangeKind = "outbox"
	ChangePurge         ChangeKind = "purge"
	ChangeCacheRebuilt  ChangeKind = "cache-rebuilt"
	// ChangeCacheRecordsDropped: damaged cache records of the referral
	// (UBRN; "" when the damaged record did not say which) were removed
	// and must be downloaded again.
	ChangeCacheRecordsDropped ChangeKind = "cache-records-dropped"
	// ChangeAdvice: the cached A&G worklist, or a request (UBRN), changed.
	ChangeAdvice ChangeKind = "advice"
	// ChangeAdviceOutbox: an A&G reply or conversion (DecisionID, UBRN)
	// was queued or changed state (State).
	ChangeAdviceOutbox ChangeKind = "advice-outbox"
)

// Change tells the engine or UI what a store call changed. It holds patient
// identifiers (UBRN) in memory only; never log it.
type Change struct {
	Kind       ChangeKind
	UBRN       string             // referral concerned, if any
	DocumentID string             // ChangeDocument
	List       triage.ListType    // ChangeWorklist
	DecisionID string             // ChangeOutbox
	State      triage.OutboxState // ChangeOutbox: the new state
}

// OpenReport says what Open found and did.
type OpenReport struct {
	// CacheCreated is true when cache.db was new (first use, or rebuilt).
	CacheCreated bool
	// CacheSetAside is the path cache.db was renamed to because it could
	// not be used ("" if it was fine). The engine should download the
	// worklist and referrals again.
	CacheSetAside string
	// CacheProblem explains, in plain English, why the cache was set aside.
	CacheProblem string
	// UncleanShutdown is true when the previous session did not close the
	// store (a crash or power cut); the cache was checked.
	UncleanShutdown bool
	// InFlight counts decisions left in the sending state: the engine must
	// settle each by re-reading the referral before sending again.
	InFlight int
	// OutboxDamaged counts records of outbox.db that failed authentication
	// (see Store.OutboxDamage). They are left exactly as they are; the
	// others are read and sent as normal.
	OutboxDamaged int
}

// Store is one user's encrypted offline store. It is safe for concurrent
// use. Close it when the user signs out or the app exits.
type Store struct {
	mu     sync.RWMutex
	closed bool
	// purgeMu keeps a retention run and new decisions apart: the run
	// decides what to purge from the outbox's unsent decisions, so none
	// may be added until it has finished.
	purgeMu sync.Mutex

	opts    Options
	log     *slog.Logger
	dir     string
	userDir string
	keys    keyset

	outbox *bolt.DB
	cache  *bolt.DB

	obSeal    *sealer // outbox values
	cacheSeal *sealer // cache values that are not per-referral
	wrapSeal  *sealer // per-referral data keys

	report OpenReport

	// damaged lists the outbox records known to fail authentication:
	// found when the store opened, or by a read since. They are never
	// written.
	damMu   sync.Mutex
	damaged []damagedKey
}

// UserDir returns where the files of the user with the given SDS user id
// live under profileDir.
func UserDir(profileDir, sdsUserID string) string {
	return filepath.Join(profileDir, "users", UserDirName(sdsUserID))
}

func (o Options) withDefaults() (Options, error) {
	if strings.TrimSpace(o.ProfileDir) == "" {
		return o, errors.New("open store: no profile folder given")
	}
	if strings.TrimSpace(o.UserID) == "" {
		return o, errors.New("open store: no user given")
	}
	if o.Keys == nil {
		return o, errors.New("open store: no key provider given")
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	o.Retention = o.Retention.withDefaults()
	return o, nil
}

// Open opens (creating on first use) the store of opts.UserID.
//
// Errors, all *triage.Error with a plain message:
//   - ErrKeychainUnavailable: no patient data may be stored; run online-only.
//   - ErrAlreadyRunning: another process has the files open (after
//     opts.LockTimeout).
//   - ErrOutboxDamaged: outbox.db cannot be read safely; it is untouched.
//   - ErrKeyMismatch: the keychain's key does not open outbox.db.
//   - ErrNewerSchema: outbox.db was written by a newer version.
//
// A damaged or unreadable cache.db is not an error: it is renamed aside and
// recreated, and Report says so.
func Open(ctx context.Context, opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{opts: o, userDir: UserDirName(o.UserID)}
	s.dir = filepath.Join(o.ProfileDir, "users", s.userDir)
	s.log = o.Logger.With("component", "store", "user_dir", s.userDir)

	account := MasterKeyAccount(s.userDir)
	master, err := o.Keys.Get(ctx, account)
	newKey := false
	switch {
	case errors.Is(err, ErrKeyNotFound):
		newKey = true
	case errors.Is(err, ErrKeychainUnavailable):
		s.log.Warn("keychain unavailable: running online-only", "err", err)
		return nil, userError(triage.EUNAVAILABLE, ErrKeychainUnavailable, err, msgKeychainUnavailable)
	case errors.Is(err, ErrKeyMismatch):
		return nil, userError(triage.EINTERNAL, ErrKeyMismatch, err, msgKeyMismatch)
	case errors.Is(err, ErrKeyFileUnusable):
		return nil, userError(triage.EINVALID, ErrKeyFileUnusable, err, err.Error())
	case err != nil:
		return nil, userError(triage.EUNAVAILABLE, ErrKeychainUnavailable, err, msgKeychainUnavailable)
	}
	// Every clinician's files live under users/, which only this OS user
	// may use (on Windows an owner-only access list; see MkdirPrivate).
	if err := atomicfile.MkdirPrivate(filepath.Dir(s.dir)); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: create user folder: %w", err)
	}

	obPath := filepath.Join(s.dir, OutboxFile)
	obExists := fileExists(obPath)
	if obExists {
		if s.outbox, err = s.openOutbox(obPath); err != nil {
			return nil, err
		}
		hasCheck := false
		_ = guard(func() error {
			return s.outbox.View(func(tx *bolt.Tx) error {
				if m := tx.Bucket([]byte(bMeta)); m != nil {
					hasCheck = m.Get(mKeyCheck) != nil
				}
				return nil
			})
		})
		if newKey && hasCheck {
			closeQuietly(s.outbox)
			s.log.Error("master key missing from keychain but saved decisions exist")
			return nil, userError(triage.EINTERNAL, ErrKeyMismatch, ErrKeyNotFound, msgKeyMismatch)
		}
	}
	if newKey {
		if master, err = s.createMasterKey(ctx, account); err != nil {
			closeQuietly(s.outbox)
			_ = os.Remove(s.dir) // only if empty: nothing was stored
			return nil, err
		}
	}
	if s.keys, err = deriveKeys(master); err != nil {
		closeQuietly(s.outbox)
		return nil, userError(triage.EINTERNAL, ErrKeyMismatch, err, msgKeyMismatch)
	}
	clear(master)
	s.obSeal, _ = newSealer(s.keys.outbox, s.userDir, OutboxSchemaVersion)
	s.cacheSeal, _ = newSealer(s.keys.cache, s.userDir, CacheSchemaVersion)
	s.wrapSeal, _ = newSealer(s.keys.wrap, s.userDir, CacheSchemaVersion)

	if !obExists {
		if err := createBolt(obPath, s.initOutbox); err != nil {
			return nil, err
		}
		if s.outbox, err = s.openOutbox(obPath); err != nil {
			return nil, err
		}
	}
	// Leftovers of an interrupted create or compaction are removed only now
	// that this process holds the outbox's lock: another Triage Desk that
	// is compacting holds it too, so its temporary file is never taken
	// from under it.
	s.removeTemps()
	if err := s.prepareOutbox(); err != nil {
		closeQuietly(s.outbox)
		return nil, err
	}
	_ = guard(func() error {
		return s.outbox.View(func(tx *bolt.Tx) error {
			s.damaged = s.obReader().scan(tx)
			return nil
		})
	})
	if n := len(s.damaged); n > 0 {
		s.report.OutboxDamaged = n
		s.log.Error("outbox has damaged records: they are reported and left as they are", "records", n, "held", s.held())
	}
	if err := s.openCache(); err != nil {
		closeQuietly(s.outbox)
		closeQuietly(s.cache)
		return nil, err
	}
	s.report.InFlight = s.countInFlight()
	s.log.Info("store opened", "cache_created", s.report.CacheCreated,
		"cache_set_aside", s.report.CacheSetAside != "", "unclean_shutdown", s.report.UncleanShutdown,
		"in_flight", s.report.InFlight)
	return s, nil
}

func (s *Store) createMasterKey(ctx context.Context, account string) ([]byte, error) {
	key := randomBytes(MasterKeySize)
	if err := s.opts.Keys.Put(ctx, account, key); errors.Is(err, ErrKeyFileUnusable) {
		return nil, userError(triage.EINVALID, ErrKeyFileUnusable, err, err.Error())
	} else if err != nil {
		s.log.Warn("cannot store a master key: running online-only", "err", err)
		return nil, userError(triage.EUNAVAILABLE, ErrKeychainUnavailable, err, msgKeychainUnavailable)
	}
	// Read it back: some keychains accept a write they do not keep.
	got, err := s.opts.Keys.Get(ctx, account)
	if err != nil || !bytes.Equal(got, key) {
		if err == nil {
			err = errors.New("the keychain returned a different key")
		}
		s.log.Warn("master key did not read back: running online-only", "err", err)
		return nil, userError(triage.EUNAVAILABLE, ErrKeychainUnavailable, err, msgKeychainUnavailable)
	}
	s.log.Info("created master key")
	return key, nil
}

// Report returns what Open found and did.
func (s *Store) Report() OpenReport {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.report
}

// Dir returns the user's folder holding cache.db and outbox.db.
func (s *Store) Dir() string { return s.dir }

// Close clears the open marker and closes both files. Closing twice is not
// an error.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.cache != nil {
		errs = append(errs, guard(func() error {
			return s.cache.Update(func(tx *bolt.Tx) error {
				if m := tx.Bucket([]byte(bMeta)); m != nil {
					return m.Delete(mOpen)
				}
				return nil
			})
		}))
		errs = append(errs, guard(s.cache.Close))
	}
	if s.outbox != nil {
		errs = append(errs, guard(s.outbox.Close))
	}
	s.forgetKeys()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

func (s *Store) forgetKeys() {
	clear(s.keys.outbox)
	clear(s.keys.cache)
	clear(s.keys.wrap)
	clear(s.keys.index)
}

func (s *Store) now() time.Time { return s.opts.Clock() }

func (s *Store) emit(cs ...Change) {
	if s.opts.OnChange == nil {
		return
	}
	for _, c := range cs {
		s.opts.OnChange(c)
	}
}

// acquire takes the read lock for an operation, checking ctx and Close.
func (s *Store) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errClosed()
	}
	return nil
}

// outboxTx runs fn in an outbox transaction (write when update), turning a
// bbolt panic into ErrOutboxDamaged, and a record that fails
// authentication into ErrOutboxDamaged naming the record (which is
// remembered, see OutboxDamage).
func (s *Store) outboxTx(ctx context.Context, update bool, fn func(tx *bolt.Tx) error) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	err := guard(func() error {
		if update {
			return s.outbox.Update(fn)
		}
		return s.outbox.View(fn)
	})
	s.mu.RUnlock()
	var pe *panicError
	if errors.As(err, &pe) {
		s.log.Error("outbox read failed", "err", err)
		return userError(triage.EINTERNAL, ErrOutboxDamaged, err, msgOutboxDamaged)
	}
	if errors.Is(err, errSealBroken) {
		s.log.Error("outbox record failed authentication", "err", err)
		if recs := damagedRecords(err); len(recs) > 0 && s.noteDamage(recs) {
			s.emit(Change{Kind: ChangeOutbox})
		}
		var te *triage.Error
		if errors.As(err, &te) && errors.Is(err, ErrOutboxDamaged) {
			return err // it says already what the damage means here
		}
		return userError(triage.EINTERNAL, ErrOutboxDamaged, err, msgRecordDamaged)
	}
	return err
}

// cacheTx runs fn in a cache transaction. A record that fails
// authentication is dropped (dropCacheRecords: it is downloaded again) and
// fn runs again, so fn must start from scratch each time. When records
// cannot be dropped, or bbolt panics reading the file, the whole cache is
// set aside and rebuilt (RebuildCache) and the call fails with
// ErrCacheDamaged: the next sync downloads everything again.
func (s *Store) cacheTx(ctx context.Context, update bool, fn func(tx *bolt.Tx) error) error {
	const maxDrops = 3
	var err error
	for attempt := 0; ; attempt++ {
		if err = s.cacheTxOnce(ctx, update, fn); err == nil {
			return nil
		}
		var pe *panicError
		if errors.As(err, &pe) {
			s.log.Error("cache read failed", "err", err)
			break
		}
		recs := damagedRecords(err)
		if len(recs) == 0 {
			return err
		}
		if attempt == maxDrops {
			break
		}
		ubrns, derr := s.dropCacheRecords(ctx, recs)
		if derr != nil {
			s.log.Error("damaged cache records could not be removed", "err", derr)
			err = errors.Join(err, derr)
			break
		}
		s.log.Warn("damaged cache records removed; they will be downloaded again", "records", len(recs))
		for _, u := range ubrns {
			s.emit(Change{Kind: ChangeCacheRecordsDropped, UBRN: u})
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if _, rerr := s.RebuildCache(ctx); rerr != nil {
		return userError(triage.EINTERNAL, ErrCacheDamaged, errors.Join(err, rerr), msgCacheDamaged)
	}
	return userError(triage.EINTERNAL, ErrCacheDamaged, err, msgCacheRebuilt)
}

// cacheTxOnce runs fn in one cache transaction.
func (s *Store) cacheTxOnce(ctx context.Context, update bool, fn func(tx *bolt.Tx) error) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return guard(func() error {
		if update {
			return s.cache.Update(fn)
		}
		return s.cache.View(fn)
	})
}

// RebuildCache sets cache.db aside (as after a failed open) and starts an
// empty one; cache calls do it themselves when the file cannot be read. The
// outbox is not touched. It returns the path the old file was renamed to,
// and emits ChangeCacheRebuilt so the engine downloads everything again.
func (s *Store) RebuildCache(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", errClosed()
	}
	path := s.cache.Path()
	closeQuietly(s.cache)
	s.cache = nil
	aside, err := s.setAside(path)
	if err == nil {
		err = s.openCache()
	}
	if err != nil {
		s.closed = true // without a cache the store cannot work; reopen it
		closeQuietly(s.outbox)
		s.mu.Unlock()
		return "", fmt.Errorf("rebuild cache: %w", err)
	}
	s.report.CacheSetAside = aside
	s.report.CacheProblem = "The offline copy of your referrals was damaged, so it was set aside and will be downloaded again from e-RS."
	s.mu.Unlock()
	s.log.Warn("cache set aside and rebuilt")
	s.emit(Change{Kind: ChangeCacheRebuilt})
	return aside, nil
}

func (s *Store) countInFlight() int {
	n := 0
	_ = s.eachEntry(context.Background(), func(e *Entry) error {
		if e.State == triage.OutboxSending {
			n++
		}
		return nil
	})
	return n
}
