package document

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// benchPDF is the page the render benchmarks and the pdftoppm comparison
// share: page 1 of testdata/cri.pdf.
const benchPDF = "testdata/cri.pdf"

func TestCRIFixtureIsCurrent(t *testing.T) {
	if os.Getenv("UPDATE_FIXTURES") != "" {
		if err := os.WriteFile(benchPDF, criPDF(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(benchPDF)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, criPDF()) {
		t.Fatalf("%s differs from criPDF(); regenerate with UPDATE_FIXTURES=1", benchPDF)
	}
}

// BenchmarkRenderPage150DPI renders page 1 at 150 DPI on a warm engine,
// emptying the page cache each time so every iteration really draws.
func BenchmarkRenderPage150DPI(b *testing.B) {
	data, err := os.ReadFile(benchPDF)
	if err != nil {
		b.Fatal(err)
	}
	e := testEngine(b)
	ctx := context.Background()
	p, err := e.Open(ctx, data)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Render(ctx, 0, 150); err != nil { // warm up fonts and memory
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		e.DropCache()
		if _, err := p.Render(ctx, 0, 150); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPdftoppm150DPI runs `pdftoppm -r 150 -f 1 -l 1` on the same page,
// as a separate process per page as a viewer built on it would.
func BenchmarkPdftoppm150DPI(b *testing.B) {
	tool, err := exec.LookPath("pdftoppm")
	if err != nil {
		b.Skip("pdftoppm (poppler-utils) is not installed")
	}
	src, _ := filepath.Abs(benchPDF)
	out := filepath.Join(b.TempDir(), "page")
	for b.Loop() {
		if msg, err := exec.Command(tool, "-r", "150", "-f", "1", "-l", "1", src, out).CombinedOutput(); err != nil {
			b.Fatalf("pdftoppm: %v: %s", err, msg)
		}
	}
}

// BenchmarkOpenPDF validates (pdfcpu) and opens (PDFium) the CRI.
func BenchmarkOpenPDF(b *testing.B) {
	data, err := os.ReadFile(benchPDF)
	if err != nil {
		b.Fatal(err)
	}
	e := testEngine(b)
	for b.Loop() {
		p, err := e.Open(context.Background(), data)
		if err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}

// BenchmarkFirstDrawOfANewDocument measures what opening a referral whose
// page 1 was not drawn ahead costs in PDFium, at the 40 DPI of the viewer's
// quick first pass: "new" opens the CRI and draws page 1 (a new document
// each time); "text" opens it and reads page 1's text, drawing nothing;
// "again" draws the same page of an open document once more (the page
// cache emptied first). PDFium loads and rasterises a document's fonts
// afresh for each document, so "new" and "text" share a fixed cost that
// "again" does not pay: the floor of the jump to a referral nothing was
// drawn ahead for.
func BenchmarkFirstDrawOfANewDocument(b *testing.B) {
	data, err := os.ReadFile(benchPDF)
	if err != nil {
		b.Fatal(err)
	}
	e := testEngine(b)
	ctx := context.Background()
	b.Run("new", func(b *testing.B) {
		for b.Loop() {
			p, err := e.Open(ctx, data)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Render(ctx, 0, 40); err != nil {
				b.Fatal(err)
			}
			p.Close()
		}
	})
	b.Run("text", func(b *testing.B) {
		for b.Loop() {
			p, err := e.Open(ctx, data)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Text(ctx, 0); err != nil {
				b.Fatal(err)
			}
			p.Close()
		}
	})
	b.Run("again", func(b *testing.B) {
		p, err := e.Open(ctx, data)
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		for b.Loop() {
			e.DropCache()
			if _, err := p.Render(ctx, 0, 40); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEngineStart measures start-up to ready, with a warm compilation
// cache (every start after the app's first) and without one (the first
// start), and reports the Go heap in use once ready.
func BenchmarkEngineStart(b *testing.B) {
	warm := b.TempDir()
	e := Start(context.Background(), Options{CacheDir: warm})
	if err := e.Wait(context.Background()); err != nil {
		b.Fatal(err)
	}
	e.Close()
	for _, bc := range []struct {
		name string
		dir  string
	}{{"compile-cache", warm}, {"no-cache", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			var heap uint64
			for b.Loop() {
				e := Start(context.Background(), Options{CacheDir: bc.dir})
				if err := e.Wait(context.Background()); err != nil {
					b.Fatal(err)
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = max(heap, ms.HeapInuse)
				e.Close()
			}
			b.ReportMetric(float64(heap)/1e6, "heap-MB")
		})
	}
}

// BenchmarkDecodeJPEG12MP decodes a 4000×3000 photo and scales it for display.
func BenchmarkDecodeJPEG12MP(b *testing.B) {
	data := encodeAs(b, "jpeg", testPattern(4000, 3000))
	for b.Loop() {
		if _, _, err := DecodeImage(data, 0); err != nil {
			b.Fatal(err)
		}
	}
}
