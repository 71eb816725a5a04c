package ers

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestContentDispositionFilename(t *testing.T) {
	tests := []struct {
		header, want string
		ok           bool
	}{
		{`attachment; filename="referral.pdf"`, "referral.pdf", true},
		{`attachment; filename=referral.pdf`, "referral.pdf", true},
		{`attachment; filename*=UTF-8''The%20filenam%C3%A9.pdf`, "The filenamé.pdf", true},
		{`attachment; filename="fallback.pdf"; filename*=UTF-8''The%20filenam%C3%A9.pdf`, "The filenamé.pdf", true},
		{`attachment; filename*=utf-8'en'%E2%82%AC%20rates.pdf; filename="EUR rates.pdf"`, "€ rates.pdf", true},
		{`attachment; filename*=ISO-8859-1''r%E9sum%E9.doc`, "résumé.doc", true},
		{`attachment; filename*=iso-8859-1''r%E9sum%E9.doc; filename="resume.doc"`, "résumé.doc", true},
		{`attachment; filename*0*=UTF-8''Long%20name%20; filename*1="part two.pdf"`, "Long name part two.pdf", true},
		{`attachment; filename="=?UTF-8?B?w6ljaG9ncmFwaHkucGRm?="`, "échography.pdf", true},
		{`attachment; filename="=?ISO-8859-1?Q?caf=E9.txt?="`, "café.txt", true},
		{`attachment; filename="quoted \"inner\" name.txt"`, `quoted "inner" name.txt`, true},
		// Headers mime.ParseMediaType rejects are read leniently.
		{`attachment; filename=my letter.pdf`, "my letter.pdf", true},
		{`attachment; filename="a.pdf"; filename="b.pdf"`, "a.pdf", true},
		{`attachment; filename="../../etc/passwd"`, "../../etc/passwd", true},
		{`attachment`, "", false},
		{``, "", false},
		{`inline; size=12`, "", false},
		{`attachment; filename*=KOI8-R''%C1`, "", false},
	}
	for _, tt := range tests {
		got, ok := ContentDispositionFilename(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: got %q %v, want %q %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSanitizeFilename(t *testing.T) {
	long := strings.Repeat("a", 300) + ".pdf"
	longUnicode := strings.Repeat("é", 150) + ".docx"
	tests := []struct{ in, want string }{
		{"referral.pdf", "referral.pdf"},
		{"The filenamé.pdf", "The filenamé.pdf"},
		{"../../etc/passwd", "passwd"},
		{`..\..\Windows\system32\evil.dll`, "evil.dll"},
		{"C:\\Users\\x\\letter.pdf", "letter.pdf"},
		{".bashrc", "bashrc"},
		{"..", "file"},
		{"...", "file"},
		{"", "file"},
		{"   ", "file"},
		{"name.pdf. . .", "name.pdf"},
		{"a\x00b\x1fc\x7f.txt", "abc.txt"},
		{"line\nbreak.txt", "line break.txt"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"}, // right-to-left override removed
		{"zero\u200Bwidth.pdf", "zerowidth.pdf"},
		{`what?<>:"|*.pdf`, "what_______.pdf"},
		{"CON", "_CON"},
		{"con.txt", "_con.txt"},
		{"COM1.pdf", "_COM1.pdf"},
		{"lpt9", "_lpt9"},
		{"CONSOLE.txt", "CONSOLE.txt"},
		{"nul .txt", "_nul .txt"},
		{"bad\xffutf8.pdf", "bad_utf8.pdf"},
		{long, strings.Repeat("a", MaxFilenameBytes-4) + ".pdf"},
	}
	for _, tt := range tests {
		if got := SanitizeFilename(tt.in); got != tt.want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	got := SanitizeFilename(longUnicode)
	if len(got) > MaxFilenameBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, ".docx") {
		t.Errorf("long unicode name: %d bytes, %q", len(got), got)
	}
}

// checkSafeName asserts the properties SanitizeFilename promises.
func checkSafeName(t *testing.T, in, got string) {
	t.Helper()
	switch {
	case got == "":
		t.Fatalf("%q: empty result", in)
	case !utf8.ValidString(got):
		t.Fatalf("%q: invalid UTF-8 %q", in, got)
	case len(got) > MaxFilenameBytes:
		t.Fatalf("%q: %d bytes", in, len(got))
	case strings.ContainsAny(got, `/\<>:"|?*`):
		t.Fatalf("%q: reserved character in %q", in, got)
	case strings.HasPrefix(got, ".") || strings.HasPrefix(got, " "):
		t.Fatalf("%q: leading dot or space in %q", in, got)
	case strings.HasSuffix(got, ".") || strings.HasSuffix(got, " "):
		t.Fatalf("%q: trailing dot or space in %q", in, got)
	case reservedWindowsName(got):
		t.Fatalf("%q: Windows device name %q", in, got)
	}
	for _, r := range got {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("%q: control or format character %U in %q", in, r, got)
		}
	}
	if again := SanitizeFilename(got); again != got {
		t.Fatalf("%q: not idempotent: %q then %q", in, got, again)
	}
}

// FuzzContentDispositionFilename decodes and sanitises arbitrary headers:
// no panics, and the result is always a safe file name.
func FuzzContentDispositionFilename(f *testing.F) {
	for _, s := range []string{
		`attachment; filename="referral.pdf"`,
		`attachment; filename*=UTF-8''The%20filenam%C3%A9.pdf`,
		`attachment; filename*=ISO-8859-1''r%E9sum%E9.doc`,
		`attachment; filename*0*=UTF-8''a%20; filename*1="b.pdf"`,
		`attachment; filename="=?UTF-8?B?w6ljaG9ncmFwaHkucGRm?="`,
		`attachment; filename="../../x"`,
		`attachment; filename="CON.txt"`,
		`attachment; filename="invoice` + "\u202E" + `fdp.exe"`,
		`attachment; filename=` + strings.Repeat("é", 300),
		`attachment; filename="a\"b`,
		`;;;=;"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		name, _ := ContentDispositionFilename(header)
		checkSafeName(t, header, SanitizeFilename(name))
		checkSafeName(t, header, SanitizeFilename(header))
	})
}
