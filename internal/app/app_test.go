package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// The demo signs in through the sandbox's mock CIS2 exactly as a real
// sign-in: an authorize request with PKCE S256, a code exchange with the
// client secret as a form field and the verifier, on a callback port chosen
// at start; the workspace then syncs and sends a decision with that
// clinician's token.
func TestDemoSignsInThroughMockOAuth2AndSendsUnderThatIdentity(t *testing.T) {
	freshKeychain(t)
	// The registered default port is taken: the demo must not depend on it.
	if ln, err := net.Listen("tcp4", net.JoinHostPort(config.RedirectHost, "7654")); err == nil {
		defer ln.Close()
	}
	dir := t.TempDir()
	tr := newTraffic()
	rt := start(t, demoOptions(dir, tr))
	ctx := context.Background()
	statuses := make(chan Status, 64)
	defer rt.OnStatus(func(s Status) {
		select {
		case statuses <- s:
		default:
		}
	})()

	if st := rt.Status(); st.State != auth.StateSignedOut || !st.Demo || st.Production || rt.sandbox == nil {
		t.Fatalf("demo start: %+v", st)
	}
	_, secret, registered := rt.sandbox.OAuthClient()
	if registered != rt.Environment.RedirectURL() || rt.Environment.RedirectPort == config.DefaultRedirectPort {
		t.Fatalf("callback %s (port %d), sandbox registered %s", rt.Environment.RedirectURL(), rt.Environment.RedirectPort, registered)
	}
	if _, err := rt.OpenWorkspace(ctx); triage.ErrorCodeOf(err) != triage.EUNAUTHORIZED {
		t.Fatalf("workspace before sign-in: %v, want EUNAUTHORIZED", err)
	}

	id, err := rt.DemoSignIn(ctx)
	if err != nil {
		t.Fatalf("demo sign-in: %v", err)
	}
	want := triage.Identity{SDSUserID: erssandbox.UserClinician, ODS: erssandbox.ProviderODS, BusinessFunction: triage.RoleServiceProviderClinician}
	if id != want || rt.Status().State != auth.StateActive {
		t.Fatalf("signed in as %+v (%s), want %+v", id, rt.Status().State, want)
	}
	codes := tr.grants("authorization_code")
	auths := tr.authorizeRequests()
	if len(codes) != 1 || len(auths) != 1 || rt.sandbox.Stats().Requests["token"] < 1 {
		t.Fatalf("%d code exchanges, %d authorize requests, sandbox counted %d token requests", len(codes), len(auths), rt.sandbox.Stats().Requests["token"])
	}
	f, q := codes[0], auths[0]
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	switch {
	case f.Get("client_secret") != secret || f.Get("client_id") != config.DemoClientID:
		t.Errorf("token request client: id %q, secret sent %v", f.Get("client_id"), f.Get("client_secret") != "")
	case f.Get("code_verifier") == "" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]):
		t.Errorf("PKCE: challenge %q (%s), verifier %q", q.Get("code_challenge"), q.Get("code_challenge_method"), f.Get("code_verifier"))
	case f.Get("redirect_uri") != registered || q.Get("redirect_uri") != registered || q.Get("login_hint") != erssandbox.UserClinician:
		t.Errorf("redirect URIs %q and %q, login_hint %q", q.Get("redirect_uri"), f.Get("redirect_uri"), q.Get("login_hint"))
	}

	a := openWorkspace(t, rt)
	if again := openWorkspace(t, rt); again != a {
		t.Error("a second OpenWorkspace for the same clinician opened another workspace")
	}
	if a.Identity() != want || a.sandbox != rt.sandbox || a.client.BaseURL() != rt.sandbox.BaseURL() {
		t.Fatalf("workspace identity %+v, client %s", a.Identity(), a.client.BaseURL())
	}
	syncOnce(t, a)
	wl, err := a.ReviewList(ctx)
	if err != nil || len(wl.Rows) == 0 {
		t.Fatalf("worklist: %d rows, %v", len(wl.Rows), err)
	}
	for i := 1; i < len(wl.Rows); i++ {
		if wl.Rows[i-1].Priority.Rank() > wl.Rows[i].Priority.Rank() {
			t.Fatalf("worklist not in clinical order")
		}
	}
	ubrn := booked(t, a)[0]
	// The GUI's validation: a triage outcome does not fit a booked referral.
	_, err = a.Decide(ctx, triage.Decision{Kind: triage.DecisionReviewOutcome, UBRN: ubrn,
		Outcome: triage.OutcomeAcceptReferBookLater, Comments: "Book later."})
	var ve *triage.ValidationError
	if !errors.As(err, &ve) || !ve.Has(triage.RuleWrongReferralType) {
		t.Fatalf("wrong-kind decision: got %v, want a validation error", err)
	}
	dec := accept(t, a, ubrn)
	if en, _ := a.store.Entry(ctx, dec); en.By != want || en.BaseVersion == 0 {
		t.Fatalf("queued entry by %+v, base version %d", en.By, en.BaseVersion)
	}
	syncOnce(t, a)
	if s := entryState(t, a, dec); s != triage.OutboxSent {
		t.Fatalf("decision is %s after sync, want sent", s)
	}
	if w := tr.writers(ubrn); len(w) != 1 || w[0] != erssandbox.UserClinician {
		t.Fatalf("the accept was sent with tokens of %q, want one write as %s", w, erssandbox.UserClinician)
	}
	pdf, err := a.VettingPack(ctx, ubrn)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("vetting pack: %d bytes, %v", len(pdf), err)
	}
	eventually(t, 5*time.Second, "a status with the open workspace", func() bool {
		for {
			select {
			case s := <-statuses:
				if s.State == auth.StateActive && s.WorkspaceUser == erssandbox.UserClinician && s.ShowPatientData {
					return true
				}
			default:
				return false
			}
		}
	})

	// The next start resumes the saved session; offline, the same data is
	// readable without a sandbox, client or engine.
	rt.Close()
	off, err := Open(ctx, Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "no-policy.json"), Offline: true})
	if err != nil {
		t.Fatalf("open offline: %v", err)
	}
	defer off.Close()
	if off.engine != nil || off.sandbox != nil || off.client != nil || off.Identity() != want {
		t.Fatalf("offline app: engine %v, sandbox %v, identity %+v", off.engine != nil, off.sandbox != nil, off.Identity())
	}
	v, err := off.Referral(ctx, ubrn)
	if err != nil || v.Decision == nil || v.Decision.State != triage.OutboxSent {
		t.Fatalf("offline referral view: %+v, %v", v.Decision, err)
	}
}

// A second clinician on the same computer gets their own store: the first
// clinician's referrals and unsent decisions are neither shown to them nor
// sent with their session; when the first signs back in, their decision is
// sent under their own session.
func TestSecondClinicianGetsTheirOwnWorkspace(t *testing.T) {
	rt, first, tr := syncedDemo(t)
	ctx := context.Background()
	refs := booked(t, first)
	queued := accept(t, first, refs[0])

	browser := auth.LoginHintBrowser(tr.client(), erssandbox.UserClinician2)
	res, err := rt.SignIn(ctx, browser)
	if err != nil {
		t.Fatalf("second clinician's sign-in: %v", err)
	}
	if res.PreviousUser != erssandbox.UserClinician || res.Resumed {
		t.Fatalf("sign-in result %+v", res)
	}
	// The first clinician's workspace was closed before the second could
	// choose a role.
	if _, err := first.store.UnsentCount(ctx); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("first clinician's store after the second signed in: %v, want closed", err)
	}
	if st := rt.Status(); st.WorkspaceUser != "" || st.ShowPatientData {
		t.Fatalf("status after the switch: %+v", st)
	}
	if _, err := first.client.PractitionerRoles(ctx); !errors.Is(err, auth.ErrOtherUser) {
		t.Fatalf("first clinician's client with the second's session: %v, want ErrOtherUser", err)
	}
	if res.Suggested == nil {
		t.Fatal("no role suggested for a clinician with one role")
	}
	if _, err := rt.ChooseRole(ctx, *res.Suggested); err != nil {
		t.Fatal(err)
	}
	second := openWorkspace(t, rt)
	if second == first || second.store.Dir() == first.store.Dir() || second.User() != erssandbox.UserClinician2 {
		t.Fatalf("second clinician's workspace: %s, first's %s", second.store.Dir(), first.store.Dir())
	}
	if _, err := second.ReviewList(ctx); triage.ErrorCodeOf(err) != triage.ENOTFOUND {
		t.Fatalf("second clinician sees a worklist before syncing: %v", err)
	}
	if _, err := second.Referral(ctx, refs[0]); triage.ErrorCodeOf(err) != triage.ENOTFOUND {
		t.Fatalf("second clinician sees the first's referral: %v", err)
	}
	if es, err := second.store.Entries(ctx, store.EntryFilter{}); err != nil || len(es) != 0 {
		t.Fatalf("second clinician's outbox: %d entries, %v", len(es), err)
	}
	syncOnce(t, second)
	mine := accept(t, second, refs[1])
	syncOnce(t, second)
	if entryState(t, second, mine) != triage.OutboxSent {
		t.Fatal("the second clinician's decision was not sent")
	}
	if w := tr.writers(refs[0]); len(w) != 0 {
		t.Fatalf("the first clinician's decision was sent while the second was signed in (as %q)", w)
	}
	if w := tr.writers(refs[1]); len(w) != 1 || w[0] != erssandbox.UserClinician2 {
		t.Fatalf("second clinician's decision sent as %q", w)
	}

	// The first clinician signs back in: their queued decision is there and
	// is sent with their own session.
	res, err = rt.SignIn(ctx, auth.LoginHintBrowser(tr.client(), erssandbox.UserClinician))
	if err != nil || res.PreviousUser != erssandbox.UserClinician2 || res.Suggested == nil {
		t.Fatalf("first clinician's return: %+v, %v", res, err)
	}
	if _, err := second.store.UnsentCount(ctx); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("second clinician's store after the first came back: %v, want closed", err)
	}
	if _, err := rt.ChooseRole(ctx, *res.Suggested); err != nil {
		t.Fatal(err)
	}
	back := openWorkspace(t, rt)
	if entryState(t, back, queued) != triage.OutboxQueued {
		t.Fatal("the first clinician's queued decision was lost")
	}
	syncOnce(t, back)
	if entryState(t, back, queued) != triage.OutboxSent {
		t.Fatal("the first clinician's decision was not sent after they signed back in")
	}
	if w := tr.writers(refs[0]); len(w) != 1 || w[0] != erssandbox.UserClinician {
		t.Fatalf("first clinician's decision sent as %q, want once as %s", w, erssandbox.UserClinician)
	}
}

// Locking keeps the workspace open but closes it to reads and decisions
// and pauses sending; signing in again as the same clinician resumes the
// paused outbox without another action.
func TestLockThenSignInAgainResumes(t *testing.T) {
	rt, a, tr := syncedDemo(t)
	ctx := context.Background()
	refs := booked(t, a)
	dec := accept(t, a, refs[0])

	rt.Lock()
	st := rt.Status()
	if st.State != auth.StateLocked || st.ShowPatientData || st.WorkspaceUser != erssandbox.UserClinician || st.Identity.SDSUserID != erssandbox.UserClinician {
		t.Fatalf("locked status: %+v", st)
	}
	if _, err := a.ReviewList(ctx); !errors.Is(err, auth.ErrLocked) || triage.ErrorMessage(err) == "" {
		t.Errorf("worklist while locked: %v, want the lock message", err)
	}
	if _, err := a.Decide(ctx, triage.Decision{Kind: triage.DecisionAccept, UBRN: refs[1]}); !errors.Is(err, auth.ErrLocked) {
		t.Errorf("decision while locked: %v", err)
	}
	runEngine(t, a)
	time.Sleep(300 * time.Millisecond)
	if s := entryState(t, a, dec); s != triage.OutboxQueued || len(tr.writers(refs[0])) != 0 {
		t.Fatalf("while locked the decision is %s with %d writes, want queued and unsent", s, len(tr.writers(refs[0])))
	}

	id, err := rt.DemoSignIn(ctx)
	if err != nil || id.SDSUserID != erssandbox.UserClinician {
		t.Fatalf("sign in again: %+v, %v", id, err)
	}
	if again := openWorkspace(t, rt); again != a {
		t.Fatal("the workspace was reopened instead of resumed")
	}
	eventually(t, 20*time.Second, "the paused decision to be sent", func() bool { return entryState(t, a, dec) == triage.OutboxSent })
	if w := tr.writers(refs[0]); len(w) != 1 || w[0] != erssandbox.UserClinician {
		t.Fatalf("sent as %q", w)
	}
	if !rt.Status().ShowPatientData {
		t.Error("patient data still hidden after unlocking")
	}
}

// When the session reaches its time limit the engine pauses; cached data
// stays readable and decisions still queue; after the same clinician signs
// in again the queue is sent.
func TestSignInNeededPausesAndResumesWithoutLosingADecision(t *testing.T) {
	freshKeychain(t)
	var mu sync.Mutex
	var skew time.Duration
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(skew)
	}
	tr := newTraffic()
	o := demoOptions(t.TempDir(), tr)
	o.AuthClock = clock
	rt, a := demoWorkspace(t, o)
	ctx := context.Background()
	syncOnce(t, a)
	refs := booked(t, a)

	mu.Lock()
	skew = 13 * time.Hour // past the 12-hour session limit
	mu.Unlock()
	if _, err := a.engine.SyncOnce(ctx, nil); err == nil {
		t.Fatal("a sync after the session's time limit succeeded")
	}
	st := rt.Status()
	if st.State != auth.StateSignInNeeded || !st.ShowPatientData || st.Message == "" {
		t.Fatalf("status after the limit: %+v", st)
	}
	if _, err := a.ReviewList(ctx); err != nil {
		t.Fatalf("cached worklist while sign-in is needed: %v", err)
	}
	dec := accept(t, a, refs[0])
	runEngine(t, a)
	time.Sleep(300 * time.Millisecond)
	if s := entryState(t, a, dec); s != triage.OutboxQueued || len(tr.writers(refs[0])) != 0 {
		t.Fatalf("while sign-in is needed the decision is %s, want queued and unsent", s)
	}

	id, err := rt.DemoSignIn(ctx)
	if err != nil || id.SDSUserID != erssandbox.UserClinician || id.ODS != erssandbox.ProviderODS {
		t.Fatalf("sign in again: %+v, %v", id, err)
	}
	eventually(t, 20*time.Second, "the queued decision to be sent", func() bool { return entryState(t, a, dec) == triage.OutboxSent })
	if w := tr.writers(refs[0]); len(w) != 1 || w[0] != erssandbox.UserClinician {
		t.Fatalf("sent as %q", w)
	}
}

// An environment without sign-in has sessions without tokens: nobody is
// signed in at first and no workspace opens until a role is chosen (the
// CLI and the GUI do that without a browser; see environments_test.go).
func TestEnvironmentWithoutSignInStartsSignedOut(t *testing.T) {
	freshKeychain(t)
	dir := t.TempDir()
	rt := start(t, Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json"),
		Override: &config.EnvironmentChoice{Name: config.EnvNHSSandbox}})
	if st := rt.Status(); rt.auth == nil || !rt.NoSignIn() || !st.NoSignIn || st.State != auth.StateSignedOut {
		t.Fatalf("NHS sandbox runtime: %+v", st)
	}
	_, err := rt.OpenWorkspace(context.Background())
	if triage.ErrorCodeOf(err) != triage.EUNAUTHORIZED {
		t.Fatalf("workspace in the NHS sandbox before a role is chosen: %v", err)
	}
}

func TestRetentionMapsTheSettings(t *testing.T) {
	dir := t.TempDir()
	m, err := config.Load(config.Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json")})
	if err != nil {
		t.Fatal(err)
	}
	if r := RetentionFor(m.Settings()); r.AfterSent != store.DefaultAfterSent || r.WithoutSync != store.DefaultWithoutSync {
		t.Errorf("defaults: %+v, want the store's 7 and 14 days", r)
	}
	if err := m.SetSentRetentionDays(3); err != nil {
		t.Fatal(err)
	}
	if r := RetentionFor(m.Settings()); r.AfterSent != 3*24*time.Hour || r.WithoutSync != 14*24*time.Hour {
		t.Errorf("user chose 3 days: %+v", r)
	}
}

// localSandbox is an e-RS sandbox with its mock sign-in standing in for a
// non-demo environment (local), and the options that point at it.
func localSandbox(t *testing.T, dir string, tr *traffic) (*erssandbox.Sandbox, Options) {
	t.Helper()
	port, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	env, _ := config.Builtin(config.EnvLocal)
	env.RedirectPort = port
	sb, err := erssandbox.Start(context.Background(), erssandbox.Config{Auth: true, Referrals: 10,
		ClientID: config.LocalClientID, ClientSecret: "local-secret", RedirectURI: env.RedirectURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb, Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json"),
		Override:     &config.EnvironmentChoice{Name: config.EnvLocal, FHIRBaseURL: sb.BaseURL(), AuthBaseURL: sb.AuthBaseURL()},
		RedirectPort: port, ClientSecret: "local-secret", LockTimeout: -1, HTTPClient: tr.client()}
}

// Outside demo, Open needs an active saved session and says how to get one;
// after a sign-in, the next process resumes it.
func TestOpenOutsideDemoNeedsAnActiveSession(t *testing.T) {
	freshKeychain(t)
	tr := newTraffic()
	dir := t.TempDir()
	sb, o := localSandbox(t, dir, tr)
	ctx := context.Background()
	_, err := Open(ctx, o)
	if triage.ErrorCodeOf(err) != triage.EUNAUTHORIZED || !bytes.Contains([]byte(triage.ErrorMessage(err)), []byte("triagectl login")) {
		t.Fatalf("open without a session: %v", err)
	}
	live := o
	live.Override = &config.EnvironmentChoice{Name: config.EnvProd}
	if _, err := Start(ctx, live); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("a client secret for live e-RS: %v, want refused", err)
	}

	rt, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.DemoSignIn(ctx); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("demo sign-in outside demo: %v", err)
	}
	if _, err := rt.SignIn(ctx, auth.LoginHintBrowser(tr.client(), erssandbox.UserClinician2)); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ChooseRole(ctx, config.RoleChoice{ODSCode: erssandbox.ProviderODS, BusinessFunction: string(triage.RoleServiceProviderClinician)}); err != nil {
		t.Fatal(err)
	}
	rt.Close()

	a, err := Open(ctx, o)
	if err != nil {
		t.Fatalf("open with a saved session: %v", err)
	}
	defer a.Close()
	if a.sandbox != nil || a.client.BaseURL() != sb.BaseURL() || a.Identity().SDSUserID != erssandbox.UserClinician2 {
		t.Fatalf("local app: client %s, identity %+v", a.client.BaseURL(), a.Identity())
	}
	if len(tr.grants("refresh_token")) != 1 {
		t.Errorf("the saved session was resumed with %d refreshes, want 1", len(tr.grants("refresh_token")))
	}
	syncOnce(t, a)
}

// In demo mode on a computer without a keychain the demo still works, on a
// throwaway key held in memory, says that its data will not be kept, and
// leaves nothing readable behind; outside demo the same failure is the
// store's online-only error.
func TestWithoutAKeychain(t *testing.T) {
	keyring.MockInitWithError(errors.New("no secret service on this desktop"))
	t.Cleanup(keyring.MockInit)
	ctx := context.Background()

	t.Run("demo", func(t *testing.T) {
		dir := t.TempDir()
		tr := newTraffic()
		rt, err := Start(ctx, demoOptions(dir, tr))
		if err != nil {
			t.Fatal(err)
		}
		defer rt.Close()
		if _, err := rt.DemoSignIn(ctx); err != nil {
			t.Fatalf("demo sign-in without a keychain: %v", err)
		}
		a := openWorkspace(t, rt)
		st := rt.Status()
		if st.StorageNotice != DemoStorageNotice || st.Warning == "" {
			t.Fatalf("status says nothing about the keychain: %+v", st)
		}
		data := a.store.Dir()
		if rel, err := filepath.Rel(dir, data); err == nil && filepath.IsLocal(rel) {
			t.Fatalf("throwaway data in the profile: %s", data)
		}
		if s := rt.Storage(); s.Kept || s.Keys != KeysMemory || s.Dir == dir || !strings.HasPrefix(data, s.Dir) {
			t.Errorf("storage %+v does not say the data is in %s, under a key in memory, not kept", s, data)
		}
		syncOnce(t, a)
		dec := accept(t, a, booked(t, a)[0])
		syncOnce(t, a)
		if entryState(t, a, dec) != triage.OutboxSent {
			t.Fatal("decision not sent in the keychain-less demo")
		}
		if err := rt.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Dir(filepath.Dir(data))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("throwaway folder left behind: %v", err)
		}
		// Nothing with data was written to the profile either.
		err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (d.Name() == store.OutboxFile || d.Name() == store.CacheFile) {
				t.Errorf("store file in the profile: %s", p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("outside demo", func(t *testing.T) {
		tr := newTraffic()
		dir := t.TempDir()
		_, o := localSandbox(t, dir, tr)
		rt := start(t, o)
		if _, err := rt.SignIn(ctx, auth.LoginHintBrowser(tr.client(), erssandbox.UserClinician2)); err != nil {
			t.Fatal(err)
		}
		if _, err := rt.ChooseRole(ctx, config.RoleChoice{ODSCode: erssandbox.ProviderODS, BusinessFunction: string(triage.RoleServiceProviderClinician)}); err != nil {
			t.Fatal(err)
		}
		_, err := rt.OpenWorkspace(ctx)
		if !errors.Is(err, store.ErrKeychainUnavailable) || triage.ErrorCodeOf(err) != triage.EUNAVAILABLE ||
			!bytes.Contains([]byte(triage.ErrorMessage(err)), []byte("online-only")) {
			t.Fatalf("workspace without a keychain outside demo: %v, want the online-only error", err)
		}
		if rt.Status().StorageNotice != "" {
			t.Error("the demo's notice outside demo")
		}
	})
}

// Logout closes the workspace; unsent decisions keep the clinician's data
// (for their next sign-in) unless they agreed to discard them, when the
// data is wiped.
func TestLogoutKeepsUnsentDecisionsUnlessDiscarded(t *testing.T) {
	rt, a, tr := syncedDemo(t)
	ctx := context.Background()
	ubrn := booked(t, a)[0]
	dec := accept(t, a, ubrn)
	dir := a.store.Dir()
	if n, err := rt.UnsentCount(ctx, ""); err != nil || n != 1 {
		t.Fatalf("unsent before logout: %d, %v", n, err)
	}

	rep, err := rt.Logout(ctx, false)
	if err != nil || rep.UnsentKept != 1 || rep.DataWiped || rep.User != erssandbox.UserClinician {
		t.Fatalf("logout with an unsent decision: %+v, %v", rep, err)
	}
	st := rt.Status()
	if st.State != auth.StateSignedOut || st.WorkspaceUser != "" || st.ShowPatientData {
		t.Fatalf("status after logout: %+v", st)
	}
	if _, err := a.store.UnsentCount(ctx); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("store after logout: %v, want closed", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the kept data is gone: %v", err)
	}
	if n, err := rt.UnsentCount(ctx, erssandbox.UserClinician); err != nil || n != 1 {
		t.Fatalf("unsent after logout, by user: %d, %v", n, err)
	}

	if _, err := rt.DemoSignIn(ctx); err != nil {
		t.Fatal(err)
	}
	back := openWorkspace(t, rt)
	if entryState(t, back, dec) != triage.OutboxQueued {
		t.Fatal("the kept decision is not queued after signing in again")
	}
	rep, err = rt.Logout(ctx, true)
	if err != nil || !rep.DataWiped || rep.Discarded != 1 {
		t.Fatalf("logout discarding: %+v, %v", rep, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("data left after the wipe: %v", err)
	}
	if len(tr.writers(ubrn)) != 0 {
		t.Fatal("a discarded decision was sent")
	}
}
