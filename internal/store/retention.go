package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Retention is how long patient data stays on the computer.
type Retention struct {
	// AfterSent: a referral's cached data is purged this long after a
	// decision on it was sent (default 7 days). Sent and discarded outbox
	// entries are removed after the same time; their audit records stay.
	AfterSent time.Duration
	// WithoutSync: a referral's cached data is purged when it has not been
	// refreshed from e-RS for this long (default 14 days); so are old
	// worklist snapshots and set-aside damaged cache files.
	WithoutSync time.Duration
	// CompactFreeRatio: MaybeCompact compacts a file when more than this
	// share of its pages is free (default 0.5).
	CompactFreeRatio float64
}

// Default retention periods.
const (
	DefaultAfterSent   = 7 * 24 * time.Hour
	DefaultWithoutSync = 14 * 24 * time.Hour
)

func (r Retention) withDefaults() Retention {
	if r.AfterSent <= 0 {
		r.AfterSent = DefaultAfterSent
	}
	if r.WithoutSync <= 0 {
		r.WithoutSync = DefaultWithoutSync
	}
	if r.CompactFreeRatio <= 0 || r.CompactFreeRatio >= 1 {
		r.CompactFreeRatio = 0.5
	}
	return r
}

// PurgeReport says what RunRetention removed.
type PurgeReport struct {
	Referrals     int // referrals whose cached data (and data key) was purged
	Decisions     int // sent or discarded outbox entries removed
	Worklists     int // stale worklist snapshots removed
	SetAsideFiles int // old damaged cache files deleted
	// AdviceRequests and AdviceActions: A&G requests whose cached data was
	// purged, and sent or discarded A&G outbox entries removed.
	AdviceRequests int
	AdviceActions  int
	Compacted      bool
	Compaction     CompactReport
}

// Purge reasons, recorded in the audit log.
const (
	PurgeAfterSent   = "decision sent and retention period passed"
	PurgeWithoutSync = "not refreshed from e-RS within the retention period"
	PurgeRequested   = "removed on request"
)

type refOutboxState struct {
	unsent bool
	sentAt time.Time
}

// RunRetention applies the retention policy at the clock's now: it purges
// referrals (never one with an unsent decision), removes old terminal outbox
// entries and stale snapshots, audits each purge, and compacts both files if
// anything was removed so the deleted data leaves the disk.
func (s *Store) RunRetention(ctx context.Context) (PurgeReport, error) {
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	var rep PurgeReport
	now := s.now()
	pol := s.opts.Retention

	// What the outbox says about each referral.
	byRef := map[string]*refOutboxState{}
	var oldEntries []Entry
	err := s.eachEntry(ctx, func(e *Entry) error {
		rk := string(refKey(s.keys.index, e.UBRN))
		st := byRef[rk]
		if st == nil {
			st = &refOutboxState{}
			byRef[rk] = st
		}
		switch {
		case e.State.Unsent():
			st.unsent = true
		case e.State == triage.OutboxSent && e.Sent != nil:
			if e.Sent.At.After(st.sentAt) {
				st.sentAt = e.Sent.At
			}
			if now.Sub(e.Sent.At) >= pol.AfterSent {
				oldEntries = append(oldEntries, *e)
			}
		case e.State == triage.OutboxDiscarded && now.Sub(e.UpdatedAt) >= pol.AfterSent:
			oldEntries = append(oldEntries, *e)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("retention: %w", err)
	}

	// When each listed referral was last seen on a pulled worklist.
	listedAt := map[string]time.Time{}
	var staleLists [][]byte
	err = s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bWorklists)).ForEach(func(k, v []byte) error {
			pt, err := s.cacheSeal.open(bWorklists, k, v)
			if err != nil {
				staleLists = append(staleLists, bytes.Clone(k))
				return nil
			}
			var snap WorklistSnapshot
			if err := decodeSnapshot(pt, &snap); err != nil {
				staleLists = append(staleLists, bytes.Clone(k))
				return nil
			}
			if now.Sub(snap.StoredAt) >= pol.WithoutSync {
				staleLists = append(staleLists, bytes.Clone(k))
				return nil
			}
			for _, it := range snap.Items {
				rk := string(refKey(s.keys.index, it.UBRN))
				if snap.StoredAt.After(listedAt[rk]) {
					listedAt[rk] = snap.StoredAt
				}
			}
			return nil
		})
	})
	if err != nil {
		return rep, fmt.Errorf("retention: %w", err)
	}

	// Which referrals to purge.
	type victim struct {
		key    []byte
		ubrn   string
		reason string
	}
	var victims []victim
	err = s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bRefs)).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			st := byRef[string(k)]
			if st != nil && st.unsent {
				return nil // never purge a referral with an unsent decision
			}
			r, err := s.decodeRef(k, v)
			if err != nil {
				// Unreadable: its key is gone or it was damaged; remove it.
				victims = append(victims, victim{key: bytes.Clone(k), reason: "unreadable record"})
				return nil
			}
			if st != nil && !st.sentAt.IsZero() && now.Sub(st.sentAt) >= pol.AfterSent {
				victims = append(victims, victim{key: bytes.Clone(k), ubrn: r.info.UBRN, reason: PurgeAfterSent})
				return nil
			}
			last := latest(r.info.Created, r.info.FetchedAt, r.info.Local.LastSynced, listedAt[string(k)])
			for _, d := range r.info.Docs {
				last = latest(last, d.FetchedAt)
			}
			if now.Sub(last) >= pol.WithoutSync {
				victims = append(victims, victim{key: bytes.Clone(k), ubrn: r.info.UBRN, reason: PurgeWithoutSync})
			}
			return nil
		})
	})
	if err != nil {
		return rep, fmt.Errorf("retention: %w", err)
	}

	// Audit first, so nothing is ever purged silently; then delete.
	if len(victims) > 0 || len(oldEntries) > 0 {
		err = s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
			for _, v := range victims {
				if v.ubrn == "" {
					continue
				}
				if _, err := s.appendAudit(tx, AuditRecord{Event: EventPurge, UBRN: v.ubrn, Note: v.reason,
					Who: triage.Identity{SDSUserID: s.opts.UserID}}); err != nil {
					return err
				}
			}
			for _, e := range oldEntries {
				k := decisionKey(s.keys.index, e.ID)
				if err := tx.Bucket([]byte(bEntries)).Delete(k); err != nil {
					return err
				}
				if err := tx.Bucket([]byte(bDecisions)).Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("retention: %w", err)
		}
		rep.Decisions = len(oldEntries)
	}
	if len(victims) > 0 || len(staleLists) > 0 {
		err = s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
			for _, v := range victims {
				if err := purgeRefTx(tx, v.key); err != nil {
					return err
				}
			}
			for _, k := range staleLists {
				if err := deleteWorklistTx(tx, k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("retention: %w", err)
		}
		rep.Referrals = len(victims)
		rep.Worklists = len(staleLists)
	}
	rep.SetAsideFiles = s.removeOldSetAside(now, pol.WithoutSync)
	rep.AdviceRequests, rep.AdviceActions, err = s.purgeAdvice(ctx, now, pol)
	if err != nil {
		return rep, fmt.Errorf("retention: %w", err)
	}

	if rep.Referrals+rep.Decisions+rep.Worklists+rep.AdviceRequests+rep.AdviceActions > 0 {
		c, err := s.Compact(ctx)
		if err != nil {
			return rep, err
		}
		rep.Compacted, rep.Compaction = true, c
	}
	s.log.Info("retention run", "referrals_purged", rep.Referrals, "entries_removed", rep.Decisions,
		"worklists_removed", rep.Worklists, "set_aside_removed", rep.SetAsideFiles,
		"advice_requests_purged", rep.AdviceRequests, "advice_entries_removed", rep.AdviceActions, "compacted", rep.Compacted)
	for _, v := range victims {
		s.emit(Change{Kind: ChangePurge, UBRN: v.ubrn})
	}
	return rep, nil
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// purgeRefTx deletes a referral's data key first (crypto-shredding
// everything sealed under it), then its referral record and documents.
func purgeRefTx(tx *bolt.Tx, k []byte) error {
	if err := tx.Bucket([]byte(bRefs)).Delete(k); err != nil {
		return err
	}
	if err := tx.Bucket([]byte(bReferrals)).Delete(k); err != nil {
		return err
	}
	c := tx.Bucket([]byte(bDocs)).Cursor()
	for dk, _ := c.Seek(k); dk != nil && bytes.HasPrefix(dk, k); dk, _ = c.Seek(k) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// PurgeReferral removes one referral's cached data now (for example when the
// clinician no longer has access to it), audited. It refuses while the
// referral has an unsent decision. Call Compact afterwards to remove the
// bytes from the disk. Purging a referral with nothing cached is not an error.
func (s *Store) PurgeReferral(ctx context.Context, ubrn string) error {
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	ubrn = triage.NormalizeUBRN(ubrn)
	k := refKey(s.keys.index, ubrn)
	unsent := false
	err := s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(bActive)).Get(k) != nil {
			unsent = true
			return nil
		}
		_, err := s.appendAudit(tx, AuditRecord{Event: EventPurge, UBRN: ubrn, Note: PurgeRequested,
			Who: triage.Identity{SDSUserID: s.opts.UserID}})
		return err
	})
	if err != nil {
		return fmt.Errorf("purge referral: %w", err)
	}
	if unsent {
		return userError(triage.ECONFLICT, ErrUnsentDecisions, nil,
			"This referral has a decision that has not reached e-RS yet, so its data is kept. Send, cancel or discard the decision first.")
	}
	if err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error { return purgeRefTx(tx, k) }); err != nil {
		return fmt.Errorf("purge referral: %w", err)
	}
	s.emit(Change{Kind: ChangePurge, UBRN: ubrn})
	return nil
}

// removeOldSetAside deletes set-aside damaged cache files older than age.
func (s *Store) removeOldSetAside(now time.Time, age time.Duration) int {
	m, _ := filepath.Glob(filepath.Join(s.dir, CacheFile+".corrupt-*"))
	n := 0
	for _, f := range m {
		ts := strings.TrimPrefix(filepath.Base(f), CacheFile+".corrupt-")
		t, err := time.Parse("20060102T150405.000000000Z", ts)
		if err != nil {
			continue
		}
		if now.Sub(t) >= age && os.Remove(f) == nil {
			n++
		}
	}
	return n
}

// CompactReport gives the file sizes before and after compaction.
type CompactReport struct {
	CacheBefore, CacheAfter   int64
	OutboxBefore, OutboxAfter int64
}

// Compact rewrites both files without their free pages (bbolt.Compact into
// a temporary file, fsync, close, atomic rename, reopen), so deleted data
// leaves the disk. An outbox with damaged records is left as it is. It waits for other calls to finish and blocks them while
// it runs. If a file cannot be reopened afterwards the store is closed and
// the error says so.
func (s *Store) Compact(ctx context.Context) (CompactReport, error) {
	var rep CompactReport
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return rep, errClosed()
	}
	var err error
	cachePath, obPath := s.cache.Path(), s.outbox.Path()
	rep.CacheBefore, rep.CacheAfter, err = compactFile(s.cache)
	s.cache = nil
	if db, oerr := openBolt(cachePath, s.opts.LockTimeout, false); oerr == nil {
		s.cache = db
	} else {
		err = errors.Join(err, oerr)
	}
	// An outbox with damaged records is never rewritten: they stay exactly
	// where and as they are for doctor and support.
	s.damMu.Lock()
	obDamaged := len(s.damaged) > 0
	s.damMu.Unlock()
	if err == nil && !obDamaged {
		rep.OutboxBefore, rep.OutboxAfter, err = compactFile(s.outbox)
		s.outbox = nil
		if db, oerr := openBolt(obPath, s.opts.LockTimeout, false); oerr == nil {
			s.outbox = db
		} else {
			err = errors.Join(err, oerr)
		}
	}
	if s.cache == nil || s.outbox == nil {
		s.closed = true
		closeQuietly(s.cache)
		closeQuietly(s.outbox)
		s.log.Error("compaction left the store closed", "err", err)
		return rep, userError(triage.EINTERNAL, nil, err,
			"Triage Desk could not reopen its files after tidying them. Restart Triage Desk; your saved decisions are safe.")
	}
	if err != nil {
		return rep, fmt.Errorf("compact: %w", err)
	}
	s.log.Info("compacted", "cache_before", rep.CacheBefore, "cache_after", rep.CacheAfter,
		"outbox_before", rep.OutboxBefore, "outbox_after", rep.OutboxAfter)
	return rep, nil
}

// MaybeCompact compacts when either file has more free pages than
// Retention.CompactFreeRatio. It reports whether it compacted.
func (s *Store) MaybeCompact(ctx context.Context) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	need := freeRatio(s.cache) > s.opts.Retention.CompactFreeRatio || freeRatio(s.outbox) > s.opts.Retention.CompactFreeRatio
	s.mu.RUnlock()
	if !need {
		return false, nil
	}
	_, err := s.Compact(ctx)
	return err == nil, err
}
