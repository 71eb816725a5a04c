package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/pds"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Workspace is one clinician's workspace: their encrypted store, the e-RS client
// that sends their tokens, and the sync engine. Runtime.OpenWorkspace
// opens it; the Runtime closes it when another clinician signs in, at
// logout and at exit. Run a.Run(ctx) to keep it in sync. Its
// methods refuse with a plain message while the session is locked or
// belongs to someone else.
type Workspace struct {
	Config   *config.Manager
	Settings *config.Settings
	// Environment is where the app connects, with the demo sandbox's URLs
	// filled in.
	Environment config.Environment
	// sandbox is the in-process e-RS sandbox (demo mode only).
	sandbox *erssandbox.Sandbox
	store   *store.Store
	// client, engine and session are nil for a store-only workspace
	// (Options.Offline). Session is live only while the sign-in is
	// StateActive as this workspace's clinician.
	client  *ers.Client
	engine  *engine.Engine
	session engine.Session
	// pds reads patients for the banner (nil without PDS or store-only).
	pds *pds.Client
	// letters memoizes the text of cached CRIs for the identity
	// cross-check (memory only).
	letters letterTexts
	// runtime is the runtime the workspace belongs to.
	runtime *Runtime

	user      string          // the clinician's SDS user id
	offlineID triage.Identity // store-only: the saved session's identity
	log       *slog.Logger
	eng       atomic.Pointer[engine.Engine]

	ownsRuntime bool // Open: Close also closes the Runtime
	engOnce     sync.Once
	closeOnce   sync.Once
	closeErr    error

	// The cached worklist's items by UBRN, for reconcile; dropped when a
	// new worklist is stored (wlGen counts those changes).
	wlMu    sync.Mutex
	wlItems map[string]triage.WorklistItem
	wlGen   uint64
}

// workspaceSession is the engine's view of the sign-in: the Manager's
// identity, live only while the session is active as the workspace's
// clinician.
type workspaceSession struct {
	m    *auth.Manager
	user string
}

// Identity implements engine.Session.
func (s *workspaceSession) Identity() (triage.Identity, bool) {
	st := s.m.Status()
	if st.Identity.SDSUserID != s.user {
		return triage.Identity{}, false
	}
	return st.Identity, st.State == auth.StateActive
}

// OpenWorkspace opens the signed-in clinician's workspace: their store
// (created on first use), an e-RS client whose tokens come from the
// Manager's token source bound to this clinician (auth.Manager.
// TokenSourceFor: never an oauth2.Transport), and the engine. If this
// clinician's workspace is open already it is returned; another
// clinician's is closed first.
//
// Without a keychain the store cannot be opened: outside demo that is
// store.Open's EUNAVAILABLE error wrapping store.ErrKeychainUnavailable
// (Triage Desk can only work online; the GUI shows the message). In demo
// mode the data is instead kept in a throwaway folder under a key held in
// memory only, both gone at Close, and Status().StorageNotice says so.
//
// In an environment without sign-in the client sends no token.
//
// Errors: an EUNAUTHORIZED *triage.Error with the next step unless the
// session is StateActive; store.Open's (keychain, another Triage Desk running, a damaged
// outbox); the client's or engine's configuration errors.
func (rt *Runtime) OpenWorkspace(ctx context.Context) (*Workspace, error) {
	rt.openMu.Lock()
	defer rt.openMu.Unlock()
	st := rt.authStatus()
	if st.State != auth.StateActive {
		return nil, notActive(st)
	}
	id := st.Identity
	rt.closeUnless(id.SDSUserID)
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil, errors.New("app: runtime closed")
	}
	if ws := rt.ws; ws != nil {
		rt.mu.Unlock()
		return ws, nil
	}
	rt.mu.Unlock()

	a := &Workspace{Config: rt.Config, Settings: rt.Config.Settings(), Environment: rt.Environment, sandbox: rt.sandbox,
		runtime: rt, user: id.SDSUserID, log: rt.Logger}
	ok := false
	defer func() {
		if !ok {
			a.shutdown()
		}
	}()
	var err error
	if a.store, err = rt.openStore(ctx, id.SDSUserID, a.storeChanged); err != nil {
		return nil, err
	}
	if rt.storeOnly {
		a.offlineID = id
	} else {
		if err := rt.Environment.Check(); err != nil {
			return nil, err
		}
		ccfg := ers.Config{BaseURL: rt.Environment.FHIRBaseURL, TokenSource: rt.auth.TokenSourceFor(id.SDSUserID),
			HTTPClient: rt.opts.HTTPClient, Logger: rt.Logger}
		if rt.NoSignIn() {
			ccfg.TokenSource = nil
		}
		if rt.demo || onThisComputer(rt.Environment.FHIRBaseURL) {
			ccfg.RateLimit = DemoRateLimit
		}
		if a.client, err = ers.New(ccfg); err != nil {
			return nil, fmt.Errorf("e-RS client: %w", err)
		}
		if base := rt.Environment.PDSBaseURL; base != "" {
			pcfg := pds.Config{BaseURL: base, TokenSource: ccfg.TokenSource, Limiter: a.client.Limiter(),
				HTTPClient: rt.opts.HTTPClient, Logger: rt.Logger}
			if rt.demo {
				pcfg.RateLimit = DemoRateLimit
			}
			if a.pds, err = pds.New(pcfg); err != nil {
				return nil, fmt.Errorf("PDS client: %w", err)
			}
		}
		a.session = &workspaceSession{m: rt.auth, user: id.SDSUserID}
		ecfg := EngineConfig(a.Settings)
		ecfg.Store, ecfg.Client, ecfg.Session, ecfg.Logger, ecfg.PDS = a.store, a.client, a.session, rt.Logger, a.pds
		if rt.opts.EngineTuning != nil {
			rt.opts.EngineTuning(&ecfg)
		}
		if a.engine, err = engine.New(ecfg); err != nil {
			return nil, err
		}
		a.eng.Store(a.engine)
	}
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil, errors.New("app: runtime closed")
	}
	// Someone else may have signed in while the store was opening.
	if now := rt.authStatus(); now.Identity.SDSUserID != id.SDSUserID || now.State != auth.StateActive {
		rt.mu.Unlock()
		return nil, notActive(now)
	}
	rt.ws = a
	rt.mu.Unlock()
	a.sessionChanged()
	rt.signal()
	ok = true
	rt.Logger.Info("workspace opened", "user_dir", store.UserDirName(id.SDSUserID), "store_only", rt.storeOnly)
	return a, nil
}

// onThisComputer reports whether a base URL names a loopback address: a
// server on this computer (the demo, `triagectl sandbox`, a local copy of
// the NHS sandbox) is not held to e-RS's per-application request rate.
func onThisComputer(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	h := u.Hostname()
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// notActive explains why there is no workspace for the session.
func notActive(st auth.Status) error {
	msg := st.Message
	switch st.State {
	case auth.StateNeedsRole:
		msg = "Choose the organisation and role you are working as first."
	case auth.StateActive:
		msg = "Another clinician signed in while your data was opening. Open Triage Desk again."
	}
	if msg == "" {
		msg = "Sign in with your NHS Care Identity first."
	}
	return &triage.Error{Code: triage.EUNAUTHORIZED, Message: msg}
}

// UnsentCount counts the decisions of user (""; the signed-in or saved
// session's clinician) that have not reached e-RS, for the warning before
// logout. It is 0 when that clinician has no data on this computer.
// Errors: the store's.
func (rt *Runtime) UnsentCount(ctx context.Context, user string) (int, error) {
	rt.openMu.Lock()
	defer rt.openMu.Unlock()
	rt.mu.Lock()
	ws := rt.ws
	rt.mu.Unlock()
	if user == "" {
		user = rt.sessionUser(ctx)
	}
	if ws != nil && ws.user == user {
		return ws.store.UnsentCount(ctx)
	}
	s, err := rt.openExisting(ctx, user)
	if err != nil || s == nil {
		return 0, err
	}
	defer s.Close()
	return s.UnsentCount(ctx)
}

// LogoutOptions control LogoutWith.
type LogoutOptions struct {
	// DiscardUnsent is set only after the clinician explicitly agreed to
	// discard decisions that have not reached e-RS.
	DiscardUnsent bool
	// KeepData ends the session only; the clinician's data stays.
	KeepData bool
	// User is whose data to remove when no session, in memory or saved,
	// names anyone (a second logout after the first kept the data).
	User string
}

// Logout signs out (auth.Manager.Logout): the engine stops, tokens leave
// memory and the keychain, and the clinician's data is removed by the
// store's rules: wiped when nothing is unsent or discardUnsent is set;
// otherwise kept, encrypted, for their next sign-in (LogoutReport.
// UnsentKept). The workspace is closed either way. Ask the clinician first
// when UnsentCount is above zero.
//
// Errors: auth.Manager.Logout's (the session is ended even then); the
// store's when the data of a clinician without an open workspace cannot be
// opened (nothing is signed out then).
func (rt *Runtime) Logout(ctx context.Context, discardUnsent bool) (auth.LogoutReport, error) {
	return rt.LogoutWith(ctx, LogoutOptions{DiscardUnsent: discardUnsent})
}

// LogoutWith is Logout with the command line's choices. Errors as Logout.
func (rt *Runtime) LogoutWith(ctx context.Context, o LogoutOptions) (auth.LogoutReport, error) {
	rt.openMu.Lock()
	defer rt.openMu.Unlock()
	rt.mu.Lock()
	ws := rt.ws
	rt.mu.Unlock()
	var data *store.Store
	if !o.KeepData {
		if ws != nil {
			data = ws.store
		} else {
			user := rt.sessionUser(ctx)
			if user == "" {
				user = strings.TrimSpace(o.User)
			}
			s, err := rt.openExisting(ctx, user)
			if err != nil {
				return auth.LogoutReport{}, err
			}
			data = s
		}
	}
	rt.mu.Lock()
	rt.ws = nil
	rt.mu.Unlock()
	if ws != nil {
		ws.stopEngine() // nothing is sent from here on
	}
	rep, err := logoutAndWipe(ctx, rt.auth, auth.LogoutOptions{User: o.User}, data, o.DiscardUnsent, rt.Logger)
	if data != nil {
		if cerr := data.Close(); cerr != nil && !errors.Is(cerr, store.ErrClosed) {
			rt.Logger.Warn("store not closed cleanly at logout", "err", cerr)
		}
	}
	if ws != nil {
		ws.shutdown()
	}
	if rt.offline {
		saved, _ := rt.auth.SavedStatus(ctx)
		rt.savedMu.Lock()
		rt.saved = saved
		rt.savedMu.Unlock()
	}
	rt.signal()
	return rep, err
}

// Open is Start, then (in demo mode or an environment without sign-in, when
// nobody is signed in) AutoSignIn, then OpenWorkspace, for the command-line
// tool: closing the App also closes its Runtime. Elsewhere the saved
// session must be active; otherwise Open returns an EUNAUTHORIZED
// *triage.Error telling the user to run 'triagectl login'. With Offline and
// nobody signed in, the demo clinician (or the role of an environment
// without sign-in) is signed in first (starting the demo sandbox for
// that); the workspace is still store-only.
//
// Errors: Start's, AutoSignIn's and OpenWorkspace's.
func Open(ctx context.Context, opts Options) (*Workspace, error) {
	rt, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	if st := rt.Status(); st.State != auth.StateActive {
		if !rt.demo && !rt.NoSignIn() {
			rt.Close()
			return nil, commandLineSignIn(st, opts.LoginCommand)
		}
		if rt.offline {
			rt.Close()
			o := opts
			o.Offline = false
			if rt, err = Start(ctx, o); err != nil {
				return nil, err
			}
			rt.storeOnly = true
		}
		if _, err := rt.AutoSignIn(ctx); err != nil {
			rt.Close()
			return nil, err
		}
	}
	a, err := rt.OpenWorkspace(ctx)
	if err != nil {
		rt.Close()
		return nil, err
	}
	a.ownsRuntime = true
	return a, nil
}

// commandLineSignIn tells a command-line user how to sign in, with login,
// the command that signs in to this environment ("": triagectl login).
func commandLineSignIn(st Status, login string) error {
	if login == "" {
		login = "triagectl login"
	}
	var msg string
	switch st.State {
	case auth.StateLocked:
		msg = fmt.Sprintf("Your Triage Desk session is locked. Run '%s' to sign in again; your work is kept.", login)
	case auth.StateSignInNeeded:
		msg = fmt.Sprintf("Your NHS sign-in has ended. Run '%s' to sign in again; your work is kept.", login)
	case auth.StateNeedsRole:
		msg = fmt.Sprintf("Choose the role you are working as: run '%s --ods CODE --business-function FUNCTION'.", login)
	default:
		msg = fmt.Sprintf("You are not signed in to %s. Run '%s' first.", st.EnvironmentLabel, login)
		if st.Environment == config.EnvLocal {
			msg += " If the server has no sign-in, add --no-sign-in."
		}
	}
	if st.Warning != "" {
		msg += " " + st.Warning
	}
	return &triage.Error{Code: triage.EUNAUTHORIZED, Err: auth.ErrNotSignedIn, Message: msg}
}

func (a *Workspace) storeChanged(c store.Change) {
	if c.Kind == store.ChangeWorklist {
		a.wlMu.Lock()
		a.wlItems, a.wlGen = nil, a.wlGen+1
		a.wlMu.Unlock()
	}
	if e := a.eng.Load(); e != nil {
		e.StoreChanged(c)
	}
}

// User returns the SDS user id of the clinician whose workspace this is.
func (a *Workspace) User() string { return a.user }

// Identity returns the identity decisions are recorded under: the
// session's while it belongs to this workspace's clinician (their role
// included), otherwise the zero Identity. A store-only workspace returns
// the saved session's.
func (a *Workspace) Identity() triage.Identity {
	id, _ := a.access()
	return id
}

// access returns the identity to act as, or why the workspace may not be
// used now: the session is locked, signed out, or someone else's.
func (a *Workspace) access() (triage.Identity, error) {
	if a.runtime.storeOnly {
		return a.offlineID, nil
	}
	st := a.runtime.auth.Status()
	if st.Identity.SDSUserID != a.user {
		return triage.Identity{}, &triage.Error{Code: triage.EUNAUTHORIZED, Err: auth.ErrOtherUser,
			Message: "Another clinician is signed in, so your data is closed. Sign in again with your NHS Care Identity to continue; your work is kept."}
	}
	switch st.State {
	case auth.StateLocked:
		return triage.Identity{}, &triage.Error{Code: triage.EUNAUTHORIZED, Err: auth.ErrLocked, Message: st.Message}
	case auth.StateSignedOut:
		return triage.Identity{}, &triage.Error{Code: triage.EUNAUTHORIZED, Err: auth.ErrNotSignedIn, Message: "Sign in with your NHS Care Identity first."}
	}
	return st.Identity, nil
}

// SessionChanged tells the engine the sign-in changed. The Runtime calls
// it on every change of the session; callers need not.
func (a *Workspace) SessionChanged() { a.sessionChanged() }

func (a *Workspace) sessionChanged() {
	if e := a.eng.Load(); e != nil {
		e.SessionChanged()
	}
}

// Documents returns the Runtime's PDF engine (Runtime.Documents).
func (a *Workspace) Documents(ctx context.Context) *document.Engine { return a.runtime.Documents(ctx) }

// stopEngine stops the engine: nothing more is sent or fetched.
func (a *Workspace) stopEngine() {
	a.engOnce.Do(func() {
		a.eng.Store(nil)
		if a.engine != nil {
			if err := a.engine.Close(); err != nil {
				a.log.Warn("engine not closed cleanly", "err", err)
			}
		}
	})
}

// shutdown stops the engine and closes the store.
func (a *Workspace) shutdown() error {
	a.closeOnce.Do(func() {
		a.stopEngine()
		if a.store != nil {
			if err := a.store.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
				a.closeErr = err
			}
		}
	})
	return a.closeErr
}

// Close stops the engine and closes the store (and, for a Workspace from Open,
// its Runtime). The Runtime no longer counts it as open. It returns the
// first error.
func (a *Workspace) Close() error {
	err := a.shutdown()
	rt := a.runtime
	rt.mu.Lock()
	if rt.ws == a {
		rt.ws = nil
	}
	rt.mu.Unlock()
	rt.signal()
	if a.ownsRuntime {
		if e := rt.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}
