package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// purgeAdvice applies the retention policy to Advice and Guidance: sent or
// discarded A&G outbox entries older than AfterSent are removed (their
// audit records stay), and a cached request (with its files) is purged
// when it has been neither read from e-RS nor listed on a pulled A&G
// worklist for WithoutSync, or its reply was sent AfterSent ago and it is
// no longer listed. A request with an unsent action is never purged. Each
// purged request is audited.
func (s *Store) purgeAdvice(ctx context.Context, now time.Time, pol Retention) (requests, actions int, err error) {
	unsent := map[string]bool{}
	sentAt := map[string]time.Time{}
	var oldEntries [][]byte
	err = s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		return s.eachAdviceTx(tx, func(e *AdviceEntry) {
			switch {
			case e.State.Unsent():
				unsent[e.UBRN] = true
			case e.State == triage.OutboxSent && e.Sent != nil:
				sentAt[e.UBRN] = latest(sentAt[e.UBRN], e.Sent.At)
				if now.Sub(e.Sent.At) >= pol.AfterSent {
					oldEntries = append(oldEntries, decisionKey(s.keys.index, e.ID))
				}
			case e.State == triage.OutboxDiscarded && now.Sub(e.UpdatedAt) >= pol.AfterSent:
				oldEntries = append(oldEntries, decisionKey(s.keys.index, e.ID))
			}
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("advice retention: %w", err)
	}

	var listedAt time.Time
	listed := map[string]bool{}
	if snap, err := s.AdviceWorklist(ctx); err == nil {
		listedAt = snap.StoredAt
		for _, it := range snap.Items {
			listed[triage.NormalizeUBRN(it.UBRN)] = true
		}
	}
	cached, err := s.CachedAdviceRequests(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("advice retention: %w", err)
	}
	var victims []CachedAdvice
	for _, ca := range cached {
		if unsent[ca.UBRN] {
			continue
		}
		last := ca.FetchedAt
		if listed[ca.UBRN] {
			last = latest(last, listedAt)
		}
		sent := sentAt[ca.UBRN]
		if now.Sub(last) >= pol.WithoutSync || (!sent.IsZero() && now.Sub(sent) >= pol.AfterSent && !listed[ca.UBRN]) {
			victims = append(victims, ca)
		}
	}
	if len(victims) == 0 && len(oldEntries) == 0 {
		return 0, 0, nil
	}

	// Audit first, so nothing is ever purged silently; then delete.
	err = s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
		for _, v := range victims {
			if _, err := s.appendAudit(tx, AuditRecord{Event: EventPurge, UBRN: v.UBRN, Note: "advice and guidance request",
				Who: triage.Identity{SDSUserID: s.opts.UserID}}); err != nil {
				return err
			}
		}
		b := tx.Bucket([]byte(bAdviceEntries))
		for _, k := range oldEntries {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("advice retention: %w", err)
	}
	err = s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		for _, v := range victims {
			if err := purgeAdviceTx(tx, adviceKey(s.keys.index, v.UBRN)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, len(oldEntries), fmt.Errorf("advice retention: %w", err)
	}
	for _, v := range victims {
		s.emit(Change{Kind: ChangeAdvice, UBRN: v.UBRN})
	}
	return len(victims), len(oldEntries), nil
}

// purgeAdviceTx deletes one cached A&G request and every file kept for it.
func purgeAdviceTx(tx *bolt.Tx, k []byte) error {
	if b := tx.Bucket([]byte(bAdvice)); b != nil {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	b := tx.Bucket([]byte(bAdviceDocs))
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for dk, _ := c.Seek(k); dk != nil && bytes.HasPrefix(dk, k); dk, _ = c.Seek(k) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
