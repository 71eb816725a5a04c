package triage

import (
	"errors"
	"testing"
)

func TestParseUBRN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want UBRN
		err  bool
	}{
		{in: "100000000001", want: "100000000001"},
		{in: "1000 0000 0001", want: "100000000001"},
		{in: "1000-0000-0001", want: "100000000001"},
		{in: "1000\u00a00000\u00a00001", want: "100000000001"},
		{in: "1000\t0000\t0001", want: "100000000001"},
		{in: "  000000070000\n", want: "000000070000"},
		{in: "1 0 0 0 0 0 0 0 0 0 0 1", want: "100000000001"},
		{in: "", err: true},
		{in: "10000000001", err: true},
		{in: "1000000000012", err: true},
		{in: "1000.0000.0001", err: true},
		{in: "1000_0000_0001", err: true},
		{in: "10000000000x", err: true},
		{in: "１００００００００００１", err: true}, // full-width digits
		{in: "1000\n0000\n0001", err: true},
		{in: "9434765919", err: true}, // an NHS number
	} {
		got, err := ParseUBRN(tc.in)
		if tc.err {
			if !errors.Is(err, ErrUBRNFormat) {
				t.Errorf("ParseUBRN(%q) = %q, %v; want ErrUBRNFormat", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseUBRN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizeUBRN(t *testing.T) {
	for in, want := range map[string]string{
		"1000 0000 0001":   "100000000001",
		"1000-0000-0001":   "100000000001",
		"100000000001":     "100000000001",
		" 0000 0007 0000 ": "000000070000",
		"x":                "x",
		"a b-c":            "abc",
		"":                 "",
	} {
		if got := NormalizeUBRN(in); got != want {
			t.Errorf("NormalizeUBRN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSameUBRN(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"100000000001", "1000 0000 0001", true},
		{"1000-0000-0001", "1000\u00a00000\u00a00001", true},
		{"100000000001", "100000000002", false},
		{"100000000001", "10000000001", false},
		{"", "", true},
	} {
		if got := SameUBRN(tc.a, tc.b); got != tc.same {
			t.Errorf("SameUBRN(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

func TestUBRNFormat(t *testing.T) {
	for in, want := range map[UBRN]string{
		"100000000001": "1000 0000 0001",
		"000000070000": "0000 0007 0000",
		"x":            "x",
		"":             "",
	} {
		if got := in.Format(); got != want {
			t.Errorf("UBRN(%q).Format() = %q, want %q", in, got, want)
		}
		if got := in.String(); got != string(in) {
			t.Errorf("UBRN(%q).String() = %q", in, got)
		}
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
