package ui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
	"github.com/triagedesk/triagedesk/ui/style"
	"github.com/triagedesk/triagedesk/ui/vetting"
)

// ScreenSession is the full-window screen that hides patient data while
// the session is locked, signed out or needs a role (the sign-in and lock
// screens replace it).
const ScreenSession = "session"

// RunOptions configure a Desktop.
type RunOptions struct {
	// App configures the Runtime (app.Start): environment override,
	// profile, demo data.
	App app.Options
	// Logger receives operational logs (never patient data); nil
	// discards.
	Logger *slog.Logger
	// OnVetting, if set, is called on the UI goroutine when the vetting
	// view is up and its worklist first shown (measurement harnesses).
	OnVetting func(*vetting.Vetting)
	// Post, if set, replaces fyne.Do for the Bridge (headless tests pass a
	// bridge.Loop's Post).
	Post func(func())
	// Stderr receives the line said when Triage Desk is ended with
	// decisions unsent and nobody could be asked (nil: standard error).
	Stderr io.Writer
	// AfterQuit, if set, is called once Quit has closed everything and asked
	// the Fyne app to quit. cmd/triagedesk uses it to make sure the process
	// ends even if Fyne's own shutdown stalls.
	AfterQuit func()
	// TraceStart, if set, receives one line "first-rows-frame MS cpu CPU"
	// when the first frame showing worklist rows has been painted: MS the
	// milliseconds since the process started, CPU the milliseconds of CPU
	// used by then (TraceStartEnv).
	TraceStart io.Writer
}

// Desktop is the running app: the main window with its Frame, the Bridge,
// the Runtime and, once the clinician's workspace is open, the vetting
// view. Start-up (the demo sandbox, the mock sign-in, opening the
// encrypted store) happens off the UI goroutine behind a loading screen.
type Desktop struct {
	App    fyne.App
	Window fyne.Window
	Frame  *frame.Frame
	Bridge *bridge.Bridge

	opts  RunOptions
	log   *slog.Logger
	trace *startTrace // nil unless RunOptions.TraceStart

	mu      sync.Mutex
	runtime *app.Runtime
	closeMu sync.Mutex // Close may also run at the very end of the process

	// UI goroutine only:
	workspace *app.Workspace
	vetting   *vetting.Vetting
	tabs      *vetting.WorkTabs // the vetting view beside Advice and Guidance
	chrome    *Chrome
	opening   bool
	closed    bool
	confirmed bool // the clinician chose to quit, after any warning
	demoTried bool // the demo signs in by itself once, at start
}

// NewDesktop creates the main window and starts the start-up work. Show
// the window with Window.ShowAndRun (or Show in tests).
func NewDesktop(a fyne.App, opts RunOptions) *Desktop {
	demo, env := true, "demo"
	if opts.App.Override != nil {
		demo, env = opts.App.Override.Name == "demo", string(opts.App.Override.Name)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Desktop{App: a, opts: opts, log: log, Bridge: bridge.New(bridge.Options{Post: opts.Post})}
	if opts.TraceStart != nil {
		d.trace = &startTrace{w: opts.TraceStart}
	}
	if _, ok := a.Settings().Theme().(*style.Theme); !ok {
		// Triage Desk's theme before the window is built: the settings'
		// own, applied once they are read, then changes nothing unless
		// they choose another variant or text size.
		style.Apply(a, nil)
	}
	// Start-up work begins before the window is built (building it
	// measures text with fonts parsed on first use: a busy half second);
	// its results wait for the UI goroutine.
	built := make(chan struct{})
	d.start(built)
	d.Window, d.Frame = frame.NewShellWindow(a, frame.ShellOptions{Demo: demo, Environment: env})
	d.Frame.ShowScreen(frame.ScreenLoading, loadingScreen("Starting Triage Desk…"))
	// Every way out (the window's close button, File → Quit, Ctrl+Q, the
	// tray's Quit) asks first when decisions have not reached e-RS.
	d.Window.SetCloseIntercept(d.RequestQuit)
	d.Frame.Shortcuts().Handle(shortcuts.Quit, d.RequestQuit)
	close(built)
	return d
}

// start runs app.Start off the UI goroutine, then, once built is closed
// (the window is built), follows the session.
func (d *Desktop) start(built <-chan struct{}) {
	opts := d.opts.App
	if opts.Logger == nil {
		opts.Logger = d.log
	}
	type started struct {
		rt        *app.Runtime
		tray      bool
		signedIn  bool  // the demo's sign-in was tried
		signInErr error // and failed
	}
	bridge.Run(d.Bridge, nil, func(ctx context.Context) (s started, err error) {
		// The window is built meanwhile: what follows needs it.
		defer func() {
			select {
			case <-built:
			case <-ctx.Done():
			}
		}()
		rt, err := app.Start(ctx, opts)
		if err != nil {
			return started{}, err
		}
		s = started{rt: rt, tray: trayHostAvailable()}
		s.signedIn, s.signInErr = prepareSession(ctx, rt)
		return s, nil
	}, func(s started, err error) {
		rt := s.rt
		if err != nil {
			d.fail("Triage Desk could not start. " + triage.ErrorMessage(err))
			return
		}
		d.mu.Lock()
		d.runtime = rt
		d.mu.Unlock()
		d.applyEnvironment(rt)
		style.Apply(d.App, rt.Settings)
		bridge.Watch(d.Bridge, rt.Config.OnChange, func(s *config.Settings) { style.Apply(d.App, s) })
		d.chrome = NewChrome(ChromeOptions{App: d.App, Frame: d.Frame, Bridge: d.Bridge, Runtime: rt, Quit: d.confirmedQuit, Amend: d.amend, Tray: s.tray})
		bridge.Watch(d.Bridge, rt.OnStatus, d.onStatus)
		if s.signedIn {
			d.demoTried = true
			if s.signInErr != nil {
				d.fail(signInFailed(rt) + triage.ErrorMessage(s.signInErr))
				return
			}
		}
		d.onStatus(rt.Status())
	})
}

// prepareSession does off the UI goroutine, while the window is first
// drawn, what onStatus would next ask for: the demo's (or a server without
// sign-in's) automatic sign-in, then opening the signed-in clinician's
// workspace, so that start-up does not wait for the UI goroutine between
// them. onStatus then finds the session active and the workspace open
// (OpenWorkspace returns the one already open); an error opening it is
// met again, and shown, there. It reports whether it tried to sign in,
// and that sign-in's error.
func prepareSession(ctx context.Context, rt *app.Runtime) (signedIn bool, err error) {
	if st := rt.Status(); (st.Demo || st.NoSignIn) && st.State != app.SessionActive {
		signedIn = true
		if _, err := rt.AutoSignIn(ctx); err != nil {
			return true, err
		}
	}
	if rt.Status().State == app.SessionActive {
		_, _ = rt.OpenWorkspace(ctx)
	}
	return signedIn, nil
}

// signInFailed begins the message shown when the automatic sign-in failed.
func signInFailed(rt *app.Runtime) string {
	if !rt.Demo() {
		return rt.Environment.Label + " could not be opened. "
	}
	return "The demo sign-in failed. "
}

// applyEnvironment marks the window for the Runtime's environment.
func (d *Desktop) applyEnvironment(rt *app.Runtime) {
	opts := frame.ShellOptions{Demo: rt.Demo(), Environment: string(rt.Environment.Name)}
	d.Window.SetTitle(frame.WindowTitle(opts))
	d.Frame.SetEnvironment(opts)
}

// Runtime returns the Runtime once started (nil before).
func (d *Desktop) Runtime() *app.Runtime {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.runtime
}

// Vetting returns the vetting view once open (nil before).
func (d *Desktop) Vetting() *vetting.Vetting { return d.vetting }

// Tabs returns the Referrals / Advice and Guidance tabs once the workspace
// is open (nil before).
func (d *Desktop) Tabs() *vetting.WorkTabs { return d.tabs }

// Chrome returns the screens around the vetting window once the Runtime has
// started (nil before).
func (d *Desktop) Chrome() *Chrome { return d.chrome }

// onStatus follows the session: in the demo (and an environment without
// sign-in), sign in once at start without a browser; when active, open the workspace; when the Runtime closed
// it (another clinician signed in, or sign-out), drop it; while patient
// data may not be shown, cover the window with the sign-in or lock screen.
func (d *Desktop) onStatus(st app.Status) {
	if d.closed {
		return
	}
	rt := d.Runtime()
	if d.workspace != nil && st.WorkspaceUser != d.workspace.User() {
		d.closeWorkspace()
	}
	switch {
	case st.State == app.SessionActive && d.workspace == nil:
		d.openWorkspace(rt)
	case (st.Demo || st.NoSignIn) && st.State != app.SessionActive && d.workspace == nil && !d.demoTried:
		d.demoTried = true
		d.demoSignIn(rt)
	case !st.ShowPatientData && !d.opening:
		d.Frame.ShowScreen(ScreenSession, d.sessionScreen(st))
	case st.ShowPatientData && d.Frame.Screen() == ScreenSession:
		d.Frame.CloseScreen()
	}
}

// closeWorkspace forgets a workspace the Runtime has closed: its vetting
// view leaves the window (its draft kept) before anything else shows.
func (d *Desktop) closeWorkspace() {
	if d.tabs != nil {
		d.tabs.Close()
		d.tabs = nil
	}
	if d.vetting != nil {
		d.vetting.Close()
		d.vetting = nil
	}
	d.workspace = nil
	d.Frame.SetMain(container.NewCenter(widget.NewLabel("No worklist is open.")))
	if d.chrome != nil {
		d.chrome.SetWorkspace(nil)
	}
}

// demoSignIn signs the demo's synthetic clinician in off the UI goroutine.
func (d *Desktop) demoSignIn(rt *app.Runtime) {
	if d.opening {
		return
	}
	d.opening = true
	what := "Signing in to the demo as a synthetic clinician…"
	if !rt.Demo() {
		what = "Connecting to " + rt.Environment.Label + ": it needs no sign-in…"
	}
	d.Frame.ShowScreen(frame.ScreenLoading, loadingScreen(what))
	bridge.Run(d.Bridge, nil, func(ctx context.Context) (triage.Identity, error) {
		return rt.AutoSignIn(ctx)
	}, func(_ triage.Identity, err error) {
		d.opening = false
		if err != nil {
			d.fail(signInFailed(rt) + triage.ErrorMessage(err))
			return
		}
		d.onStatus(rt.Status())
	})
}

// openWorkspace opens the clinician's store and engine off the UI
// goroutine, runs the engine, and shows the vetting view.
func (d *Desktop) openWorkspace(rt *app.Runtime) {
	if d.opening {
		return
	}
	d.opening = true
	d.Frame.ShowScreen(frame.ScreenLoading, loadingScreen("Opening your encrypted worklist…"))
	bridge.Run(d.Bridge, nil, func(ctx context.Context) (*app.Workspace, error) {
		return rt.OpenWorkspace(ctx)
	}, func(ws *app.Workspace, err error) {
		d.opening = false
		if err != nil {
			d.fail("Your worklist could not be opened. " + triage.ErrorMessage(err))
			return
		}
		d.workspace = ws
		v := vetting.NewVetting(d.Frame, d.Bridge, ws, d.App.Preferences())
		d.vetting = v
		first, warmed := true, false
		v.OnWorklist(func() {
			if first && d.opts.OnVetting != nil {
				d.opts.OnVetting(v)
			}
			first = false
			d.trace.rowsShown(v.Listed(), d.Window, d.Bridge.Post)
			if !warmed && v.Listed() > 0 {
				// The PDF engine compiles PDFium, a second or more of
				// both cores on a first start: only once the rows have
				// been painted.
				warmed = true
				afterPaint(func() {
					if !d.closed && d.workspace == ws {
						_ = rt.Documents(d.Bridge.Context())
					}
				})
			}
		})
		d.tabs = vetting.NewWorkTabs(d.Frame, d.Bridge, ws, v)
		// What would compete with reading and drawing the cached worklist
		// (the sync, A&G's lists, the status bar's own read of the
		// worklist) starts once its rows have been painted, or at once
		// when there are none: the first sync then fills it.
		v.OnFirstRead(func() {
			if v.Listed() == 0 {
				d.afterFirstRead(ws)
				return
			}
			afterPaint(func() { d.afterFirstRead(ws) })
		})
		d.Frame.SetMain(d.tabs.Object())
		d.Frame.CloseScreen()
		v.Start()
		d.onStatus(rt.Status())
	})
}

// afterFirstRead starts, once the vetting view has read the cached
// worklist (and painted its rows, if any), the workspace's sync, the A&G
// screen and the chrome's view of the workspace (unless the workspace has
// closed meanwhile).
func (d *Desktop) afterFirstRead(ws *app.Workspace) {
	if d.closed || d.workspace != ws {
		return
	}
	if ws.CanSync() {
		d.Bridge.Go(func(ctx context.Context) { _ = ws.Run(ctx) })
	}
	d.tabs.Start()
	if d.chrome != nil {
		d.chrome.SetWorkspace(ws)
	}
}

// fail shows a start-up failure in plain English.
func (d *Desktop) fail(msg string) {
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	d.Frame.ShowScreen(frame.ScreenStartFailed, container.NewPadded(container.NewVBox(widget.NewIcon(theme.ErrorIcon()), l)))
}

// sessionScreen hides patient data and says why: the chrome's sign-in or
// lock screen.
func (d *Desktop) sessionScreen(st app.Status) fyne.CanvasObject {
	if d.chrome != nil {
		return d.chrome.SessionScreen(st)
	}
	msg := st.Message
	if msg == "" {
		msg = "Sign in with your NHS Care Identity to see your worklist."
	}
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	return container.NewPadded(container.NewVBox(widget.NewIcon(theme.AccountIcon()), l))
}

// RequestQuit is every way out of the app the clinician takes (the
// window's close button, File → Quit, Ctrl+Q, the tray's Quit): when
// decisions have not reached e-RS it says so, and whether they are kept,
// and quits only if the clinician confirms (Chrome.RequestQuit); otherwise
// it quits at once.
func (d *Desktop) RequestQuit() {
	if d.closed {
		return
	}
	if d.chrome != nil {
		d.chrome.RequestQuit()
		return
	}
	d.Quit()
}

// confirmedQuit quits after the clinician saw the unsent-decisions
// warning (or there was nothing to warn about).
func (d *Desktop) confirmedQuit() {
	d.confirmed = true
	d.Quit()
}

// Quit keeps the layout and drafts, stops every background goroutine,
// closes the Runtime (workspace, PDF engine, sandbox) and quits. It does
// not ask: the clinician's ways out go through RequestQuit.
func (d *Desktop) Quit() {
	d.Close()
	d.App.Quit()
	if d.opts.AfterQuit != nil {
		d.opts.AfterQuit()
	}
}

// Close is Quit without quitting the Fyne app: the end of the process
// when the app was ended without the clinician choosing to quit (the
// desktop session ending, SIGTERM), and tests. Decisions still unsent then
// are reported on standard error and in the log (counts only), as
// the warning could not be shown.
//
// Close is safe to call from another goroutine only once the UI loop has
// stopped (the process is ending); calls after the first do nothing.
func (d *Desktop) Close() {
	d.closeMu.Lock()
	defer d.closeMu.Unlock()
	if d.closed {
		return
	}
	d.closed = true
	if d.tabs != nil {
		d.tabs.Close()
	}
	if d.vetting != nil {
		d.vetting.Close()
	}
	d.Bridge.Close()
	if rt := d.Runtime(); rt != nil {
		if !d.confirmed {
			d.reportUnsentAtExit(rt)
		}
		if err := rt.Close(); err != nil {
			d.log.Warn("close", "err", err)
		}
	}
}

// reportUnsentAtExit says, where nobody could be asked, how many decisions
// had not reached e-RS when Triage Desk was ended, and whether they are
// kept.
func (d *Desktop) reportUnsentAtExit(rt *app.Runtime) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := rt.UnsentCount(ctx, "")
	if err != nil || n == 0 {
		return
	}
	msg := unsentAtExitText(n, rt.Storage().Kept)
	d.log.Warn("ended with decisions not yet sent", "count", n, "kept", rt.Storage().Kept)
	fmt.Fprintln(d.stderr(), "Triage Desk:", msg)
}

// stderr is where reportUnsentAtExit writes (standard error).
func (d *Desktop) stderr() io.Writer {
	if d.opts.Stderr != nil {
		return d.opts.Stderr
	}
	return os.Stderr
}

// amend reopens an outbox decision in the vetting window (the outbox's
// Amend).
func (d *Desktop) amend(en app.Entry) {
	if d.vetting != nil {
		if d.tabs != nil {
			d.tabs.ShowReferrals()
		}
		d.vetting.AmendDecision(en)
	}
}
