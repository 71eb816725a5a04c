package triage

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// IdentityFlagKind says what the identity cross-check found.
type IdentityFlagKind string

// The kinds of identity flag.
const (
	// FlagNHSNumber: the letter names an NHS number that is neither the
	// referral's nor PDS's.
	FlagNHSNumber IdentityFlagKind = "nhs-number"
	// FlagBirthDate: the letter gives a date of birth PDS does not have.
	FlagBirthDate IdentityFlagKind = "birth-date"
)

// IdentityFlag is one finding of the identity cross-check: a letter naming
// another patient. Text is plain English for the header; it quotes the
// identifiers concerned, so it is patient data (screen only, never logs).
type IdentityFlag struct {
	Kind IdentityFlagKind
	// Found is what the letter names; Expected what the referral or PDS
	// has (both formatted for display).
	Found, Expected string
	Text            string
}

// IdentityCheckInput is one letter to check against the referral and PDS.
type IdentityCheckInput struct {
	// Text is the letter's text (every page).
	Text string
	// Source names the letter in the flag's text, e.g. "The letter" or
	// "The letter of related referral 1000 0000 0007".
	Source string
	// ReferralNHSNumber is the referral's NHS number.
	ReferralNHSNumber string
	// Patient is PDS's record, nil when none is known: then only NHS
	// numbers are checked.
	Patient *Patient
}

// nhsNumberInText matches an NHS number after its label ("NHS number",
// "NHS No.", "NHS Number:"), in 3 3 4 groups or as ten digits.
var nhsNumberInText = regexp.MustCompile(`(?i)\bNHS\s*(?:number|no\b\.?|num\b\.?)?\s*[:.#-]?\s*(\d{3}[ \-]?\d{3}[ \-]?\d{4})\b`)

// birthDateInText matches a date after a date-of-birth label ("Date of
// birth", "DOB", "D.O.B.", "born"): 12-Mar-1950, 12 March 1950, 12/03/1950,
// 12.03.1950 or 1950-03-12.
var birthDateInText = regexp.MustCompile(`(?i)\b(?:date\s+of\s+birth|d\.?\s?o\.?\s?b\b\.?|born)\s*(?:on\s+)?[:\-]?\s*` +
	`(\d{1,2}[\- /.](?:[a-z]{3,9})[\- /.]\d{4}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{2}-\d{2})\b`)

// CheckIdentity is the wrong-patient control: it reads the NHS numbers and
// dates of birth a letter names (after their labels) and flags an NHS
// number that is neither the referral's nor PDS's current one, and a date
// of birth that differs from PDS's. Numbers that fail the Modulus 11 check
// are not NHS numbers and are ignored. Each distinct finding is flagged
// once. No flag means nothing was found that differs, not that the letter
// was proved to be this patient's.
func CheckIdentity(in IdentityCheckInput) []IdentityFlag {
	src := orText(in.Source, "The letter")
	ref := NormalizeNHSNumber(in.ReferralNHSNumber)
	known := map[string]bool{ref: true}
	if in.Patient != nil && in.Patient.NHSNumber != "" {
		known[NormalizeNHSNumber(in.Patient.NHSNumber)] = true
	}
	var flags []IdentityFlag
	seen := map[string]bool{}
	for _, m := range nhsNumberInText.FindAllStringSubmatch(in.Text, -1) {
		n := NormalizeNHSNumber(m[1])
		if ValidateNHSNumber(n) != nil || known[n] || seen["n"+n] {
			continue
		}
		seen["n"+n] = true
		f := IdentityFlag{Kind: FlagNHSNumber, Found: FormatNHSNumber(n), Expected: FormatNHSNumber(ref)}
		f.Text = fmt.Sprintf("%s names another patient: it gives NHS number %s, but this referral is for %s.", src, f.Found, f.Expected)
		flags = append(flags, f)
	}
	if in.Patient == nil || in.Patient.BirthDate.IsZero() {
		return flags
	}
	for _, m := range birthDateInText.FindAllStringSubmatch(in.Text, -1) {
		d, ok := parseLetterDate(m[1])
		if !ok || in.Patient.BirthDate.Matches(d) || seen["d"+d.ISO()] {
			continue
		}
		seen["d"+d.ISO()] = true
		f := IdentityFlag{Kind: FlagBirthDate, Found: d.String(), Expected: in.Patient.BirthDate.String()}
		f.Text = fmt.Sprintf("%s names another patient: it gives date of birth %s, but PDS has %s.", src, f.Found, f.Expected)
		flags = append(flags, f)
	}
	return flags
}

// parseLetterDate reads a date as letters write it: 12-Mar-1950,
// 12 March 1950, 12/03/1950 (UK order), 12.03.1950 or 1950-03-12.
func parseLetterDate(s string) (PartialDate, bool) {
	if d, err := ParsePartialDate(s); err == nil && d.Complete() {
		return d, true
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' || r == '.' || r == ' ' })
	if len(parts) != 3 {
		return PartialDate{}, false
	}
	day, err1 := strconv.Atoi(parts[0])
	year, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		return PartialDate{}, false
	}
	month, err := strconv.Atoi(parts[1])
	if err != nil {
		month = monthByName(parts[1])
	}
	d := PartialDate{Year: year, Month: month, Day: day}
	if month == 0 || !d.valid() {
		return PartialDate{}, false
	}
	return d, true
}

func monthByName(s string) int {
	s = strings.ToLower(s)
	if len(s) < 3 {
		return 0
	}
	for m := time.January; m <= time.December; m++ {
		name := strings.ToLower(m.String())
		if s == name || s == name[:3] || (len(s) >= 3 && strings.HasPrefix(name, s)) {
			return int(m)
		}
	}
	return 0
}
