package store

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestWipeRefusesWhileDecisionsAreUnsent(t *testing.T) {
	env, s, ctx, rng := openSeeded(t, 80)
	a, b := makeFixture(rng, 0), makeFixture(rng, 1)
	fillReferral(t, s, a)
	_, _ = s.Enqueue(ctx, rejectFor(a))
	eb, _ := s.Enqueue(ctx, acceptFor(b))
	_, _ = s.BeginSend(ctx, eb.ID) // one in flight too

	err := s.Wipe(ctx, WipeOptions{By: clinician})
	if !errors.Is(err, ErrUnsentDecisions) || !strings.Contains(triage.ErrorMessage(err), "2 decision(s) have not reached e-RS") {
		t.Fatalf("wipe with unsent decisions: %v", err)
	}
	if err := s.Wipe(ctx, WipeOptions{By: otherClinician, DiscardUnsent: true}); !errors.Is(err, ErrWrongUser) {
		t.Errorf("wipe by another clinician: %v", err)
	}
	// Nothing was removed.
	if n, _ := s.UnsentCount(ctx); n != 2 {
		t.Fatalf("unsent = %d", n)
	}
	if _, err := s.Referral(ctx, a.UBRN); err != nil {
		t.Fatal(err)
	}

	// Explicitly discarding them: audited, then everything goes.
	mustNoErr(t, s.Wipe(ctx, WipeOptions{By: clinician, DiscardUnsent: true}), "wipe")
	if _, err := os.Stat(env.dir()); !errors.Is(err, os.ErrNotExist) {
		entries, _ := os.ReadDir(env.dir())
		t.Errorf("user folder left behind: %v", entries)
	}
	if _, err := (KeychainProvider{}).Get(ctx, MasterKeyAccount(UserDirName(clinician.SDSUserID))); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("master key left in keychain: %v", err)
	}
	if _, err := s.UnsentCount(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("store usable after wipe: %v", err)
	}
	// A fresh start is empty, with a new key.
	s2 := env.open(t)
	if n, _ := s2.UnsentCount(ctx); n != 0 {
		t.Errorf("decisions survived the wipe: %d", n)
	}
}

func TestWipeAuditsDiscardsBeforeRemoving(t *testing.T) {
	env, s, ctx, f := openWith(t, makeFixture, 81)
	e, _ := s.Enqueue(ctx, rejectFor(f))
	// A keychain that will not delete the key stops the wipe after the
	// audit records are written, so they can be read back.
	s.opts.Keys = undeletableKeys{KeychainProvider{}}
	err := s.Wipe(ctx, WipeOptions{By: clinician, DiscardUnsent: true})
	if !errors.Is(err, ErrKeychainUnavailable) {
		t.Fatalf("wipe with a failing keychain: %v", err)
	}
	if _, err := os.Stat(env.dir()); err != nil {
		t.Fatal("files removed although the key could not be deleted")
	}
	s = env.open(t)
	got, _ := s.Entry(ctx, e.ID)
	if got.State != triage.OutboxDiscarded {
		t.Errorf("state %s", got.State)
	}
	recs, _ := s.AuditRecords(ctx, 1, 0)
	if len(recs) != 3 || recs[1].Event != EventDecisionDiscarded || recs[1].DecisionID != e.ID || recs[2].Event != EventWipe {
		t.Errorf("audit %+v", recs)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
}

type undeletableKeys struct{ KeychainProvider }

func (undeletableKeys) Delete(context.Context, string) error {
	return errors.Join(ErrKeychainUnavailable, errNoSecretService)
}
