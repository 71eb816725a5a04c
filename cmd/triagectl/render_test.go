package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// renderProfile is a profile folder whose compile cache survives between
// test runs, so the PDF engine starts quickly after the first.
func renderProfile(t *testing.T) string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "triagedesk-test", "profile")
	}
	return t.TempDir()
}

func TestRenderCommand(t *testing.T) {
	dir := t.TempDir()
	pack, err := document.BuildVettingPack(context.Background(), document.PackInput{
		Referral: triage.Referral{UBRN: "000049000001", NHSNumber: "9990000018", Priority: triage.PriorityRoutine},
	})
	if err != nil {
		t.Fatal(err)
	}
	pdfPath := filepath.Join(dir, "pack.pdf")
	os.WriteFile(pdfPath, pack, 0o600)
	outPNG := filepath.Join(dir, "page.png")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"render", pdfPath, "--page", "1", "--dpi", "60", "--out", outPNG, "--text", "--profile", renderProfile(t)}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"pages:     1", "rendered:  page 1 at 60 DPI", "Vetting pack", "000049000001", "engine:    started in"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	f, err := os.Open(outPNG)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 496 {
		t.Fatalf("png: %v %v", err, img.Bounds())
	}

	// A damaged PDF prints the reason the app shows and exits 1.
	bad := filepath.Join(dir, "bad.pdf")
	os.WriteFile(bad, pack[:len(pack)/3], 0o600)
	out.Reset()
	errb.Reset()
	code = run(context.Background(), []string{"render", "--profile", renderProfile(t), bad}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "This document could not be displayed: the file is incomplete") {
		t.Errorf("damaged PDF: exit %d, stderr %q", code, errb.String())
	}

	// Other files go through the same preview as the app.
	txt := filepath.Join(dir, "note.txt")
	os.WriteFile(txt, []byte("Reason for referral: cough"), 0o600)
	out.Reset()
	if code := run(context.Background(), []string{"render", txt}, &out, &errb); code != 0 || !strings.Contains(out.String(), "Reason for referral: cough") {
		t.Errorf("text file: exit %d, output %q", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"render"}, &out, &errb); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
}
