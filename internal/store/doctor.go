package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
)

// FileState is the health of one store file as triagectl doctor sees it.
type FileState string

// The file states.
const (
	FileOK       FileState = "ok"
	FileMissing  FileState = "missing"
	FileInUse    FileState = "in-use"  // Triage Desk has it open
	FileDamaged  FileState = "damaged" // bbolt cannot read it safely
	FileWrongKey FileState = "wrong-key"
	FileNewer    FileState = "newer" // written by a newer version
	// FileRecordsDamaged: the file opens, but some of its records fail
	// authentication (bit rot inside single values). Found only with the
	// key.
	FileRecordsDamaged FileState = "damaged-records"
)

// FileReport describes one file without revealing patient data.
type FileReport struct {
	Path    string
	State   FileState
	Size    int64
	Schema  uint32
	Problem string         // plain English, empty when fine
	Counts  map[string]int // records per bucket (needs no key)
	// With a key: how many decisions are unsent (counting damaged records
	// that may hold one), and the audit check.
	KeyChecked   bool
	Unsent       int
	AuditRecords uint64
	AuditProblem string
	// With a key: the outbox's damaged records, named as far as the audit
	// log allows (FileRecordsDamaged), or how many cache records are
	// damaged (they are dropped and downloaded again by the next sync).
	Damage       OutboxDamage
	CacheDamaged int
}

// KeyState says whether the user's master key could be read.
type KeyState string

// The key states.
const (
	KeyNotChecked  KeyState = "not-checked" // no key provider given
	KeyPresent     KeyState = "present"
	KeyMissing     KeyState = "missing"
	KeyUnavailable KeyState = "keychain-unavailable"
)

// UserReport is the diagnosis of one user's folder.
type UserReport struct {
	Dir      string
	Key      KeyState
	Cache    FileReport
	Outbox   FileReport
	SetAside []string // damaged files kept for support
}

// UserDirs lists the user folders under a profile folder.
func UserDirs(profileDir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(profileDir, "users"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, filepath.Join(profileDir, "users", e.Name()))
		}
	}
	return out, nil
}

// Diagnose inspects one user folder read-only: it never changes a file. With
// keys (may be nil) it also checks the key, counts unsent decisions and
// verifies the audit log.
func Diagnose(ctx context.Context, dir string, keys KeyProvider) UserReport {
	r := UserReport{Dir: dir, Key: KeyNotChecked}
	var ks *keyset
	if keys != nil {
		mk, err := keys.Get(ctx, MasterKeyAccount(filepath.Base(dir)))
		switch {
		case err == nil:
			if k, err := deriveKeys(mk); err == nil {
				ks = &k
				r.Key = KeyPresent
			} else {
				r.Key = KeyMissing
			}
		case errors.Is(err, ErrKeyNotFound), errors.Is(err, ErrKeyMismatch):
			r.Key = KeyMissing
		default:
			r.Key = KeyUnavailable
		}
	}
	r.Cache = diagnoseFile(filepath.Join(dir, CacheFile), cacheFormat, CacheSchemaVersion, filepath.Base(dir), ks)
	r.Outbox = diagnoseFile(filepath.Join(dir, OutboxFile), outboxFormat, OutboxSchemaVersion, filepath.Base(dir), ks)
	m, _ := filepath.Glob(filepath.Join(dir, "*.corrupt-*"))
	m2, _ := filepath.Glob(filepath.Join(dir, "*.set-aside-*"))
	r.SetAside = append(m, m2...)
	return r
}

func diagnoseFile(path, format string, schema uint32, userDir string, ks *keyset) FileReport {
	fr := FileReport{Path: path, Counts: map[string]int{}}
	fi, err := os.Stat(path)
	if err != nil {
		fr.State = FileMissing
		fr.Problem = "The file does not exist (normal before first use)."
		return fr
	}
	fr.Size = fi.Size()
	db, err := openBolt(path, 500*time.Millisecond, true)
	switch {
	case errors.Is(err, ErrAlreadyRunning):
		fr.State = FileInUse
		fr.Problem = "Triage Desk has this file open. Close Triage Desk and run the check again."
		return fr
	case err != nil:
		fr.State = FileDamaged
		fr.Problem = "The file is damaged and cannot be read as a database (" + err.Error() + ")."
		return fr
	}
	defer closeQuietly(db)
	if err := checkBolt(db); err != nil {
		fr.State = FileDamaged
		fr.Problem = "The file is damaged: " + err.Error() + "."
		return fr
	}
	fr.State = FileOK
	err = guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			v, f := schemaOf(tx)
			fr.Schema = v
			if f != "" && f != format {
				fr.State = FileDamaged
				fr.Problem = fmt.Sprintf("The file holds %q data, not %q: files may have been swapped.", f, format)
				return nil
			}
			if v > schema {
				fr.State = FileNewer
				fr.Problem = "The file was written by a newer version of Triage Desk."
				return nil
			}
			if v == 0 && tx.Bucket([]byte(bMeta)) != nil {
				fr.State = FileDamaged
				fr.Problem = "The file is damaged: its schema version is missing."
				return nil
			}
			_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
				fr.Counts[string(name)] = b.Stats().KeyN
				return nil
			})
			if ks == nil {
				return nil
			}
			key := ks.cache
			if format == outboxFormat {
				key = ks.outbox
			}
			se, _ := newSealer(key, userDir, v)
			ob := outboxReader{se: se, index: ks.index}
			m := tx.Bucket([]byte(bMeta))
			if m == nil || m.Get(mKeyCheck) == nil {
				return nil
			}
			if _, err := se.open(bMeta, mKeyCheck, m.Get(mKeyCheck)); err != nil && (format != outboxFormat || !ob.anyReadable(tx)) {
				fr.State = FileWrongKey
				fr.Problem = "The key in the keychain does not open this file (the keychain was reset, or this is another user's file)."
				return nil
			}
			fr.KeyChecked = true
			if format != outboxFormat {
				fr.CacheDamaged = len(ks.cacheReader(userDir).scan(tx))
				if fr.CacheDamaged > 0 {
					fr.State = FileRecordsDamaged
					fr.Problem = fmt.Sprintf("%d record(s) in the offline copy are damaged. Triage Desk removes them and downloads them again from e-RS at the next sync; nothing needs doing.", fr.CacheDamaged)
				}
				return nil
			}
			fr.Damage = ob.describe(tx, ob.scan(tx))
			if b := tx.Bucket([]byte(bEntries)); b != nil {
				_ = b.ForEach(func(k, v []byte) error {
					var e Entry
					if se.openJSON(bEntries, k, v, &e) == nil && e.State.Unsent() &&
						ob.readable(bDecisions, k, tx.Bucket([]byte(bDecisions)).Get(k)) {
						fr.Unsent++
					}
					return nil
				})
			}
			fr.Unsent += fr.Damage.PossiblyUnsent()
			if fr.Damage.Damaged() {
				fr.State = FileRecordsDamaged
				fr.Problem = fr.Damage.Summary()
			}
			if tx.Bucket([]byte(bAudit)) != nil {
				sum, err := verifyAuditTx(tx, se, func(tx *bolt.Tx) (auditHead, error) {
					v := tx.Bucket([]byte(bMeta)).Get(mAuditHead)
					if v == nil {
						return auditHead{Hash: make([]byte, sha256.Size)}, nil
					}
					var h auditHead
					if err := se.openJSON(bMeta, mAuditHead, v, &h); err != nil {
						return auditHead{}, err
					}
					return h, nil
				})
				fr.AuditRecords = sum.Records
				if err != nil {
					fr.AuditProblem = err.Error()
				}
			}
			return nil
		})
	})
	if err != nil {
		fr.State = FileDamaged
		fr.Problem = "Reading the file failed: " + err.Error() + "."
	}
	return fr
}

// SetAsideOutbox renames a damaged outbox.db (whole, or with damaged
// records), or one whose key is missing or wrong, in dir to
// outbox.db.set-aside-<timestamp> so Triage Desk can start with an empty
// outbox. It never deletes anything and refuses a healthy file. Export
// what can be read first.
func SetAsideOutbox(ctx context.Context, dir string, keys KeyProvider, now time.Time) (string, error) {
	r := Diagnose(ctx, dir, keys)
	switch {
	case r.Outbox.State == FileInUse:
		return "", fmt.Errorf("set aside: %w", ErrAlreadyRunning)
	case r.Outbox.State == FileMissing:
		return "", errors.New("set aside: there is no saved decisions file")
	case r.Outbox.State == FileDamaged, r.Outbox.State == FileRecordsDamaged, r.Outbox.State == FileWrongKey, r.Key == KeyMissing:
	default:
		return "", fmt.Errorf("set aside: the saved decisions file is %s, not damaged or locked out; it was left in place", r.Outbox.State)
	}
	path := filepath.Join(dir, OutboxFile)
	aside := fmt.Sprintf("%s.set-aside-%s", path, now.UTC().Format("20060102T150405Z"))
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("set aside: %w", err)
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return "", err
	}
	return aside, nil
}
