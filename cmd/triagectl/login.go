package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func init() {
	register(command{name: "login", summary: "sign in with your NHS Care Identity (CIS2); the session is kept in the keychain", run: runLogin})
	register(command{name: "whoami", summary: "show who is signed in, in which role, and until when", run: runWhoami})
	register(command{name: "logout", summary: "sign out: remove the session from the keychain and your data by the store's rules", run: runLogout})
}

// demoPlaceholderURL stands in for the demo sandbox's address when no
// sandbox runs (whoami, logout): neither contacts the network.
const demoPlaceholderURL = "http://127.0.0.1"

// authEnv resolves the environment and keychain for the sign-in commands:
// the OS keychain, or with --dev-insecure-keyfile a plain session file
// beside the key file (refused for live e-RS).
func authEnv(g *Globals) (*config.Manager, config.Environment, auth.Keyring, error) {
	cm, err := loadConfig(g, "")
	if err != nil {
		return nil, config.Environment{}, nil, err
	}
	env := cm.Settings().Environment
	if !env.NeedsToken {
		return nil, env, nil, triage.Errorf(triage.EINVALID, "The %s environment (%s) needs no sign-in.", env.Name, env.Label)
	}
	var ring auth.Keyring = auth.OSKeyring{}
	if g.DevInsecureKeyfile != "" {
		if env.Production {
			return nil, env, nil, triage.Errorf(triage.EINVALID, "--dev-insecure-keyfile cannot be used with live e-RS: your sign-in must stay in the OS keychain.")
		}
		fmt.Fprintln(g.Stderr, strings.Repeat("!", 78))
		fmt.Fprintln(g.Stderr, "!! DEVELOPMENT MODE: the NHS sign-in is kept in PLAIN TEXT, not the OS keychain. !!")
		fmt.Fprintln(g.Stderr, strings.Repeat("!", 78))
		ring = auth.DevFileKeyring{Path: auth.DevSessionFile(g.DevInsecureKeyfile), Warn: g.Stderr}
	}
	return cm, env, ring, nil
}

func environmentLine(env config.Environment) string {
	s := fmt.Sprintf("%s (%s)", env.Label, env.Name)
	if !env.Production {
		s += " — NOT LIVE: test data only"
	}
	return s
}

func runLogin(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("login", g)
	user := fs.String("user", "", "test user (SDS user id): complete the sign-in without a browser; demo, local and mock sign-in only")
	ods := fs.String("ods", "", "ODS code of the organisation to work for (default: your remembered or only role)")
	bf := fs.String("business-function", "", "e-RS business function to work as, e.g. SERVICE_PROVIDER_CLINICIAN")
	obo := fs.String("on-behalf-of", "", "SDS user id of the clinician a clinician admin acts for")
	port := fs.Int("callback-port", 0, "sign-in callback port on 127.0.0.1 (demo and local only; otherwise the policy's redirect_port)")
	clientID := fs.String("client-id", "", "client id of a local development server (local only)")
	secretEnv := fs.String("client-secret-env", "", "environment variable holding the client secret of a local development server (local only)")
	timeout := fs.Duration("timeout", auth.DefaultCallbackTimeout, "how long to wait for the browser to come back")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	cm, env, ring, err := authEnv(g)
	if err != nil {
		return err
	}
	dev := env.Name == config.EnvDemo || env.Name == config.EnvLocal
	if !dev && (*port != 0 || *clientID != "" || *secretEnv != "") {
		return usageError{"--callback-port, --client-id and --client-secret-env are for the demo and local environments only; elsewhere IT sets them in the machine policy"}
	}
	if *port != 0 {
		env.RedirectPort = *port
	}
	if *clientID != "" {
		env.ClientID = *clientID
	}
	var ex auth.TokenExchanger
	var sb *erssandbox.Sandbox
	switch {
	case env.Name == config.EnvDemo:
		sb, err = erssandbox.Start(ctx, erssandbox.Config{Auth: true, ClientID: env.ClientID, RedirectURI: env.RedirectURL(),
			Referrals: 20, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return &triage.Error{Code: triage.EUNAVAILABLE, Err: err, Message: "The demo server could not start. Try again; if it keeps happening, use --callback-port with a free port."}
		}
		defer sb.Close()
		_, secret, _ := sb.OAuthClient()
		env = env.WithURLs(sb.BaseURL(), sb.AuthBaseURL())
		ex = auth.NewDirectExchanger(env, auth.StaticSecret(secret), nil)
		fmt.Fprintln(g.Stdout, "Demo: signing in to the built-in sandbox (synthetic users and patients). It stops when this command ends.")
	case *secretEnv != "":
		secret := os.Getenv(*secretEnv)
		if secret == "" {
			return usageError{fmt.Sprintf("environment variable %s is empty", *secretEnv)}
		}
		ex = auth.NewDirectExchanger(env, auth.StaticSecret(secret), nil)
	}
	if *user != "" && !auth.SupportsLoginHint(env) {
		return usageError{"--user works only with the demo, local and mock sign-in services; open the printed address in a browser instead"}
	}
	o := auth.FromConfig(cm)
	o.Environment, o.Keyring, o.Exchanger = env, ring, ex
	o.LockTimeout, o.CallbackTimeout = -1, *timeout
	m, err := auth.New(o)
	if err != nil {
		return err
	}
	defer m.Close()

	var choice *config.RoleChoice
	if *ods != "" || *bf != "" {
		c := config.RoleChoice{ODSCode: *ods, BusinessFunction: *bf, OnBehalfOfUserID: *obo}
		if c.BusinessFunction == "" {
			c.BusinessFunction = string(triage.RoleServiceProviderClinician)
		}
		if c.ODSCode == "" {
			return usageError{"--business-function needs --ods"}
		}
		choice = &c
	}
	// A sign-in still waiting for its role is finished without the browser.
	if env.Name != config.EnvDemo && choice != nil && *user == "" {
		if st, err := m.Restore(ctx); err == nil && st.State == auth.StateNeedsRole {
			id, err := m.ChooseRole(ctx, *choice)
			if err != nil {
				return err
			}
			return printSignedIn(g.Stdout, env, m, id)
		}
	}

	open := func(u string) error {
		fmt.Fprintf(g.Stdout, "Open this address in your web browser to sign in with your NHS Care Identity:\n\n  %s\n\nWaiting up to %v for the browser to return to Triage Desk...\n", u, *timeout)
		return nil
	}
	if *user != "" {
		open = auth.LoginHintBrowser(nil, *user)
	}
	res, err := m.SignIn(ctx, open)
	if err != nil {
		return err
	}
	if res.PreviousUser != "" {
		fmt.Fprintf(g.Stdout, "This replaces the session of %s.\n", res.PreviousUser)
	}
	if res.Resumed && choice == nil {
		return printSignedIn(g.Stdout, env, m, res.Identity)
	}
	if choice == nil {
		choice = res.Suggested
		if choice != nil && *obo != "" {
			choice.OnBehalfOfUserID = *obo
		}
	}
	needsOBO := choice != nil && triage.BusinessFunction(choice.BusinessFunction) == triage.RoleServiceProviderClinicianAdmin && choice.OnBehalfOfUserID == ""
	if choice == nil || needsOBO {
		printRoles(ctx, g.Stdout, m, res)
		next := "triagectl login --ods CODE --business-function FUNCTION"
		if needsOBO || hasAdminRole(res) {
			next += " [--on-behalf-of SDSID]"
		}
		if env.Name == config.EnvDemo {
			return triage.Errorf(triage.EINVALID, "Choose the role to work as: run '%s --user %s' again.", next, res.UserID)
		}
		return triage.Errorf(triage.EINVALID, "Choose the role to work as: run '%s' (your sign-in is kept until then).", next)
	}
	id, err := m.ChooseRole(ctx, *choice)
	if err != nil {
		return err
	}
	return printSignedIn(g.Stdout, env, m, id)
}

func hasAdminRole(res *auth.SignInResult) bool {
	for _, r := range res.Roles {
		if r.NeedsOnBehalfOf {
			return true
		}
	}
	return false
}

// printRoles lists the clinician's roles (and, for a clinician admin, whom
// they may act for).
func printRoles(ctx context.Context, w io.Writer, m *auth.Manager, res *auth.SignInResult) {
	fmt.Fprintf(w, "Signed in as %s. Your e-RS roles:\n", res.UserID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ODS\tBUSINESS FUNCTION\tROLE\tNOTE")
	for _, r := range res.Roles {
		note := ""
		switch {
		case !r.Allowed:
			note = "not allowed on this computer"
		case !r.CanVet:
			note = "cannot vet referrals"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.ODS, r.BusinessFunction, r.Label, note)
	}
	tw.Flush()
	for _, r := range res.Roles {
		if !r.NeedsOnBehalfOf || !r.Allowed {
			continue
		}
		users, err := m.OnBehalfOfUsers(ctx, r.ODS)
		if err != nil {
			fmt.Fprintf(w, "Clinicians you may act for at %s could not be listed: %s\n", r.ODS, triage.ErrorMessage(err))
			continue
		}
		fmt.Fprintf(w, "As a clinician admin at %s you may act for:\n", r.ODS)
		for _, u := range users {
			fmt.Fprintf(w, "  %s  %s\n", u.SDSUserID, u.Name)
		}
	}
}

func roleLine(id triage.Identity) string {
	s := fmt.Sprintf("%s at %s", id.BusinessFunction.Label(), id.ODS)
	if id.OnBehalfOf != "" {
		s += ", acting for " + id.OnBehalfOf
	}
	return s
}

func printSignedIn(w io.Writer, env config.Environment, m *auth.Manager, id triage.Identity) error {
	st := m.Status()
	fmt.Fprintf(w, "Signed in to %s\n", environmentLine(env))
	fmt.Fprintf(w, "  User:    %s\n", id.SDSUserID)
	fmt.Fprintf(w, "  Role:    %s\n", roleLine(id))
	if !st.SessionExpires.IsZero() {
		fmt.Fprintf(w, "  Session: until %s\n", st.SessionExpires.Local().Format("2 Jan 2006 15:04"))
	}
	if st.Warning != "" {
		fmt.Fprintf(w, "Warning: %s\n", st.Warning)
	}
	return nil
}

// offlineManager is a Manager for commands that never contact the network
// (whoami, logout); the demo's sandbox address is a placeholder.
func offlineManager(g *Globals) (*auth.Manager, config.Environment, error) {
	cm, env, ring, err := authEnv(g)
	if err != nil {
		return nil, env, err
	}
	if env.Name == config.EnvDemo {
		env = env.WithURLs(demoPlaceholderURL+"/FHIR", demoPlaceholderURL+erssandbox.AuthPath)
	}
	o := auth.FromConfig(cm)
	o.Environment, o.Keyring, o.LockTimeout = env, ring, -1
	// The session is only read or removed: no token is ever requested.
	o.Exchanger = auth.NewDirectExchanger(env, nil, nil)
	m, err := auth.New(o)
	return m, env, err
}

func runWhoami(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("whoami", g)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	m, env, err := offlineManager(g)
	if err != nil {
		return err
	}
	defer m.Close()
	st, err := m.SavedStatus(ctx)
	if err != nil {
		return err
	}
	w := g.Stdout
	if st.State == auth.StateSignedOut {
		fmt.Fprintf(w, "Environment: %s\n", environmentLine(env))
		return triage.Errorf(triage.EUNAUTHORIZED, "You are not signed in to %s. Run 'triagectl login'.", env.Label)
	}
	fmt.Fprintf(w, "Environment: %s\n", environmentLine(env))
	fmt.Fprintf(w, "User:        %s\n", orDash(st.Identity.SDSUserID))
	if st.Identity.ODS != "" {
		fmt.Fprintf(w, "Role:        %s\n", roleLine(st.Identity))
	} else {
		fmt.Fprintln(w, "Role:        not chosen yet (triagectl login --ods CODE --business-function FUNCTION)")
	}
	switch st.State {
	case auth.StateActive, auth.StateNeedsRole:
		left := time.Until(st.SessionExpires).Round(time.Minute)
		fmt.Fprintf(w, "Session:     signed in until %s (%v left)\n", st.SessionExpires.Local().Format("2 Jan 2006 15:04"), left)
		return nil
	case auth.StateLocked:
		fmt.Fprintln(w, "Session:     locked")
	default:
		fmt.Fprintln(w, "Session:     ended")
	}
	return triage.Errorf(triage.EUNAUTHORIZED, "%s", st.Message)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runLogout(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("logout", g)
	keep := fs.Bool("keep-data", false, "remove only the sign-in; keep your cached referrals and saved decisions on this computer")
	discard := fs.Bool("discard-unsent", false, "also DISCARD decisions that have not reached e-RS (they are never sent)")
	user := fs.String("user", "", "SDS user id whose data to remove when nobody is signed in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if *keep && *discard {
		return usageError{"--keep-data and --discard-unsent contradict each other"}
	}
	m, env, err := offlineManager(g)
	if err != nil {
		return err
	}
	defer m.Close()
	saved, err := m.SavedStatus(ctx)
	if err != nil {
		return err
	}
	who := saved.Identity.SDSUserID
	if who == "" {
		who = strings.TrimSpace(*user)
	}
	opts := auth.LogoutOptions{DiscardUnsent: *discard, User: *user}
	var st *store.Store
	if !*keep && who != "" {
		profile, err := doctorProfile(g)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(store.UserDir(profile, who)); err == nil && fi.IsDir() {
			st, err = store.Open(ctx, store.Options{ProfileDir: profile, UserID: who, Keys: storeKeyProvider(g),
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				// Nothing is signed out: close Triage Desk first, or fix the store.
				return err
			}
			defer st.Close()
			opts.Data = st
		}
	}
	rep, err := m.Logout(ctx, opts)
	if err != nil {
		return err
	}
	w := g.Stdout
	if rep.User == "" {
		fmt.Fprintf(w, "Nobody was signed in to %s.\n", env.Label)
	} else {
		fmt.Fprintf(w, "Signed out %s from %s.\n", rep.User, env.Label)
	}
	switch {
	case rep.DataWiped && rep.Discarded > 0:
		fmt.Fprintf(w, "Your data was removed from this computer; %d unsent decision(s) were discarded as you asked.\n", rep.Discarded)
	case rep.DataWiped:
		fmt.Fprintln(w, "Your cached referrals and saved decisions were removed from this computer.")
	case rep.UnsentKept > 0:
		fmt.Fprintf(w, "%d decision(s) have not reached e-RS yet, so your data was kept on this computer (encrypted).\n"+
			"Sign in again to send them, or run 'triagectl logout --user %s --discard-unsent' to discard them.\n", rep.UnsentKept, rep.User)
	case *keep && who != "":
		fmt.Fprintln(w, "Your data on this computer was kept (--keep-data).")
	}
	return nil
}
