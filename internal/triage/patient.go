package triage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Gender is a patient's administrative gender as PDS records it (from
// official documents; it may differ from the patient's identity).
type Gender string

// The genders PDS uses.
const (
	GenderMale    Gender = "male"
	GenderFemale  Gender = "female"
	GenderOther   Gender = "other"
	GenderUnknown Gender = "unknown"
)

// Label is the gender as the banner shows it ("Female"), or "Not Known"
// when PDS gave none.
func (g Gender) Label() string {
	switch g {
	case GenderMale:
		return "Male"
	case GenderFemale:
		return "Female"
	case GenderOther:
		return "Other"
	case GenderUnknown:
		return "Unknown"
	}
	return NotKnown
}

// NotKnown is shown for a demographic item PDS did not give (NHS CUI
// guidance), so a missing item never looks like an empty one.
const NotKnown = "Not Known"

// Restriction is a PDS record's confidentiality (meta.security).
type Restriction string

// The restriction levels.
const (
	// RestrictionNone is "U", unrestricted: all data.
	RestrictionNone Restriction = "U"
	// RestrictionRestricted is "R", restricted ("sensitive"): PDS removes
	// address, telecom, contacts and GP; the name may also be missing.
	RestrictionRestricted Restriction = "R"
	// RestrictionVeryRestricted is "V": any item may be missing.
	RestrictionVeryRestricted Restriction = "V"
	// RestrictionUnknown is a record whose restriction PDS did not state
	// (or stated with a code Triage Desk does not know). It is treated as
	// restricted.
	RestrictionUnknown Restriction = "?"
)

// ParseRestriction maps a meta.security code to a Restriction; anything
// other than U, R and V is RestrictionUnknown.
func ParseRestriction(code string) Restriction {
	switch r := Restriction(strings.ToUpper(strings.TrimSpace(code))); r {
	case RestrictionNone, RestrictionRestricted, RestrictionVeryRestricted:
		return r
	}
	return RestrictionUnknown
}

// Restricted reports whether the record's location and contact details
// (address, GP practice, phone, email) must never be shown or stored: true
// for R, V and an unstated restriction.
func (r Restriction) Restricted() bool { return r != RestrictionNone }

// PartialDate is a date PDS may know only in part: a year, a year and month,
// or a full date (data quality varies). The zero value is "not known".
type PartialDate struct {
	Year  int `json:"y,omitempty"`
	Month int `json:"m,omitempty"` // 0 when only the year is known
	Day   int `json:"d,omitempty"` // 0 when only the year and month are known
}

// ParsePartialDate reads a FHIR date or dateTime: "yyyy", "yyyy-mm",
// "yyyy-mm-dd", or a dateTime whose date part is taken as written
// ("2010-10-22T00:00:00+00:00" is 22 October 2010). It returns an error for
// anything else, including impossible dates.
func ParsePartialDate(s string) (PartialDate, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, 'T'); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, "-")
	if len(parts) < 1 || len(parts) > 3 || len(parts[0]) != 4 {
		return PartialDate{}, fmt.Errorf("%q is not a FHIR date", s)
	}
	var nums [3]int
	for i, p := range parts {
		if (i > 0 && len(p) != 2) || strings.TrimLeft(p, "0123456789") != "" {
			return PartialDate{}, fmt.Errorf("%q is not a FHIR date", s)
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return PartialDate{}, fmt.Errorf("%q is not a FHIR date", s)
		}
		nums[i] = n
	}
	d := PartialDate{Year: nums[0], Month: nums[1], Day: nums[2]}
	if !d.valid() {
		return PartialDate{}, fmt.Errorf("%q is not a real date", s)
	}
	return d, nil
}

// DateOf returns the full date of t (its year, month and day as written in
// t's location).
func DateOf(t time.Time) PartialDate {
	return PartialDate{Year: t.Year(), Month: int(t.Month()), Day: t.Day()}
}

func (d PartialDate) valid() bool {
	switch {
	case d.Year < 1 || d.Year > 9999:
		return false
	case d.Month == 0:
		return d.Day == 0
	case d.Month < 1 || d.Month > 12:
		return false
	case d.Day == 0:
		return true
	}
	t := time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC)
	return t.Day() == d.Day && int(t.Month()) == d.Month
}

// IsZero reports whether the date is not known at all.
func (d PartialDate) IsZero() bool { return d.Year == 0 }

// Complete reports whether the day is known.
func (d PartialDate) Complete() bool { return d.Day != 0 }

// String formats the date as the NHS banner does: "12-Mar-1950", "Mar-1950"
// or "1950"; NotKnown for the zero date.
func (d PartialDate) String() string {
	switch {
	case d.IsZero():
		return NotKnown
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%s-%04d", time.Month(d.Month).String()[:3], d.Year)
	}
	return fmt.Sprintf("%02d-%s-%04d", d.Day, time.Month(d.Month).String()[:3], d.Year)
}

// ISO formats the date as FHIR does: "1950-03-12", "1950-03" or "1950".
func (d PartialDate) ISO() string {
	switch {
	case d.IsZero():
		return ""
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%04d-%02d", d.Year, d.Month)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Matches reports whether a full date other is consistent with d as far as
// d is known ("1950" matches any day in 1950). A zero d matches nothing.
func (d PartialDate) Matches(other PartialDate) bool {
	if d.IsZero() || other.IsZero() || d.Year != other.Year {
		return false
	}
	if d.Month != 0 && other.Month != 0 && d.Month != other.Month {
		return false
	}
	if d.Day != 0 && other.Day != 0 && d.Day != other.Day {
		return false
	}
	return true
}

// earliest and latest are the first and last days d could be.
func (d PartialDate) earliest() time.Time {
	m, day := max(d.Month, 1), max(d.Day, 1)
	return time.Date(d.Year, time.Month(m), day, 0, 0, 0, 0, time.UTC)
}

func (d PartialDate) latest() time.Time {
	switch {
	case d.Month == 0:
		return time.Date(d.Year, 12, 31, 0, 0, 0, 0, time.UTC)
	case d.Day == 0:
		return time.Date(d.Year, time.Month(d.Month)+1, 0, 0, 0, 0, 0, time.UTC)
	}
	return d.earliest()
}

// Patient is a patient's demographics as the Personal Demographics Service
// (PDS) holds them, without protocol detail. It never holds an address,
// phone number or email, and holds the GP practice only for an unrestricted
// record (see Sanitized).
type Patient struct {
	// NHSNumber is the record's NHS number as PDS returned it (its id),
	// which differs from the number asked for when the record was merged.
	NHSNumber string `json:"nhsNumber"`
	// Family is the usual name's family name; Given its given names (the
	// first may hold several); Titles its prefixes (e.g. "Mrs").
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Titles []string `json:"titles,omitempty"`
	// BirthDate may be partial; zero when PDS gave none.
	BirthDate PartialDate `json:"birthDate,omitzero"`
	Gender    Gender      `json:"gender,omitempty"`
	// Deceased is set when PDS records a death; DeceasedDate is its date
	// (zero if PDS gave only a flag). DeathNotification is the notification
	// status code: "1" informal, "2" formal (registrar), "U" removed.
	Deceased          bool        `json:"deceased,omitempty"`
	DeceasedDate      PartialDate `json:"deceasedDate,omitzero"`
	DeathNotification string      `json:"deathNotification,omitempty"`
	Restriction       Restriction `json:"restriction"`
	// GPPractice is the ODS code of the registered GP practice; always ""
	// for a restricted record.
	GPPractice string `json:"gpPractice,omitempty"`
	// VersionID is PDS's meta.versionId, which changes with the record.
	VersionID string `json:"versionId,omitempty"`
}

// Sanitized returns a copy with everything a restricted record must never
// keep removed (the GP practice), and the slices copied.
func (p Patient) Sanitized() Patient {
	p.Given = append([]string(nil), p.Given...)
	p.Titles = append([]string(nil), p.Titles...)
	if p.Restriction == "" {
		p.Restriction = RestrictionUnknown
	}
	if p.Restriction.Restricted() {
		p.GPPractice = ""
	}
	return p
}

// HasName reports whether PDS gave any part of a name.
func (p Patient) HasName() bool { return p.Family != "" || len(p.Given) > 0 }

// DisplayName formats the name as the NHS banner does: "FAMILY, Given
// (Title)": the family name in capitals, a comma, the given names as
// recorded, and the first title in title case in brackets without a full
// stop. It is NotKnown when PDS gave no name.
func (p Patient) DisplayName() string {
	if !p.HasName() {
		return NotKnown
	}
	var b strings.Builder
	fam := strings.ToUpper(strings.TrimSpace(p.Family))
	if fam == "" {
		fam = strings.ToUpper(NotKnown)
	}
	b.WriteString(fam)
	if g := strings.Join(strings.Fields(strings.Join(p.Given, " ")), " "); g != "" {
		b.WriteString(", ")
		b.WriteString(g)
	}
	for _, t := range p.Titles {
		if t = titleCase(strings.TrimRight(strings.TrimSpace(t), ".")); t != "" {
			b.WriteString(" (" + t + ")")
			break
		}
	}
	return b.String()
}

// titleCase writes "MRS" and "mrs" as "Mrs".
func titleCase(s string) string {
	if s == "" {
		return s
	}
	r := []rune(strings.ToLower(s))
	r[0] = []rune(strings.ToUpper(string(r[0])))[0]
	return string(r)
}

// PatientOutcome is the result of the latest attempt to read a patient's
// record from PDS.
type PatientOutcome string

// The outcomes.
const (
	// PatientFound: PDS returned the record.
	PatientFound PatientOutcome = "found"
	// PatientNotFound: PDS has no record with that NHS number (or it was
	// invalidated).
	PatientNotFound PatientOutcome = "not-found"
	// PatientInvalidNumber: the NHS number is not valid (its check digit).
	PatientInvalidNumber PatientOutcome = "invalid-number"
	// PatientUnreachable: PDS could not be reached or was busy; try later.
	PatientUnreachable PatientOutcome = "unreachable"
	// PatientRefused: PDS refused Triage Desk (sign-in, registration or
	// role); trying again will not help until that is fixed.
	PatientRefused PatientOutcome = "refused"
	// PatientBadResponse: PDS answered with something that could not be
	// read, or a record for another patient.
	PatientBadResponse PatientOutcome = "bad-response"
)

// Definitive reports whether the outcome is PDS's answer about the patient
// (found, not found, invalid number) rather than a failure to get one.
func (o PatientOutcome) Definitive() bool {
	return o == PatientFound || o == PatientNotFound || o == PatientInvalidNumber
}

// PatientRead is the result of one PDS read, as the engine records it.
type PatientRead struct {
	// Requested is the NHS number asked for.
	Requested string
	Outcome   PatientOutcome
	// Patient is the record returned (Outcome PatientFound).
	Patient *Patient
	// At is when the answer arrived (this computer's clock); ServerTime is
	// PDS's Date header, when it sent one.
	At, ServerTime time.Time
	// Message explains a failure in plain English, without patient data.
	Message string
}

// PatientLookup is what is known about a referral's patient from PDS: the
// last demographics PDS returned and the outcome of the latest attempt. It
// is patient data and is kept only in the encrypted cache.
type PatientLookup struct {
	// Requested is the NHS number asked for: the referral's.
	Requested string `json:"requested"`
	// Patient is the last record PDS returned, kept through later failures
	// to reach PDS and dropped when PDS says it has no such patient.
	Patient *Patient `json:"patient,omitempty"`
	// FetchedAt is when Patient arrived (this computer's clock);
	// ServerTime is PDS's Date on that answer.
	FetchedAt  time.Time `json:"fetchedAt,omitzero"`
	ServerTime time.Time `json:"serverTime,omitzero"`
	// Outcome, AttemptedAt and Message describe the latest attempt.
	Outcome     PatientOutcome `json:"outcome"`
	AttemptedAt time.Time      `json:"attemptedAt,omitzero"`
	Message     string         `json:"message,omitempty"`
}

// Apply records a PDS read: a found record replaces the demographics
// (sanitized); "not found" and "invalid number" drop them, because PDS has
// said there is no such patient; any other failure keeps the last good
// demographics and notes the failure. A read for another NHS number than
// the lookup's is ignored.
func (l *PatientLookup) Apply(r PatientRead) {
	req := NormalizeNHSNumber(r.Requested)
	if l.Requested == "" {
		l.Requested = req
	}
	if req != l.Requested {
		return
	}
	l.Outcome, l.AttemptedAt, l.Message = r.Outcome, r.At, r.Message
	switch r.Outcome {
	case PatientFound:
		if r.Patient == nil {
			l.Outcome = PatientBadResponse
			return
		}
		p := r.Patient.Sanitized()
		l.Patient, l.FetchedAt, l.ServerTime = &p, r.At, r.ServerTime
	case PatientNotFound, PatientInvalidNumber:
		l.Patient, l.FetchedAt, l.ServerTime = nil, time.Time{}, time.Time{}
	}
}

// Sanitized returns a deep copy whose patient keeps nothing a restricted
// record must not.
func (l PatientLookup) Sanitized() PatientLookup {
	if l.Patient != nil {
		p := l.Patient.Sanitized()
		l.Patient = &p
	}
	return l
}

// Superseded reports whether PDS returned the record under another NHS
// number than the one asked for: the record was merged.
func (l PatientLookup) Superseded() bool {
	return l.Patient != nil && l.Patient.NHSNumber != "" && NormalizeNHSNumber(l.Patient.NHSNumber) != l.Requested
}
