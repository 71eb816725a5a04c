// Package store is Triage Desk's encrypted offline store: the per-user
// cache of referrals and documents (cache.db) and the durable outbox of
// clinical decisions with its audit log (outbox.db).
//
// # Layout
//
// Each CIS2 user has a folder of their own under the profile folder:
//
//	<profile>/users/<UserDirName(sdsUserID)>/cache.db
//	<profile>/users/<UserDirName(sdsUserID)>/outbox.db
//
// and a master key of their own in the OS keychain (service KeychainService,
// account MasterKeyAccount(sdsUserID)), so on a shared workstation one
// clinician never sees another's cached referrals or unsent decisions. The
// two files are separate bbolt databases so that a damaged document cache can
// never take unsent decisions with it: a corrupt cache.db is renamed aside
// and rebuilt from e-RS; a corrupt outbox.db is never changed automatically.
//
// # Sealing
//
// Every value is sealed with XChaCha20-Poly1305. The associated data binds
// the ciphertext to its bucket, its key, the file's schema version and the
// user, so a value cannot be moved to another record, file version or user.
// Bucket names and keys never contain patient data: a referral is keyed by
// an HMAC of its UBRN under a key derived from the master key. Each
// referral's cached data (FHIR JSON, parsed referral, CRI PDFs, attachments,
// drafts) is sealed under a per-referral data key, itself sealed under the
// master key; purging a referral deletes that key first (crypto-shredding)
// and compaction then removes the ciphertext from the file.
//
// # Durability
//
// Enqueue writes the decision, its outbox entry and an audit record in one
// bbolt transaction with fsync on, and returns only when it is on disk.
// Outbox state changes go through methods that refuse illegal transitions
// and write their audit record in the same transaction. The audit log is
// append-only and hash-chained; VerifyAudit detects edits, deletions and
// reordering.
//
// # Errors
//
// Errors a user may see are *triage.Error values with plain-English
// messages; the sentinel errors of this package (ErrKeychainUnavailable,
// ErrAlreadyRunning, ErrOutboxDamaged, ...) sit in their chains for
// errors.Is. No error, log line or file name produced by this package
// contains patient data.
package store
