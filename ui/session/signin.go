package session

import (
	"context"
	"errors"
	"image/color"
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// Screen names of the screens around the vetting window.
const (
	// ScreenSignIn is the sign-in screen (and role picker).
	ScreenSignIn = "sign-in"
	// ScreenLock is the lock screen.
	ScreenLock = "lock"
)

// SignInService is what the sign-in screen needs from the Runtime (*app.Runtime
// implements it). Every method may block on the network: called off the UI goroutine.
type SignInService interface {
	SignIn(ctx context.Context, openBrowser func(authURL string) error) (*app.SignInResult, error)
	DemoSignIn(ctx context.Context) (triage.Identity, error)
	Roles(ctx context.Context) ([]app.RoleOption, error)
	OnBehalfOfUsers(ctx context.Context, ods string) ([]app.OnBehalfOfUser, error)
	ChooseRole(ctx context.Context, c config.RoleChoice) (triage.Identity, error)
}

var _ SignInService = (*app.Runtime)(nil)

// SignInOptions configure a SignInScreen.
type SignInOptions struct {
	// Service signs in (the Runtime). Required.
	Service SignInService
	// Bridge runs the sign-in off the UI goroutine. Required.
	Bridge *bridge.Bridge
	// Status is the session now: its environment is shown, its Message
	// explains why sign-in is needed, and StateNeedsRole starts at the
	// role picker.
	Status app.Status
	// OpenURL opens the system browser (nil: the Fyne app's OpenURL).
	// Tests pass their own so that nothing is opened.
	OpenURL func(*url.URL) error
	// Locked shows the screen as the lock screen: patient data is hidden
	// and signing in again unlocks.
	Locked bool
	// OnDone is called on the UI goroutine once the clinician is signed
	// in with a role (or their session resumed).
	OnDone func(triage.Identity)
	// OnCancel, if set, adds a button that leaves the screen (the
	// sign-in-needed prompt, where cached data stays readable).
	OnCancel func()
	// OnSignOut, if set, adds a "Sign out…" button (the lock screen).
	OnSignOut func()
}

// SignInScreen is the full-window sign-in: the environment (test
// environments marked), "Sign in with NHS Care Identity" which opens the
// system browser, progress while the browser is used (with Cancel), failures
// in plain English, then the organisation and role picker from A030 (the
// remembered choice preselected) and, for clinician admins, whom they act
// for (A040). The lock screen is the same screen with Locked set. Use it on
// the UI goroutine.
type SignInScreen struct {
	o SignInOptions

	title    *widget.Label
	message  *widget.Label
	failure  *widget.Label
	failHead *widget.Label
	waiting  *fyne.Container
	address  *widget.Entry
	addrBox  *fyne.Container
	signIn   *widget.Button
	demo     *widget.Button
	cancel   *widget.Button
	start    *fyne.Container
	roles    *fyne.Container
	body     *fyne.Container
	obj      fyne.CanvasObject

	// role step
	options   []app.RoleOption
	radio     *widget.RadioGroup
	behalf    *widget.Select
	behalfBox *fyne.Container
	users     []app.OnBehalfOfUser
	suggested *config.RoleChoice
	roleErr   *widget.Label
	choose    *widget.Button

	stop context.CancelFunc // cancels the sign-in waiting for the browser
	busy bool
}

// NewSignInScreen builds the screen. Show it with Frame.ShowScreen.
func NewSignInScreen(o SignInOptions) *SignInScreen {
	if o.OpenURL == nil {
		o.OpenURL = func(u *url.URL) error { return fyne.CurrentApp().OpenURL(u) }
	}
	s := &SignInScreen{o: o}
	st := o.Status
	heading := "Sign in to Triage Desk"
	if o.Locked {
		heading = "Triage Desk is locked"
	}
	s.title = widget.NewLabelWithStyle(heading, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	s.title.SizeName = theme.SizeNameHeadingText
	s.message = centredText(signInMessage(st, o.Locked))
	s.failHead = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	s.failHead.Importance = widget.DangerImportance
	s.failure = centredText("")
	s.failure.Importance = widget.DangerImportance
	s.failHead.Hide()
	s.failure.Hide()

	signInLabel := "Sign in with NHS Care Identity"
	if st.NoSignIn {
		// The server has no sign-in: "signing in" only reads the roles.
		signInLabel = "Continue (this server needs no sign-in)"
	}
	s.signIn = widget.NewButtonWithIcon(signInLabel, theme.LoginIcon(), s.startBrowser)
	s.signIn.Importance = widget.HighImportance
	buttons := []fyne.CanvasObject{s.signIn}
	if st.Demo {
		label := "Sign in as the demo clinician"
		if o.Locked {
			label = "Unlock as the demo clinician"
		}
		s.demo = widget.NewButton(label, s.startDemo)
		buttons = append(buttons, s.demo)
	}
	if o.OnCancel != nil {
		buttons = append(buttons, widget.NewButton("Back to the worklist", o.OnCancel))
	}
	if o.OnSignOut != nil {
		buttons = append(buttons, widget.NewButton("Sign out…", o.OnSignOut))
	}
	s.start = container.NewCenter(container.NewHBox(buttons...))

	s.cancel = widget.NewButton("Cancel", s.cancelBrowser)
	s.address = widget.NewEntry()
	s.address.Disable()
	copyAddr := widget.NewButtonWithIcon("Copy address", theme.ContentCopyIcon(), func() {
		if c := fyne.CurrentApp(); c != nil {
			c.Clipboard().SetContent(s.address.Text)
		}
	})
	s.addrBox = container.NewVBox(
		centredText("If your browser did not open, copy this address into it:"),
		container.NewBorder(nil, nil, nil, copyAddr, s.address))
	s.addrBox.Hide()
	s.waiting = container.NewVBox(
		widget.NewProgressBarInfinite(),
		centredText("Waiting for you to finish signing in in your browser…"),
		s.addrBox,
		container.NewCenter(s.cancel))
	s.waiting.Hide()

	s.roleErr = widget.NewLabel("")
	s.roleErr.Importance = widget.DangerImportance
	s.roleErr.Wrapping = fyne.TextWrapWord
	s.roleErr.Hide()
	s.roles = container.NewVBox()
	s.roles.Hide()

	card := container.NewVBox(
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(72), canvas.NewImageFromResource(frame.AppIcon))),
		s.title,
		environmentLine(st),
		s.message,
		s.failHead, s.failure,
		s.start,
		s.waiting,
		s.roles,
	)
	s.body = card
	s.obj = container.NewVScroll(widgets.ReadableColumn(560, container.NewPadded(card)))
	if st.State == app.SessionNeedsRole && !o.Locked {
		s.loadRoles()
	}
	return s
}

// Object returns the screen, for Frame.ShowScreen.
func (s *SignInScreen) Object() fyne.CanvasObject { return s.obj }

// centredText is a wrapping, centred label.
func centredText(t string) *widget.Label {
	l := widget.NewLabel(t)
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	return l
}

// environmentLine says where Triage Desk connects; anything but live e-RS
// is marked so it is never mistaken for real patients.
func environmentLine(st app.Status) fyne.CanvasObject {
	label := st.EnvironmentLabel
	if label == "" {
		label = string(st.Environment)
	}
	if st.Production && !st.Demo {
		l := widget.NewLabelWithStyle("Environment: "+label, fyne.TextAlignCenter, fyne.TextStyle{})
		return l
	}
	mark := "TEST ENVIRONMENT – not for real patients"
	if st.Demo {
		mark = "DEMO – synthetic data, not real patients"
	}
	text := canvas.NewText(mark, color.Black)
	text.TextStyle = fyne.TextStyle{Bold: true}
	text.Alignment = fyne.TextAlignCenter
	return container.NewVBox(
		widget.NewLabelWithStyle("Environment: "+label, fyne.TextAlignCenter, fyne.TextStyle{}),
		container.NewStack(canvas.NewRectangle(frame.DemoColour), container.NewPadded(text)))
}

// setBusy switches between the start buttons and the waiting panel.
func (s *SignInScreen) setBusy(busy bool, browser bool) {
	s.busy = busy
	if busy {
		s.failHead.Hide()
		s.failure.Hide()
		s.start.Hide()
		s.waiting.Hidden = !browser
		s.addrBox.Hide()
	} else {
		s.start.Show()
		s.waiting.Hide()
	}
	s.body.Refresh()
}

// fail shows why the sign-in did not complete.
func (s *SignInScreen) fail(err error) {
	s.setBusy(false, false)
	if errors.Is(err, context.Canceled) {
		s.failHead.SetText("Sign-in cancelled")
		s.failure.SetText("Nothing was changed. Sign in when you are ready.")
	} else {
		s.failHead.SetText(signInFailureTitle(err))
		s.failure.SetText(triage.ErrorMessage(err))
	}
	s.failHead.Show()
	s.failure.Show()
	s.body.Refresh()
}

// signInFailureTitle names what went wrong, above the message with the
// next step.
func signInFailureTitle(err error) string {
	switch {
	case errors.Is(err, app.ErrPortInUse):
		return "Another program is using Triage Desk's sign-in port"
	case errors.Is(err, app.ErrCallbackTimeout):
		return "The sign-in timed out"
	case errors.Is(err, app.ErrSignInRefused):
		return "The sign-in was refused or cancelled in the browser"
	case errors.Is(err, app.ErrStateMismatch), errors.Is(err, app.ErrCodeRefused):
		return "The sign-in could not be completed"
	case errors.Is(err, app.ErrSecretMissing), errors.Is(err, app.ErrClientRejected):
		return "Sign-in is not set up on this computer"
	case errors.Is(err, app.ErrKeychainUnavailable):
		return "This computer's keychain cannot be used"
	case errors.Is(err, app.ErrTokenServiceUnavailable):
		return "The NHS sign-in service cannot be reached"
	case errors.Is(err, app.ErrSignInInProgress):
		return "A sign-in is already waiting for your browser"
	case errors.Is(err, app.ErrRoleNotHeld):
		return "That role cannot be used"
	}
	return "The sign-in did not complete"
}

// startBrowser signs in through the system browser.
func (s *SignInScreen) startBrowser() {
	if s.busy {
		return
	}
	ctx, cancel := context.WithCancel(s.o.Bridge.Context())
	s.stop = cancel
	s.setBusy(true, true)
	b := s.o.Bridge
	open := func(authURL string) error {
		u, err := url.Parse(authURL)
		if err == nil {
			err = s.o.OpenURL(u)
		}
		b.Post(func() {
			s.address.SetText(authURL)
			if err != nil {
				// The browser could not be opened: the clinician opens
				// the address themselves.
				s.addrBox.Show()
				s.body.Refresh()
			}
		})
		return nil
	}
	bridge.Run(b, ctx, func(ctx context.Context) (*app.SignInResult, error) {
		return s.o.Service.SignIn(ctx, open)
	}, func(res *app.SignInResult, err error) {
		cancel()
		s.stop = nil
		if err != nil {
			s.fail(err)
			return
		}
		if res.Resumed {
			s.setBusy(false, false)
			s.finish(res.Identity)
			return
		}
		s.setBusy(false, false)
		s.showRoles(res.Roles, res.Suggested)
	})
}

// cancelBrowser stops waiting for the browser.
func (s *SignInScreen) cancelBrowser() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	s.fail(context.Canceled)
}

// startDemo completes the demo's mock sign-in without a browser.
func (s *SignInScreen) startDemo() {
	if s.busy {
		return
	}
	s.setBusy(true, false)
	bridge.Run(s.o.Bridge, nil, func(ctx context.Context) (triage.Identity, error) {
		return s.o.Service.DemoSignIn(ctx)
	}, func(id triage.Identity, err error) {
		if err != nil {
			s.fail(err)
			return
		}
		s.setBusy(false, false)
		s.finish(id)
	})
}

// loadRoles reads the clinician's roles again (a session that needs one).
func (s *SignInScreen) loadRoles() {
	s.setBusy(true, false)
	bridge.Run(s.o.Bridge, nil, func(ctx context.Context) ([]app.RoleOption, error) {
		return s.o.Service.Roles(ctx)
	}, func(opts []app.RoleOption, err error) {
		if err != nil {
			s.fail(err)
			return
		}
		s.setBusy(false, false)
		s.showRoles(opts, nil)
	})
}

// showRoles shows the organisation and role picker: the roles that can vet
// referrals here to choose from (the remembered one preselected), the
// others listed with why they cannot be used.
func (s *SignInScreen) showRoles(opts []app.RoleOption, suggested *config.RoleChoice) {
	s.options, s.suggested = opts, suggested
	s.start.Hide()
	s.message.SetText("Choose the organisation and role you are working as. Your decisions are sent to e-RS in this role.")
	var labels []string
	var unusable []string
	for _, o := range opts {
		switch {
		case !o.CanVet:
			unusable = append(unusable, o.Label+": cannot vet referrals")
		case !o.Allowed:
			unusable = append(unusable, o.Label+": not allowed on this computer by your organisation")
		default:
			labels = append(labels, o.Label)
		}
	}
	s.radio = widget.NewRadioGroup(labels, func(string) { s.roleChanged() })
	s.radio.Required = true
	s.behalf = widget.NewSelect(nil, func(string) { s.updateChoose() })
	s.behalf.PlaceHolder = "Choose the clinician you act for"
	s.behalfBox = container.NewVBox(widget.NewLabelWithStyle("Acting on behalf of", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.behalf)
	s.behalfBox.Hide()
	s.choose = widget.NewButtonWithIcon("Continue", theme.NavigateNextIcon(), s.chooseRole)
	s.choose.Importance = widget.HighImportance
	objs := []fyne.CanvasObject{widget.NewLabelWithStyle("Organisation and role", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}
	if len(labels) == 0 {
		none := widget.NewLabel("None of your e-RS roles can vet referrals with Triage Desk here. Ask your organisation's registration authority for a service provider clinician role, then sign in again.")
		none.Wrapping = fyne.TextWrapWord
		none.Importance = widget.DangerImportance
		objs = append(objs, none)
		s.start.Show()
	} else {
		objs = append(objs, s.radio)
	}
	if len(unusable) > 0 {
		l := widget.NewLabel("Your other roles:\n" + joinLines(unusable))
		l.Importance = widget.LowImportance
		l.Wrapping = fyne.TextWrapWord
		objs = append(objs, l)
	}
	objs = append(objs, s.behalfBox, s.roleErr)
	if len(labels) > 0 {
		objs = append(objs, container.NewCenter(s.choose))
	}
	s.roles.Objects = objs
	s.roles.Show()
	if suggested != nil {
		for _, o := range opts {
			if o.ODS == suggested.ODSCode && string(o.BusinessFunction) == suggested.BusinessFunction && o.CanVet && o.Allowed {
				s.radio.SetSelected(o.Label)
			}
		}
	} else if len(labels) == 1 {
		s.radio.SetSelected(labels[0])
	}
	s.updateChoose()
	s.body.Refresh()
}

func joinLines(ls []string) string {
	out := ""
	for i, l := range ls {
		if i > 0 {
			out += "\n"
		}
		out += "• " + l
	}
	return out
}

// selectedRole returns the chosen role.
func (s *SignInScreen) selectedRole() (app.RoleOption, bool) {
	if s.radio == nil {
		return app.RoleOption{}, false
	}
	for _, o := range s.options {
		if o.Label == s.radio.Selected && o.CanVet && o.Allowed {
			return o, true
		}
	}
	return app.RoleOption{}, false
}

// roleChanged loads whom a clinician admin may act for.
func (s *SignInScreen) roleChanged() {
	s.roleErr.Hide()
	o, ok := s.selectedRole()
	if !ok || !o.NeedsOnBehalfOf {
		s.behalfBox.Hide()
		s.updateChoose()
		return
	}
	s.behalf.Options = nil
	s.behalf.ClearSelected()
	s.behalf.PlaceHolder = "Loading the clinicians you may act for…"
	s.behalf.Disable()
	s.behalfBox.Show()
	s.updateChoose()
	ods := o.ODS
	bridge.Run(s.o.Bridge, nil, func(ctx context.Context) ([]app.OnBehalfOfUser, error) {
		return s.o.Service.OnBehalfOfUsers(ctx, ods)
	}, func(users []app.OnBehalfOfUser, err error) {
		if cur, ok := s.selectedRole(); !ok || cur.ODS != ods || !cur.NeedsOnBehalfOf {
			return // the choice moved on
		}
		if err != nil {
			s.roleErr.SetText(triage.ErrorMessage(err))
			s.roleErr.Show()
			s.behalf.PlaceHolder = "Could not load the clinicians you may act for"
			s.behalf.Refresh()
			return
		}
		s.users = users
		var names []string
		for _, u := range users {
			names = append(names, behalfLabel(u))
		}
		s.behalf.Options = names
		s.behalf.PlaceHolder = "Choose the clinician you act for"
		if len(names) == 0 {
			s.behalf.PlaceHolder = "There is nobody you may act for at " + ods
		} else {
			s.behalf.Enable()
		}
		if sg := s.suggested; sg != nil && sg.ODSCode == ods && sg.OnBehalfOfUserID != "" {
			for _, u := range users {
				if u.SDSUserID == sg.OnBehalfOfUserID {
					s.behalf.SetSelected(behalfLabel(u))
				}
			}
		}
		s.behalf.Refresh()
		s.updateChoose()
	})
}

// behalfLabel names a clinician an admin may act for.
func behalfLabel(u app.OnBehalfOfUser) string {
	if u.Name == "" {
		return "SDS user " + u.SDSUserID
	}
	return u.Name + " (SDS user " + u.SDSUserID + ")"
}

// choice returns the role choice made, if complete.
func (s *SignInScreen) choice() (config.RoleChoice, bool) {
	o, ok := s.selectedRole()
	if !ok {
		return config.RoleChoice{}, false
	}
	c := o.Choice()
	if o.NeedsOnBehalfOf {
		for _, u := range s.users {
			if behalfLabel(u) == s.behalf.Selected {
				c.OnBehalfOfUserID = u.SDSUserID
			}
		}
		if c.OnBehalfOfUserID == "" {
			return c, false
		}
	}
	return c, true
}

func (s *SignInScreen) updateChoose() {
	if s.choose == nil {
		return
	}
	if _, ok := s.choice(); ok && !s.busy {
		s.choose.Enable()
	} else {
		s.choose.Disable()
	}
}

// chooseRole sets the role and finishes.
func (s *SignInScreen) chooseRole() {
	c, ok := s.choice()
	if !ok || s.busy {
		return
	}
	s.busy = true
	s.choose.Disable()
	s.roleErr.Hide()
	bridge.Run(s.o.Bridge, nil, func(ctx context.Context) (triage.Identity, error) {
		return s.o.Service.ChooseRole(ctx, c)
	}, func(id triage.Identity, err error) {
		s.busy = false
		if err != nil {
			s.roleErr.SetText(triage.ErrorMessage(err))
			s.roleErr.Show()
			s.updateChoose()
			s.body.Refresh()
			return
		}
		s.finish(id)
	})
}

func (s *SignInScreen) finish(id triage.Identity) {
	if s.o.OnDone != nil {
		s.o.OnDone(id)
	}
}
