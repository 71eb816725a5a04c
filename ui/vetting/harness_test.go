package vetting

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
	"github.com/triagedesk/triagedesk/ui/style"
)

// tmpRoot holds what the package's tests share: pdfCache, one PDF-engine
// compilation cache (so each test's fresh profile does not compile PDFium
// again), and the benchmarks' populated profiles.
var tmpRoot, pdfCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "triagedesk-ui-")
	if err != nil {
		panic(err)
	}
	// Every profile shares the OS user's PDF-engine cache, so PDFium is
	// compiled once per machine, not once per test.
	tmpRoot, pdfCache = dir, document.CompileCacheDir(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// harness is the vetting window on a demo workspace: the in-process
// sandbox, the mock sign-in, the clinician's encrypted store synced once,
// and the Bridge delivering to a Loop the test pumps, so every widget is
// touched on the test goroutine only.
type harness struct {
	t     testing.TB
	rt    *app.Runtime
	ws    *app.Workspace
	loop  *bridge.Loop
	b     *bridge.Bridge
	win   fyne.Window
	frame *frame.Frame
	v     *Vetting
}

type harnessOptions struct {
	referrals int
	// noSync leaves the cache empty (the engine is not run).
	noSync bool
	// httpClient, if set, sends the workspace's requests (app.Options.
	// HTTPClient), so a test can play an e-RS that answers differently.
	httpClient *http.Client
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	if o.referrals == 0 {
		o.referrals = 30
	}
	a := test.NewTempApp(t)
	ctx := context.Background()
	dir := t.TempDir()
	rt, err := app.Start(ctx, app.Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "no-policy.json"),
		DevInsecureKeyfile: filepath.Join(dir, "dev.key"), KeyWarn: io.Discard, DemoReferrals: o.referrals, LockTimeout: -1,
		HTTPClient: o.httpClient})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	h := &harness{t: t, rt: rt, loop: bridge.NewLoop()}
	t.Cleanup(h.close)
	if _, err := rt.DemoSignIn(ctx); err != nil {
		t.Fatalf("demo sign-in: %v", err)
	}
	if h.ws, err = rt.OpenWorkspace(ctx); err != nil {
		t.Fatalf("open workspace: %v", err)
	}
	if !o.noSync {
		if _, err := apptest.Engine(h.ws).SyncOnce(ctx, nil); err != nil {
			t.Fatalf("sync: %v", err)
		}
	}
	h.b = bridge.New(bridge.Options{Post: h.loop.Post})
	a.Settings().SetTheme(style.NewTheme(nil))
	h.win, h.frame = frame.NewShellWindow(a, frame.ShellOptions{Demo: true, Environment: "demo"})
	h.win.Resize(fyne.NewSize(1600, 1000))
	h.v = NewVetting(h.frame, h.b, h.ws, a.Preferences())
	h.frame.SetMain(h.v.Object())
	h.v.Start()
	if !o.noSync {
		h.waitFor("the worklist", func() bool { return h.v.list.loaded })
	}
	return h
}

func (h *harness) close() {
	if h.v != nil {
		h.v.Close()
	}
	if h.b != nil {
		h.b.Close()
	}
	if h.rt != nil {
		if err := h.rt.Close(); err != nil {
			h.t.Errorf("close runtime: %v", err)
		}
	}
	if h.win != nil {
		h.win.Close()
	}
}

// waitFor pumps the UI loop until cond holds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	if !h.loop.RunUntil(90*time.Second, cond) {
		h.t.Fatalf("timed out waiting for %s", what)
	}
}

// settle pumps the loop for a moment (background reads finish).
func (h *harness) settle() { h.loop.RunFor(150 * time.Millisecond) }

// typeKeys types characters on the window with nothing focused, as the
// keyboard does.
func (h *harness) typeKeys(s string) {
	h.win.Canvas().Unfocus()
	test.TypeOnCanvas(h.win.Canvas(), s)
	h.settle()
}

// key presses a named key with nothing focused.
func (h *harness) key(k fyne.KeyName) {
	h.win.Canvas().Unfocus()
	h.frame.Shortcuts().TypedKey(&fyne.KeyEvent{Name: k})
	h.settle()
}

// shortcut presses a modifier shortcut as the window's canvas receives it.
func (h *harness) shortcut(s fyne.Shortcut) {
	h.win.Canvas().(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(s)
	h.settle()
}

// open opens a referral as a click on its row does, and waits for the
// panel to show it.
func (h *harness) open(ubrn string) *referralPanel {
	h.t.Helper()
	h.v.list.filter.Text = ""
	h.v.list.apply()
	i, ok := h.v.list.pos[ubrn]
	if !ok {
		h.t.Fatalf("%s is not in the worklist", ubrn)
	}
	h.v.list.table.Select(i)
	h.waitFor("the referral to open", func() bool { return h.v.panel != nil && h.v.panel.ubrn == ubrn && h.v.panel.decision != nil })
	return h.v.panel
}

// waitCRI waits until page 1 of the open referral's CRI is on screen.
func (h *harness) waitCRI() *pdfViewer {
	h.t.Helper()
	h.waitFor("CRI page 1", func() bool {
		p := h.v.panel
		return p != nil && p.viewer != nil && p.showing == "cri" && len(p.viewer.pages) > 0 && p.viewer.pages[0].img.Image != nil
	})
	return h.v.panel.viewer
}

// rows returns the worklist's rows in display order.
func (h *harness) rows() []triage.Row {
	out := make([]triage.Row, len(h.v.list.view))
	for i, r := range h.v.list.view {
		out[i] = *r
	}
	return out
}

// firstRow returns the first displayed row matching match.
func (h *harness) firstRow(match func(triage.Row) bool) triage.Row {
	h.t.Helper()
	for _, r := range h.rows() {
		if match(r) {
			return r
		}
	}
	h.t.Fatal("no referral in the worklist fits the test")
	return triage.Row{}
}

// booked matches a booked referral not yet decided, optionally indirectly
// bookable.
func (h *harness) booked(indirect bool) triage.Row {
	return h.firstRow(func(r triage.Row) bool {
		if r.Type != triage.ReferralTypeAppointment || r.Local != triage.LocalNone {
			return false
		}
		ref, err := apptest.Store(h.ws).Referral(context.Background(), r.UBRN)
		return err == nil && (ref.Referral.Booking() == triage.BookingIndirect) == indirect
	})
}

// tableTexts returns the text of the worklist cells on screen.
func (h *harness) tableTexts() []string {
	return texts(h.v.list.table.Object())
}

// headerOnScreen is a worklist heading on screen: what a tap on it does,
// and its whole title.
type headerOnScreen struct {
	fyne.Tappable
	text string
}

// header returns the worklist's heading with the title (and perhaps the
// sort's arrow).
func (h *harness) header(title string) headerOnScreen {
	h.t.Helper()
	var found headerOnScreen
	uitest.WalkObjects(h.v.list.table.Object(), func(o fyne.CanvasObject) {
		hd, ok := o.(interface {
			fyne.Tappable
			HeadingText() string
		})
		if !ok || found.Tappable != nil {
			return
		}
		if text := hd.HeadingText(); strings.TrimRight(strings.TrimSuffix(strings.TrimSuffix(text, "▲"), "▼"), " ") == title {
			found = headerOnScreen{hd, text}
		}
	})
	if found.Tappable == nil {
		h.t.Fatalf("no %q header on screen", title)
	}
	return found
}

// overlayButton finds a button with the text on the top overlay (a
// dialog).
func (h *harness) overlayButton(text string) *widget.Button {
	h.t.Helper()
	top := h.win.Canvas().Overlays().Top()
	if top == nil {
		h.t.Fatal("no dialog is showing")
	}
	return h.buttonIn(top, text)
}

// buttonIn finds a visible button whose text starts with text inside obj,
// including inside widgets.
func (h *harness) buttonIn(obj fyne.CanvasObject, text string) *widget.Button {
	h.t.Helper()
	found := uitest.FindButtonFunc(obj, func(b *widget.Button) bool { return strings.HasPrefix(b.Text, text) })
	if found == nil {
		h.t.Fatalf("no %q button in %v", text, texts(obj))
	}
	return found
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// showAllColumns widens the worklist so every column is on screen.
func (h *harness) showAllColumns() {
	h.v.split.SetOffset(0.97)
	h.v.list.table.Refresh()
	h.settle()
}
