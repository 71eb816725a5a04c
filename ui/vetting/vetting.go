package vetting

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
)

// Preference keys for the vetting window's layout.
const (
	prefSplit     = "vetting.split.offset"
	prefSideSplit = "vetting.side.offset"
	// prefWorklistHidden keeps Ctrl+B's choice: a clinician who reads
	// with the worklist hidden finds it hidden again after a restart.
	prefWorklistHidden = "vetting.worklist.hidden"
)

// Default layout.
const (
	defaultSplit     = 0.40
	defaultSideSplit = 0.64
	agingTick        = 30 * time.Second
)

// Vetting is the main view for an open workspace: the worklist on the left
// and the open referral on the right. It reads only from the encrypted
// store (never the network), hears from the engine through the Bridge, and
// registers the worklist, decision and document shortcuts on the Frame.
// Use it on the UI goroutine; Close it before the workspace closes.
type Vetting struct {
	frame *frame.Frame
	b     *bridge.Bridge
	app   *app.Workspace
	prefs fyne.Preferences
	now   func() time.Time

	list  *WorklistPanel
	right *fyne.Container
	split *container.Split
	body  *fyne.Container // the worklist alone until a referral opens, then the split
	panel *referralPanel

	drafts map[string]*triage.Decision
	// draftWrites keeps and drops drafts in the store in the order the
	// clinician did, so a dropped draft never comes back.
	draftWrites     *bridge.Writes
	sync            app.SyncStatus
	lastViewerWidth float32
	sideSplit       float64
	temp            *document.TempFiles
	detach          func()
	unlisten        func()
	loadErr         error
	reviewByBusy    bool
	// worklistHidden: the clinician hid the worklist (Ctrl+B) so the
	// letter takes the full width while a referral is open.
	worklistHidden bool
	// layoutBucket is the screen size ("1280x800") the splits were set
	// for, "" until a referral is first opened.
	layoutBucket string

	// ready holds page 1 of the CRIs of the referrals next to the open one
	// in the worklist, drawn ahead while the clinician reads, so moving to
	// the next referral shows its letter at once. Each entry is for one
	// UBRN and is used at most once, for a new viewer of that referral.
	ready          map[string]*criResult
	prefetchCancel context.CancelFunc

	// onWorklist is called after each worklist read is shown (tests and
	// the measurement harness).
	onWorklist func()
	// onFirstRead is called once when the first read has finished.
	onFirstRead func()
}

// NewVetting builds the vetting view for workspace a on frame f. prefs
// keeps the split and column widths (nil: not kept). Call Start to load
// it.
func NewVetting(f *frame.Frame, b *bridge.Bridge, a *app.Workspace, prefs fyne.Preferences) *Vetting {
	v := &Vetting{frame: f, b: b, app: a, prefs: prefs, now: time.Now, drafts: map[string]*triage.Decision{}, draftWrites: bridge.NewWrites(b),
		sideSplit: defaultSideSplit, lastViewerWidth: 560, ready: map[string]*criResult{}}
	if a.CanSync() {
		v.sync = a.SyncStatus()
	}
	v.list = NewWorklistPanel(f.Shortcuts(), prefs)
	v.list.OnOpen = v.open
	v.right = container.NewStack(messagePanel(theme.DocumentIcon(),
		"Select a referral to read its clinical information.\n↓/↑ or J/K move through the worklist, Enter opens, / searches.", nil))
	v.split = container.NewHSplit(v.list.Object(), v.right)
	v.split.Offset = defaultSplit
	if prefs != nil {
		if o := prefs.FloatWithFallback(prefSplit, defaultSplit); o > 0.15 && o < 0.85 {
			v.split.Offset = o
		}
		if o := prefs.FloatWithFallback(prefSideSplit, defaultSideSplit); o > 0.3 && o < 0.9 {
			v.sideSplit = o
		}
		v.worklistHidden = prefs.Bool(prefWorklistHidden)
	}
	// Until a referral is opened the worklist has the whole window, so
	// every column shows.
	v.body = container.NewStack(v.list.Object())
	v.registerShortcuts()
	return v
}

// Object returns the view's canvas object (for Frame.SetMain).
func (v *Vetting) Object() fyne.CanvasObject { return v.body }

// WorklistPanel returns the worklist.
func (v *Vetting) WorklistPanel() *WorklistPanel { return v.list }

// Start subscribes to the engine's events, reads the worklist from the
// cache and starts the clock that ages "data as of".
func (v *Vetting) Start() {
	v.unlisten = v.b.OnEngine(v.onUpdate)
	if v.app.CanSync() {
		v.detach = v.b.AttachEngine(v.app)
	}
	v.reloadWorklist()
	v.b.Every(agingTick, v.tick)
}

func (v *Vetting) tick() {
	if v.panel != nil {
		v.panel.refreshAsOf()
	}
}

// Close keeps the layout and the open draft, and stops listening to the
// engine. It does not close the workspace.
func (v *Vetting) Close() {
	if v.prefs != nil {
		v.prefs.SetFloat(prefSplit, v.split.Offset)
		v.prefs.SetFloat(prefSideSplit, v.sideOffset())
		v.saveLayout()
	}
	if v.panel != nil {
		if dp := v.panel.decision; dp != nil && dp.form != nil && !dp.active() {
			// Keep the draft now, not in the background: the app is closing.
			d := dp.form.decision()
			d.By = triage.Identity{}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = v.app.SaveDraft(ctx, v.panel.ubrn, d)
			cancel()
			dp.form = nil
		}
		v.panel.close()
		v.panel = nil
	}
	if v.prefetchCancel != nil {
		v.prefetchCancel()
	}
	for u := range v.ready {
		v.dropReady(u)
	}
	if v.detach != nil {
		v.detach()
	}
	if v.unlisten != nil {
		v.unlisten()
	}
	if v.temp != nil {
		_ = v.temp.Cleanup()
	}
}

// sideOffset is where the viewer / side column split sits.
func (v *Vetting) sideOffset() float64 {
	if v.panel != nil {
		v.sideSplit = v.panel.split.Offset
	}
	return v.sideSplit
}

// calendar is the working-day calendar for review-by dates.
func (v *Vetting) calendar() triage.Calendar {
	if s := v.app.Settings; s != nil {
		return s.Calendar()
	}
	return triage.NewCalendar(triage.EnglandAndWalesBankHolidays()...)
}

// fillReviewBy derives the review-by dates the worklist could not (the
// reference data arrived after it was read), once the reference data is
// in the cache.
func (v *Vetting) fillReviewBy() {
	missing := false
	for i := range v.list.all {
		if v.list.all[i].ReviewBy.IsZero() {
			missing = true
			break
		}
	}
	if !missing || v.reviewByBusy {
		return
	}
	v.reviewByBusy = true
	a := v.app
	bridge.Run(v.b, nil, func(ctx context.Context) (triage.ReferenceData, error) {
		return a.ReferenceData(ctx)
	}, func(rd triage.ReferenceData, err error) {
		v.reviewByBusy = false
		if err != nil {
			return // not downloaded yet: tried again at the next engine event
		}
		cal := v.calendar()
		changed := false
		for i := range v.list.all {
			r := &v.list.all[i]
			if r.ReviewBy.IsZero() {
				if rb, ok := triage.ReviewBy(r.WorklistItem, &rd, cal); ok {
					r.ReviewBy, changed = rb, true
				}
			}
		}
		if changed {
			v.list.apply()
		}
	})
}

// syncInterval is the user's sync interval (how old data may get before
// it is shown as old).
func (v *Vetting) syncInterval() time.Duration {
	if s := v.app.Settings; s != nil && s.SyncInterval > 0 {
		return s.SyncInterval
	}
	return app.DefaultPullInterval
}

func (v *Vetting) canvasScale() float32 {
	if c := v.frame.Window().Canvas(); c != nil && c.Scale() > 0 {
		return c.Scale()
	}
	return 1
}

// tempFiles returns the folder for "open with another program" copies,
// inside the profile, made on first use and emptied at Close.
func (v *Vetting) tempFiles() (*document.TempFiles, error) {
	if v.temp != nil {
		return v.temp, nil
	}
	profile := ""
	if rt := v.app.Runtime(); rt != nil {
		profile = rt.Profile
	}
	if profile == "" {
		return nil, errors.New("no profile folder")
	}
	t, err := document.NewTempFiles(filepath.Join(profile, "cache", "open"))
	if err != nil {
		return nil, err
	}
	v.temp = t
	return t, nil
}

// reloadWorklist reads the worklist from the cache off the UI goroutine.
func (v *Vetting) reloadWorklist() {
	a := v.app
	bridge.Run(v.b, nil, func(ctx context.Context) (app.ReviewList, error) {
		return a.ReviewList(ctx)
	}, func(w app.ReviewList, err error) {
		if f := v.onFirstRead; f != nil {
			v.onFirstRead = nil
			defer f()
		}
		v.loadErr = err
		if err != nil {
			if triage.ErrorCodeOf(err) == triage.ENOTFOUND {
				// Nothing synced yet: the first pull fills it.
				v.list.empty.SetText("Nothing has been downloaded yet. Triage Desk is fetching the worklist from e-RS…")
			} else {
				v.list.empty.SetText("The worklist could not be read. " + triage.ErrorMessage(err))
			}
			v.list.empty.Show()
			return
		}
		for u, d := range v.drafts {
			if d != nil {
				for i := range w.Rows {
					if w.Rows[i].UBRN == u && w.Rows[i].Local == triage.LocalNone {
						w.Rows[i].Local = triage.LocalDraft
					}
				}
			}
		}
		v.list.SetWorklist(w)
		v.tick() // a newer worklist may confirm the open referral is current
		v.fillReviewBy()
		if v.panel != nil {
			v.list.MarkOpen(v.panel.ubrn)
		}
		if v.onWorklist != nil {
			v.onWorklist()
		}
	})
}

// onUpdate applies the engine's coalesced events: only the rows concerned
// are refreshed.
func (v *Vetting) onUpdate(u bridge.Update) {
	if u.Sync != nil {
		v.sync = *u.Sync
		v.tick()
	}
	if u.Worklist != nil || u.Lagged {
		v.reloadWorklist()
	}
	for ubrn, st := range u.Decisions {
		ls := triage.LocalStatusOf(st)
		if ls == triage.LocalNone && v.drafts[ubrn] != nil {
			ls = triage.LocalDraft
		}
		v.list.SetLocalStatus(ubrn, ls)
		if p := v.panel; p != nil && p.ubrn == ubrn && p.decision != nil {
			p.decision.refreshEntry()
		}
	}
	touched := map[string]bool{}
	for ubrn := range u.Referrals {
		touched[ubrn] = true
	}
	criArrived := false
	for _, d := range u.Documents {
		touched[d.UBRN] = true
		v.dropReady(d.UBRN) // a newer copy was stored
		if p := v.panel; p != nil && d.UBRN == p.ubrn && d.DocumentID == app.CRIDocumentID {
			criArrived = true
		}
	}
	if len(touched) > 0 {
		v.refreshRows(touched)
		v.fillReviewBy()
	}
	if p := v.panel; p != nil && p.loaded && touched[p.ubrn] {
		p.refreshDocuments(criArrived)
	}
	// The banner is read again when PDS's details for the open referral
	// were stored, or its letter arrived (the identity cross-check reads
	// it).
	if p := v.panel; p != nil && (u.Patients[p.ubrn] || criArrived) {
		p.loadBanner()
	}
}

// refreshRows re-reads whether each referral is ready offline, and its
// version, and refreshes those rows. A new version of the open referral is
// noted as a change by someone else, unless it is the version e-RS gave
// the clinician's own decision when it applied it: then the referral is
// shown as it is now, without a warning.
func (v *Vetting) refreshRows(ubrns map[string]bool) {
	a := v.app
	open := ""
	if v.panel != nil {
		open = v.panel.ubrn
	}
	type info struct {
		ready   bool
		version int
		own     int // the version e-RS gave our own sent decision, if the latest
	}
	bridge.Run(v.b, nil, func(ctx context.Context) (map[string]info, error) {
		out := make(map[string]info, len(ubrns))
		for u := range ubrns {
			ci, err := a.CacheInfo(ctx, u)
			if err != nil {
				continue
			}
			i := info{ready: ci.HasReferral && ci.HasCRI(), version: ci.Version}
			if u == open {
				if en, err := a.LatestForReferral(ctx, u); err == nil && en.State == triage.OutboxSent && en.Sent != nil {
					i.own = en.Sent.NewVersion
				}
			}
			out[u] = i
		}
		return out, nil
	}, func(infos map[string]info, _ error) {
		for u, i := range infos {
			v.list.SetOfflineReady(u, i.ready)
			p := v.panel
			if p == nil || p.ubrn != u || !p.loaded || i.version <= 0 || i.version == p.referral().Version {
				continue
			}
			if i.own > 0 && i.version == i.own {
				p.reloadDetails()
			} else {
				p.noteChanged(i.version)
			}
		}
	})
}

// open shows a referral on the right, in a new panel: the previous one is
// closed (its draft kept, its documents closed, its work cancelled).
func (v *Vetting) open(ubrn string) {
	if v.panel != nil && v.panel.ubrn == ubrn {
		v.list.MarkOpen(ubrn)
		return
	}
	v.replacePanel(ubrn)
}

// reopen reloads the open referral from the cache.
func (v *Vetting) reopen(ubrn string) { v.replacePanel(ubrn) }

func (v *Vetting) replacePanel(ubrn string) {
	if v.prefetchCancel != nil {
		v.prefetchCancel() // the new referral's page 1 comes first
	}
	if v.panel != nil {
		if w := v.panel.viewerPane.Size().Width; w > 50 {
			v.lastViewerWidth = w
		}
		v.sideOffset()
		v.panel.close()
	}
	v.loadLayout()
	if v.panel == nil {
		if s := v.frame.Window().Canvas().Size(); s.Width > 0 {
			listShare := v.split.Offset
			if v.worklistHidden {
				listShare = 0
			}
			v.lastViewerWidth = float32(float64(s.Width)*(1-listShare)*v.sideSplit) - 2*theme.Padding()
		}
	}
	p := newReferralPanel(v, ubrn)
	v.panel = p
	if v.ready[ubrn] == nil {
		// Nothing drawn ahead: the CRI is read and page 1 drawn while the
		// panel is laid out and the row marked, not after.
		p.loadCRI()
	}
	v.showBody()
	v.right.Objects = []fyne.CanvasObject{p.Object()}
	v.right.Refresh()
	v.list.MarkOpen(ubrn)
	p.load()
}

// prefetchNeighbours draws page 1 of the CRIs of the referrals before and
// after ubrn in the worklist, in the background, after the open one's page
// 1 is on screen. A new selection cancels it.
func (v *Vetting) prefetchNeighbours(ubrn string, width float32) {
	if v.prefetchCancel != nil {
		v.prefetchCancel()
	}
	want := map[string]bool{}
	for _, u := range []string{v.list.After(ubrn), v.list.Before(ubrn)} {
		if u != "" {
			want[u] = true
		}
	}
	for u := range v.ready {
		if !want[u] {
			v.dropReady(u)
		}
	}
	ctx, cancel := context.WithCancel(v.b.Context())
	v.prefetchCancel = cancel
	a, scale := v.app, v.canvasScale()
	for _, u := range []string{v.list.After(ubrn), v.list.Before(ubrn)} {
		if u == "" || v.ready[u] != nil {
			continue
		}
		v.b.Go(func(context.Context) {
			res, err := readCRI(ctx, a, u, width, scale, false)
			if err != nil || res.pdf == nil || res.first == nil {
				if res.pdf != nil {
					_ = res.pdf.Close()
				}
				return
			}
			v.b.Post(func() {
				if ctx.Err() != nil || v.ready[u] != nil || (v.panel != nil && v.panel.ubrn == u) {
					pdf := res.pdf
					v.b.Go(func(context.Context) { _ = pdf.Close() })
					return
				}
				v.ready[u] = &res
			})
		})
	}
}

// takeReady hands over the page 1 drawn ahead for ubrn, if there is one.
func (v *Vetting) takeReady(ubrn string) *criResult {
	r := v.ready[ubrn]
	delete(v.ready, ubrn)
	return r
}

// dropReady forgets (and closes) what was drawn ahead for ubrn.
func (v *Vetting) dropReady(ubrn string) {
	if r := v.ready[ubrn]; r != nil {
		delete(v.ready, ubrn)
		pdf := r.pdf
		v.b.Go(func(context.Context) { _ = pdf.Close() })
	}
}

// Open opens the referral (as a click on its row does).
func (v *Vetting) Open(ubrn string) { v.open(ubrn) }

// openNext opens the next referral after ubrn in the worklist's order
// that has no decision queued, being sent or sent; at the end of the list
// it says so and stays.
func (v *Vetting) openNext(ubrn string) {
	if next := v.list.NextUndecided(ubrn); next != "" {
		v.open(next)
		return
	}
	if p := v.panel; p != nil && p.decision != nil {
		p.decision.say("That was the end of the list: no referral after this one is waiting for a decision. Clear the filters or sort differently to see the others.")
	}
}

// Panel returns the open referral's panel (nil for none).
func (v *Vetting) Panel() *referralPanel { return v.panel }

// modalOpen reports which modal layer is up: the confirm step, another
// dialog or pop-up, or none.
func (v *Vetting) modalOpen() (confirm, other bool) {
	if v.panel != nil && v.panel.decision != nil && v.panel.decision.confirm != nil {
		return true, false
	}
	return false, v.frame.Window().Canvas().Overlays().Top() != nil
}

// refresh asks the engine to sync now and re-reads the worklist.
func (v *Vetting) refresh() {
	if v.app.CanSync() {
		v.app.SyncNow()
	}
	v.reloadWorklist()
}
