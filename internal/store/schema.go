package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Schema versions of the two files. A file records its version in its meta
// bucket; opening an older file runs the migrations up to the current one in
// one transaction, and a newer file is refused (outbox) or set aside
// (cache). The version is part of every value's associated data.
const (
	CacheSchemaVersion  uint32 = 1
	OutboxSchemaVersion uint32 = 1
)

// File format markers, so cache.db and outbox.db cannot be swapped.
const (
	cacheFormat  = "triagedesk-cache"
	outboxFormat = "triagedesk-outbox"
)

// Bucket names. None carries patient data.
const (
	bMeta = "meta"

	// outbox.db
	bDecisions = "decisions" // decisionKey -> sealed triage.Decision
	bEntries   = "entries"   // decisionKey -> sealed Entry
	bActive    = "active"    // refKey -> sealed id of the referral's unsent decision
	bAudit     = "audit"     // seq (8 bytes) -> sealed hash ‖ AuditRecord JSON

	// cache.db
	bRefs      = "refs"      // refKey -> wrapped data key ‖ sealed refInfo
	bReferrals = "referrals" // refKey -> sealed referral record (data key)
	bDocs      = "docs"      // refKey ‖ docHMAC -> sealed document bytes (data key)
	bWorklists = "worklists" // list type -> sealed gob of WorklistSnapshot
	bRefData   = "refdata"   // "current" -> sealed triage.ReferenceData
)

// Meta keys. The schema version and format are plain (they are needed to
// build the associated data); everything else is sealed.
var (
	mSchema    = []byte("schema")
	mFormat    = []byte("format")
	mKeyCheck  = []byte("keycheck")  // sealed constant: proves the master key
	mAuditHead = []byte("audithead") // sealed {seq, hash} of the last audit record
	mOpen      = []byte("open")      // set while open: an unclean shutdown leaves it
	mLastSync  = []byte("lastsync")  // sealed time of the last successful worklist pull
)

var keyCheckPlain = []byte("triagedesk key check v1")

// migration upgrades a file from version from to from+1 inside one
// transaction.
type migration struct {
	from uint32
	fn   func(tx *bolt.Tx) error
}

func createBuckets(names ...string) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucketIfNotExists([]byte(n)); err != nil {
				return fmt.Errorf("create bucket %s: %w", n, err)
			}
		}
		return nil
	}
}

// The migration paths. Version 0 is a new, empty file.
var (
	outboxMigrations = []migration{
		{from: 0, fn: createBuckets(bMeta, bDecisions, bEntries, bActive, bAudit)},
	}
	cacheMigrations = []migration{
		{from: 0, fn: createBuckets(bMeta, bRefs, bReferrals, bDocs, bWorklists, bRefData)},
	}
)

// schemaOf reads a file's schema version and format (0 and "" for a new
// file).
func schemaOf(tx *bolt.Tx) (uint32, string) {
	m := tx.Bucket([]byte(bMeta))
	if m == nil {
		return 0, ""
	}
	v := m.Get(mSchema)
	if len(v) != 4 {
		return 0, string(m.Get(mFormat))
	}
	return binary.BigEndian.Uint32(v), string(m.Get(mFormat))
}

// migrate brings tx's file to version target along path, recording format.
// It returns the version found. A version above target is ErrNewerSchema.
func migrate(tx *bolt.Tx, format string, target uint32, path []migration) (uint32, error) {
	found, f := schemaOf(tx)
	if f != "" && f != format {
		return found, fmt.Errorf("file holds %q data, expected %q", f, format)
	}
	if found > target {
		return found, fmt.Errorf("schema version %d, this build reads up to %d: %w", found, target, ErrNewerSchema)
	}
	for v := found; v < target; v++ {
		step := -1
		for i, m := range path {
			if m.from == v {
				step = i
			}
		}
		if step < 0 {
			return found, fmt.Errorf("no migration from schema version %d", v)
		}
		if err := path[step].fn(tx); err != nil {
			return found, fmt.Errorf("migrate from schema version %d: %w", v, err)
		}
	}
	m := tx.Bucket([]byte(bMeta))
	if m == nil {
		return found, fmt.Errorf("migrate: meta bucket missing")
	}
	if err := m.Put(mSchema, binary.BigEndian.AppendUint32(nil, target)); err != nil {
		return found, err
	}
	if err := m.Put(mFormat, []byte(format)); err != nil {
		return found, err
	}
	return found, nil
}
