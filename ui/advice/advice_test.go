package advice

import (
	"context"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/style"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// harness is the A&G screen on a demo workspace: the in-process sandbox,
// the mock sign-in, the clinician's encrypted store synced once, and the
// Bridge delivering to a Loop the test pumps.
type harness struct {
	t    *testing.T
	dir  string
	rt   *app.Runtime
	ws   *app.Workspace
	loop *bridge.Loop
	b    *bridge.Bridge
	win  fyne.Window
	f    *frame.Frame
	v    *View
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	h := &harness{t: t, dir: t.TempDir()}
	t.Cleanup(h.close)
	a.Settings().SetTheme(style.NewTheme(nil))
	h.win, h.f = frame.NewShellWindow(a, frame.ShellOptions{Demo: true, Environment: "demo"})
	h.win.Resize(fyne.NewSize(1500, 950))
	h.boot()
	return h
}

// boot starts the app on the harness's folder (a first start or a
// restart), signs in to the demo, syncs once and shows the A&G screen.
func (h *harness) boot() {
	t := h.t
	t.Helper()
	ctx := context.Background()
	rt, err := app.Start(ctx, app.Options{ProfileDir: h.dir, PolicyPath: filepath.Join(h.dir, "no-policy.json"),
		DevInsecureKeyfile: filepath.Join(h.dir, "dev.key"), KeyWarn: io.Discard, DemoReferrals: 4, LockTimeout: -1})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	h.rt = rt
	if _, err := rt.DemoSignIn(ctx); err != nil {
		t.Fatalf("demo sign-in: %v", err)
	}
	if h.ws, err = rt.OpenWorkspace(ctx); err != nil {
		t.Fatalf("open workspace: %v", err)
	}
	h.sync()
	h.b, h.loop = uitest.LoopBridge(t)
	h.v = New(Options{Frame: h.f, Bridge: h.b, Workspace: h.ws})
	h.f.SetMain(h.v.Object())
	h.v.RegisterShortcuts(h.f.Shortcuts())
	detach := h.b.AttachEngine(h.ws)
	t.Cleanup(detach)
	loaded := false
	h.v.OnLoaded = func() { loaded = len(h.v.Rows()) > 0 }
	h.v.Start()
	h.waitFor("the A&G worklist", func() bool { return loaded })
}

// restart closes the screen and the app as quitting does, and starts them
// again on the same folder.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.boot()
}

// stop closes the screen, the Bridge and the app (not the window).
func (h *harness) stop() {
	if h.v != nil {
		h.v.Close()
		h.v = nil
	}
	if h.b != nil {
		h.b.Close()
		h.b = nil
	}
	if h.rt != nil {
		if err := h.rt.Close(); err != nil {
			h.t.Errorf("close runtime: %v", err)
		}
		h.rt = nil
	}
}

func (h *harness) close() {
	h.stop()
	if h.win != nil {
		h.win.Close()
	}
}

// sync runs one sync: the engine pulls the A&G worklist and conversations
// and sends what is queued.
func (h *harness) sync() {
	h.t.Helper()
	if _, err := apptest.Engine(h.ws).SyncOnce(context.Background(), nil); err != nil {
		h.t.Fatalf("sync: %v", err)
	}
}

func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	uitest.PumpUntil(h.t, h.loop, 60*time.Second, what, cond)
}

func (h *harness) settle() { h.loop.RunFor(150 * time.Millisecond) }

// openFirst opens the first request on the worklist that matches and
// waits for its conversation.
func (h *harness) openFirst(match func(app.AdviceRow) bool) *conversation {
	h.t.Helper()
	for _, r := range h.v.Rows() {
		if match(r) {
			return h.open(triage.NormalizeUBRN(r.UBRN))
		}
	}
	h.t.Fatal("no request on the A&G worklist fits the test")
	return nil
}

func (h *harness) open(ubrn string) *conversation {
	h.t.Helper()
	h.v.Open(ubrn)
	h.waitFor("the conversation", func() bool { return h.v.conv != nil && h.v.conv.ubrn == ubrn && h.v.conv.loaded })
	return h.v.conv
}

// replyable matches a request waiting for the clinician's reply, cached.
func replyable(r app.AdviceRow) bool {
	return r.Category.ResponseRequired() && r.Cached && r.Action == ""
}

// outbox returns the A&G outbox.
func (h *harness) outbox() []app.AdviceEntry {
	h.t.Helper()
	es, err := h.ws.AdviceOutbox(context.Background(), app.EntryFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

// writeReply opens the reply form and fills it in.
func (h *harness) writeReply(c *conversation, outcome triage.GuidanceOutcome, rec triage.IntendedRecommendation, guidance string) *replyForm {
	h.t.Helper()
	uitest.TapButton(h.t, c.side, "Write a reply… (Y)")
	f := c.form
	if f == nil {
		h.t.Fatal("the reply form did not open")
	}
	f.outcome.SetSelected(outcome.Label())
	if rec != "" {
		f.rec.SetSelected(rec.Label())
	}
	test.Type(f.guidance, guidance)
	return f
}

// sideText is what the actions side says.
func (c *conversation) sideText() string { return uitest.Joined(c.side) }

// topText is what the banners above the conversation say.
func (c *conversation) topText() string {
	return strings.Join(append(uitest.Texts(c.header), uitest.Texts(c.conflicts)...), "|")
}

// TestAdviceWorklistSortsResponseRequiredFirst: every request waiting for
// the clinician's reply is listed before any other, as the table shows
// it, with the count per category above.
func TestAdviceWorklistSortsResponseRequiredFirst(t *testing.T) {
	h := newHarness(t)
	rows := h.v.Rows()
	required, others := 0, 0
	for i := range rows {
		got := h.v.list.CellText(i, 0)
		if got == triage.AdviceResponseRequired.Label() {
			if others > 0 {
				t.Fatalf("row %d needs a reply but comes after %d that do not: %v", i, others, categoriesOf(h))
			}
			required++
		} else {
			others++
		}
	}
	if required == 0 || others == 0 {
		t.Fatalf("the demo worklist should hold both kinds: %d response required, %d others", required, others)
	}
	if want := strconv.Itoa(required) + " response required"; !strings.HasPrefix(h.v.Summary(), want) {
		t.Errorf("header %q, want it to start %q", h.v.Summary(), want)
	}
	for i := range rows {
		if c := h.v.list.CellText(i, 3); c == "" {
			t.Errorf("row %d has no named clinician or \"Unassigned\"", i)
		}
	}
}

func categoriesOf(h *harness) []string {
	var out []string
	for i := range h.v.Rows() {
		out = append(out, h.v.list.CellText(i, 0))
	}
	return out
}

// TestAdviceReplyWithoutRecommendationIsRefused: returning advice without
// an intended recommendation shows the error on the form, opens no confirm
// step and queues nothing.
func TestAdviceReplyWithoutRecommendationIsRefused(t *testing.T) {
	h := newHarness(t)
	c := h.openFirst(replyable)
	f := h.writeReply(c, triage.GuidanceReturnWithAdvice, "", "Start a statin; no referral needed (synthetic).")
	uitest.TapButton(t, f.obj, "Review and send (Ctrl+Enter)")
	h.settle()
	if !f.errs.Visible() || !strings.Contains(f.errs.Text, "Choose what you recommend") {
		t.Fatalf("form error %q (visible %v), want the intended recommendation asked for", f.errs.Text, f.errs.Visible())
	}
	if c.confirm != nil || h.win.Canvas().Overlays().Top() != nil {
		t.Error("the confirm step opened for a reply without an intended recommendation")
	}
	if es := h.outbox(); len(es) != 0 {
		t.Fatalf("%d replies queued, want none", len(es))
	}
}

// TestAdviceReplyIsQueuedThenSent: a valid reply goes through the confirm
// step ("Send advice: …") into the outbox, and the engine sends it.
func TestAdviceReplyIsQueuedThenSent(t *testing.T) {
	h := newHarness(t)
	c := h.openFirst(replyable)
	ubrn := c.ubrn
	guidance := "Start a statin; no referral needed (synthetic). Résumé"
	f := h.writeReply(c, triage.GuidanceReturnWithAdvice, triage.RecommendAdviceOnly, guidance)
	if want := strconv.Itoa(utf8.RuneCountInString(guidance)) + " / 8000 characters"; f.counter.Text != want {
		t.Errorf("counter %q, want %q", f.counter.Text, want)
	}
	uitest.TapButton(t, f.obj, "Review and send (Ctrl+Enter)")
	if c.confirm == nil || !strings.HasPrefix(c.confirm.title, "Send advice: Return to referrer with advice") {
		t.Fatalf("no confirm step saying what is sent (errors %q)", f.errs.Text)
	}
	uitest.TapButton(t, h.win.Canvas().Overlays().Top(), "Send advice (Ctrl+Enter)")
	h.waitFor("the reply queued", func() bool { return len(h.outbox()) == 1 && c.form == nil })
	en := h.outbox()[0]
	if en.UBRN != ubrn || en.Reply == nil || en.Reply.Recommendation != triage.RecommendAdviceOnly || en.State != triage.OutboxQueued {
		t.Fatalf("queued %+v, want the advice for %s", en, ubrn)
	}
	h.waitFor("the side to say it is queued", func() bool { return strings.Contains(c.sideText(), "waiting to be sent") })
	h.sync()
	h.waitFor("the reply sent", func() bool { return h.outbox()[0].State == triage.OutboxSent })
	h.waitFor("the worklist to say sent", func() bool { return rowState(h, ubrn) == "Sent" })
}

func rowState(h *harness, ubrn string) string {
	for i, r := range h.v.Rows() {
		if triage.NormalizeUBRN(r.UBRN) == ubrn {
			return h.v.list.CellText(i, len(columns)-1)
		}
	}
	return ""
}

// TestAdviceConvertShownOnlyWhereAllowed: "Convert to a referral…" is not
// offered where the referrer did not allow conversion, and where they did
// it goes through a confirm step into the outbox.
func TestAdviceConvertShownOnlyWhereAllowed(t *testing.T) {
	h := newHarness(t)
	var allowed, refused string
	for _, r := range h.v.Rows() {
		if !replyable(r) {
			continue
		}
		u := triage.NormalizeUBRN(r.UBRN)
		switch {
		case allowed == "":
			allowed = u
		case refused == "":
			refused = u
		}
	}
	if refused == "" {
		t.Fatal("the demo needs two requests waiting for a reply")
	}
	for u, ok := range map[string]bool{allowed: true, refused: false} {
		if _, err := apptest.Sandbox(h.rt).SetConversionAuthorisation(u, ok); err != nil {
			t.Fatal(err)
		}
	}
	h.sync()
	h.settle()
	c := h.open(refused)
	h.waitFor("the refused request read again", func() bool { return !c.view.Request.Conversion.Allows() })
	if uitest.FindButton(c.side, "Convert to a referral…") != nil {
		t.Fatal("conversion offered where the referrer did not allow it")
	}
	if !strings.Contains(c.sideText(), "has not allowed conversion") {
		t.Errorf("the side does not say conversion is not allowed: %s", c.sideText())
	}
	c = h.open(allowed)
	h.waitFor("the allowed request", func() bool { return c.view.CanConvert })
	uitest.TapButton(t, c.side, "Convert to a referral…")
	dlg := h.win.Canvas().Overlays().Top()
	fillConvert(t, dlg)
	uitest.TapButton(t, dlg, "Review the conversion")
	if c.confirm == nil {
		t.Fatalf("no confirm step: %s", uitest.Joined(dlg))
	}
	uitest.TapButton(t, h.win.Canvas().Overlays().Top(), "Convert (Ctrl+Enter)")
	h.waitFor("the conversion queued", func() bool {
		es := h.outbox()
		return len(es) == 1 && es[0].Conversion != nil && es[0].UBRN == allowed
	})
}

// TestAdviceConflictWhenReferrerWroteAgain: a reply queued while the
// referrer writes again is not sent; the conversation shows the conflict
// naming the new message, and the clinician acknowledges and discards it.
func TestAdviceConflictWhenReferrerWroteAgain(t *testing.T) {
	h := newHarness(t)
	c := h.openFirst(replyable)
	ubrn := c.ubrn
	f := h.writeReply(c, triage.GuidanceRequestFurtherInfo, "", "Please send the latest HbA1c (synthetic).")
	uitest.TapButton(t, f.obj, "Review and send (Ctrl+Enter)")
	uitest.TapButton(t, h.win.Canvas().Overlays().Top(), "Send advice (Ctrl+Enter)")
	h.waitFor("the reply queued", func() bool { return len(h.outbox()) == 1 })
	const news = "The patient was admitted last night (synthetic referrer note)."
	if _, err := apptest.Sandbox(h.rt).ReferrerReplies(ubrn, news); err != nil {
		t.Fatal(err)
	}
	h.sync()
	h.waitFor("the conflict shown", func() bool { return strings.Contains(c.topText(), news) })
	if en := h.outbox()[0]; en.State != triage.OutboxConflict {
		t.Fatalf("reply %s, want conflict", en.State)
	}
	if !strings.Contains(c.topText(), "was not sent because the referrer wrote again") {
		t.Errorf("the banner does not say the reply was not sent: %s", c.topText())
	}
	h.waitFor("the worklist to say not sent", func() bool { return rowState(h, ubrn) == "Not sent: referrer wrote again" })
	uitest.TapButton(t, c.conflicts, "I have read it")
	h.waitFor("acknowledged", func() bool { return uitest.FindButton(c.conflicts, "Discard and reply again") != nil })
	uitest.TapButton(t, c.conflicts, "Discard and reply again")
	h.waitFor("a new reply possible", func() bool { return uitest.FindButton(c.side, "Write a reply… (Y)") != nil })
	if en := h.outbox()[0]; en.State != triage.OutboxDiscarded {
		t.Errorf("reply %s after discard", en.State)
	}
}

// TestAdviceDraftKeptWhileMoving: a reply being written is kept when the
// clinician opens another request and comes back.
func TestAdviceDraftKeptWhileMoving(t *testing.T) {
	h := newHarness(t)
	us := h.replyable(2)
	c := h.open(us[0])
	h.writeReply(c, triage.GuidanceRequestFurtherInfo, "", "Draft text (synthetic).")
	h.open(us[1])
	if rowState(h, us[0]) != "Draft" {
		t.Errorf("row says %q, want Draft", rowState(h, us[0]))
	}
	c = h.open(us[0])
	h.waitFor("the draft back", func() bool { return c.form != nil })
	if c.form.guidance.Text() != "Draft text (synthetic)." {
		t.Errorf("guidance %q after coming back", c.form.guidance.Text())
	}
}

// replyable returns the first n requests in the worklist waiting for a
// reply (normalised UBRNs), failing the test when the demo has fewer.
func (h *harness) replyable(n int) []string {
	h.t.Helper()
	var us []string
	for _, r := range h.v.Rows() {
		if replyable(r) {
			us = append(us, triage.NormalizeUBRN(r.UBRN))
		}
	}
	if len(us) < n {
		h.t.Fatalf("the demo needs %d requests waiting for a reply, has %d", n, len(us))
	}
	return us[:n]
}

// TestAdviceDraftSurvivesARestart: a reply being written when the app is
// closed comes back after it starts again: its row says Draft, and opening
// the request reopens the form with the outcome, recommendation and
// guidance as they were left. Discarding it forgets it for good.
func TestAdviceDraftSurvivesARestart(t *testing.T) {
	h := newHarness(t)
	u := h.replyable(1)[0]
	c := h.open(u)
	h.writeReply(c, triage.GuidanceReturnWithAdvice, triage.RecommendAdviceOnly, "Synthetic advice written before a restart.")
	h.restart()
	if rowState(h, u) != "Draft" {
		t.Errorf("after a restart the row says %q, want Draft", rowState(h, u))
	}
	c = h.open(u)
	h.waitFor("the draft reopened", func() bool { return c.form != nil })
	f := c.form
	if f.guidance.Text() != "Synthetic advice written before a restart." || f.outcome.Selected != triage.GuidanceReturnWithAdvice.Label() ||
		f.rec.Selected != triage.RecommendAdviceOnly.Label() {
		t.Fatalf("after a restart the form holds %q, %q, %q", f.guidance.Text(), f.outcome.Selected, f.rec.Selected)
	}
	uitest.TapButton(t, c.side, "Discard this reply")
	h.restart()
	if rowState(h, u) == "Draft" {
		t.Error("a discarded draft came back after a restart")
	}
	c = h.open(u)
	h.settle()
	if c.form != nil {
		t.Error("a discarded draft reopened after a restart")
	}
}

// fillConvert fills the conversion dialog's message and comments.
func fillConvert(t *testing.T, dlg fyne.CanvasObject) {
	t.Helper()
	var entries []*widgets.TextArea
	uitest.WalkObjects(dlg, func(o fyne.CanvasObject) {
		if e, ok := o.(*widgets.TextArea); ok {
			entries = append(entries, e)
		}
	})
	if len(entries) < 2 {
		t.Fatalf("the conversion dialog has %d text boxes, want 2", len(entries))
	}
	test.Type(entries[0], "Converting to a referral so we can see the patient (synthetic).")
	test.Type(entries[1], "Book into the next routine clinic (synthetic).")
}

// TestAdviceDraftIsSavedWhenTypingPauses: guidance being written is kept
// in the encrypted store once typing pauses, with the request still open,
// so a crash loses at most the last moments of typing.
func TestAdviceDraftIsSavedWhenTypingPauses(t *testing.T) {
	h := newHarness(t)
	u := h.replyable(1)[0]
	c := h.open(u)
	f := h.writeReply(c, triage.GuidanceReturnWithAdvice, triage.RecommendAdviceOnly, "Synthetic advice typed before a crash.")
	stored := func() string {
		v, err := h.ws.Advice(context.Background(), u)
		if err != nil {
			t.Fatalf("advice: %v", err)
		}
		if v.Draft == nil {
			return ""
		}
		return v.Draft.Guidance
	}
	if got := stored(); got != "" {
		t.Fatalf("the draft was stored before typing paused: %q", got)
	}
	h.waitFor("the draft stored after a pause in typing", func() bool { return stored() == "Synthetic advice typed before a crash." })
	if h.v.conv != c || c.form != f {
		t.Fatal("saving the draft closed the reply form")
	}
}
