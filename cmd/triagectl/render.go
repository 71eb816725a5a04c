package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/document"
)

func init() {
	register(command{name: "render", summary: "check a file the way the app shows it: validate, render a page to PNG, time it", run: runRender})
}

// runRender runs any file through the app's document path: PDFs through
// pdfcpu validation and the PDFium engine, other files through the same
// preview as the app. It prints the page count and timings; a file that
// cannot be shown gives the plain-English reason the app would show.
func runRender(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("render", g)
	page := fs.Int("page", 1, "page to render (1 = first)")
	dpi := fs.Float64("dpi", 150, "resolution to render at")
	out := fs.String("out", "", "write the rendered page (or image) as PNG, or the text preview, to this file")
	text := fs.Bool("text", false, "print the page's extracted text (PDF)")
	find := fs.String("find", "", "search the document for this text and print the pages and rectangles found (PDF)")
	noCache := fs.Bool("no-compile-cache", false, "start the PDF engine without its compilation cache (measures a first start)")
	fs.Usage = func() {
		fmt.Fprintln(g.Stderr, "Usage: triagectl render FILE [--page N] [--dpi D] [--out page.png] [--text] [--find TEXT]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(reorderArgs(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"give exactly one FILE (see 'triagectl render -h')"}
	}
	if *page < 1 {
		return usageError{"--page counts from 1"}
	}
	path := fs.Arg(0)
	data, err := readInputFile(path, "document", document.DefaultMaxFileBytes)
	if err != nil {
		return err
	}
	w := g.Stdout
	t0 := time.Now()
	var eng *document.Engine
	t, _ := document.DetectType(filepath.Base(path), "", data)
	if t == document.TypePDF {
		cacheDir := ""
		if !*noCache {
			if cacheDir, err = renderCacheDir(g); err != nil {
				return err
			}
		}
		eng = document.Start(ctx, document.Options{CacheDir: cacheDir})
		defer eng.Close()
		if err := eng.Wait(ctx); err != nil {
			return fmt.Errorf("render: %w", err)
		}
		fmt.Fprintf(w, "engine:    started in %s (compile cache: %s)\n", ms(time.Since(t0)), onOff(cacheDir != ""))
	}
	t1 := time.Now()
	pv, err := eng.Preview(ctx, filepath.Base(path), "", data, 0)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer pv.Close()
	fmt.Fprintf(w, "file:      %s, %s", pv.Type.Label(), byteCount(pv.Size))
	if pv.Mismatch {
		fmt.Fprint(w, " (its name says otherwise)")
	}
	fmt.Fprintf(w, "\nopened:    in %s\n", ms(time.Since(t1)))
	switch pv.Kind {
	case document.PreviewPDF:
		return renderPDF(ctx, g, pv.PDF, *page, *dpi, *out, *text, *find)
	case document.PreviewImage:
		i := pv.ImageInfo
		fmt.Fprintf(w, "image:     %s %d × %d, EXIF orientation %d, shown at %d × %d\n", i.Format, i.Width, i.Height, i.Orientation, pv.Image.Bounds().Dx(), pv.Image.Bounds().Dy())
		if *out != "" {
			return writePNG(g, *out, pv.Image)
		}
	case document.PreviewText:
		fmt.Fprintf(w, "text:      %d characters, read as %s%s\n", len([]rune(pv.Text.Text)), pv.Text.Encoding, truncNote(pv.Text.Truncated))
		if *out != "" {
			if err := writePatientFile(*out, []byte(pv.Text.Text)); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote:     %s\n", *out)
		} else {
			fmt.Fprintln(w, "----")
			fmt.Fprintln(w, pv.Text.Text)
		}
	case document.PreviewMetadata:
		fmt.Fprintf(w, "preview:   none. %s\n", pv.Note)
	}
	printPeakMemory(g)
	return nil
}

func renderPDF(ctx context.Context, g *Globals, p *document.PDF, page int, dpi float64, out string, text bool, find string) error {
	w := g.Stdout
	fmt.Fprintf(w, "pages:     %d\n", p.PageCount())
	size, err := p.PageSize(page - 1)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	fmt.Fprintf(w, "page %d:    %.0f × %.0f points (%.0f × %.0f mm)\n", page, size.Width, size.Height, size.Width/72*25.4, size.Height/72*25.4)
	t := time.Now()
	img, err := p.Render(ctx, page-1, dpi)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	fmt.Fprintf(w, "rendered:  page %d at %g DPI, %d × %d pixels, in %s\n", page, dpi, img.Bounds().Dx(), img.Bounds().Dy(), ms(time.Since(t)))
	if out != "" {
		if err := writePNG(g, out, img); err != nil {
			return err
		}
	}
	if text {
		s, err := p.Text(ctx, page-1)
		if err != nil {
			return fmt.Errorf("render: %w", err)
		}
		fmt.Fprintf(w, "---- text of page %d\n%s\n----\n", page, strings.TrimSpace(s))
	}
	if find != "" {
		hits, err := p.Find(ctx, find, 0)
		if err != nil {
			return fmt.Errorf("render: %w", err)
		}
		fmt.Fprintf(w, "found:     %d match(es)\n", len(hits))
		for _, h := range hits {
			for _, r := range h.Rects {
				fmt.Fprintf(w, "  page %d at (%.0f, %.0f)-(%.0f, %.0f) points\n", h.Page+1, r.X0, r.Y0, r.X1, r.Y1)
			}
		}
	}
	printPeakMemory(g)
	return nil
}

func writePNG(g *Globals, path string, img image.Image) error {
	t := time.Now()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := writePatientFile(path, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "wrote:     %s in %s\n", path, ms(time.Since(t)))
	return nil
}

// renderCacheDir is the engine's compilation cache, as the app uses it
// (document.CompileCacheDir).
func renderCacheDir(g *Globals) (string, error) {
	profile := g.Profile
	if profile == "" {
		var err error
		if profile, err = config.DefaultProfileDir(); err != nil {
			return "", err
		}
	}
	return document.CompileCacheDir(profile), nil
}

// reorderArgs moves flags after the file name in front of it, so
// "render FILE --page 2" works as well as "render --page 2 FILE".
func reorderArgs(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !boolFlag(name) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

func boolFlag(name string) bool {
	return name == "text" || name == "no-compile-cache" || name == "h" || name == "help"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func truncNote(t bool) string {
	if t {
		return " (cut short: the file is longer)"
	}
	return ""
}

func byteCount(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
