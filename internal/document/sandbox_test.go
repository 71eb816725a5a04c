package document_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestSandboxCRIRenders fetches CRIs from the embedded e-RS sandbox over its
// A007 endpoint, as the app does, and renders them: the page count agrees
// with pdfcpu's, the first page is not blank, and the extracted text carries
// the referral's reason heading.
func TestSandboxCRIRenders(t *testing.T) {
	ctx := context.Background()
	sb, err := erssandbox.Start(ctx, erssandbox.Config{})
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	defer sb.Close()
	cacheDir := ""
	if d, err := os.UserCacheDir(); err == nil {
		cacheDir = filepath.Join(d, "triagedesk-test", "wazero")
	}
	e := document.Start(ctx, document.Options{CacheDir: cacheDir})
	defer e.Close()

	refs := sb.Referrals(nil)
	if len(refs) < 3 {
		t.Fatalf("sandbox has %d referrals", len(refs))
	}
	for _, r := range refs[:3] {
		cri := fetchCRI(t, sb, r.UBRN)
		info, err := document.ValidatePDF(cri, 0)
		if err != nil {
			t.Fatalf("CRI of %s fails validation: %v", r.UBRN, err)
		}
		p, err := e.Open(ctx, cri)
		if err != nil {
			t.Fatalf("open CRI of %s: %v", r.UBRN, err)
		}
		if p.PageCount() != info.Pages || p.PageCount() < 2 {
			t.Errorf("CRI of %s: PDFium counts %d pages, pdfcpu %d", r.UBRN, p.PageCount(), info.Pages)
		}
		img, err := p.Render(ctx, 0, 100)
		if err != nil {
			t.Fatalf("render CRI of %s: %v", r.UBRN, err)
		}
		b := img.Bounds()
		dark := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				i := img.PixOffset(x, y)
				if (int(img.Pix[i])+int(img.Pix[i+1])+int(img.Pix[i+2]))/3 < 160 {
					dark++
				}
			}
		}
		if share := float64(dark) / float64(b.Dx()*b.Dy()); share < 0.003 {
			t.Errorf("CRI of %s renders blank: %.4f of pixels dark", r.UBRN, share)
		}
		var all strings.Builder
		for i := range p.PageCount() {
			text, err := p.Text(ctx, i)
			if err != nil {
				t.Fatal(err)
			}
			all.WriteString(text)
		}
		for _, want := range []string{"Reason for referral", triage.FormatNHSNumber(r.NHSNumber)} {
			if !strings.Contains(all.String(), want) {
				t.Errorf("CRI of %s: extracted text lacks %q", r.UBRN, want)
			}
		}
		hits, err := p.Find(ctx, "Reason for referral", 0)
		if err != nil || len(hits) == 0 {
			t.Errorf("find the reason heading in CRI of %s: %v, %d hits", r.UBRN, err, len(hits))
		}
		p.Close()
	}
}

func fetchCRI(t *testing.T, sb *erssandbox.Sandbox, ubrn string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, sb.BaseURL()+"/STU3/ReferralRequest/"+ubrn+"/$ers.generateCRI", nil)
	req.Header.Set("NHSD-End-User-Organisation-ODS", erssandbox.ProviderODS)
	req.Header.Set("NHSD-eRS-Business-Function", string(triage.RoleServiceProviderClinician))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("A007: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("A007 %s: %s %s", ubrn, resp.Status, body[:min(len(body), 300)])
	}
	return body
}
