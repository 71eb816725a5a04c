package document

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
)

func TestSanitizeFilename(t *testing.T) {
	cases := []struct{ in, ext, want string }{
		{"letter.pdf", "", "letter.pdf"},
		{"../../etc/passwd", "", "passwd"},
		{`C:\Windows\System32\evil.exe`, "", "evil.exe"},
		{"..", ".pdf", "document.pdf"},
		{".bashrc", "", "bashrc"},
		{"  spaced   out  name .pdf ", "", "spaced out name.pdf"},
		{"a<b>c:d\"e|f?g*h.txt", "", "a_b_c_d_e_f_g_h.txt"},
		{"tab\tand\nnewline\x00nul.rtf", "", "tab and newlinenul.rtf"},
		{"CON", ".pdf", "_CON.pdf"},
		{"con.txt", "", "_con.txt"},
		{"LPT1.report.pdf", "", "_LPT1.report.pdf"},
		{"COM¹.pdf", "", "_COM¹.pdf"},
		{"trailing dots...", ".pdf", "trailing dots.pdf"},
		{"scan", "PDF", "scan.pdf"},
		{"scan", ".p/d\\f", "scan.pdf"},
		{"invoice\u202Efdp.exe", "", "invoicefdp.exe"}, // right-to-left override dropped
		{"", "", "document"},
		{"\xff\xfe.pdf", "", "_.pdf"},
		{"résumé – clinic.docx", "", "résumé – clinic.docx"},
		{strings.Repeat("a", 300) + ".pdf", "", strings.Repeat("a", 116) + ".pdf"},
		{strings.Repeat("é", 100) + ".pdf", "", strings.Repeat("é", 58) + ".pdf"},
	}
	for _, tc := range cases {
		if got := SanitizeFilename(tc.in, tc.ext); got != tc.want {
			t.Errorf("SanitizeFilename(%q, %q) = %q, want %q", tc.in, tc.ext, got, tc.want)
		}
	}
}

// checkSafeFilename is the contract every sanitised name meets.
func checkSafeFilename(t *testing.T, in, got string) {
	t.Helper()
	switch {
	case got == "" || len(got) > maxFilenameBytes:
		t.Fatalf("%q -> %q: empty or too long (%d bytes)", in, got, len(got))
	case !utf8.ValidString(got):
		t.Fatalf("%q -> %q: invalid UTF-8", in, got)
	case strings.ContainsAny(got, "/\\<>:\"|?*\x00") || got == "." || got == "..":
		t.Fatalf("%q -> %q: reserved character", in, got)
	case strings.HasPrefix(got, ".") || strings.HasPrefix(got, " ") || strings.HasSuffix(got, ".") || strings.HasSuffix(got, " "):
		t.Fatalf("%q -> %q: leading or trailing dot/space", in, got)
	case filepath.Base(got) != got:
		t.Fatalf("%q -> %q: not a single path element", in, got)
	}
	for _, r := range got {
		if r < 32 || r == 0x7f {
			t.Fatalf("%q -> %q: control character", in, got)
		}
	}
	stem, _, _ := strings.Cut(got, ".")
	if windowsReserved[strings.ToUpper(strings.TrimSpace(stem))] {
		t.Fatalf("%q -> %q: reserved Windows name", in, got)
	}
	if again := SanitizeFilename(got, ""); again != got {
		t.Fatalf("%q -> %q -> %q: not stable", in, got, again)
	}
}

func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"letter.pdf", "../../x", `a\b`, "CON", ".hidden", "a\x00b", "nul.txt", " . ", strings.Repeat("x", 400), "résumé.docx", "\u202Eexe.pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkSafeFilename(t, in, SanitizeFilename(in, ".pdf"))
		checkSafeFilename(t, in, SanitizeFilename(in, ""))
	})
}

func TestTempFilesArePrivateAndCleanedUp(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "open")
	// A session left behind by a crashed run.
	stale := filepath.Join(parent, "session-dead", "x")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stale, "old.pdf"), []byte("old"), 0o600)
	tf, err := NewTempFiles(parent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(parent, "session-dead")); !os.IsNotExist(err) {
		t.Errorf("stale session not removed: %v", err)
	}
	p1, err := tf.Write("../../Referral letter.pdf", ".pdf", []byte("%PDF-1.4 one"))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := tf.Write("Referral letter.pdf", ".pdf", []byte("%PDF-1.4 two"))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p1) != "Referral letter.pdf" || filepath.Base(p2) != filepath.Base(p1) || p1 == p2 {
		t.Errorf("paths %q %q", p1, p2)
	}
	if !strings.HasPrefix(p1, parent+string(filepath.Separator)) {
		t.Errorf("%q escaped %q", p1, parent)
	}
	if b, _ := os.ReadFile(p2); string(b) != "%PDF-1.4 two" {
		t.Errorf("content %q", b)
	}
	// Owner-only on every OS: on Windows through the folder's access list,
	// which the session folder, the file's folder and the file inherit.
	for _, p := range []string{parent, filepath.Dir(filepath.Dir(p1)), filepath.Dir(p1), p1} {
		if p == p1 && runtime.GOOS != "windows" {
			continue // a Unix file's own mode is checked below
		}
		if private, err := atomicfile.IsPrivate(p); err != nil || !private {
			t.Errorf("%s is not private to the OS user: %v, %v", p, private, err)
		}
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(p1)
		di, _ := os.Stat(filepath.Dir(p1))
		si, _ := os.Stat(filepath.Dir(filepath.Dir(p1)))
		if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 || si.Mode().Perm() != 0o700 {
			t.Errorf("modes file %v dir %v session %v", fi.Mode(), di.Mode(), si.Mode())
		}
	}
	if err := tf.Cleanup(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{p1, p2} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Cleanup", p)
		}
	}
	if _, err := tf.Write("x.pdf", "", []byte("x")); err == nil {
		t.Error("Write after Cleanup succeeded")
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 0 {
		t.Errorf("parent not empty after Cleanup: %v", entries)
	}
}

func TestSaveCopyNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 3 {
		p, err := SaveCopy(dir, "letter.pdf", "", []byte{byte('a' + i)})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Base(p))
	}
	want := []string{"letter.pdf", "letter (2).pdf", "letter (3).pdf"}
	for i := range want {
		if paths[i] != want[i] {
			t.Errorf("copy %d named %q, want %q", i, paths[i], want[i])
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "letter.pdf")); string(b) != "a" {
		t.Errorf("first copy overwritten: %q", b)
	}
	if _, err := SaveCopy(filepath.Join(dir, "missing"), "x.pdf", "", nil); err == nil {
		t.Error("saving into a missing folder succeeded")
	}
}

func TestLeaveStoreWarningSaysWhatHappens(t *testing.T) {
	for _, want := range []string{"leave Triage Desk's encrypted store", "not encrypted"} {
		if !strings.Contains(LeaveStoreWarning, want) {
			t.Errorf("warning lacks %q", want)
		}
	}
}
