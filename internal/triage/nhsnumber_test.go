package triage

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestValidateNHSNumber(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"9434765919", nil},
		{"943 476 5919", nil},
		{"943-476-5919", nil},
		{"9990000018", nil},
		{"9434765918", ErrNHSNumberCheckDigit},
		{"943476591", ErrNHSNumberFormat},
		{"94347659190", ErrNHSNumberFormat},
		{"94347659A9", ErrNHSNumberFormat},
		{"", ErrNHSNumberFormat},
		// Check digit would be 10: never issued.
		{"9990000100", ErrNHSNumberCheckDigit},
	}
	for _, tt := range tests {
		if err := ValidateNHSNumber(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("ValidateNHSNumber(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestFormatNHSNumber(t *testing.T) {
	tests := map[string]string{
		"9434765919":   "943 476 5919",
		"943 476 5919": "943 476 5919",
		"12345":        "12345",
	}
	for in, want := range tests {
		if got := FormatNHSNumber(in); got != want {
			t.Errorf("FormatNHSNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSyntheticNHSNumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for range 2000 {
		n := SyntheticNHSNumber(rng)
		if err := ValidateNHSNumber(n); err != nil {
			t.Fatalf("synthetic number %s invalid: %v", n, err)
		}
		if !IsSyntheticNHSNumber(n) {
			t.Fatalf("synthetic number %s outside the 999 test range", n)
		}
		seen[n] = true
	}
	if len(seen) < 1900 {
		t.Errorf("only %d distinct numbers in 2000 draws", len(seen))
	}
	a := SyntheticNHSNumber(rand.New(rand.NewPCG(7, 7)))
	b := SyntheticNHSNumber(rand.New(rand.NewPCG(7, 7)))
	if a != b {
		t.Errorf("same seed gave %s and %s", a, b)
	}
}
