package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Entry returns one outbox entry with its decision. Errors: ErrNotFound.
func (s *Store) Entry(ctx context.Context, id string) (Entry, error) {
	var out Entry
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		e, err := s.getEntry(tx, id, true)
		if err != nil {
			return err
		}
		out = *e
		return nil
	})
	return out, err
}

// EntryFilter selects outbox entries; empty fields match everything.
type EntryFilter struct {
	States []triage.OutboxState
	UBRN   string
}

// Entries returns the matching entries with their decisions, oldest first.
func (s *Store) Entries(ctx context.Context, f EntryFilter) ([]Entry, error) {
	ubrn := triage.NormalizeUBRN(f.UBRN)
	var out []Entry
	var bad recordErrors
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		out, bad = out[:0], bad[:0]
		return tx.Bucket([]byte(bEntries)).ForEach(func(k, v []byte) error {
			e, err := s.decodeEntry(k, v)
			if err != nil {
				bad = append(bad, damagedRecords(err)...)
				return nil
			}
			if len(f.States) > 0 && !slices.Contains(f.States, e.State) {
				return nil
			}
			if ubrn != "" && e.UBRN != ubrn {
				return nil
			}
			if err := s.joinDecision(tx, k, e); err != nil {
				bad = append(bad, damagedRecords(err)...)
				return nil
			}
			out = append(out, *e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	s.skipped(bad)
	sortEntries(out)
	return out, nil
}

// skipped remembers damaged records a listing left out (they are reported
// by OutboxDamage, never dropped silently).
func (s *Store) skipped(bad recordErrors) {
	if len(bad) == 0 {
		return
	}
	s.log.Error("outbox records failed authentication and were left out", "records", len(bad))
	if s.noteDamage(bad) {
		s.emit(Change{Kind: ChangeOutbox})
	}
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// eachEntry calls fn for every readable entry (without its decision);
// damaged ones are remembered and left out.
func (s *Store) eachEntry(ctx context.Context, fn func(e *Entry) error) error {
	var bad recordErrors
	err := s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		bad = bad[:0]
		return tx.Bucket([]byte(bEntries)).ForEach(func(k, v []byte) error {
			e, err := s.decodeEntry(k, v)
			if err != nil {
				bad = append(bad, damagedRecords(err)...)
				return nil
			}
			return fn(e)
		})
	})
	if err == nil {
		s.skipped(bad)
	}
	return err
}

// Unsent returns the decisions that have not reached e-RS (queued,
// sending, conflict, failed), oldest first.
func (s *Store) Unsent(ctx context.Context) ([]Entry, error) {
	return s.Entries(ctx, EntryFilter{States: []triage.OutboxState{
		triage.OutboxQueued, triage.OutboxSending, triage.OutboxConflict, triage.OutboxFailed}})
}

// UnsentCount counts the decisions that have not reached e-RS, counting
// every damaged record that may hold one (OutboxDamage) as unsent.
func (s *Store) UnsentCount(ctx context.Context) (int, error) {
	n := 0
	err := s.eachEntry(ctx, func(e *Entry) error {
		if e.State.Unsent() && !s.knownDamaged(bDecisions, decisionKey(s.keys.index, e.ID)) {
			n++
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	d, err := s.OutboxDamage(ctx)
	return n + d.PossiblyUnsent(), err
}

// Sendable returns the queued decisions due at now that were made under
// identity who (same user, role, organisation and on-behalf-of), oldest
// first. Decisions made under another identity are held for it; none is
// sendable while the outbox is held (OutboxDamage.Held).
func (s *Store) Sendable(ctx context.Context, who triage.Identity, now time.Time) ([]Entry, error) {
	if s.held() {
		return nil, nil
	}
	es, err := s.Entries(ctx, EntryFilter{States: []triage.OutboxState{triage.OutboxQueued}})
	if err != nil {
		return nil, err
	}
	out := es[:0]
	for _, e := range es {
		if e.By.SameUser(who) && !e.NextAttemptAt.After(now) {
			out = append(out, e)
		}
	}
	return out, nil
}

// LatestForReferral returns the referral's most recent outbox entry that
// was not replaced by an amendment. Errors: ErrNotFound.
func (s *Store) LatestForReferral(ctx context.Context, ubrn string) (Entry, error) {
	es, err := s.Entries(ctx, EntryFilter{UBRN: ubrn})
	if err != nil {
		return Entry{}, err
	}
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].ReplacedBy == "" {
			return es[i], nil
		}
	}
	return Entry{}, errEntryNotFound()
}
