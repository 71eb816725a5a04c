package auth

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestLockAfterInactivity(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration // Options.LockTimeout (0: the default)
		want    time.Duration
	}{
		{"default 15 minutes", 0, 15 * time.Minute},
		{"policy 5 minutes", 5 * time.Minute, 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				env := offlineEnv("td-lock-" + tc.want.String())
				seedSession(t, env, "rt-1", clinician)
				var log statusLog
				m, err := New(Options{Environment: env, Exchanger: newFakeExchanger("rt-1"), LockTimeout: tc.timeout, OnChange: log.add})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if st, err := m.Restore(context.Background()); err != nil || st.State != StateActive {
					t.Fatalf("restore: %v %v", st.State, err)
				}
				tokenOf(t, m)

				// Activity keeps it open.
				time.Sleep(tc.want - time.Minute)
				m.Touch()
				time.Sleep(tc.want - time.Minute)
				synctest.Wait()
				if st := m.Status(); st.State != StateActive {
					t.Fatalf("locked with activity %v ago", tc.want-time.Minute)
				}
				// Background token use is not activity.
				tokenOf(t, m)
				time.Sleep(time.Minute + time.Second)
				synctest.Wait()
				st := m.Status()
				if st.State != StateLocked || st.Message != msgLocked || st.IdleLock != tc.want {
					t.Fatalf("after %v idle: %+v", tc.want, st)
				}
				// The identity stays known, so the app hides this
				// clinician's data without losing their drafts.
				if st.Identity != clinician || !m.Identity().IsZero() {
					t.Errorf("identity after lock: %+v / %+v", st.Identity, m.Identity())
				}
				if _, err := m.TokenSource().Token(); !errors.Is(err, ErrLocked) || triage.ErrorMessage(err) != msgLocked {
					t.Errorf("Token while locked: %v", err)
				}
				if log.count(StateLocked) != 1 {
					t.Errorf("lock reported %d times", log.count(StateLocked))
				}
				// The keychain keeps only that the session is locked.
				rec, ok := saved(t, env)
				if !ok || !rec.Locked || rec.RT != "" || rec.ID != clinician {
					t.Errorf("saved after lock: %+v", rec)
				}
				// A restart does not unlock it.
				m2, _ := New(Options{Environment: env, Exchanger: newFakeExchanger(), LockTimeout: tc.timeout})
				defer m2.Close()
				if st, _ := m2.Restore(context.Background()); st.State != StateLocked || st.Identity != clinician {
					t.Errorf("restart after lock: %+v", st)
				}
			})
		})
	}
}

func TestLockTimeoutFromPolicy(t *testing.T) {
	dir := t.TempDir()
	policy := dir + "/policy.json"
	if err := writeFile(policy, `{"version": 1, "lock_timeout_minutes": 7}`); err != nil {
		t.Fatal(err)
	}
	cm, err := config.Load(config.Options{ProfileDir: dir, PolicyPath: policy})
	if err != nil {
		t.Fatal(err)
	}
	if o := FromConfig(cm); o.LockTimeout != 7*time.Minute || o.Roles == nil || o.AllowedODS == nil {
		t.Errorf("options from config: %+v", o)
	}
}

func TestLockDropsTokensAndSameClinicianResumes(t *testing.T) {
	f := newFixture(t)
	m := f.manager(t)
	id := signInAs(t, m, erssandbox.UserClinician, "R69", triage.RoleServiceProviderClinician)
	m.Lock()
	if st := m.Status(); st.State != StateLocked || st.IdleLock != 0 {
		t.Fatalf("state %v, idle lock %v: a lock asked for is not an idle lock", st.State, st.IdleLock)
	}
	m.Lock() // idempotent
	if _, err := m.ERS().WithIdentity(id).PractitionerRoles(context.Background()); !errors.Is(err, ErrLocked) {
		t.Errorf("e-RS call while locked: %v", err)
	}
	res, err := m.Unlock(context.Background(), newBrowser(erssandbox.UserClinician).open)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || res.Identity != id || m.Identity() != id || res.PreviousUser != "" {
		t.Errorf("unlock by the same clinician: %+v", res)
	}

	// Another clinician at the locked screen replaces the session; the app
	// closes the first clinician's data.
	m.Lock()
	res, err = m.SignIn(context.Background(), newBrowser(erssandbox.UserClinician2).open)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resumed || res.PreviousUser != erssandbox.UserClinician || m.Status().State != StateNeedsRole ||
		m.Status().Identity.SDSUserID != erssandbox.UserClinician2 {
		t.Errorf("unlock by another clinician: %+v %+v", res, m.Status())
	}
}
