package document

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// encryptedPDF encrypts a PDF with a user password using pdfcpu.
func encryptedPDF(t testing.TB, plain []byte, userPW string) []byte {
	t.Helper()
	conf := model.NewAESConfiguration(userPW, "owner-secret", 256)
	var out bytes.Buffer
	if err := api.Encrypt(bytes.NewReader(plain), &out, conf); err != nil {
		t.Fatalf("encrypt fixture: %v", err)
	}
	return out.Bytes()
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestCorruptPDFsGiveTypedErrors(t *testing.T) {
	e := testEngine(t)
	cri := criPDF()
	cases := []struct {
		name string
		data []byte
		want Kind
	}{
		{"empty", nil, KindEmpty},
		{"whitespace", []byte("   \n"), KindEmpty},
		{"truncated", cri[:len(cri)/2], KindTruncated},
		{"header only", []byte("%PDF-1.7\n"), KindTruncated},
		{"random bytes", randomBytes(64<<10, 1), KindCorrupt},
		{"random after header", append([]byte("%PDF-1.4\n"), randomBytes(8<<10, 2)...), KindTruncated},
		{"claims 100000 pages", textPDF([][]string{{"one real page"}}, 100000), KindTooLarge},
		{"needs a password", encryptedPDF(t, cri, "user-secret"), KindEncrypted},
		{"png named pdf", pngBytes(t, 10, 10), KindCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.Open(context.Background(), tc.data)
			if err == nil {
				p.Close()
				t.Fatalf("opened; want a %s error", tc.want)
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *document.Error", err, err)
			}
			if de.Kind != tc.want {
				t.Fatalf("kind = %s (%v), want %s", de.Kind, err, tc.want)
			}
			if msg := de.Message(); len(msg) < 45 {
				t.Errorf("message too thin for a clinician: %q", msg)
			}
			t.Logf("%s -> %s", tc.name, de.Message())
		})
	}
}

func TestEncryptedWithoutUserPasswordOpens(t *testing.T) {
	// Owner-password-only PDFs are common (printing restrictions) and open
	// without a password in every viewer.
	e := testEngine(t)
	p, err := e.Open(context.Background(), encryptedPDF(t, criPDF(), ""))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer p.Close()
	if !p.Info().Encrypted || p.PageCount() != 3 {
		t.Fatalf("info %+v, pages %d", p.Info(), p.PageCount())
	}
}
