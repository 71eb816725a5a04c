package triage

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePartialDate(t *testing.T) {
	for in, want := range map[string]PartialDate{
		"1950-03-12":                {1950, 3, 12},
		"1950-03":                   {1950, 3, 0},
		"1950":                      {1950, 0, 0},
		"2010-10-22T00:00:00+00:00": {2010, 10, 22},
	} {
		got, err := ParsePartialDate(in)
		if err != nil || got != want {
			t.Errorf("ParsePartialDate(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "50-03-12", "1950-13-01", "1950-02-30", "1950-3-1", "19x0", "1950-03-12-01"} {
		if _, err := ParsePartialDate(bad); err == nil {
			t.Errorf("ParsePartialDate(%q) accepted", bad)
		}
	}
	if s := (PartialDate{1950, 3, 12}).String(); s != "12-Mar-1950" {
		t.Errorf("String = %q", s)
	}
	if s := (PartialDate{1950, 3, 0}).String(); s != "Mar-1950" {
		t.Errorf("String = %q", s)
	}
	if s := (PartialDate{}).String(); s != NotKnown {
		t.Errorf("zero String = %q", s)
	}
}

func TestDisplayNameFollowsTheNHSFormat(t *testing.T) {
	cases := []struct {
		p    Patient
		want string
	}{
		{Patient{Family: "Smith", Given: []string{"Jane"}, Titles: []string{"MRS"}}, "SMITH, Jane (Mrs)"},
		{Patient{Family: "o'brien", Given: []string{"Mary Ann", "Louise"}, Titles: []string{"Dr."}}, "O'BRIEN, Mary Ann Louise (Dr)"},
		{Patient{Family: "Okafor"}, "OKAFOR"},
		{Patient{Given: []string{"Daniel"}}, "NOT KNOWN, Daniel"},
		{Patient{}, NotKnown},
	}
	for _, c := range cases {
		if got := c.p.DisplayName(); got != c.want {
			t.Errorf("DisplayName(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

func TestAgeText(t *testing.T) {
	on := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	cases := []struct {
		birth PartialDate
		want  string
	}{
		{PartialDate{1950, 3, 12}, "76y"},
		{PartialDate{1950, 3, 15}, "75y"},
		{PartialDate{1950, 3, 0}, "75-76y"},
		{PartialDate{1950, 0, 0}, "75-76y"},
		{PartialDate{2025, 1, 20}, "13m"},
		{PartialDate{2026, 3, 1}, "13d"},
		{PartialDate{2026, 4, 1}, ""},
		{PartialDate{}, ""},
	}
	for _, c := range cases {
		if got := AgeText(c.birth, on); got != c.want {
			t.Errorf("AgeText(%v) = %q, want %q", c.birth, got, c.want)
		}
	}
}

func TestPatientLookupApply(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	p := &Patient{NHSNumber: "9990001111", Family: "Okafor", Restriction: RestrictionRestricted, GPPractice: "Y12345"}
	var l PatientLookup
	l.Apply(PatientRead{Requested: "999 000 1111", Outcome: PatientFound, Patient: p, At: at})
	if l.Patient == nil || l.Patient.GPPractice != "" || l.Requested != "9990001111" {
		t.Fatalf("restricted record kept its GP practice or was not stored: %+v", l.Patient)
	}
	if p.GPPractice != "Y12345" {
		t.Fatal("Apply changed the caller's patient")
	}
	later := at.Add(time.Hour)
	l.Apply(PatientRead{Requested: "9990001111", Outcome: PatientUnreachable, At: later, Message: "PDS could not be reached."})
	if l.Patient == nil || !l.FetchedAt.Equal(at) || l.Outcome != PatientUnreachable || !l.AttemptedAt.Equal(later) {
		t.Fatalf("a failed read lost the last good details: %+v", l)
	}
	l.Apply(PatientRead{Requested: "9434765919", Outcome: PatientNotFound, At: later})
	if l.Patient == nil {
		t.Fatal("a read for another NHS number changed the lookup")
	}
	l.Apply(PatientRead{Requested: "9990001111", Outcome: PatientNotFound, At: later})
	if l.Patient != nil || l.Outcome != PatientNotFound {
		t.Fatalf("not found kept the old details: %+v", l)
	}
	u := Patient{Restriction: RestrictionNone, GPPractice: "A20047"}
	if u.Sanitized().GPPractice != "A20047" {
		t.Error("an unrestricted record lost its GP practice")
	}
	if (Patient{GPPractice: "A20047"}).Sanitized().GPPractice != "" {
		t.Error("a record without a stated restriction kept its GP practice")
	}
}

func bannerAt() time.Time { return time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC) }

func lookupOf(p Patient, requested string) *PatientLookup {
	l := &PatientLookup{}
	l.Apply(PatientRead{Requested: requested, Outcome: PatientFound, Patient: &p, At: bannerAt().Add(-3 * time.Minute)})
	return l
}

func TestBannerNormalPatient(t *testing.T) {
	p := Patient{NHSNumber: "9434765919", Family: "Hollis", Given: []string{"Margaret", "Ann"}, Titles: []string{"Mrs"},
		BirthDate: PartialDate{1950, 3, 12}, Gender: GenderFemale, Restriction: RestrictionNone, GPPractice: "Y12345"}
	b := BuildBanner(BannerInput{ReferralNHSNumber: "9434765919", Lookup: lookupOf(p, "9434765919"), Now: bannerAt()})
	if b.State != BannerPatient || b.Name != "HOLLIS, Margaret Ann (Mrs)" || b.Born != "12-Mar-1950 (76y)" ||
		b.Gender != "Female" || b.NHSNumber != "943 476 5919" || b.GPPractice != "Y12345" {
		t.Fatalf("banner = %+v", b)
	}
	if b.Warning() || b.Restricted || b.Deceased || b.Superseded {
		t.Errorf("a normal patient's banner warns: %+v", b)
	}
	lines := b.Lines()
	if lines[0] != "HOLLIS, Margaret Ann (Mrs)   Born 12-Mar-1950 (76y)   Gender Female   NHS No. 943 476 5919" {
		t.Errorf("identity line = %q", lines[0])
	}
	if !slices.Contains(lines, "Checked with PDS 3 minutes ago.") {
		t.Errorf("no data age in %q", lines)
	}
}

func TestBannerRestrictedPatientShowsOnlyWhatIsAllowed(t *testing.T) {
	p := Patient{NHSNumber: "9990001111", Family: "Okafor", Given: []string{"Daniel"}, Titles: []string{"Mr"},
		BirthDate: PartialDate{1984, 11, 2}, Gender: GenderMale, Restriction: RestrictionRestricted, GPPractice: "Y12345"}
	b := BuildBanner(BannerInput{ReferralNHSNumber: "9990001111", Lookup: lookupOf(p, "9990001111"), Now: bannerAt()})
	if !b.Restricted || b.GPPractice != "" || b.Name != "OKAFOR, Daniel (Mr)" {
		t.Fatalf("restricted banner = %+v", b)
	}
	text := strings.Join(b.Lines(), "\n")
	if strings.Contains(text, "Y12345") || !strings.Contains(text, "Restricted record") {
		t.Errorf("restricted banner text:\n%s", text)
	}
	noName := Patient{NHSNumber: "9990001111", Restriction: RestrictionVeryRestricted}
	b = BuildBanner(BannerInput{ReferralNHSNumber: "9990001111", Lookup: lookupOf(noName, "9990001111"), Now: bannerAt()})
	if b.Name != "Name withheld (restricted record)" || b.Born != NotKnown || b.Gender != NotKnown {
		t.Errorf("very restricted banner = %+v", b)
	}
}

func TestBannerDeceasedAndSuperseded(t *testing.T) {
	p := Patient{NHSNumber: "9434765870", Family: "Smith", Given: []string{"Jane"}, BirthDate: PartialDate{1940, 1, 5},
		Gender: GenderFemale, Restriction: RestrictionNone, Deceased: true, DeceasedDate: PartialDate{2026, 3, 10}}
	b := BuildBanner(BannerInput{ReferralNHSNumber: "9434765919", Lookup: lookupOf(p, "9434765919"), Now: bannerAt()})
	if !b.Deceased || b.DeceasedText != "Deceased 10-Mar-2026" || b.Born != "05-Jan-1940 (died aged 86y)" {
		t.Errorf("deceased banner = %+v", b)
	}
	if !b.Superseded || b.NHSNumber != "943 476 5870" || b.ReferralNHSNumber != "943 476 5919" || !b.Warning() {
		t.Errorf("superseded banner = %+v", b)
	}
	if !strings.Contains(b.SupersededText, "943 476 5919") || !strings.Contains(b.SupersededText, "943 476 5870") {
		t.Errorf("superseded text %q does not name both numbers", b.SupersededText)
	}
}

func TestBannerNeverBlank(t *testing.T) {
	now := bannerAt()
	cases := []struct {
		name string
		in   BannerInput
		want BannerState
	}{
		{"not checked", BannerInput{ReferralNHSNumber: "9434765919"}, BannerNotChecked},
		{"no PDS", BannerInput{ReferralNHSNumber: "9434765919", NoPDS: true}, BannerNoPDS},
		{"invalid", BannerInput{ReferralNHSNumber: "9434765918"}, BannerInvalidNumber},
		{"missing number", BannerInput{}, BannerInvalidNumber},
		{"not found", BannerInput{ReferralNHSNumber: "9434765919", Lookup: &PatientLookup{Requested: "9434765919", Outcome: PatientNotFound}}, BannerNotFound},
		{"unreachable", BannerInput{ReferralNHSNumber: "9434765919", Lookup: &PatientLookup{Requested: "9434765919", Outcome: PatientUnreachable, Message: "PDS could not be reached."}}, BannerUnavailable},
	}
	for _, c := range cases {
		c.in.Now = now
		b := BuildBanner(c.in)
		if b.State != c.want || b.Notice == "" || b.Name == "" || b.NHSNumber == "" {
			t.Errorf("%s: banner = %+v", c.name, b)
		}
		if lines := b.Lines(); len(lines) < 2 || strings.TrimSpace(lines[0]) == "" {
			t.Errorf("%s: lines = %q", c.name, lines)
		}
	}
	// Unreachable with older details: shown, with their age.
	p := Patient{NHSNumber: "9434765919", Family: "Hollis", Restriction: RestrictionNone}
	l := lookupOf(p, "9434765919")
	l.Apply(PatientRead{Requested: "9434765919", Outcome: PatientUnreachable, At: now, Message: "PDS could not be reached."})
	b := BuildBanner(BannerInput{ReferralNHSNumber: "9434765919", Lookup: l, Now: now.Add(2 * time.Hour)})
	if b.State != BannerPatient || !b.Stale || !strings.Contains(b.Notice, "2 hours ago") {
		t.Errorf("stale banner = %+v", b)
	}
}

func TestCheckIdentityFlagsALetterNamingAnotherPatient(t *testing.T) {
	pds := &Patient{NHSNumber: "9434765919", BirthDate: PartialDate{1950, 3, 12}}
	same := "Re: Margaret HOLLIS, born 12-Mar-1950, NHS number 943 476 5919\nDate of birth: 12/03/1950 NHS No. 9434765919"
	if f := CheckIdentity(IdentityCheckInput{Text: same, ReferralNHSNumber: "9434765919", Patient: pds}); len(f) != 0 {
		t.Fatalf("the right patient's letter was flagged: %+v", f)
	}
	other := "Patient: Roger KILLEN\nDOB: 21 June 1936\nNHS Number: 973-211-0317\nPhone 01632 960587, tel 0163 296 0587\n" +
		"Re: Roger KILLEN, born 21-Jun-1936, NHS number 973 211 0317"
	flags := CheckIdentity(IdentityCheckInput{Text: other, ReferralNHSNumber: "9434765919", Patient: pds})
	if len(flags) != 2 {
		t.Fatalf("flags = %+v, want one NHS number and one date of birth", flags)
	}
	if flags[0].Kind != FlagNHSNumber || flags[0].Found != "973 211 0317" || !strings.Contains(flags[0].Text, "943 476 5919") {
		t.Errorf("NHS number flag = %+v", flags[0])
	}
	if flags[1].Kind != FlagBirthDate || flags[1].Found != "21-Jun-1936" || flags[1].Expected != "12-Mar-1950" {
		t.Errorf("date of birth flag = %+v", flags[1])
	}
	// A merged record: the letter naming PDS's current number is fine.
	merged := &Patient{NHSNumber: "9732110317", BirthDate: PartialDate{1950, 3, 12}}
	if f := CheckIdentity(IdentityCheckInput{Text: "NHS Number: 973 211 0317", ReferralNHSNumber: "9434765919", Patient: merged}); len(f) != 0 {
		t.Errorf("PDS's current number flagged: %+v", f)
	}
	// Without PDS only NHS numbers can be checked; a partial PDS date
	// matches any day in it.
	if f := CheckIdentity(IdentityCheckInput{Text: other, ReferralNHSNumber: "9434765919"}); len(f) != 1 || f[0].Kind != FlagNHSNumber {
		t.Errorf("without PDS: %+v", f)
	}
	partial := &Patient{BirthDate: PartialDate{1936, 6, 0}}
	if f := CheckIdentity(IdentityCheckInput{Text: "DOB 21/06/1936", ReferralNHSNumber: "9434765919", Patient: partial}); len(f) != 0 {
		t.Errorf("a date within a partial date of birth flagged: %+v", f)
	}
}
