package advice

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/style"
)

// harness is the A&G screen on a demo workspace: the in-process sandbox,
// the mock sign-in, the clinician's encrypted store synced once, and the
// Bridge delivering to a Loop the test pumps.
type harness struct {
	t    *testing.T
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
	ctx := context.Background()
	dir := t.TempDir()
	rt, err := app.Start(ctx, app.Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "no-policy.json"),
		DevInsecureKeyfile: filepath.Join(dir, "dev.key"), KeyWarn: io.Discard, DemoReferrals: 4, LockTimeout: -1})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	h := &harness{t: t, rt: rt}
	t.Cleanup(h.close)
	if _, err := rt.DemoSignIn(ctx); err != nil {
		t.Fatalf("demo sign-in: %v", err)
	}
	if h.ws, err = rt.OpenWorkspace(ctx); err != nil {
		t.Fatalf("open workspace: %v", err)
	}
	h.sync()
	h.b, h.loop = uitest.LoopBridge(t)
	a.Settings().SetTheme(style.NewTheme(nil))
	h.win, h.f = frame.NewShellWindow(a, frame.ShellOptions{Demo: true, Environment: "demo"})
	h.win.Resize(fyne.NewSize(1500, 950))
	h.v = New(Options{Frame: h.f, Bridge: h.b, Workspace: h.ws})
	h.f.SetMain(h.v.Object())
	h.v.RegisterShortcuts(h.f.Shortcuts())
	t.Cleanup(h.b.AttachEngine(h.ws))
	loaded := false
	h.v.OnLoaded = func() { loaded = len(h.v.Rows()) > 0 }
	h.v.Start()
	h.waitFor("the A&G worklist", func() bool { return loaded })
	return h
}

func (h *harness) close() {
	if h.v != nil {
		h.v.Close()
	}
	if h.b != nil {
		h.b.Close()
	}
	if err := h.rt.Close(); err != nil {
		h.t.Errorf("close runtime: %v", err)
	}
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
