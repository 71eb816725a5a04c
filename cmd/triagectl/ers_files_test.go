package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/testutil"
)

// triagectl ers cri and attachment save what e-RS sends, whatever it is
// called: the hand-made PDF is saved as sent (and the truncated one is
// recognised as damaged when checked), and images sent under hostile names
// land inside the chosen folder, under safe names, byte for byte.
func TestERSSavesDocumentsSafely(t *testing.T) {
	pdf := testutil.Testdata(t, "pdf/cri-synthetic.pdf")
	truncated := testutil.Testdata(t, "pdf/cri-truncated.pdf")
	images := map[string][]byte{"image/png": testutil.Testdata(t, "images/synthetic-photo.png"), "image/jpeg": testutil.Testdata(t, "images/synthetic-scan.jpg")}
	var f struct {
		Names []string `json:"names"`
	}
	if err := json.Unmarshal(testutil.Testdata(t, "filenames/hostile.json"), &f); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var sendName, sendType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		name, ctype := sendName, sendType
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/$ers.generateCRI"):
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", `attachment; filename="100000000001_CRI.pdf"`)
			_, _ = w.Write(pdf)
		case strings.HasPrefix(r.URL.Path, "/fhir/R4/Binary/"):
			w.Header().Set("Location", "/store/object")
			w.WriteHeader(http.StatusTemporaryRedirect)
		case r.URL.Path == "/store/object":
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
			_, _ = w.Write(images[ctype])
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	base := srv.URL + "/fhir"
	dir := t.TempDir()

	out := filepath.Join(dir, "cri.pdf")
	if code, _, errOut := runCLI(t, "ers", "cri", "100000000001", "--out", out, "--base-url", base, "--ods", "Y00001"); code != 0 {
		t.Fatalf("ers cri: %d %s", code, errOut)
	}
	saved, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(saved, pdf) {
		t.Fatalf("saved CRI differs (%v)", err)
	}
	if info, err := document.ValidatePDF(saved, 10); err != nil || info.Pages != 1 {
		t.Errorf("the saved CRI: %+v %v", info, err)
	}
	if _, err := document.ValidatePDF(truncated, 10); err == nil || err.Error() == "" {
		t.Error("a truncated PDF was accepted")
	}

	into := filepath.Join(dir, "attachments")
	if err := os.Mkdir(into, 0o700); err != nil {
		t.Fatal(err)
	}
	for i, name := range f.Names {
		ctype := "image/png"
		if i%2 == 1 {
			ctype = "image/jpeg"
		}
		mu.Lock()
		sendName, sendType = name, ctype
		mu.Unlock()
		before, _ := os.ReadDir(into)
		code, stdout, errOut := runCLI(t, "ers", "attachment", "b0000000-0000-4000-8000-000000090001", "--out", into, "--base-url", base, "--ods", "Y00001")
		if code != 0 {
			t.Errorf("%q: exit %d %s", name, code, errOut)
			continue
		}
		after, _ := os.ReadDir(into)
		if len(after) != len(before)+1 {
			t.Errorf("%q: %d files, want %d", name, len(after), len(before)+1)
			continue
		}
		// The file is inside the folder, under the sanitised name (or a
		// numbered one when that is taken), with the bytes sent.
		want := ers.SanitizeFilename(name)
		if name == "" {
			want = "attachment-" // no name sent: named after the attachment
		}
		var got string
		for _, e := range after {
			if strings.Contains(stdout, filepath.Join(into, e.Name())) {
				got = e.Name()
			}
		}
		stem := strings.TrimSuffix(want, filepath.Ext(want))
		if got == "" || !strings.HasPrefix(got, stem) {
			t.Errorf("%q saved as %q (stdout %q), want %q", name, got, stdout, want)
			continue
		}
		data, err := os.ReadFile(filepath.Join(into, got))
		if err != nil || !bytes.Equal(data, images[ctype]) {
			t.Errorf("%q: saved bytes differ (%v)", name, err)
		}
		if _, _, err := document.DecodeImage(data, 100); err != nil {
			t.Errorf("%q: the saved image does not decode: %v", name, err)
		}
	}
	// Nothing was written outside the folder.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files outside the chosen folder: %v", names)
	}
}
