package vetting

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

var (
	ctrlEnter      = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}
	ctrlShiftEnter = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
)

func TestWorklistShowsTheSandboxReferrals2WWFirst(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	want := apptest.Sandbox(h.ws.Runtime()).Worklist(triage.ListReferralsForReview, apptest.ProviderODS)
	rows := h.rows()
	if len(rows) != len(want) || len(rows) == 0 {
		t.Fatalf("worklist shows %d referrals, the sandbox has %d", len(rows), len(want))
	}
	for i := 1; i < len(rows); i++ {
		if rows[i-1].Priority.Rank() > rows[i].Priority.Rank() {
			t.Fatalf("row %d (%s) before row %d (%s): not 2WW first", i-1, rows[i-1].Priority, i, rows[i].Priority)
		}
	}
	if rows[0].Priority != triage.PriorityTwoWeekWait {
		t.Fatalf("first row is %s, want 2WW", rows[0].Priority)
	}
	// On screen: the first row starts with its 2WW badge, then its status
	// (none yet), type, UBRN and NHS number in 3-3-4.
	cells := h.tableTexts()
	i := slices.Index(cells, widgets.UBRNText(rows[0].UBRN))
	if i < 3 || cells[i-3] != "2WW" || cells[i-2] != "" || cells[i-1] != rows[0].Type.Label() || cells[i+1] != triage.FormatNHSNumber(rows[0].NHSNumber) {
		t.Fatalf("first row not drawn as 2WW badge, status, type, UBRN, NHS number: %v", cells[:min(len(cells), 16)])
	}
	c := triage.Count(h.v.list.all)
	if want := itoa(c.ToReview) + " to review · " + itoa(c.TwoWeek) + " 2WW · 0 queued"; h.v.list.Counts() != want {
		t.Errorf("counts line %q, want %q", h.v.list.Counts(), want)
	}
}

func TestSortingAndFilteringByClick(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.showAllColumns()
	test.Tap(h.header("Days"))
	if s := h.v.list.Sort(); s.Column != triage.ColumnDaysWaiting || s.Descending {
		t.Fatalf("after one click on Days: %+v", s)
	}
	rows := h.rows()
	for i := 1; i < len(rows); i++ {
		if rows[i-1].PathwayStart.After(rows[i].PathwayStart) {
			t.Fatalf("not longest waiting first at row %d", i)
		}
	}
	if !strings.HasSuffix(h.header("Days").text, "▲") {
		t.Errorf("sorted header says %q", h.header("Days").text)
	}
	test.Tap(h.header("Days"))
	if !h.v.list.Sort().Descending {
		t.Fatal("a second click did not reverse the order")
	}
	rows = h.rows()
	for i := 1; i < len(rows); i++ {
		if rows[i-1].PathwayStart.Before(rows[i].PathwayStart) {
			t.Fatalf("not reversed at row %d", i)
		}
	}
	test.Tap(h.header("NHS number"))
	rows = h.rows()
	for i := 1; i < len(rows); i++ {
		if rows[i-1].NHSNumber > rows[i].NHSNumber {
			t.Fatalf("not sorted by NHS number at row %d", i)
		}
	}

	total := len(h.v.list.all)
	test.Tap(h.v.list.changed)
	rows = h.rows()
	if len(rows) == 0 || len(rows) == total {
		t.Fatalf("changed-since-review filter shows %d of %d", len(rows), total)
	}
	for _, r := range rows {
		if !r.ContextStatus.ChangedSinceReview() {
			t.Fatalf("%s shown but not changed since review", r.UBRN)
		}
	}
	if !strings.Contains(h.v.list.Counts(), "(showing "+itoa(len(rows))+")") {
		t.Errorf("counts do not say how many are shown: %q", h.v.list.Counts())
	}
	test.Tap(h.v.list.changed)
	h.v.list.priority.SetSelected("Urgent")
	h.v.list.kind.SetSelected("RAS")
	for _, r := range h.rows() {
		if r.Priority != triage.PriorityUrgent || r.Type != triage.ReferralTypeTriageDeferral {
			t.Fatalf("%s (%s, %s) passes urgent RAS", r.UBRN, r.Priority, r.Type)
		}
	}
	h.v.list.priority.SetSelected(anyPriority)
	h.v.list.kind.SetSelected(anyType)

	// Search by NHS number with spaces, then by part of a UBRN.
	target := h.v.list.all[total/2]
	test.Type(h.v.list.search, triage.FormatNHSNumber(target.NHSNumber))
	rows = h.rows()
	if len(rows) == 0 || !slices.ContainsFunc(rows, func(r triage.Row) bool { return r.UBRN == target.UBRN }) {
		t.Fatalf("search for %s found %d rows without it", triage.FormatNHSNumber(target.NHSNumber), len(rows))
	}
	for _, r := range rows {
		if r.NHSNumber != target.NHSNumber {
			t.Fatalf("search for an NHS number shows another patient")
		}
	}
	h.v.list.search.SetText(widgets.UBRNText(target.UBRN))
	if rows = h.rows(); len(rows) != 1 || rows[0].UBRN != target.UBRN {
		t.Fatalf("search by UBRN with spaces shows %d rows", len(rows))
	}
}

func TestSelectingARowShowsItsHeaderCardAndCRIPage1(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.rows()[2]
	p := h.open(row.UBRN)
	card := strings.Join(texts(p.header), "|")
	for _, want := range []string{triage.FormatNHSNumber(row.NHSNumber), "UBRN " + widgets.UBRNText(row.UBRN), row.Priority.Label(),
		row.Specialty.Label() + " · " + row.Service.Label(), "e-RS state: ", "Pathway start ", "Review by ", "Data as of "} {
		if !strings.Contains(card, want) {
			t.Errorf("header card lacks %q: %s", want, card)
		}
	}
	v := h.waitCRI()
	if !strings.HasPrefix(v.PageLabel(), "Page 1 of ") {
		t.Errorf("viewer says %q", v.PageLabel())
	}
	if h.v.list.OpenUBRN() != row.UBRN {
		t.Error("the row is not marked open")
	}
	// The viewer belongs to this referral: opening another replaces it and
	// cancels the first one's work.
	first := v
	other := h.rows()[3]
	h.open(other.UBRN)
	if first.ctx.Err() == nil {
		t.Error("the previous referral's viewer is still running")
	}
	v2 := h.waitCRI()
	if v2 == first || h.v.panel.ubrn != other.UBRN {
		t.Fatal("the viewer was reused for another referral")
	}
	if !strings.Contains(strings.Join(texts(h.v.panel.header), "|"), triage.FormatNHSNumber(other.NHSNumber)) {
		t.Error("header card does not show the new patient")
	}
	// Page down, zoom and fit width work on the keyboard. Page Down moves
	// by one view, less a small overlap (TestPageDownNeverSkipsTheFootOfAPage).
	if v2.box.MinSize().Height > v2.scroll.Size().Height {
		before := v2.scroll.Offset.Y
		h.key(fyne.KeyPageDown)
		if d := v2.scroll.Offset.Y - before; d <= 0 || d > v2.scroll.Size().Height {
			t.Errorf("Page Down moved %v in a %v-high view", d, v2.scroll.Size().Height)
		}
	}
	z := v2.zoom
	h.typeKeys("+")
	if v2.zoom <= z {
		t.Errorf("+ did not zoom in (%v -> %v)", z, v2.zoom)
	}
	h.typeKeys("-")
	h.typeKeys("-")
	if v2.zoom >= z {
		t.Errorf("- did not zoom out (%v -> %v)", z, v2.zoom)
	}
}

func TestRejectWithoutAReasonIsRefusedWithTheMessage(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.booked(false)
	p := h.open(row.UBRN)
	h.typeKeys("r")
	f := p.decision.form
	if f == nil || f.kind != triage.DecisionReject {
		t.Fatal("R did not open the reject form")
	}
	h.shortcut(ctrlEnter)
	if p.decision.confirm != nil {
		t.Fatal("the confirm step opened without a reason")
	}
	if got := f.Problem(triage.FieldReason); got != "Choose a reason for rejecting the referral from the list." {
		t.Fatalf("reason message %q", got)
	}
	if n, _ := apptest.Store(h.ws).UnsentCount(context.Background()); n != 0 {
		t.Fatalf("%d decisions queued", n)
	}
	// The reasons offered are the current PROVIDER_REJECT codes, nothing else.
	rd, _ := apptest.Store(h.ws).ReferenceData(context.Background())
	want := rd.RejectReasons(h.v.now())
	if len(f.reason.Options) != len(want) || len(want) == 0 {
		t.Fatalf("%d reasons offered, reference data has %d", len(f.reason.Options), len(want))
	}
}

func TestMandatoryCommentReasonRequiresAComment(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.booked(false)
	p := h.open(row.UBRN)
	h.typeKeys("r")
	f := p.decision.form
	var mandatory triage.Concept
	for _, c := range f.reasons {
		if c.CommentIsMandatory {
			mandatory = c
			break
		}
	}
	if mandatory.Code == "" {
		t.Fatal("the sandbox's reference data has no reject reason that needs a comment")
	}
	if strings.Contains(f.Marker(), "required") {
		t.Errorf("comments marked required before a reason is chosen: %q", f.Marker())
	}
	f.reason.SetSelected(mandatory.Display)
	if !strings.Contains(f.Marker(), "(required for this reason) *") {
		t.Errorf("comments not marked required: %q", f.Marker())
	}
	h.shortcut(ctrlEnter)
	if p.decision.confirm != nil {
		t.Fatal("the confirm step opened without the required comment")
	}
	if got := f.Problem(triage.FieldComments); !strings.Contains(got, "needs a comment for the referrer") {
		t.Fatalf("comment message %q", got)
	}
	test.Type(f.comments, "Please refer to the community service first.")
	if f.counter.Text != "44 / 2000 characters" {
		t.Errorf("counter %q", f.counter.Text)
	}
	h.shortcut(ctrlEnter)
	if p.decision.confirm == nil {
		t.Fatalf("the confirm step did not open: %q", f.Problem(triage.FieldComments))
	}
	text := p.decision.confirm.Text()
	for _, want := range []string{triage.FormatNHSNumber(row.NHSNumber), widgets.UBRNText(row.UBRN), "Reject: " + mandatory.Display, "Please refer to the community service first."} {
		if !strings.Contains(text, want) {
			t.Errorf("confirm step lacks %q: %s", want, text)
		}
	}
	// A comment over 2000 characters is counted and refused.
	h.key(fyne.KeyEscape)
	f.comments.SetText(strings.Repeat("x", 2010))
	if !strings.Contains(f.counter.Text, "10 too many") {
		t.Errorf("counter %q", f.counter.Text)
	}
}

func TestAcceptAndNextQueuesAndMovesTheSelection(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.booked(false)
	next := h.v.list.After(row.UBRN)
	if next == "" {
		t.Fatal("no referral after the chosen one")
	}
	p := h.open(row.UBRN)
	h.typeKeys("a")
	c := p.decision.confirm
	if c == nil {
		t.Fatal("A did not open the confirm step")
	}
	if text := c.Text(); !strings.Contains(text, triage.FormatNHSNumber(row.NHSNumber)) || !strings.Contains(text, "Accept") {
		t.Fatalf("confirm step: %s", text)
	}
	// Decision keys do nothing while the confirm step is up.
	h.typeKeys("j")
	if h.v.list.Cursor() != row.UBRN {
		t.Fatal("J moved the worklist behind the confirm step")
	}
	h.shortcut(ctrlShiftEnter)
	h.waitFor("the next referral to open", func() bool { return h.v.panel != nil && h.v.panel.ubrn == next })
	en, err := apptest.Store(h.ws).LatestForReferral(context.Background(), row.UBRN)
	if err != nil || en.State != triage.OutboxQueued || en.Kind != triage.DecisionAccept {
		t.Fatalf("decision %+v, %v; want a queued accept", en, err)
	}
	if en.BaseVersion == 0 || en.By.SDSUserID == "" {
		t.Errorf("queued without the version seen or the clinician: %+v", en)
	}
	if h.v.list.OpenUBRN() != next || h.v.list.Cursor() != next {
		t.Error("the selection did not move to the next referral")
	}
	if r, _ := h.v.list.Row(row.UBRN); r.Local != triage.LocalQueued {
		t.Errorf("row status %q, want queued", r.Local)
	}
	if !strings.Contains(h.v.list.Counts(), "1 queued") {
		t.Errorf("counts %q", h.v.list.Counts())
	}
}

func TestDecisionRowShowsQueuedThenSentAsEventsArrive(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.booked(false)
	p := h.open(row.UBRN)
	h.typeKeys("a")
	h.shortcut(ctrlEnter)
	h.waitFor("the decision to queue", func() bool { return p.decision.entry != nil })
	// Show just this row, with the status column (the second) on screen.
	h.v.list.search.SetText(row.UBRN)
	statusOnScreen := func(want string) bool {
		h.v.list.table.Object().(interface{ ScrollToLeading() }).ScrollToLeading()
		return contains(h.tableTexts(), want)
	}
	h.waitFor("Queued on the row", func() bool { return statusOnScreen("Queued") })
	if !strings.Contains(p.decision.StatusText(), "Queued: Accept") {
		t.Errorf("panel says %q", p.decision.StatusText())
	}
	if _, err := apptest.Engine(h.ws).SyncOnce(context.Background(), nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	h.waitFor("Sent on the row", func() bool { return statusOnScreen("Sent") })
	h.waitFor("the panel to say sent", func() bool { return strings.Contains(p.decision.StatusText(), "Sent to e-RS at ") })
	if en, _ := apptest.Store(h.ws).LatestForReferral(context.Background(), row.UBRN); en.State != triage.OutboxSent {
		t.Errorf("outbox says %s", en.State)
	}
}

func TestPendingAttachmentIsListedWithItsMeaning(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var ubrn string
	for _, r := range h.rows() {
		ref, err := apptest.Store(h.ws).Referral(context.Background(), r.UBRN)
		if err != nil {
			continue
		}
		if slices.ContainsFunc(ref.Referral.Documents, func(d triage.Document) bool { return d.Availability == triage.AvailabilityPending }) {
			ubrn = r.UBRN
			break
		}
	}
	if ubrn == "" {
		t.Fatal("the sandbox has no referral with a PENDING attachment")
	}
	p := h.open(ubrn)
	got := p.AttachmentTexts()
	if !strings.Contains(got, "PENDING – "+triage.AvailabilityPending.Meaning()) {
		t.Fatalf("attachments: %s", got)
	}
	// Available ones offer a preview; the pending one does not.
	ref := p.referral()
	if len(ref.Documents) < 1 {
		t.Fatal("no attachments")
	}
}

func TestKeyboardMovesOpensAndCancels(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	rows := h.rows()
	h.key(fyne.KeyDown)
	h.typeKeys("j")
	if h.v.list.Cursor() != rows[1].UBRN {
		t.Fatalf("↓ then J put the cursor on %s, want row 2", h.v.list.Cursor())
	}
	h.typeKeys("k")
	if h.v.list.Cursor() != rows[0].UBRN {
		t.Fatal("K did not move up")
	}
	if h.v.panel != nil {
		t.Fatal("moving the cursor opened a referral")
	}
	h.key(fyne.KeyReturn)
	h.waitFor("Enter to open", func() bool { return h.v.panel != nil && h.v.panel.ubrn == rows[0].UBRN })
	h.typeKeys("/")
	if h.win.Canvas().Focused() != h.v.list.search {
		t.Fatal("/ did not focus the search box")
	}
	// Typing in the search box types; it does not act.
	test.Type(h.v.list.search, "ar")
	if h.v.panel.decision.form != nil {
		t.Fatal("typing R in the search box opened a form")
	}
	h.v.list.search.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.win.Canvas().Focused() != nil || h.v.list.search.Text != "" {
		t.Fatal("Esc did not leave and clear the search box")
	}
	row := h.booked(false)
	h.open(row.UBRN)
	h.typeKeys("d")
	if f := h.v.panel.decision.form; f == nil || f.kind != triage.DecisionRedirect {
		t.Fatal("D did not open the redirect form")
	}
	h.key(fyne.KeyEscape)
	if h.v.panel.decision.form != nil {
		t.Fatal("Esc did not close the form")
	}
	// Every action is in a menu with its key.
	for _, label := range []string{"Accept", "Reject…", "Redirect…", "Triage outcome…", "Next referral", "Zoom in", "Refresh from e-RS"} {
		if it := uitest.MenuItem(h.win.MainMenu(), label); it == nil || it.Shortcut == nil {
			t.Errorf("%s is not in the menus with its key", label)
		}
	}
}

func TestDraftSurvivesSwitchingReferrals(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	a, b := h.booked(false), h.rows()[0]
	if a.UBRN == b.UBRN {
		b = h.rows()[1]
	}
	p := h.open(a.UBRN)
	h.typeKeys("r")
	f := p.decision.form
	f.reason.SetSelectedIndex(0)
	test.Type(f.comments, "Needs a GP review first.")
	reason := f.reason.Selected
	h.open(b.UBRN)
	if r, _ := h.v.list.Row(a.UBRN); r.Local != triage.LocalDraft {
		t.Errorf("row %s status %q, want draft", a.UBRN, r.Local)
	}
	p = h.open(a.UBRN)
	f = p.decision.form
	if f == nil || f.kind != triage.DecisionReject || f.reason.Selected != reason || f.comments.Text() != "Needs a GP review first." {
		t.Fatalf("draft not restored: %+v", f)
	}
	// The draft is written to the store in the background: wait for it
	// (however loaded the machine), rather than for a fixed time.
	storedDraft := func() *triage.Decision { return h.storedDraft(a.UBRN) }
	h.waitFor("the draft in the store", func() bool {
		d := storedDraft()
		return d != nil && d.Comments == "Needs a GP review first."
	})
	h.key(fyne.KeyEscape)
	h.waitFor("Esc to drop the draft from the store", func() bool { return storedDraft() == nil })
	// A save pending from typing on the referral's earlier panel does not
	// bring the dropped draft back.
	h.loop.RunFor(draftPause + time.Second)
	if d := storedDraft(); d != nil {
		t.Fatalf("the dropped draft came back: %q", d.Comments)
	}
}

func TestQueuedDecisionCanBeCancelledUntilSent(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	row := h.booked(true) // indirectly bookable: the PAS question is asked
	p := h.open(row.UBRN)
	h.typeKeys("d")
	f := p.decision.form
	if f.pas == nil {
		t.Fatal("no PAS question for an indirectly bookable service")
	}
	test.Type(f.comments, "Redirect to the nurse-led clinic.")
	h.shortcut(ctrlEnter)
	if got := f.Problem(triage.FieldPAS); got == "" {
		t.Fatal("the PAS answer was not required")
	}
	f.pas.SetSelected(pasYes)
	f.priority.SetSelected("Change to 2WW")
	if row.Priority == triage.PriorityTwoWeekWait {
		f.priority.SetSelected("Change to Urgent")
	}
	h.shortcut(ctrlEnter)
	c := p.decision.confirm
	if c == nil {
		t.Fatalf("no confirm step: %v", texts(f.obj))
	}
	if text := c.Text(); !strings.Contains(text, "Appointment cancelled in PAS|Yes") || !strings.Contains(text, "New priority") {
		t.Errorf("confirm step: %s", text)
	}
	h.shortcut(ctrlEnter)
	h.waitFor("queued", func() bool { return p.decision.entry != nil })
	test.Tap(h.buttonIn(p.decision.box, "Cancel this decision"))
	test.Tap(h.overlayButton("Yes"))
	h.waitFor("cancelled", func() bool { return p.decision.entry == nil })
	en, err := apptest.Store(h.ws).LatestForReferral(context.Background(), row.UBRN)
	if err != nil || en.State != triage.OutboxDiscarded {
		t.Fatalf("after cancel the decision is %s (%v)", en.State, err)
	}
	if r, _ := h.v.list.Row(row.UBRN); r.Local != triage.LocalNone {
		t.Errorf("row status %q after cancel", r.Local)
	}
}

// TestDraftIsSavedWhenTypingPauses: a comment being written is kept in the
// store once typing pauses, with the referral still open (a crash then
// loses at most the last moments of typing); queuing the decision leaves
// no draft behind, even with a save still pending from the typing.
func TestDraftIsSavedWhenTypingPauses(t *testing.T) {
	h, p, f := rejectFormWithReason(t)
	stored := func() *triage.Decision { return h.storedDraft(p.ubrn) }
	test.Type(f.comments, "Needs a GP review first.")
	if d := stored(); d != nil {
		t.Fatalf("the draft was stored before typing paused: %q", d.Comments)
	}
	h.waitFor("the draft stored after a pause in typing", func() bool {
		d := stored()
		return d != nil && d.Comments == "Needs a GP review first."
	})
	if h.v.panel != p || p.decision.form != f {
		t.Fatal("saving the draft closed the form")
	}
	test.Type(f.comments, " Thank you.")
	h.shortcut(ctrlEnter)
	h.shortcut(ctrlEnter)
	h.waitFor("the decision queued", func() bool { return p.decision.entry != nil })
	h.loop.RunFor(draftPause + 500*time.Millisecond)
	h.waitFor("no draft left behind", func() bool { return stored() == nil })
	h.loop.RunFor(time.Second)
	if d := stored(); d != nil {
		t.Fatalf("a draft outlived the queued decision: %q", d.Comments)
	}
}

// storedDraft is the referral's draft as kept in the encrypted store.
func (h *harness) storedDraft(ubrn string) *triage.Decision {
	h.t.Helper()
	ls, err := apptest.Store(h.ws).LocalState(context.Background(), ubrn)
	if err != nil {
		h.t.Fatalf("local state: %v", err)
	}
	return ls.Draft
}
