package triage

import (
	"errors"
	"strings"
	"unicode"
)

// UBRN is a Unique Booking Reference Number in its canonical form: exactly
// twelve ASCII digits, no separators. It is the form the store keys records
// by and the form e-RS sends; Format gives the grouped form people read.
type UBRN string

// ubrnDigits is the length of a UBRN.
const ubrnDigits = 12

// ErrUBRNFormat is returned for text that is not a UBRN: twelve digits,
// optionally grouped with spaces, hyphens, no-break spaces or tabs.
var ErrUBRNFormat = errors.New("a UBRN has exactly 12 digits, e.g. 1000 0000 0001")

// isUBRNSeparator reports whether r may group a UBRN's digits: people and
// documents write "1000 0000 0001", "1000-0000-0001" or use a no-break
// space or tab between the groups.
func isUBRNSeparator(r rune) bool {
	return r == ' ' || r == '-' || r == '\u00a0' || r == '\t'
}

// stripUBRN trims surrounding white space and removes the separators.
func stripUBRN(s string) string {
	return strings.Map(func(r rune) rune {
		if isUBRNSeparator(r) {
			return -1
		}
		return r
	}, strings.TrimFunc(s, unicode.IsSpace))
}

// ParseUBRN parses s as a UBRN: twelve ASCII digits, with spaces, hyphens,
// no-break spaces or tabs allowed between them and white space around them.
// Anything else is ErrUBRNFormat.
func ParseUBRN(s string) (UBRN, error) {
	n := stripUBRN(s)
	if len(n) != ubrnDigits {
		return "", ErrUBRNFormat
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return "", ErrUBRNFormat
		}
	}
	return UBRN(n), nil
}

// NormalizeUBRN returns the canonical string of s: for a UBRN, its twelve
// digits (as ParseUBRN gives); for anything else, s without surrounding white
// space and separators, so identifiers that are not UBRNs (test data, ids
// from other systems) are compared and keyed the same way and never lost.
func NormalizeUBRN(s string) string { return stripUBRN(s) }

// SameUBRN reports whether a and b name the same referral however each is
// written.
func SameUBRN(a, b string) bool { return NormalizeUBRN(a) == NormalizeUBRN(b) }

// String returns the canonical twelve digits.
func (u UBRN) String() string { return string(u) }

// Format returns the UBRN in the 4-4-4 groups used on screen
// ("1000 0000 0001"). A value that is not twelve characters is returned
// unchanged so it is never silently altered.
func (u UBRN) Format() string {
	s := string(u)
	if len(s) != ubrnDigits {
		return s
	}
	return s[:4] + " " + s[4:8] + " " + s[8:]
}
