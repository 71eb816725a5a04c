package vetting

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/apptest"
	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/memlimit"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/style"
)

// benchProfiles caches the populated profiles by size across benchmark
// runs (-count) in one process; TestMain's temporary folder holds them.
var (
	benchMu       sync.Mutex
	benchProfiles = map[string]benchProfile{}
)

// benchProfile is a profile whose encrypted cache holds a worklist of n
// referrals with each referral's details, as a sync leaves it, and the
// saved demo sign-in, so an Offline start opens it without the network.
type benchProfile struct {
	dir      string
	bigCRI   string // the UBRN whose CRI is the 50-page document ("" if none)
	referral int
}

func (p benchProfile) options() app.Options {
	return app.Options{ProfileDir: p.dir, PolicyPath: filepath.Join(p.dir, "no-policy.json"),
		DevInsecureKeyfile: filepath.Join(p.dir, "dev.key"), KeyWarn: io.Discard, LockTimeout: -1, Offline: true}
}

// cachedProfile builds (once per process) a profile with n cached
// referrals; with bigCRI the first referral's CRI is a 50-page PDF.
func cachedProfile(b testing.TB, n int, bigCRI bool) benchProfile {
	b.Helper()
	key := fmt.Sprintf("%d-%v", n, bigCRI)
	benchMu.Lock()
	defer benchMu.Unlock()
	if p, ok := benchProfiles[key]; ok {
		return p
	}
	dir, err := os.MkdirTemp(tmpRoot, "profile-")
	if err != nil {
		b.Fatal(err)
	}
	p := benchProfile{dir: dir}
	ctx := context.Background()
	o := p.options()
	o.PolicyPath = filepath.Join(dir, "no-policy.json")
	var cri []byte
	if bigCRI {
		cri = textPDF(50)
	}
	cp, err := apptest.FillCachedProfile(ctx, o, n, cri)
	if err != nil {
		b.Fatal(err)
	}
	p.referral = cp.Referrals
	if bigCRI {
		p.bigCRI = cp.First
	}
	benchProfiles[key] = p
	return p
}

// openVetting starts Triage Desk on the profile without the network (as a
// clinician opening the app on a train) and waits until the worklist is
// laid out. It returns the pieces and a function that closes them.
func openVetting(b testing.TB, a fyne.App, p benchProfile) (*Vetting, *bridge.Loop, fyne.Window, func()) {
	ctx := context.Background()
	rt, err := app.Start(ctx, p.options())
	if err != nil {
		b.Fatal(err)
	}
	ws, err := rt.OpenWorkspace(ctx)
	if err != nil {
		b.Fatal(err)
	}
	loop := bridge.NewLoop()
	br := bridge.New(bridge.Options{Post: loop.Post})
	win, frame := frame.NewShellWindow(a, frame.ShellOptions{Demo: true})
	win.Resize(fyne.NewSize(1600, 1000))
	v := NewVetting(frame, br, ws, nil)
	frame.SetMain(v.Object())
	v.Start()
	if !loop.RunUntil(60*time.Second, func() bool { return v.list.loaded }) {
		b.Fatal("the worklist did not load")
	}
	return v, loop, win, func() {
		v.Close()
		br.Close()
		rt.Close()
		win.Close()
	}
}

// BenchmarkColdStartToPaintedWorklist measures opening Triage Desk on a
// cache of 5,000 referrals without the network: load the configuration
// and the saved sign-in, open the encrypted store, read the worklist with
// every referral's local status and offline readiness, build the vetting
// window and draw it once (Fyne's software painter, slower than the GL one
// the app uses). Process start-up and the OS window are not included.
func BenchmarkColdStartToPaintedWorklist(b *testing.B) {
	p := cachedProfile(b, 5000, false)
	a := test.NewTempApp(b)
	a.Settings().SetTheme(style.NewTheme(nil))
	for b.Loop() {
		v, _, win, closeAll := openVetting(b, a, p)
		img := win.Canvas().Capture()
		b.StopTimer()
		if len(v.list.view) != 5000 || img.Bounds().Dx() == 0 {
			b.Fatalf("%d rows shown", len(v.list.view))
		}
		closeAll()
		b.StartTimer()
	}
}

// BenchmarkSelectionToCRIPage1 measures, for referrals whose CRI is
// cached, the time from opening a referral (a click, Enter, or "…and next")
// to page 1 of its CRI being handed to the canvas: reading the referral and
// the CRI from the encrypted store, opening the PDF and drawing page 1 at
// the viewer's width. Before each open the clinician reads the open
// referral, here until what opening it started in the background has
// finished (page 1 at full resolution, the banner's letter check, the
// neighbours' page 1 drawn ahead) or for a second at most: reading a letter
// takes longer. "next" then moves down the worklist one referral at a
// time, as a clinician vets (its page 1 was drawn ahead); "jump" opens
// referrals five rows apart, so nothing was drawn ahead: page 1 is then
// first shown as a quick drawing at half the viewer's resolution,
// stretched to the page's size, which counts as on screen (the
// full-resolution drawing follows at once;
// TestOpenedCRIIsDraftedThenDrawnAtFullResolution checks it). "rapid"
// jumps five rows without reading, as soon as page 1 shows, so each open
// waits for the background work of the one before. Each open closes the
// previous document. It reports the median and the 95th percentile.
func BenchmarkSelectionToCRIPage1(b *testing.B) {
	h := newHarness(b, harnessOptions{referrals: 60})
	var ubrns []string
	for _, r := range h.rows() {
		if r.OfflineReady {
			ubrns = append(ubrns, r.UBRN)
		}
	}
	if len(ubrns) < 20 {
		b.Fatalf("only %d cached CRIs", len(ubrns))
	}
	// Only referrals with their CRI cached, in worklist order.
	h.v.list.filter.Text = ""
	h.v.list.all = slices.DeleteFunc(h.v.list.all, func(r triage.Row) bool { return !r.OfflineReady })
	h.v.list.SetWorklist(app.ReviewList{Rows: h.v.list.all, AsOf: h.v.list.asOf})
	ubrns = h.v.list.Rows()
	// Warm up the PDF engine and the first layout.
	h.v.Open(ubrns[0])
	h.waitCRI()
	for _, bc := range []struct {
		name string
		step int
		read bool
	}{{"next", 1, true}, {"jump", 5, true}, {"rapid", 5, false}} {
		b.Run(bc.name, func(b *testing.B) {
			var times []time.Duration
			i := 0
			for b.Loop() {
				i += bc.step
				u := ubrns[i%len(ubrns)]
				if h.v.panel != nil && h.v.panel.ubrn == u {
					i++
					u = ubrns[i%len(ubrns)]
				}
				if p := h.v.panel; bc.read && p != nil {
					after := h.v.list.After(p.ubrn)
					h.loop.RunUntil(time.Second, func() bool {
						return p.banner != nil && (after == "" || h.v.ready[after] != nil)
					})
				}
				start := time.Now()
				h.v.Open(u)
				h.waitFor("CRI page 1", func() bool {
					p := h.v.panel
					return p.ubrn == u && p.viewer != nil && p.showing == "cri" && p.viewer.pages[0].img.Image != nil
				})
				times = append(times, time.Since(start))
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "ms-p95")
		})
	}
}

// BenchmarkRSSWith10kReferralsAnd50PageCRI measures the memory of Triage
// Desk holding a cache of 10,000 referrals (all on the worklist) with the
// referral whose CRI has 50 pages open and paged through to the end (each
// page drawn as it comes into view). So that building the cache does not
// count, the measurement runs in a fresh process (this test binary, running
// TestRSSChild), which reports its resident memory after paging (MB-rss)
// and its peak (MB-peak) from /proc/self/status. Like the app, the process
// runs with memlimit's soft memory limit. Linux only.
func BenchmarkRSSWith10kReferralsAnd50PageCRI(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc/self/status (Linux)")
	}
	p := cachedProfile(b, 10_000, true)
	// As on every start after the first: PDFium's compiled code is in the
	// profile's cache (the first start compiles it, which costs more
	// memory for a few seconds).
	warmPDFCache(b)
	var rss, peak float64
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "TRIAGEDESK_RSS_PROFILE="+p.dir, "TRIAGEDESK_RSS_UBRN="+p.bigCRI)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("measuring process: %v\n%s", err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "WORKLIST ") || strings.HasPrefix(l, "PAGED ") || strings.HasPrefix(l, "SMAPS ") {
				b.Log(l)
			}
		}
		_, after, ok := strings.Cut(string(out), "MEMORY ")
		if !ok {
			b.Fatalf("no measurement in:\n%s", out)
		}
		if _, err := fmt.Sscanf(after, "rss=%f peak=%f", &rss, &peak); err != nil {
			b.Fatalf("measurement %q: %v", after, err)
		}
	}
	b.ReportMetric(rss, "MB-rss")
	b.ReportMetric(peak, "MB-peak")
}

// TestRSSChild is the measuring process of
// BenchmarkRSSWith10kReferralsAnd50PageCRI; it does nothing otherwise.
func TestRSSChild(t *testing.T) {
	dir := os.Getenv("TRIAGEDESK_RSS_PROFILE")
	if dir == "" {
		return // a helper process: BenchmarkRSSWith10kReferralsAnd50PageCRI runs it
	}
	// As cmd/triagedesk's main does first.
	memlimit.Set()
	p := benchProfile{dir: dir, bigCRI: os.Getenv("TRIAGEDESK_RSS_UBRN")}
	a := test.NewTempApp(t)
	a.Settings().SetTheme(style.NewTheme(nil))
	v, loop, _, closeAll := openVetting(t, a, p)
	defer closeAll()
	if len(v.list.all) != 10_000 {
		t.Fatalf("%d referrals in the worklist", len(v.list.all))
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	writeHeapProfile(t, "TRIAGEDESK_HEAP_PROFILE_WORKLIST")
	printSmaps("WORKLIST")
	fmt.Printf("WORKLIST rss=%.1f peak=%.1f heap=%.1f sys=%.1f\n", procStatusMB("VmRSS"), procStatusMB("VmHWM"), float64(ms.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20))
	v.Open(p.bigCRI)
	var pv *pdfViewer
	if !loop.RunUntil(60*time.Second, func() bool {
		pv = nil
		if v.panel != nil && v.panel.viewer != nil {
			pv = v.panel.viewer
		}
		return pv != nil && pv.pages[0].img.Image != nil
	}) {
		t.Fatal("the 50-page CRI did not open")
	}
	if pv.pageCount() != 50 {
		t.Fatalf("%d pages", pv.pageCount())
	}
	for pg := range 50 {
		pv.scrollTo(pg, 0)
		if !loop.RunUntil(30*time.Second, func() bool { return pv.pages[pg].img.Image != nil }) {
			t.Fatalf("page %d not drawn", pg+1)
		}
	}
	runtime.ReadMemStats(&ms)
	writeHeapProfile(t, "TRIAGEDESK_HEAP_PROFILE")
	printSmaps("PAGED")
	fmt.Printf("PAGED heap=%.1f sys=%.1f stats=%+v\n", float64(ms.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20), v.app.Documents(context.Background()).CacheStats())
	fmt.Printf("MEMORY rss=%.1f peak=%.1f\n", procStatusMB("VmRSS"), procStatusMB("VmHWM"))
}

// writeHeapProfile writes a heap profile (after a collection, so it shows
// what is live) to the file the environment variable names, if it is set:
// TRIAGEDESK_HEAP_PROFILE at the PAGED point and
// TRIAGEDESK_HEAP_PROFILE_WORKLIST at the WORKLIST point of TestRSSChild.
// Read it with go tool pprof -sample_index=inuse_space -top.
func writeHeapProfile(t *testing.T, env string) {
	path := os.Getenv(env)
	if path == "" {
		return
	}
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("heap profile: %v", err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Fatalf("heap profile: %v", err)
	}
}

// warmPDFCache compiles PDFium into pdfCache, once per process.
func warmPDFCache(b testing.TB) {
	warmOnce.Do(func() {
		e := document.Start(context.Background(), document.Options{CacheDir: pdfCache})
		if err := e.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
		e.Close()
	})
}

var warmOnce sync.Once

// procStatusMB reads a kB field of /proc/self/status in MB.
func procStatusMB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// textPDF builds a valid PDF of n A4 pages of synthetic letter text (no
// patient data), for the memory benchmark's long CRI.
func textPDF(n int) []byte {
	kids := make([]string, n)
	for i := range n {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	for i := range n {
		var c strings.Builder
		c.WriteString("BT /F1 16 Tf 56 790 Td (Synthetic clinical letter - page " + strconv.Itoa(i+1) + ") Tj ET\n")
		c.WriteString("BT /F1 10 Tf 56 760 Td 13 TL\n")
		for l := range 52 {
			fmt.Fprintf(&c, "(Line %d: synthetic history, examination and plan text used to measure rendering and memory.) Tj T*\n", l+1)
		}
		c.WriteString("ET")
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", c.Len(), c.String()))
	}
	return testutil.PDF(objs...)
}

func TestTextPDFOpensWithEveryPage(t *testing.T) {
	e := document.Start(context.Background(), document.Options{CacheDir: pdfCache})
	defer e.Close()
	p, err := e.Open(context.Background(), textPDF(50))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer p.Close()
	if p.PageCount() != 50 {
		t.Fatalf("%d pages", p.PageCount())
	}
	hits, err := p.Find(context.Background(), "page 50", 5)
	if err != nil || len(hits) != 1 || hits[0].Page != 49 {
		t.Fatalf("find on the last page: %+v, %v", hits, err)
	}
}
