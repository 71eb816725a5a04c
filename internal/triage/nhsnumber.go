package triage

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// ErrNHSNumberFormat is returned for an NHS number that is not ten digits.
var ErrNHSNumberFormat = errors.New("an NHS number has exactly 10 digits")

// ErrNHSNumberCheckDigit is returned for an NHS number whose Modulus 11 check
// digit is wrong (most often a typing error).
var ErrNHSNumberCheckDigit = errors.New("the NHS number's check digit is wrong: check it was typed correctly")

// NormalizeNHSNumber removes spaces and hyphens, as people write NHS numbers
// as 3-3-4 groups.
func NormalizeNHSNumber(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

// nhsCheckDigit computes the Modulus 11 check digit of the first nine digits.
// It returns 10 when no valid check digit exists (such numbers are never
// issued).
func nhsCheckDigit(nine string) int {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(nine[i]-'0') * (10 - i)
	}
	c := 11 - sum%11
	if c == 11 {
		c = 0
	}
	return c
}

// ValidateNHSNumber checks that s (spaces allowed) is ten digits with a valid
// Modulus 11 check digit.
func ValidateNHSNumber(s string) error {
	n := NormalizeNHSNumber(s)
	if len(n) != 10 {
		return ErrNHSNumberFormat
	}
	for i := 0; i < 10; i++ {
		if n[i] < '0' || n[i] > '9' {
			return ErrNHSNumberFormat
		}
	}
	c := nhsCheckDigit(n)
	if c == 10 || c != int(n[9]-'0') {
		return ErrNHSNumberCheckDigit
	}
	return nil
}

// FormatNHSNumber formats an NHS number in the 3-3-4 groups used on screen
// ("943 476 5919"). Input that is not ten digits is returned unchanged so it
// is never silently altered.
func FormatNHSNumber(s string) string {
	n := NormalizeNHSNumber(s)
	if len(n) != 10 {
		return s
	}
	return n[:3] + " " + n[3:6] + " " + n[6:]
}

// SyntheticNHSNumber returns a random NHS number in the 999 test range with a
// valid check digit. Numbers in this range are never issued to patients, so
// they are safe for demos, tests and benchmarks.
func SyntheticNHSNumber(rng *rand.Rand) string {
	for {
		nine := fmt.Sprintf("999%06d", rng.IntN(1_000_000))
		if c := nhsCheckDigit(nine); c != 10 {
			return fmt.Sprintf("%s%d", nine, c)
		}
	}
}

// IsSyntheticNHSNumber reports whether s is in the 999 test range.
func IsSyntheticNHSNumber(s string) bool {
	return strings.HasPrefix(NormalizeNHSNumber(s), "999")
}
