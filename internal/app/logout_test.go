package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

var logoutClinician = triage.Identity{SDSUserID: "910000000101", ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinician}

// fakeSession is a session that ends as told.
type fakeSession struct {
	rep   auth.LogoutReport
	err   error
	calls int
}

func (f *fakeSession) Logout(context.Context, auth.LogoutOptions) (auth.LogoutReport, error) {
	f.calls++
	return f.rep, f.err
}

func signedIn(id triage.Identity) *fakeSession {
	return &fakeSession{rep: auth.LogoutReport{User: id.SDSUserID, Identity: id}}
}

type logoutFixture struct{ profile, keyfile string }

func newLogoutFixture(t *testing.T) logoutFixture {
	dir := t.TempDir()
	return logoutFixture{profile: filepath.Join(dir, "profile"), keyfile: filepath.Join(dir, "dev.key")}
}

func (f logoutFixture) open(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{ProfileDir: f.profile, UserID: logoutClinician.SDSUserID,
		Keys: store.DevKeyFileProvider{Path: f.keyfile, Warn: io.Discard}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f logoutFixture) gone(t *testing.T) bool {
	_, err := os.Stat(store.UserDir(f.profile, logoutClinician.SDSUserID))
	return os.IsNotExist(err)
}

func logoutDecision() triage.Decision {
	return triage.Decision{Kind: triage.DecisionReject, UBRN: "000049731236", BaseVersion: 3, By: logoutClinician,
		Reason: triage.Coding{Code: "CLINICAL_APPROPRIATENESS", Display: "Clinically inappropriate"}, Comments: "Refer to dermatology."}
}

func TestLogoutAndWipeKeepsUnsentUnlessDiscarded(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	f := newLogoutFixture(t)
	st := f.open(t)
	e, err := st.Enqueue(ctx, logoutDecision())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := logoutAndWipe(ctx, signedIn(logoutClinician), auth.LogoutOptions{}, st, false, log)
	if err != nil || rep.DataWiped || rep.UnsentKept != 1 || rep.User != logoutClinician.SDSUserID {
		t.Fatalf("report %+v %v", rep, err)
	}
	// The decision is still there, sealed, for this clinician's next
	// sign-in.
	st.Close()
	st = f.open(t)
	unsent, err := st.Unsent(ctx)
	if err != nil || len(unsent) != 1 || unsent[0].ID != e.ID || unsent[0].Decision.Comments != "Refer to dermatology." {
		t.Fatalf("unsent after logout: %+v %v", unsent, err)
	}
	// The clinician explicitly discards them: now the data goes.
	rep, err = logoutAndWipe(ctx, signedIn(logoutClinician), auth.LogoutOptions{}, st, true, log)
	if err != nil || !rep.DataWiped || rep.Discarded != 1 || rep.UnsentKept != 0 {
		t.Fatalf("report %+v %v", rep, err)
	}
	if !f.gone(t) {
		t.Error("user data folder after wipe")
	}
	st = f.open(t)
	defer st.Close()
	if n, _ := st.UnsentCount(ctx); n != 0 {
		t.Errorf("%d unsent after discard", n)
	}
}

func TestLogoutAndWipeWipesWhenNothingIsUnsent(t *testing.T) {
	ctx := context.Background()
	f := newLogoutFixture(t)
	st := f.open(t)
	e, err := st.Enqueue(ctx, logoutDecision())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Cancel(ctx, e.ID, logoutClinician); err != nil {
		t.Fatal(err)
	}
	rep, err := logoutAndWipe(ctx, signedIn(logoutClinician), auth.LogoutOptions{}, st, false, slog.New(slog.DiscardHandler))
	if err != nil || !rep.DataWiped || rep.UnsentKept != 0 || rep.Discarded != 0 {
		t.Fatalf("report %+v %v", rep, err)
	}
	if !f.gone(t) {
		t.Error("user data folder after logout")
	}
}

// Data is touched only after the session has ended, and only someone's.
func TestLogoutLeavesDataWhenTheSessionDidNotEnd(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	f := newLogoutFixture(t)
	st := f.open(t)
	defer st.Close()
	failed := signedIn(logoutClinician)
	failed.err = errors.New("keychain unavailable")
	if rep, err := logoutAndWipe(ctx, failed, auth.LogoutOptions{}, st, true, log); err == nil || rep.DataWiped || f.gone(t) {
		t.Errorf("keychain failure: %+v %v", rep, err)
	}
	if _, err := logoutAndWipe(ctx, &fakeSession{}, auth.LogoutOptions{}, st, true, log); triage.ErrorCodeOf(err) != triage.EINVALID || f.gone(t) {
		t.Errorf("nobody signed in: %v", err)
	}
	s := signedIn(logoutClinician)
	if rep, err := logoutAndWipe(ctx, s, auth.LogoutOptions{}, nil, true, log); err != nil || rep.DataWiped || s.calls != 1 {
		t.Errorf("without data: %+v %v", rep, err)
	}
}
