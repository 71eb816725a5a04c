package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func (s *Store) openOutbox(path string) (*bolt.DB, error) {
	classify := func(err error) error {
		switch {
		case errors.Is(err, ErrAlreadyRunning):
			return userError(triage.EUNAVAILABLE, ErrAlreadyRunning, err, msgAlreadyRunning)
		case isDamaged(err):
			s.log.Error("outbox damaged: refusing to start", "err", err)
			return userError(triage.EINTERNAL, ErrOutboxDamaged, err, msgOutboxDamaged)
		}
		return fmt.Errorf("open saved decisions: %w", err)
	}
	// Check it read-only first: opening read-write can make bbolt write
	// (it syncs a missing freelist), and a damaged outbox must stay exactly
	// as it is. The outbox is small, so it is checked on every open.
	ro, err := openBolt(path, s.opts.LockTimeout, true)
	if err != nil {
		return nil, classify(err)
	}
	err = checkBolt(ro)
	closeQuietly(ro)
	if err != nil {
		return nil, classify(err)
	}
	db, err := openBolt(path, s.opts.LockTimeout, false)
	if err != nil {
		return nil, classify(err)
	}
	return db, nil
}

// initOutbox creates a new outbox's buckets and key check.
func (s *Store) initOutbox(tx *bolt.Tx) error {
	if _, err := migrate(tx, outboxFormat, OutboxSchemaVersion, outboxMigrations); err != nil {
		return err
	}
	return tx.Bucket([]byte(bMeta)).Put(mKeyCheck, s.obSeal.seal(bMeta, mKeyCheck, keyCheckPlain))
}

// prepareOutbox checks the outbox's format and schema and proves the key
// opens it, reading only: opening never writes to the outbox (a read-only
// command leaves it byte for byte as it was). Only a file of an older
// schema is migrated, in one transaction.
func (s *Store) prepareOutbox() error {
	var found uint32
	empty := false
	err := guard(func() error {
		return s.outbox.View(func(tx *bolt.Tx) error {
			m := tx.Bucket([]byte(bMeta))
			if m == nil {
				// A file without buckets (an interrupted first start) is
				// set up below; buckets without their bookkeeping mean
				// the file lost it.
				empty = tx.ForEach(func([]byte, *bolt.Bucket) error { return errStop }) == nil
				if !empty {
					return errors.New("the file's bookkeeping is missing")
				}
				return nil
			}
			var format string
			found, format = schemaOf(tx)
			switch {
			case format != "" && format != outboxFormat:
				return fmt.Errorf("file holds %q data, expected %q", format, outboxFormat)
			case found > OutboxSchemaVersion:
				return fmt.Errorf("schema version %d, this build reads up to %d: %w", found, OutboxSchemaVersion, ErrNewerSchema)
			case found == 0:
				// Every outbox is created at a schema version: a file
				// without one lost it.
				return errors.New("the file's schema version is missing")
			}
			kc := m.Get(mKeyCheck)
			if kc == nil {
				return nil
			}
			if _, err := s.obSeal.open(bMeta, mKeyCheck, kc); err != nil && !s.obReader().anyReadable(tx) {
				// Nothing opens under this key: it is the wrong key. (A
				// damaged key check beside readable records is reported
				// as a damaged record instead.)
				return ErrKeyMismatch
			}
			return nil
		})
	})
	if err == nil && (empty || found < OutboxSchemaVersion) {
		err = guard(func() error {
			return s.outbox.Update(func(tx *bolt.Tx) error {
				if empty {
					return s.initOutbox(tx)
				}
				_, err := migrate(tx, outboxFormat, OutboxSchemaVersion, outboxMigrations)
				return err
			})
		})
		if err == nil {
			s.log.Info("migrated outbox", "from", found, "to", OutboxSchemaVersion)
		}
	}
	var pe *panicError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrKeyMismatch):
		s.log.Error("master key does not open the outbox")
		return userError(triage.EINTERNAL, ErrKeyMismatch, err, msgKeyMismatch)
	case errors.Is(err, ErrNewerSchema):
		return userError(triage.EINTERNAL, ErrNewerSchema, err, msgOutboxNewer)
	case errors.As(err, &pe):
		return userError(triage.EINTERNAL, ErrOutboxDamaged, err, msgOutboxDamaged)
	}
	s.log.Error("outbox damaged: refusing to start", "err", err)
	return userError(triage.EINTERNAL, ErrOutboxDamaged, err, msgOutboxDamaged)
}

// openCache opens cache.db, setting it aside and starting afresh when it
// cannot be used.
func (s *Store) openCache() error {
	path := filepath.Join(s.dir, CacheFile)
	for attempt := 0; attempt < 2; attempt++ {
		if !fileExists(path) {
			if err := createBolt(path, s.initCache); err != nil {
				return err
			}
			s.report.CacheCreated = true
		}
		db, err := openBolt(path, s.opts.LockTimeout, false)
		if errors.Is(err, ErrAlreadyRunning) {
			return userError(triage.EUNAVAILABLE, ErrAlreadyRunning, err, msgAlreadyRunning)
		}
		if err == nil {
			err = s.prepareCache(db)
		}
		if err == nil {
			s.cache = db
			return nil
		}
		closeQuietly(db)
		var reason string
		switch {
		case isDamaged(err):
			reason = "it was damaged"
		case errors.Is(err, ErrKeyMismatch):
			reason = "it was locked with a key that is no longer in the keychain"
		case errors.Is(err, ErrNewerSchema):
			reason = "it was written by a newer version of Triage Desk"
		default:
			return fmt.Errorf("open referral cache: %w", err)
		}
		aside, aerr := s.setAside(path)
		if aerr != nil {
			return aerr
		}
		s.log.Warn("cache set aside and recreated", "reason", reason, "err", err)
		s.report.CacheSetAside = aside
		s.report.CacheProblem = "The offline copy of your referrals could not be used (" + reason + "), so it was set aside and will be downloaded again from e-RS."
	}
	return errors.New("open referral cache: the new cache could not be opened")
}

func (s *Store) initCache(tx *bolt.Tx) error {
	if _, err := migrate(tx, cacheFormat, CacheSchemaVersion, cacheMigrations); err != nil {
		return err
	}
	return tx.Bucket([]byte(bMeta)).Put(mKeyCheck, s.cacheSeal.seal(bMeta, mKeyCheck, keyCheckPlain))
}

// prepareCache migrates, proves the key, checks the file after an unclean
// shutdown, and sets the open marker.
func (s *Store) prepareCache(db *bolt.DB) error {
	unclean := false
	_ = guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			if m := tx.Bucket([]byte(bMeta)); m != nil {
				unclean = m.Get(mOpen) != nil
			}
			return nil
		})
	})
	if unclean {
		s.report.UncleanShutdown = true
		if err := checkBolt(db); err != nil {
			return err
		}
	}
	err := guard(func() error {
		return db.Update(func(tx *bolt.Tx) error {
			if _, err := migrate(tx, cacheFormat, CacheSchemaVersion, cacheMigrations); err != nil {
				return err
			}
			m := tx.Bucket([]byte(bMeta))
			kc := m.Get(mKeyCheck)
			if kc == nil {
				if err := m.Put(mKeyCheck, s.cacheSeal.seal(bMeta, mKeyCheck, keyCheckPlain)); err != nil {
					return err
				}
			} else if _, err := s.cacheSeal.open(bMeta, mKeyCheck, kc); err != nil {
				return ErrKeyMismatch
			}
			return m.Put(mOpen, s.cacheSeal.seal(bMeta, mOpen, []byte{1}))
		})
	})
	var pe *panicError
	if errors.As(err, &pe) {
		return &damagedError{file: CacheFile, reason: "reading it crashed the database library", err: err}
	}
	return err
}

// setAside renames a damaged cache file to cache.db.corrupt-<timestamp>.
func (s *Store) setAside(path string) (string, error) {
	aside := fmt.Sprintf("%s.corrupt-%s", path, s.opts.Clock().UTC().Format("20060102T150405.000000000Z"))
	if err := atomicfile.Rename(path, aside); err != nil {
		return "", fmt.Errorf("set aside damaged cache: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return "", err
	}
	return aside, nil
}

// removeTemps deletes leftovers of an interrupted create or compaction.
// They hold only sealed data; the real files are intact.
func (s *Store) removeTemps() {
	for _, pat := range []string{"*.init-tmp", "*.compact-tmp"} {
		m, _ := filepath.Glob(filepath.Join(s.dir, pat))
		for _, f := range m {
			_ = os.Remove(f)
		}
	}
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
