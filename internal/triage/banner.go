package triage

import (
	"fmt"
	"strings"
	"time"
)

// BannerState says what the patient banner can show.
type BannerState string

// The banner states. Every state has text: the banner is never a blank
// space that could be read as an empty name.
const (
	// BannerPatient: PDS's demographics are shown (perhaps from an older
	// read, see Banner.Stale).
	BannerPatient BannerState = "patient"
	// BannerNotChecked: PDS has not been asked yet.
	BannerNotChecked BannerState = "not-checked"
	// BannerNotFound: PDS has no patient with the referral's NHS number.
	BannerNotFound BannerState = "not-found"
	// BannerInvalidNumber: the referral's NHS number is not a valid one.
	BannerInvalidNumber BannerState = "invalid-number"
	// BannerUnavailable: PDS could not be reached or refused, and nothing
	// is cached.
	BannerUnavailable BannerState = "unavailable"
	// BannerNoPDS: PDS is not set up for this environment.
	BannerNoPDS BannerState = "no-pds"
)

// Banner is the patient banner a clinician checks identity against before
// every decision: PDS's name, date of birth with age, gender and NHS number
// (in that order, NHS CUI), a prominent deceased marker, a "Restricted
// record" marker, a warning when the NHS number was superseded, the result
// of the identity cross-check, and how old the details are. It is a plain
// value built by BuildBanner; both front ends show it as it is.
//
// For a restricted record it never carries an address, GP practice, phone
// number or email.
type Banner struct {
	State BannerState
	// Name is "FAMILY, Given (Title)", or NotKnown.
	Name string
	// Born is the date of birth with the age, e.g. "12-Mar-1950 (75y)",
	// or NotKnown.
	Born string
	// BirthDate is the date of birth as PDS gave it (possibly partial);
	// Age the age part of Born ("75y"), "" when unknown.
	BirthDate PartialDate
	Age       string
	// Gender is PDS's administrative gender ("Female") or NotKnown.
	Gender string
	// NHSNumber is the NHS number in 3 3 4 groups: PDS's current one when
	// the record was merged. ReferralNHSNumber is the referral's.
	NHSNumber         string
	ReferralNHSNumber string
	// Deceased is set when PDS records the patient's death; DeceasedText
	// says so with the date ("Deceased 22-Oct-2010").
	Deceased     bool
	DeceasedText string
	// Restricted is set for a restricted (sensitive) record; RestrictedText
	// is the marker.
	Restricted     bool
	RestrictedText string
	// Superseded is set when PDS answered for another NHS number (a
	// merged record); SupersededText is the warning.
	Superseded     bool
	SupersededText string
	// GPPractice is the GP practice's ODS code; always "" for a restricted
	// record.
	GPPractice string
	// Notice explains a banner without current demographics: not checked
	// yet, not found, PDS unreachable (with the age of what is shown).
	Notice string
	// Stale is set when the latest attempt to check with PDS failed and
	// the details shown are from an earlier read.
	Stale bool
	// CheckedAt is when the details shown came from PDS (this computer's
	// clock); DataAge how long ago that was, and DataAgeText says so.
	CheckedAt   time.Time
	DataAge     time.Duration
	DataAgeText string
	// Flags are the identity cross-check's findings: the letter names
	// another patient.
	Flags []IdentityFlag
}

// Warning reports whether the banner carries anything the clinician must
// act on before deciding: deceased, superseded, not found, an invalid
// number, or an identity flag.
func (b Banner) Warning() bool {
	return b.Deceased || b.Superseded || len(b.Flags) > 0 ||
		b.State == BannerNotFound || b.State == BannerInvalidNumber
}

// BannerInput is what BuildBanner needs.
type BannerInput struct {
	// ReferralNHSNumber is the referral's NHS number.
	ReferralNHSNumber string
	// Lookup is the cached PDS lookup, nil when PDS was never asked.
	Lookup *PatientLookup
	// NoPDS is set when PDS is not set up for this environment.
	NoPDS bool
	// Now is the time ages are computed on.
	Now time.Time
	// Flags are the identity cross-check's findings (CheckIdentity).
	Flags []IdentityFlag
}

// BuildBanner builds the patient banner from the cached PDS lookup.
func BuildBanner(in BannerInput) Banner {
	refNHS := NormalizeNHSNumber(in.ReferralNHSNumber)
	b := Banner{Name: NotKnown, Born: NotKnown, Gender: NotKnown, NHSNumber: FormatNHSNumber(refNHS),
		ReferralNHSNumber: FormatNHSNumber(refNHS), Flags: append([]IdentityFlag(nil), in.Flags...)}
	if refNHS == "" {
		b.NHSNumber, b.ReferralNHSNumber = NotKnown, NotKnown
	}
	l := in.Lookup
	switch {
	case refNHS == "" || ValidateNHSNumber(refNHS) != nil || (l != nil && l.Outcome == PatientInvalidNumber):
		b.State = BannerInvalidNumber
		b.Notice = "The referral's NHS number is not a valid NHS number, so the patient cannot be checked with PDS. Check the patient's identity in e-RS before deciding."
		return b
	case in.NoPDS && (l == nil || l.Patient == nil):
		b.State = BannerNoPDS
		b.Notice = "Patient details are not available: the Personal Demographics Service (PDS) is not set up for this environment. Check the patient's identity in the letter."
		return b
	case l == nil || (l.Patient == nil && l.Outcome == ""):
		b.State = BannerNotChecked
		b.Notice = "Patient details have not been checked with PDS yet. They are fetched with the referral; sync, or check the patient's identity in the letter."
		return b
	case l.Patient == nil && l.Outcome == PatientNotFound:
		b.State = BannerNotFound
		b.Notice = fmt.Sprintf("PDS has no patient with NHS number %s. Check the referral's NHS number in e-RS before deciding.", b.NHSNumber)
		return b
	case l.Patient == nil:
		b.State = BannerUnavailable
		b.Notice = "Patient details could not be checked: " + orText(l.Message, "PDS could not be reached.") + " Check the patient's identity in the letter."
		return b
	}

	p := *l.Patient
	b.State = BannerPatient
	b.Name = p.DisplayName()
	if !p.HasName() && p.Restriction.Restricted() {
		b.Name = "Name withheld (restricted record)"
	}
	b.BirthDate = p.BirthDate
	b.Gender = p.Gender.Label()
	if cur := NormalizeNHSNumber(p.NHSNumber); cur != "" {
		b.NHSNumber = FormatNHSNumber(cur)
	}
	b.CheckedAt = l.FetchedAt
	if !l.FetchedAt.IsZero() {
		b.DataAge = max(0, in.Now.Sub(l.FetchedAt))
		b.DataAgeText = "Checked with PDS " + agoText(b.DataAge)
	}
	on := in.Now
	if p.Deceased {
		b.Deceased = true
		b.DeceasedText = "Deceased"
		if !p.DeceasedDate.IsZero() {
			b.DeceasedText += " " + p.DeceasedDate.String()
			on = p.DeceasedDate.latest()
		}
	}
	if !p.BirthDate.IsZero() {
		b.Born = p.BirthDate.String()
		if !p.Deceased || !p.DeceasedDate.IsZero() {
			b.Age = AgeText(p.BirthDate, on)
		}
		switch {
		case b.Age == "":
		case p.Deceased:
			b.Born += " (died aged " + b.Age + ")"
		default:
			b.Born += " (" + b.Age + ")"
		}
	}
	switch p.Restriction {
	case RestrictionRestricted, RestrictionVeryRestricted:
		b.Restricted = true
		b.RestrictedText = "Restricted record: address, GP practice and contact details are not shown or kept."
	case RestrictionNone:
		b.GPPractice = p.GPPractice
	default:
		b.Restricted = true
		b.RestrictedText = "Restricted record (PDS did not say how): address, GP practice and contact details are not shown or kept."
	}
	if l.Superseded() {
		b.Superseded = true
		b.SupersededText = fmt.Sprintf("NHS number changed (record merged): the referral has %s; PDS's current number is %s. Check the patient's identity before deciding.",
			b.ReferralNHSNumber, b.NHSNumber)
	}
	if !l.Outcome.Definitive() && l.Outcome != "" {
		b.Stale = true
		b.Notice = fmt.Sprintf("PDS could not be checked just now (%s): these details are from %s.",
			strings.TrimSuffix(orText(l.Message, "PDS could not be reached"), "."), agoText(b.DataAge))
	}
	return b
}

func orText(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// Lines is the banner as text, one line each: the identity line (name,
// born, gender, NHS number, NHS CUI order and labels), then every marker
// and warning, the notice and the data's age. The CLI prints it and the
// vetting pack's cover page carries it.
func (b Banner) Lines() []string {
	var out []string
	switch b.State {
	case BannerPatient:
		out = append(out, fmt.Sprintf("%s   Born %s   Gender %s   NHS No. %s", b.Name, b.Born, b.Gender, b.NHSNumber))
	default:
		out = append(out, fmt.Sprintf("%s   NHS No. %s", b.Headline(), b.NHSNumber))
	}
	if b.Deceased {
		out = append(out, "DECEASED"+strings.TrimPrefix(b.DeceasedText, "Deceased"))
	}
	if b.Restricted {
		out = append(out, b.RestrictedText)
	}
	if b.Superseded {
		out = append(out, "WARNING: "+b.SupersededText)
	}
	for _, f := range b.Flags {
		out = append(out, "WARNING: "+f.Text)
	}
	if b.Notice != "" {
		out = append(out, b.Notice)
	}
	if b.DataAgeText != "" && !b.Stale {
		out = append(out, b.DataAgeText+".")
	}
	return out
}

// Headline is the banner's first words: the patient's name, or what
// stands in its place when PDS has no demographics for the referral.
func (b Banner) Headline() string {
	switch b.State {
	case BannerPatient:
		return b.Name
	case BannerNotFound:
		return "Patient not found in PDS"
	case BannerInvalidNumber:
		return "Invalid NHS number"
	case BannerUnavailable:
		return "Patient details could not be checked"
	case BannerNoPDS:
		return "Patient details not available"
	}
	return "Patient details not checked yet"
}

// AgeText is a person's age on a date, as the banner shows it: whole years
// ("75y") from two years old, whole months ("14m") under two, days ("9d")
// under four weeks. For a partial date of birth the age is the range it
// could be ("75-76y") unless that is one value. It is "" for an unknown or
// future date of birth.
func AgeText(birth PartialDate, on time.Time) string {
	if birth.IsZero() {
		return ""
	}
	day := time.Date(on.Year(), on.Month(), on.Day(), 0, 0, 0, 0, time.UTC)
	lo, hi := yearsBetween(birth.latest(), day), yearsBetween(birth.earliest(), day)
	if hi < 0 || birth.earliest().After(day) {
		return ""
	}
	lo = max(lo, 0)
	if lo != hi {
		return fmt.Sprintf("%d-%dy", lo, hi)
	}
	if hi >= 2 || !birth.Complete() {
		return fmt.Sprintf("%dy", hi)
	}
	start := birth.earliest()
	if days := int(day.Sub(start).Hours() / 24); days < 28 {
		return fmt.Sprintf("%dd", days)
	}
	months := (day.Year()-start.Year())*12 + int(day.Month()) - int(start.Month())
	if day.Day() < start.Day() {
		months--
	}
	return fmt.Sprintf("%dm", months)
}

// yearsBetween is the number of whole years from a to b.
func yearsBetween(a, b time.Time) int {
	y := b.Year() - a.Year()
	if b.Month() < a.Month() || (b.Month() == a.Month() && b.Day() < a.Day()) {
		y--
	}
	return y
}

// agoText says how long ago something was, for the banner's data age.
func agoText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	}
	return plural(int(d/(24*time.Hour)), "day") + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
