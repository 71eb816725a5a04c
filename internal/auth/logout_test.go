package auth

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// restoredManager is an active session for clinician without a network.
func restoredManager(t *testing.T, clientID string) (*Manager, *fakeExchanger) {
	t.Helper()
	env := offlineEnv(clientID)
	seedSession(t, env, "rt-1", clinician)
	ex := newFakeExchanger("rt-1")
	m, err := New(Options{Environment: env, Exchanger: ex, LockTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	if st, err := m.Restore(context.Background()); err != nil || st.State != StateActive {
		t.Fatalf("restore: %v %v", st.State, err)
	}
	return m, ex
}

func openStore(t *testing.T, profile string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{ProfileDir: profile, UserID: clinician.SDSUserID, Keys: store.KeychainProvider{},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rejectDecision() triage.Decision {
	return triage.Decision{Kind: triage.DecisionReject, UBRN: "000049731236", BaseVersion: 3, By: clinician,
		Reason: triage.Coding{Code: "CLINICAL_APPROPRIATENESS", Display: "Clinically inappropriate"}, Comments: "Refer to dermatology."}
}

func TestLogoutKeepsUnsentDecisionsUnlessDiscarded(t *testing.T) {
	ctx := context.Background()
	profile := t.TempDir()
	m, _ := restoredManager(t, "td-logout-keep")
	st := openStore(t, profile)
	e, err := st.Enqueue(ctx, rejectDecision())
	if err != nil {
		t.Fatal(err)
	}

	rep, err := m.Logout(ctx, LogoutOptions{Data: st})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DataWiped || rep.UnsentKept != 1 || rep.User != clinician.SDSUserID {
		t.Errorf("report %+v", rep)
	}
	// Signed out: no tokens anywhere.
	if _, ok := saved(t, m.Environment()); ok {
		t.Error("session still in the keychain")
	}
	if _, err := m.TokenSource().Token(); !errors.Is(err, ErrNotSignedIn) {
		t.Errorf("Token after logout: %v", err)
	}
	if s := m.Status(); s.State != StateSignedOut || !s.Identity.IsZero() {
		t.Errorf("status %+v", s)
	}
	// The decision is still there, sealed, for this clinician's next
	// sign-in.
	st.Close()
	st = openStore(t, profile)
	unsent, err := st.Unsent(ctx)
	if err != nil || len(unsent) != 1 || unsent[0].ID != e.ID || unsent[0].Decision.Comments != "Refer to dermatology." {
		t.Fatalf("unsent after logout: %+v %v", unsent, err)
	}

	// The clinician explicitly discards them: now the data goes.
	m2, _ := restoredManager(t, "td-logout-discard")
	rep, err = m2.Logout(ctx, LogoutOptions{Data: st, DiscardUnsent: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DataWiped || rep.Discarded != 1 || rep.UnsentKept != 0 {
		t.Errorf("report %+v", rep)
	}
	if _, err := os.Stat(store.UserDir(profile, clinician.SDSUserID)); !os.IsNotExist(err) {
		t.Errorf("user data folder after wipe: %v", err)
	}
	st = openStore(t, profile)
	defer st.Close()
	if n, _ := st.UnsentCount(ctx); n != 0 {
		t.Errorf("%d unsent after discard", n)
	}
}

func TestLogoutWipesWhenNothingIsUnsent(t *testing.T) {
	ctx := context.Background()
	profile := t.TempDir()
	m, _ := restoredManager(t, "td-logout-wipe")
	st := openStore(t, profile)
	e, err := st.Enqueue(ctx, rejectDecision())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Cancel(ctx, e.ID, clinician); err != nil {
		t.Fatal(err)
	}
	rep, err := m.Logout(ctx, LogoutOptions{Data: st})
	if err != nil || !rep.DataWiped || rep.UnsentKept != 0 || rep.Discarded != 0 {
		t.Fatalf("report %+v %v", rep, err)
	}
	if _, err := os.Stat(store.UserDir(profile, clinician.SDSUserID)); !os.IsNotExist(err) {
		t.Errorf("user data folder after logout: %v", err)
	}
}

func TestLogoutWithoutStoreOnlyEndsTheSession(t *testing.T) {
	m, ex := restoredManager(t, "td-logout-tokens")
	rep, err := m.Logout(context.Background(), LogoutOptions{})
	if err != nil || rep.DataWiped || rep.User != clinician.SDSUserID {
		t.Fatalf("%+v %v", rep, err)
	}
	if _, ok := saved(t, m.Environment()); ok {
		t.Error("session still saved")
	}
	n := ex.refreshes()
	if _, err := m.TokenSource().Token(); err == nil || ex.refreshes() != n {
		t.Error("a token after logout")
	}
	// With nobody signed in there is nobody's data to wipe.
	if _, err := m.Logout(context.Background(), LogoutOptions{Data: nopStore{}}); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("second logout with data: %v", err)
	}
}

type nopStore struct{}

func (nopStore) UnsentCount(context.Context) (int, error) { return 0, nil }
func (nopStore) Wipe(context.Context, WipeOptions) error  { return errors.New("must not be called") }

func TestLogoutOfASavedSessionWithoutRestoring(t *testing.T) {
	// triagectl logout: a fresh Manager, no network; the saved session
	// names the clinician whose data goes.
	ctx := context.Background()
	profile := t.TempDir()
	env := offlineEnv("td-logout-saved")
	seedSession(t, env, "rt-1", clinician)
	st := openStore(t, profile)
	m, err := New(Options{Environment: env, Exchanger: newFakeExchanger(), LockTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rep, err := m.Logout(ctx, LogoutOptions{Data: st})
	if err != nil || !rep.DataWiped || rep.User != clinician.SDSUserID {
		t.Fatalf("%+v %v", rep, err)
	}
	if _, ok := saved(t, env); ok {
		t.Error("session still saved")
	}
	// With nothing saved, the user can be named.
	st = openStore(t, profile)
	if _, err := st.Enqueue(ctx, rejectDecision()); err != nil {
		t.Fatal(err)
	}
	rep, err = m.Logout(ctx, LogoutOptions{Data: st, User: clinician.SDSUserID})
	if err != nil || rep.DataWiped || rep.UnsentKept != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	rep, err = m.Logout(ctx, LogoutOptions{Data: st, User: clinician.SDSUserID, DiscardUnsent: true})
	if err != nil || !rep.DataWiped || rep.Discarded != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
}
