package main

import (
	"context"
	"fmt"
	"io"
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
// logout). Environments without sign-in are refused.
func startRuntime(ctx context.Context, o app.Options) (*app.Runtime, error) {
	rt, err := app.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	if rt.Auth == nil {
		env := rt.Environment
		rt.Close()
		return nil, triage.Errorf(triage.EINVALID, "The %s environment (%s) needs no sign-in.", env.Name, env.Label)
	}
	return rt, nil
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
	cm, err := loadConfig(g, "")
	if err != nil {
		return err
	}
	env := cm.Settings().Environment
	if !env.NeedsToken {
		return triage.Errorf(triage.EINVALID, "The %s environment (%s) needs no sign-in.", env.Name, env.Label)
	}
	dev := env.Name == config.EnvDemo || env.Name == config.EnvLocal
	if !dev && (*port != 0 || *clientID != "" || *secretEnv != "") {
		return usageError{"--callback-port, --client-id and --client-secret-env are for the demo and local environments only; elsewhere IT sets them in the machine policy"}
	}
	secret := ""
	if *secretEnv != "" {
		if secret = os.Getenv(*secretEnv); secret == "" {
			return usageError{fmt.Sprintf("environment variable %s is empty", *secretEnv)}
		}
	}
	if *user != "" && !auth.SupportsLoginHint(env) {
		return usageError{"--user works only with the demo, local and mock sign-in services; open the printed address in a browser instead"}
	}
	o, err := appOptions(g)
	if err != nil {
		return err
	}
	o.RedirectPort, o.ClientID, o.ClientSecret, o.CallbackTimeout = *port, *clientID, secret, *timeout
	devModeBanner(g)
	rt, err := startRuntime(ctx, o)
	if err != nil {
		return err
	}
	defer rt.Close()
	env = rt.Environment
	if rt.Demo() {
		fmt.Fprintln(g.Stdout, "Demo: signing in to the built-in sandbox (synthetic users and patients). It stops when this command ends.")
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
	if *user != "" {
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
		next := "triagectl login --ods CODE --business-function FUNCTION"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
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
