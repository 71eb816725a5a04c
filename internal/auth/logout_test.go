package auth

import (
	"context"
	"errors"
	"testing"
)

// restoredManager is an active session for clinician without a network.
func restoredManager(t *testing.T, clientID string) (*Manager, *fakeExchanger) {
	t.Helper()
	env := offlineEnv(clientID)
	seedSession(t, env, "rt-1", clinician)
	ex := newFakeExchanger("rt-1")
	m := newManager(t, Options{Environment: env, Exchanger: ex, LockTimeout: -1})
	if st, err := m.Restore(context.Background()); err != nil || st.State != StateActive {
		t.Fatalf("restore: %v %v", st.State, err)
	}
	return m, ex
}

func TestLogoutEndsTheSession(t *testing.T) {
	m, ex := restoredManager(t, "td-logout-tokens")
	rep, err := m.Logout(context.Background(), LogoutOptions{})
	if err != nil || rep.DataWiped || rep.User != clinician.SDSUserID || rep.Identity != clinician {
		t.Fatalf("%+v %v", rep, err)
	}
	if _, ok := saved(t, m.Environment()); ok {
		t.Error("session still saved")
	}
	n := ex.refreshes()
	if _, err := m.TokenSource().Token(); !errors.Is(err, ErrNotSignedIn) || ex.refreshes() != n {
		t.Errorf("a token after logout: %v", err)
	}
	if s := m.Status(); s.State != StateSignedOut || !s.Identity.IsZero() {
		t.Errorf("status %+v", s)
	}
	// A second logout names nobody.
	if rep, err := m.Logout(context.Background(), LogoutOptions{}); err != nil || rep.User != "" {
		t.Errorf("second logout: %+v %v", rep, err)
	}
}

// triagectl logout: a fresh Manager, no network; the saved session names
// the clinician signed out, and with nothing saved the named user is.
func TestLogoutOfASavedSessionWithoutRestoring(t *testing.T) {
	ctx := context.Background()
	env := offlineEnv("td-logout-saved")
	seedSession(t, env, "rt-1", clinician)
	m := newManager(t, Options{Environment: env, Exchanger: newFakeExchanger(), LockTimeout: -1})
	rep, err := m.Logout(ctx, LogoutOptions{})
	if err != nil || rep.User != clinician.SDSUserID || rep.Identity != clinician {
		t.Fatalf("%+v %v", rep, err)
	}
	if _, ok := saved(t, env); ok {
		t.Error("session still saved")
	}
	rep, err = m.Logout(ctx, LogoutOptions{User: " " + clinician.SDSUserID})
	if err != nil || rep.User != clinician.SDSUserID {
		t.Fatalf("%+v %v", rep, err)
	}
	if rep, err := m.Logout(ctx, LogoutOptions{}); err != nil || rep.User != "" {
		t.Errorf("nobody signed in: %+v %v", rep, err)
	}
}
