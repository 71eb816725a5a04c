package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// doctorFixture writes n decisions in assorted states (some amended, so old
// copies of entries exist) and closes the store.
func doctorFixture(t *testing.T, n int) (*testEnv, map[string]triage.OutboxState) {
	t.Helper()
	env, s, ctx, rng := openSeeded(t, 100)
	states := map[string]triage.OutboxState{}
	for i := range n {
		f := makeDecisionFixture(rng, i)
		e, err := s.Enqueue(ctx, rejectFor(f))
		mustNoErr(t, err, "enqueue")
		switch i % 4 {
		case 1:
			_, _ = s.BeginSend(ctx, e.ID)
			e, err = s.MarkSent(ctx, e.ID, SentResult{NewVersion: f.Version + 1, RequestID: "rq"})
		case 2:
			_, _ = s.BeginSend(ctx, e.ID)
			e, err = s.MarkFailed(ctx, e.ID, SendError{Message: "refused", HTTPStatus: 422})
		case 3:
			var n Entry
			n, err = s.Amend(ctx, e.ID, acceptFor(f))
			states[e.ID] = triage.OutboxDiscarded
			e = n
		}
		mustNoErr(t, err, "transition")
		states[e.ID] = e.State
	}
	mustNoErr(t, s.Close(), "close")
	return env, states
}

func TestDiagnoseHealthyAndInUse(t *testing.T) {
	env, states := doctorFixture(t, 8)
	ctx := context.Background()
	r := Diagnose(ctx, env.dir(), env.keys)
	if r.Key != KeyPresent || r.Outbox.State != FileOK || r.Cache.State != FileOK || !r.Outbox.KeyChecked {
		t.Fatalf("report %+v", r)
	}
	unsent := 0
	for _, st := range states {
		if st.Unsent() {
			unsent++
		}
	}
	if r.Outbox.Unsent != unsent || r.Outbox.Counts[bEntries] != len(states) || r.Outbox.AuditRecords == 0 || r.Outbox.AuditProblem != "" {
		t.Errorf("outbox report %+v (want %d unsent)", r.Outbox, unsent)
	}
	if r2 := Diagnose(ctx, env.dir(), nil); r2.Key != KeyNotChecked || r2.Outbox.KeyChecked || r2.Outbox.State != FileOK {
		t.Errorf("keyless report %+v", r2)
	}
	s := env.open(t)
	defer s.Close()
	if r := Diagnose(ctx, env.dir(), env.keys); r.Outbox.State != FileInUse || !strings.Contains(r.Outbox.Problem, "Close Triage Desk") {
		t.Errorf("in use: %+v", r.Outbox)
	}
	if _, err := ExportOutbox(ctx, env.dir(), env.keys, env.clock.Now()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("export while running: %v", err)
	}
}

func TestExportHealthyOutbox(t *testing.T) {
	env, states := doctorFixture(t, 8)
	ex, err := ExportOutbox(context.Background(), env.dir(), env.keys, env.clock.Now())
	mustNoErr(t, err, "export")
	if ex.Method != "database" || ex.Warning != ExportWarning || len(ex.Decisions) != len(states) || ex.Unreadable != 0 {
		t.Fatalf("export: method %q, %d decisions", ex.Method, len(ex.Decisions))
	}
	for _, d := range ex.Decisions {
		if d.Entry.State != states[d.Entry.ID] || d.DecisionMissing || d.Decision.ID != d.Entry.ID ||
			(d.Decision.Kind == triage.DecisionReject) != (d.Decision.Comments != "") {
			t.Errorf("%s: %s, want %s", d.Entry.ID, d.Entry.State, states[d.Entry.ID])
		}
	}
	if !strings.HasPrefix(ex.AuditCheck, "All ") {
		t.Errorf("audit check %q", ex.AuditCheck)
	}
}

func TestExportDamagedOutbox(t *testing.T) {
	for i, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			env, states := doctorFixture(t, 40)
			c.fn(t, filepath.Join(env.dir(), OutboxFile), rand.New(rand.NewPCG(uint64(i), 101)))
			ex, err := ExportOutbox(context.Background(), env.dir(), env.keys, env.clock.Now())
			mustNoErr(t, err, "export") // never fails on a damaged file, never panics
			if !strings.Contains(ex.Method, "scan") {
				t.Errorf("method %q", ex.Method)
			}
			for _, d := range ex.Decisions {
				if _, ok := states[d.Entry.ID]; !ok {
					t.Errorf("recovered an entry that was never written: %s", d.Entry.ID)
				}
			}
			switch c.name {
			case "zeroed meta pages":
				// Every data page survives: everything comes back, in its
				// latest state, and the audit chain verifies.
				if len(ex.Decisions) != len(states) {
					t.Fatalf("recovered %d of %d decisions", len(ex.Decisions), len(states))
				}
				for _, d := range ex.Decisions {
					if d.Entry.State != states[d.Entry.ID] || d.DecisionMissing {
						t.Errorf("%s: %s, want %s", d.Entry.ID, d.Entry.State, states[d.Entry.ID])
					}
				}
				if !strings.HasPrefix(ex.AuditCheck, "All ") {
					t.Errorf("audit check %q", ex.AuditCheck)
				}
			case "random bytes", "emptied":
				if len(ex.Decisions) != 0 || len(ex.Audit) != 0 {
					t.Errorf("recovered %d decisions from noise", len(ex.Decisions))
				}
			default:
				t.Logf("recovered %d of %d decisions, %d audit records: %s", len(ex.Decisions), len(states), len(ex.Audit), ex.AuditCheck)
			}
		})
	}
}

func TestSetAsideOutbox(t *testing.T) {
	env, _ := doctorFixture(t, 4)
	ctx := context.Background()
	if _, err := SetAsideOutbox(ctx, env.dir(), env.keys, env.clock.Now()); err == nil {
		t.Fatal("a healthy outbox was set aside")
	}
	corruptions[4].fn(t, filepath.Join(env.dir(), OutboxFile), nil) // zeroed meta pages
	before := fileHash(t, filepath.Join(env.dir(), OutboxFile))
	aside, err := SetAsideOutbox(ctx, env.dir(), env.keys, env.clock.Now())
	mustNoErr(t, err, "set aside")
	if fileHash(t, aside) != before {
		t.Error("set-aside file differs from the damaged file")
	}
	s := env.open(t) // starts with an empty outbox
	if n, _ := s.UnsentCount(ctx); n != 0 {
		t.Errorf("unsent = %d", n)
	}
	s.Close()
	if r := Diagnose(ctx, env.dir(), env.keys); len(r.SetAside) != 1 {
		t.Errorf("set-aside files %v", r.SetAside)
	}
}

func TestDiagnoseMissingKey(t *testing.T) {
	env, _ := doctorFixture(t, 2)
	ctx := context.Background()
	acct := MasterKeyAccount(UserDirName(clinician.SDSUserID))
	key, _ := env.keys.Get(ctx, acct)
	mustNoErr(t, env.keys.Delete(ctx, acct), "delete key")
	t.Cleanup(func() { _ = env.keys.Put(ctx, acct, key) })
	r := Diagnose(ctx, env.dir(), env.keys)
	if r.Key != KeyMissing {
		t.Errorf("key %s", r.Key)
	}
	if _, err := ExportOutbox(ctx, env.dir(), env.keys, env.clock.Now()); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("export without key: %v", err)
	}
	if r := Diagnose(ctx, env.dir(), KeychainProvider{Ring: failingRing{}}); r.Key != KeyUnavailable {
		t.Errorf("failing keychain: %s", r.Key)
	}
	aside, err := SetAsideOutbox(ctx, env.dir(), env.keys, env.clock.Now())
	mustNoErr(t, err, "set aside a locked-out outbox")
	if _, err := os.Stat(aside); err != nil {
		t.Error(err)
	}
}
