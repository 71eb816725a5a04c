// Package app wires Triage Desk's services together for both front ends
// (the GUI in cmd/triagedesk and the CLI in cmd/triagectl). It holds the
// operations both share: recording a decision with the same validation,
// reading the worklist with local statuses, and building a vetting pack.
//
// # The façade
//
// The services (store, engine, e-RS client, sandbox, sign-in Manager) are
// the workspace's and the Runtime's own: front ends reach them only
// through methods, each behind the workspace's access check (see
// services.go), and name their records by the aliases in types.go. The
// GUI (ui/...) imports no package behind the façade; internal/archtest
// enforces that. Tests that need the raw services use internal/app/apptest.
//
// # Runtime and workspace
//
// The wiring has two lifetimes:
//
//   - A Runtime lives as long as the process. Start loads the
//     configuration, starts the in-process e-RS sandbox in demo mode (with
//     its mock CIS2 sign-in), builds the sign-in Manager (internal/auth)
//     and resumes the saved session. It owns sign-in, role choice, lock,
//     logout and the PDF engine, and reports the session's Status.
//   - A Workspace is one clinician's data: their encrypted store,
//     the e-RS client that sends their tokens and the sync engine.
//     Runtime.OpenWorkspace opens it for the clinician who is signed in.
//     Only one workspace is open at a time. When another clinician signs
//     in, the open workspace is closed before their role can be chosen, so
//     one clinician's referrals and unsent decisions are never shown to,
//     or sent for, another.
//
// # Lock and sign-in needed
//
// Locking (after inactivity, or Runtime.Lock) drops the tokens but leaves
// the workspace open: the engine pauses, the workspace's reads and Decide
// refuse with the lock message, and the GUI must hide patient data while
// Status().ShowPatientData is false. Signing in again as the same clinician
// restores their role, and the engine resumes: a paused outbox is sent.
// When the platform ends the session (refresh refused, or its 12-hour
// limit), the state is auth.StateSignInNeeded: the engine pauses, cached
// data stays readable, decisions keep queueing, and signing in again as the
// same clinician resumes sending.
//
// # How the GUI uses it
//
//  1. rt, err := app.Start(ctx, opts), off the UI goroutine (it may call
//     the token service). Subscribe with rt.OnStatus and read rt.Status().
//     Call rt.Documents(ctx) to warm the PDF engine in the background.
//  2. By Status().State: StateActive: a, err := rt.OpenWorkspace(ctx)
//     (off the UI goroutine), then run a.Run(ctx) in a goroutine.
//     StateNeedsRole: the role picker (rt.Roles, rt.OnBehalfOfUsers for
//     clinician admins), then rt.ChooseRole and OpenWorkspace.
//     StateSignedOut, StateSignInNeeded, StateLocked: the sign-in screen;
//     rt.SignIn(ctx, openBrowser) (in demo, and where Status().NoSignIn,
//     rt.AutoSignIn(ctx) signs in and chooses the role without a browser;
//     where NoSignIn, SignIn itself opens no browser). A result with
//     Resumed set is StateActive again; otherwise show the role picker with
//     Suggested.
//  3. Call rt.Touch on every input event and rt.Lock when the OS locks
//     the screen or sleeps; show the lock screen while ShowPatientData is
//     false.
//  4. Logout: ask first when rt.UnsentCount is above zero, then
//     rt.Logout(ctx, discardUnsent). The workspace is closed.
//  5. User switch: the lock or sign-in screen's sign-in may be completed by
//     another clinician. Their SignInResult has PreviousUser set and the
//     previous workspace is already closed: drop every reference to it,
//     have the new clinician choose a role and OpenWorkspace.
//  6. rt.Close() at exit closes the workspace, the PDF engine, the sign-in
//     Manager (the saved session stays for the next start) and the sandbox.
//
// Nothing here imports Fyne; status callbacks arrive on a goroutine of the
// Runtime's and must be moved to the UI goroutine by the caller's bridge.
package app
