package app

import (
	"context"
	"fmt"
	"log/slog"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// SignIn signs a clinician in through CIS2 (auth.Manager.SignIn): openBrowser
// opens the system browser on the address given (if it cannot, it should
// show the address and return nil). It also unlocks a locked session and
// renews an ended one. When the same clinician signs in again their role
// is restored (Resumed) and their open workspace resumes; when another
// clinician signs in (PreviousUser), the open workspace is closed before
// SignIn returns. Otherwise choose a role next (ChooseRole).
//
// Errors: auth.Manager.SignIn's; EINVALID when the environment has no
// sign-in or the Runtime was started Offline.
func (rt *Runtime) SignIn(ctx context.Context, openBrowser func(authURL string) error) (*auth.SignInResult, error) {
	m, err := rt.manager()
	if err != nil {
		return nil, err
	}
	res, err := m.SignIn(ctx, openBrowser)
	who := m.Status().Identity.SDSUserID
	if res != nil {
		who = res.UserID
	}
	rt.closeUnless(who)
	return res, err
}

// DemoSignIn is AutoSignIn for the demo only. Errors: EINVALID outside
// demo; AutoSignIn's.
func (rt *Runtime) DemoSignIn(ctx context.Context) (triage.Identity, error) {
	if !rt.demo {
		return triage.Identity{}, triage.Errorf(triage.EINVALID, "Signing in without a browser works in the demo only.")
	}
	return rt.AutoSignIn(ctx)
}

// AutoSignIn signs in without a browser where that is possible, and chooses
// the role. In the demo it completes the mock CIS2 sign-in through
// login_hint, as the clinician whose session was saved or else the
// sandbox's demo clinician (erssandbox.UserClinician), going through the
// same authorize request, PKCE code exchange and A030 roles call as a real
// sign-in. In an environment without sign-in it reads the roles (A030)
// without a token. The role is the previous, remembered or only vetting
// role, else a vetting role at the sandbox's main trust. When the session
// is already active it returns its identity.
//
// Errors: EINVALID where a browser sign-in is needed (INT, live, a local
// server with sign-in); SignIn's and ChooseRole's.
func (rt *Runtime) AutoSignIn(ctx context.Context) (triage.Identity, error) {
	if !rt.demo && !rt.NoSignIn() {
		return triage.Identity{}, triage.Errorf(triage.EINVALID, "%s needs a sign-in with your NHS Care Identity in the browser.", rt.Environment.Label)
	}
	m, err := rt.manager()
	if err != nil {
		return triage.Identity{}, err
	}
	st := m.Status()
	if st.State == auth.StateActive {
		return st.Identity, nil
	}
	var open func(string) error
	if !rt.NoSignIn() {
		user := st.Identity.SDSUserID
		if user == "" {
			user = erssandbox.UserClinician
		}
		open = auth.LoginHintBrowser(rt.opts.HTTPClient, user)
	}
	res, err := rt.SignIn(ctx, open)
	if err != nil {
		return triage.Identity{}, fmt.Errorf("sign in to %s: %w", rt.Environment.Name, err)
	}
	if res.Resumed {
		return res.Identity, nil
	}
	choice := res.Suggested
	if choice == nil {
		choice = demoRole(res.Roles)
	}
	if choice == nil {
		return triage.Identity{}, triage.Errorf(triage.EINVALID,
			"The user %s has no role that can vet referrals in %s. Sign in from the sign-in screen and choose another test user.", res.UserID, rt.Environment.Label)
	}
	return rt.ChooseRole(ctx, *choice)
}

// demoRole picks a vetting role that needs nobody to act for, preferring
// the sandbox's main trust.
func demoRole(opts []auth.RoleOption) *config.RoleChoice {
	var pick *auth.RoleOption
	for i := range opts {
		o := &opts[i]
		if !o.CanVet || !o.Allowed || o.NeedsOnBehalfOf {
			continue
		}
		if pick == nil || (o.ODS == erssandbox.ProviderODS && pick.ODS != erssandbox.ProviderODS) {
			pick = o
		}
	}
	if pick == nil {
		return nil
	}
	c := pick.Choice()
	return &c
}

// Roles reads the signed-in clinician's e-RS roles again (A030), e.g. when
// Status is StateNeedsRole after start-up. Errors: auth.Manager.Roles'.
func (rt *Runtime) Roles(ctx context.Context) ([]auth.RoleOption, error) {
	m, err := rt.manager()
	if err != nil {
		return nil, err
	}
	return m.Roles(ctx)
}

// OnBehalfOfUsers lists whom a clinician admin may act for at ods (A040).
// Errors: auth.Manager.OnBehalfOfUsers'.
func (rt *Runtime) OnBehalfOfUsers(ctx context.Context, ods string) ([]triage.OnBehalfOfUser, error) {
	m, err := rt.manager()
	if err != nil {
		return nil, err
	}
	return m.OnBehalfOfUsers(ctx, ods)
}

// ChooseRole sets the organisation and business function the clinician
// works as (auth.Manager.ChooseRole); the session is then StateActive and
// OpenWorkspace opens their data (or the open workspace resumes). Errors:
// auth.Manager.ChooseRole's.
func (rt *Runtime) ChooseRole(ctx context.Context, c config.RoleChoice) (triage.Identity, error) {
	m, err := rt.manager()
	if err != nil {
		return triage.Identity{}, err
	}
	id, err := m.ChooseRole(ctx, c)
	if err == nil {
		rt.closeUnless(id.SDSUserID)
	}
	return id, err
}

// Lock locks the session now (the OS screen locked, the computer is going
// to sleep, or the clinician chose Lock). The workspace stays open and
// paused; hide patient data until sign-in.
func (rt *Runtime) Lock() {
	if rt.auth != nil && !rt.offline {
		rt.auth.Lock()
	}
}

// Touch records user activity; the session locks after the policy's
// inactivity timeout without it. Call it on every input event.
func (rt *Runtime) Touch() {
	if rt.auth != nil {
		rt.auth.Touch()
	}
}

// SavedStatus reports the session saved in the keychain without the
// network (triagectl whoami). Errors: auth.Manager.SavedStatus'.
func (rt *Runtime) SavedStatus(ctx context.Context) (auth.Status, error) {
	return rt.auth.SavedStatus(ctx)
}

// sessionERS builds the e-RS client the session reads roles with (A030,
// A040): env's base URL, the app's HTTP client and, in the demo, its rate
// limit; tokens come from the session.
func (rt *Runtime) sessionERS(env config.Environment, log *slog.Logger) auth.ERSFactory {
	return func(tokens oauth2.TokenSource) (*ers.Client, error) {
		cfg := ers.Config{BaseURL: env.FHIRBaseURL, HTTPClient: rt.opts.HTTPClient, Logger: log, TokenSource: tokens}
		if rt.demo {
			cfg.RateLimit = DemoRateLimit
		}
		return ers.New(cfg)
	}
}
