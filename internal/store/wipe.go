package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// WipeOptions control Wipe.
type WipeOptions struct {
	// By is the clinician asking; it must be this store's user.
	By triage.Identity
	// DiscardUnsent must be set, after the clinician explicitly agreed, to
	// wipe while decisions have not reached e-RS: they are discarded (and
	// audited) first. Without it Wipe refuses.
	DiscardUnsent bool
}

// Wipe removes everything this user has on the computer, for logout or
// hand-over: the master key is deleted from the keychain first (so every
// sealed byte left anywhere becomes unreadable at once), then cache.db,
// outbox.db, set-aside files and the user's folder. The store is closed
// afterwards.
//
// Errors: ErrUnsentDecisions (with the count in the message) when decisions
// are unsent and o.DiscardUnsent is false, ErrWrongUser, and
// ErrKeychainUnavailable if the key could not be deleted (nothing else is
// removed then; the store is closed and can be reopened).
func (s *Store) Wipe(ctx context.Context, o WipeOptions) error {
	if err := s.sameUser(o.By); err != nil {
		return err
	}
	unsent, err := s.Unsent(ctx)
	if err != nil {
		return fmt.Errorf("wipe: %w", err)
	}
	// Damaged records that may hold an unsent decision count as unsent.
	dmg, err := s.OutboxDamage(ctx)
	if err != nil {
		return fmt.Errorf("wipe: %w", err)
	}
	if n := len(unsent) + dmg.PossiblyUnsent(); n > 0 && !o.DiscardUnsent {
		return userError(triage.ECONFLICT, ErrUnsentDecisions, fmt.Errorf("%d unsent", n),
			fmt.Sprintf("%d decision(s) have not reached e-RS yet. Send them first, or choose to discard them, before removing your data from this computer.", n))
	}
	err = s.outboxTx(ctx, true, func(tx *bolt.Tx) error {
		for i := range unsent {
			e := &unsent[i]
			// Explicit discard at wipe is allowed from any unsent state,
			// including sending: the clinician chose to give these up.
			e.State = triage.OutboxDiscarded
			e.Rev++
			e.UpdatedAt = s.now()
			if err := s.putEntry(tx, e); err != nil {
				return err
			}
			rec := AuditRecord{Event: EventDecisionDiscarded, Who: o.By, Note: "discarded to remove data from this computer"}
			fillAuditFromDecision(&rec, &e.Decision)
			if _, err := s.appendAudit(tx, rec); err != nil {
				return err
			}
		}
		_, err := s.appendAudit(tx, AuditRecord{Event: EventWipe, Who: o.By})
		return err
	})
	if err != nil {
		return fmt.Errorf("wipe: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed()
	}
	s.closed = true
	closeQuietly(s.cache)
	closeQuietly(s.outbox)
	s.forgetKeys()
	if err := s.opts.Keys.Delete(ctx, MasterKeyAccount(s.userDir)); err != nil {
		s.log.Error("wipe: master key not deleted", "err", err)
		return userError(triage.EUNAVAILABLE, ErrKeychainUnavailable, err,
			"Your data could not be removed because the keychain did not respond. Nothing was deleted. Try again, or ask your IT service desk.")
	}
	var errs []error
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(s.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Error("wipe: files left behind (their key is already deleted)", "err", err)
		return fmt.Errorf("wipe: remove files (already unreadable): %w", err)
	}
	s.log.Info("wiped user data", "discarded", len(unsent))
	return nil
}
