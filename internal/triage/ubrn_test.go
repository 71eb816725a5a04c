package triage

import (
	"errors"
	"testing"
)

// TestParseUBRN checks the one parser and the normaliser together: norm is
// NormalizeUBRN's answer, and for a UBRN also ParseUBRN's.
func TestParseUBRN(t *testing.T) {
	for _, tc := range []struct {
		in, norm string
		ok       bool
	}{
		{"100000000001", "100000000001", true},
		{"1000 0000 0001", "100000000001", true},
		{"1000-0000-0001", "100000000001", true},
		{"1000\u00a00000\u00a00001", "100000000001", true},
		{"1000\t0000\t0001", "100000000001", true},
		{"  000000070000\n", "000000070000", true},
		{"1 0 0 0 0 0 0 0 0 0 0 1", "100000000001", true},
		{"", "", false},
		{"10000000001", "10000000001", false},
		{"1000000000012", "1000000000012", false},
		{"1000.0000.0001", "1000.0000.0001", false},
		{"1000_0000_0001", "1000_0000_0001", false},
		{"10000000000x", "10000000000x", false},
		{"１００００００００００１", "１００００００００００１", false}, // full-width digits
		{"1000\n0000\n0001", "1000\n0000\n0001", false},
		{"9434765919", "9434765919", false}, // an NHS number
		{"a b-c", "abc", false},             // not a UBRN: separators still go
	} {
		if got := NormalizeUBRN(tc.in); got != tc.norm {
			t.Errorf("NormalizeUBRN(%q) = %q, want %q", tc.in, got, tc.norm)
		}
		got, err := ParseUBRN(tc.in)
		switch {
		case tc.ok && (err != nil || string(got) != tc.norm):
			t.Errorf("ParseUBRN(%q) = %q, %v; want %q", tc.in, got, err, tc.norm)
		case !tc.ok && (!errors.Is(err, ErrUBRNFormat) || got != ""):
			t.Errorf("ParseUBRN(%q) = %q, %v; want ErrUBRNFormat", tc.in, got, err)
		}
	}
}

func TestSameUBRN(t *testing.T) {
	same := [][2]string{{"100000000001", "1000 0000 0001"}, {"1000-0000-0001", "1000\u00a00000\u00a00001"}, {"", ""}}
	for _, p := range same {
		if !SameUBRN(p[0], p[1]) {
			t.Errorf("SameUBRN(%q, %q) = false", p[0], p[1])
		}
	}
	for _, p := range [][2]string{{"100000000001", "100000000002"}, {"100000000001", "10000000001"}} {
		if SameUBRN(p[0], p[1]) {
			t.Errorf("SameUBRN(%q, %q) = true", p[0], p[1])
		}
	}
}

// TestUBRNFormat: a UBRN is shown in 4-4-4 groups; anything else as it is.
func TestUBRNFormat(t *testing.T) {
	if got := UBRN("000000070000").Format(); got != "0000 0007 0000" {
		t.Errorf("Format() = %q, want 0000 0007 0000", got)
	}
	if got := UBRN("x").Format() + UBRN("").Format(); got != "x" {
		t.Errorf("Format() of non-UBRNs = %q, want them unchanged", got)
	}
	if got := UBRN("100000000001").String(); got != "100000000001" {
		t.Errorf("String() = %q", got)
	}
}

func FuzzParseUBRN(f *testing.F) {
	for _, s := range []string{"100000000001", "1000 0000 0001", "1000-0000-0001", "1000\u00a00000\u00a00001", "x", "", "\t000000070000\n", "1000.0000.0001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeUBRN(s)
		u, err := ParseUBRN(s)
		if err != nil {
			if !errors.Is(err, ErrUBRNFormat) || u != "" {
				t.Fatalf("ParseUBRN(%q) = %q, %v", s, u, err)
			}
			return
		}
		if len(u) != 12 || string(u) != n {
			t.Fatalf("ParseUBRN(%q) = %q, NormalizeUBRN = %q", s, u, n)
		}
		back, err := ParseUBRN(u.Format())
		if err != nil || back != u {
			t.Fatalf("ParseUBRN(%q.Format() = %q) = %q, %v", u, u.Format(), back, err)
		}
		if !SameUBRN(s, u.Format()) {
			t.Fatalf("SameUBRN(%q, %q) = false", s, u.Format())
		}
	})
}
