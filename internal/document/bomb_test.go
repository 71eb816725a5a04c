package document

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/testutil"
)

// Decompression bombs, generated here (never committed as files): a PDF of
// about 1 MB whose page content inflates to 1 GiB, and one of about 3.5 MB
// that draws a 60000 × 60000 image (3.6 GB of pixels). Both once held the
// viewer for minutes and took gigabytes of memory.

const (
	contentBombBytes = 1 << 30
	imageBombSide    = 60000
)

func bombFixture(name string) []byte {
	switch name {
	case "content":
		return testutil.ContentBombPDF(contentBombBytes)
	case "image":
		return testutil.ImageBombPDF(imageBombSide)
	}
	panic("unknown bomb " + name)
}

// openAndRender opens data and draws its first page at 96 DPI, as the
// viewer does.
func openAndRender(ctx context.Context, e *Engine, data []byte) error {
	p, err := e.Open(ctx, data)
	if err != nil {
		return err
	}
	defer p.Close()
	_, err = p.Render(ctx, 0, 96)
	return err
}

// Both bombs are refused as too large to draw safely (never a blank page,
// never a generic failure), the viewer's message says so, and the engine
// draws the next document normally: the instance that met the limit was
// recycled.
func TestBombPDFsAreRefusedAsTooLargeToDraw(t *testing.T) {
	e := testEngine(t)
	ctx := context.Background()
	for _, name := range []string{"content", "image"} {
		t.Run(name, func(t *testing.T) {
			data := bombFixture(name)
			t.Logf("%s bomb: %d bytes", name, len(data))
			gen := e.workers[0].gen
			err := openAndRender(ctx, e, data)
			if KindOf(err) != KindTooLarge || !errors.Is(err, errCallDeadline) && !errors.Is(err, errMemoryCap) {
				t.Fatalf("bomb gave %v, want a %s error at a limit", err, KindTooLarge)
			}
			if msg := DisplayMessage(err); msg != "This document could not be displayed: too large to draw safely." {
				t.Errorf("message %q", msg)
			}
			if e.workers[0].gen == gen {
				t.Error("the instance that met the limit was not recycled")
			}
			p, err := e.Open(ctx, criPDF())
			if err != nil {
				t.Fatalf("open the CRI after the bomb: %v", err)
			}
			defer p.Close()
			img, err := p.Render(ctx, 0, 96)
			if err != nil {
				t.Fatalf("render the CRI after the bomb: %v", err)
			}
			if inked, _ := pixelStats(img); inked == 0 {
				t.Error("the CRI drew blank after the bomb")
			}
		})
	}
}

// A page that needs more memory than the cap is refused at the cap, not by
// a generic failure, and without a second try: here with a generous
// deadline, so only the memory cap can stop the content bomb.
func TestMemoryCapRefusesAtTheCap(t *testing.T) {
	e := Start(context.Background(), Options{CacheDir: testCompileCacheDir(), MemoryLimit: 64 << 20, CallDeadline: 10 * time.Minute})
	defer e.Close()
	err := openAndRender(context.Background(), e, testutil.ContentBombPDF(128<<20))
	if KindOf(err) != KindTooLarge || !errors.Is(err, errMemoryCap) {
		t.Fatalf("content bomb under a 64 MB cap gave %v, want %s at the memory cap", err, KindTooLarge)
	}
	if e.workers[0].gen != 1 {
		t.Errorf("generation %d after the refusal, want exactly one recycled instance", e.workers[0].gen)
	}
	if err := openAndRender(context.Background(), e, criPDF()); err != nil {
		t.Errorf("CRI after the refusal: %v", err)
	}
}

// bombChildEnv makes the test binary a child that opens one bomb and
// reports how long the refusal took (BenchmarkBombRefusal measures its
// peak memory from outside).
const bombChildEnv = "TRIAGEDESK_BOMB_CHILD"

type bombResult struct {
	Kind    Kind    `json:"kind"`
	Seconds float64 `json:"seconds"`
}

// bombChild runs in the child process.
func bombChild(name string) int {
	e := Start(context.Background(), Options{CacheDir: testCompileCacheDir()})
	defer e.Close()
	if err := e.Wait(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	data := bombFixture(name)
	start := time.Now()
	err := openAndRender(context.Background(), e, data)
	res := bombResult{Kind: KindOf(err), Seconds: time.Since(start).Seconds()}
	_ = json.NewEncoder(os.Stdout).Encode(res)
	if res.Kind != KindTooLarge {
		return 1
	}
	return 0
}

// BenchmarkBombRefusal opens each bomb in a fresh process (with a warm
// compilation cache, as the app after its first run) and reports the time
// from Open to the refusal and the process's peak resident memory.
func BenchmarkBombRefusal(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("peak RSS is read from Linux's rusage")
	}
	testEngine(b) // warm the compilation cache
	for _, name := range []string{"content", "image"} {
		b.Run(name, func(b *testing.B) {
			var worstRSS, worstSec float64
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), bombChildEnv+"="+name)
				var out strings.Builder
				cmd.Stdout = &out
				if err := cmd.Run(); err != nil {
					b.Fatalf("child: %v: %s", err, out.String())
				}
				var res bombResult
				if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
					b.Fatalf("child said %q: %v", out.String(), err)
				}
				worstSec = max(worstSec, res.Seconds)
				worstRSS = max(worstRSS, float64(maxRSSKiB(cmd.ProcessState))/1024)
			}
			b.ReportMetric(worstSec, "refuse-s")
			b.ReportMetric(worstRSS, "peak-RSS-MB")
		})
	}
}
