package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func init() {
	register(command{name: "login", summary: "sign in with your NHS Care Identity (CIS2); the session is kept in the keychain", run: runLogin})
	register(command{name: "whoami", summary: "show who is signed in, in which role, and until when", run: runWhoami})
	register(command{name: "logout", summary: "sign out: remove the session from the keychain and your data by the store's rules", run: runLogout})
}

// devModeBanner warns, once per command, that --dev-insecure-keyfile keeps
// the sign-in in plain text.
func devModeBanner(g *Globals) {
	if g.DevInsecureKeyfile == "" {
		return
	}
	fmt.Fprintln(g.Stderr, strings.Repeat("!", 78))
	fmt.Fprintln(g.Stderr, "!! DEVELOPMENT MODE: the NHS sign-in is kept in PLAIN TEXT, not the OS keychain. !!")
	fmt.Fprintln(g.Stderr, strings.Repeat("!", 78))
}

// startRuntime starts the shared app runtime for a sign-in command. Offline
// runtimes read or remove the saved session without the network (whoami,
// logout).
func startRuntime(ctx context.Context, o app.Options) (*app.Runtime, error) {
	return app.Start(ctx, o)
}

func environmentLine(env config.Environment) string {
	s := fmt.Sprintf("%s (%s)", env.Label, env.Name)
	if !env.Production {
		s += " — NOT LIVE: test data only"
	}
	return s
}

// loginCommand is the `triagectl login` line for the environment the global
// flags name: the same --profile, --env, --base-url and development key file
// find the session it makes.
func loginCommand(g *Globals) string {
	parts := []string{"triagectl login"}
	if g.Profile != "" {
		parts = append(parts, "--profile", g.Profile)
	}
	if g.Env != "" && g.Env != string(config.EnvDemo) {
		parts = append(parts, "--env", g.Env)
	}
	if g.BaseURL != "" {
		parts = append(parts, "--base-url", g.BaseURL)
	}
	if g.DevInsecureKeyfile != "" {
		parts = append(parts, "--dev-insecure-keyfile", g.DevInsecureKeyfile)
	}
	return strings.Join(parts, " ")
}

// notSignedIn tells a command-line user exactly how to sign in to the
// environment they named.
func notSignedIn(g *Globals, label string) error {
	msg := fmt.Sprintf("You are not signed in to %s. Run '%s' first.", label, loginCommand(g))
	switch g.Env {
	case string(config.EnvLocal):
		msg += " If the server has no sign-in, add --no-sign-in."
	case string(config.EnvNHSSandbox):
		msg = fmt.Sprintf("No role is chosen for %s yet. It has no sign-in: any command (sync, worklist, decide) chooses its example role, or run '%s --ods CODE --business-function FUNCTION' to choose one.", label, loginCommand(g))
	}
	return &triage.Error{Code: triage.EUNAUTHORIZED, Err: auth.ErrNotSignedIn, Message: msg}
}

// isLoopbackURL reports whether u names this computer.
func isLoopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	ip := net.ParseIP(p.Hostname())
	return p.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
}

func runLogin(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("login", g)
	user := fs.String("user", "", "test user (SDS user id): complete the sign-in without a browser; demo, local and mock sign-in only")
	ods := fs.String("ods", "", "ODS code of the organisation to work for (default: your remembered or only role)")
	bf := fs.String("business-function", "", "e-RS business function to work as, e.g. SERVICE_PROVIDER_CLINICIAN")
	obo := fs.String("on-behalf-of", "", "SDS user id of the clinician a clinician admin acts for")
	port := fs.Int("callback-port", 0, "sign-in callback port on 127.0.0.1 (demo and local only; otherwise the policy's redirect_port)")
	clientID := fs.String("client-id", "", "client id of a local development server (local only; default "+config.LocalClientID+", triagectl sandbox's)")
	secretEnv := fs.String("client-secret-env", "", "environment variable holding the client secret of a local development server (local only)")
	secretArg := fs.String("client-secret", "", "client secret of a development server on this computer, such as the one triagectl sandbox prints (local only; for any other server use --client-secret-env)")
	noSignIn := fs.Bool("no-sign-in", false, "the local development server has no sign-in (e.g. triagectl sandbox --auth off): choose your role without signing in")
	timeout := fs.Duration("timeout", auth.DefaultCallbackTimeout, "how long to wait for the browser to come back")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cm, err := loadConfig(g, "")
	if err != nil {
		return err
	}
	env := cm.Settings().Environment
	if *noSignIn && env.Name != config.EnvLocal {
		return usageError{fmt.Sprintf("--no-sign-in is for a local development server (--env local) only, not %s: the NHS sandbox never has a sign-in, and INT and live e-RS always do", env.Name)}
	}
	withoutSignIn := *noSignIn || !env.NeedsToken
	dev := env.Name == config.EnvDemo || env.Name == config.EnvLocal
	if !dev && (*port != 0 || *clientID != "" || *secretEnv != "" || *secretArg != "") {
		return usageError{"--callback-port, --client-id, --client-secret and --client-secret-env are for the demo and local environments only; elsewhere IT sets them in the machine policy"}
	}
	if withoutSignIn && (*user != "" || *port != 0 || *clientID != "" || *secretEnv != "" || *secretArg != "") {
		return usageError{fmt.Sprintf("%s has no sign-in: leave out --user, --callback-port, --client-id and the client secret", env.Label)}
	}
	secret := *secretArg
	switch {
	case *secretEnv != "" && *secretArg != "":
		return usageError{"give the client secret once: --client-secret or --client-secret-env"}
	case *secretEnv != "":
		if secret = os.Getenv(*secretEnv); secret == "" {
			return usageError{fmt.Sprintf("environment variable %s is empty", *secretEnv)}
		}
	case *secretArg != "" && !isLoopbackURL(env.AuthBaseURL):
		return usageError{"--client-secret is only for a development server on this computer (its secret is not confidential); give any other secret with --client-secret-env VAR"}
	}
	if *user != "" && !auth.SupportsLoginHint(env) {
		return usageError{"--user works only with the demo, local and mock sign-in services; open the printed address in a browser instead"}
	}
	o, err := appOptions(g)
	if err != nil {
		return err
	}
	o.RedirectPort, o.ClientID, o.ClientSecret, o.CallbackTimeout, o.NoSignIn = *port, *clientID, secret, *timeout, *noSignIn
	devModeBanner(g)
	rt, err := startRuntime(ctx, o)
	if err != nil {
		return err
	}
	defer rt.Close()
	env = rt.Environment
	switch {
	case rt.Demo():
		fmt.Fprintln(g.Stdout, "Demo: signing in to the built-in sandbox (synthetic users and patients). It stops when this command ends.")
	case rt.NoSignIn():
		fmt.Fprintf(g.Stdout, "%s has no sign-in: choosing your role from the roles e-RS lists, without a browser.\n", env.Label)
	}

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
	if !rt.Demo() && choice != nil && *user == "" && rt.Status().State == auth.StateNeedsRole {
		id, err := rt.ChooseRole(ctx, *choice)
		if err != nil {
			return err
		}
		return printSignedIn(g.Stdout, rt, id)
	}

	open := func(u string) error {
		fmt.Fprintf(g.Stdout, "Open this address in your web browser to sign in with your NHS Care Identity:\n\n  %s\n\nWaiting up to %v for the browser to return to Triage Desk...\n", u, *timeout)
		return nil
	}
	switch {
	case rt.NoSignIn():
		open = nil
	case *user != "":
		open = auth.LoginHintBrowser(nil, *user)
	}
	res, err := rt.SignIn(ctx, open)
	if err != nil {
		return err
	}
	if res.PreviousUser != "" {
		fmt.Fprintf(g.Stdout, "This replaces the session of %s.\n", res.PreviousUser)
	}
	if res.Resumed && choice == nil {
		return printSignedIn(g.Stdout, rt, res.Identity)
	}
	if choice == nil {
		choice = res.Suggested
		if choice != nil && *obo != "" {
			choice.OnBehalfOfUserID = *obo
		}
	}
	needsOBO := choice != nil && triage.BusinessFunction(choice.BusinessFunction) == triage.RoleServiceProviderClinicianAdmin && choice.OnBehalfOfUserID == ""
	if choice == nil || needsOBO {
		printRoles(ctx, g.Stdout, rt, res)
		next := loginCommand(g) + " --ods CODE --business-function FUNCTION"
		if *noSignIn {
			next = loginCommand(g) + " --no-sign-in --ods CODE --business-function FUNCTION"
		}
		if needsOBO || hasAdminRole(res) {
			next += " [--on-behalf-of SDSID]"
		}
		if rt.Demo() {
			return triage.Errorf(triage.EINVALID, "Choose the role to work as: run '%s --user %s' again.", next, res.UserID)
		}
		return triage.Errorf(triage.EINVALID, "Choose the role to work as: run '%s' (your sign-in is kept until then).", next)
	}
	id, err := rt.ChooseRole(ctx, *choice)
	if err != nil {
		return err
	}
	return printSignedIn(g.Stdout, rt, id)
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
func printRoles(ctx context.Context, w io.Writer, rt *app.Runtime, res *auth.SignInResult) {
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
		users, err := rt.OnBehalfOfUsers(ctx, r.ODS)
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

func printSignedIn(w io.Writer, rt *app.Runtime, id triage.Identity) error {
	st := rt.Status()
	fmt.Fprintf(w, "Signed in to %s\n", environmentLine(rt.Environment))
	fmt.Fprintf(w, "  User:    %s\n", id.SDSUserID)
	fmt.Fprintf(w, "  Role:    %s\n", roleLine(id))
	if st.NoSignIn {
		fmt.Fprintf(w, "  Session: no sign-in (%s needs none); the role is kept until 'triagectl logout'\n", rt.Environment.FHIRBaseURL)
	}
	if !st.SessionExpires.IsZero() {
		fmt.Fprintf(w, "  Session: until %s\n", st.SessionExpires.Local().Format("2 Jan 2006 15:04"))
	}
	if st.Warning != "" {
		fmt.Fprintf(w, "Warning: %s\n", st.Warning)
	}
	return nil
}

// offlineRuntime starts the runtime without the network, for commands that
// only read or remove the saved session (whoami, logout).
func offlineRuntime(ctx context.Context, g *Globals) (*app.Runtime, error) {
	o, err := appOptions(g)
	if err != nil {
		return nil, err
	}
	o.Offline = true
	devModeBanner(g)
	return startRuntime(ctx, o)
}

func runWhoami(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("whoami", g)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rt, err := offlineRuntime(ctx, g)
	if err != nil {
		return err
	}
	defer rt.Close()
	env := rt.Environment
	st, err := rt.SavedStatus(ctx)
	if err != nil {
		return err
	}
	w := g.Stdout
	if st.State == auth.StateSignedOut {
		fmt.Fprintf(w, "Environment: %s\n", environmentLine(env))
		return notSignedIn(g, env.Label)
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
		if st.NoSignIn {
			fmt.Fprintln(w, "Session:     no sign-in (this server needs none)")
			return nil
		}
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
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keep && *discard {
		return usageError{"--keep-data and --discard-unsent contradict each other"}
	}
	rt, err := offlineRuntime(ctx, g)
	if err != nil {
		return err
	}
	defer rt.Close()
	env := rt.Environment
	saved, err := rt.SavedStatus(ctx)
	if err != nil {
		return err
	}
	who := saved.Identity.SDSUserID
	if who == "" {
		who = strings.TrimSpace(*user)
	}
	if !*keep && !*discard && who != "" {
		// Signing out with unsent decisions is refused: the clinician
		// chooses to send, keep or discard them.
		n, err := rt.UnsentCount(ctx, who)
		if err != nil {
			// Nothing is signed out: close Triage Desk first, or fix the store.
			return err
		}
		if n > 0 {
			return &triage.Error{Code: triage.ECONFLICT, Err: store.ErrUnsentDecisions, Message: fmt.Sprintf(
				"%d decision(s) have not reached e-RS yet, so you are still signed in. Run 'triagectl sync' to send them first; "+
					"or sign out with 'triagectl logout --keep-data' to keep them on this computer (encrypted) for your next sign-in, "+
					"or with 'triagectl logout --discard-unsent' to discard them.", n)}
		}
	}
	rep, err := rt.LogoutWith(ctx, app.LogoutOptions{DiscardUnsent: *discard, KeepData: *keep, User: *user})
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
