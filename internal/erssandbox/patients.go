package erssandbox

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// ErrUnknownPatient is returned for an NHS number the sandbox's patient
// registry does not hold.
var ErrUnknownPatient = errors.New("no patient with that NHS number in the sandbox")

// PDSScenario names a special case of the sandbox's PDS data. Each is the
// patient of one referral among the first generated (with the default
// 60 referrals, all are present).
type PDSScenario string

// The PDS scenarios.
const (
	// ScenarioRestricted: a restricted (sensitive, "R") record: PDS
	// returns no address, GP or contact details.
	ScenarioRestricted PDSScenario = "restricted"
	// ScenarioDeceased: PDS records the patient's death (formal
	// notification) three days before the data's date.
	ScenarioDeceased PDSScenario = "deceased"
	// ScenarioSuperseded: the referral's NHS number was merged into
	// another; PDS answers with the surviving record.
	ScenarioSuperseded PDSScenario = "superseded"
	// ScenarioNotFound: PDS has no record with the referral's NHS number.
	ScenarioNotFound PDSScenario = "not-found"
	// ScenarioWrongPatientLetter: the referral letter names another
	// patient (another NHS number and date of birth) than the referral.
	ScenarioWrongPatientLetter PDSScenario = "wrong-patient-letter"
)

// scenarioByIndex assigns the scenarios to referrals among the coverage
// profiles, all on Referrals for Review.
var scenarioByIndex = map[int]PDSScenario{
	0: ScenarioWrongPatientLetter,
	1: ScenarioNotFound,
	3: ScenarioRestricted,
	4: ScenarioSuperseded,
	9: ScenarioDeceased,
}

// SyntheticPatient is one person in the sandbox's registry: the patient of
// every referral with their NHS number, as the letters name them and PDS
// returns them. Every name is fictional and marked synthetic.
type SyntheticPatient struct {
	NHSNumber   string
	Given       string
	Family      string
	Title       string
	Gender      triage.Gender
	BirthDate   time.Time
	Restriction triage.Restriction
	// Deceased is the date of death, zero for a living patient.
	Deceased time.Time
	// GPName, Practice and PracticeODS are the registered GP and practice
	// (PDS returns the practice only for an unrestricted record).
	GPName      string
	Practice    string
	PracticeODS string
	// AddressLine, Postcode and Phone are synthetic contact details PDS
	// returns for an unrestricted record only.
	AddressLine string
	Postcode    string
	Phone       string
	// MergedInto is the surviving NHS number when this one was superseded;
	// PDS then answers with that record.
	MergedInto string
	// NotInPDS: PDS answers 404 for this number.
	NotInPDS bool
	// Version is PDS's meta.versionId.
	Version int
}

// LetterName is how a letter names the patient: "Ella MARSH (synthetic
// patient)".
func (p SyntheticPatient) LetterName() string {
	return fmt.Sprintf("%s %s (synthetic patient)", p.Given, strings.ToUpper(p.Family))
}

// Sex is the patient's sex as a letter writes it.
func (p SyntheticPatient) Sex() string {
	if p.Gender == triage.GenderMale {
		return "Male"
	}
	return "Female"
}

// registry holds the sandbox's synthetic patients by NHS number, so every
// referral of a patient (related referrals share an NHS number) and PDS
// name the same person.
type registry struct {
	mu    sync.Mutex
	seed  uint64
	asOf  time.Time
	byNHS map[string]*SyntheticPatient
	// scenario UBRNs, and the NHS number each wrong-patient letter names.
	scenarios    map[PDSScenario]string
	letterPerson map[string]string // UBRN -> NHS number of the letter's patient
}

func newRegistry(seed uint64, asOf time.Time) *registry {
	return &registry{seed: seed, asOf: asOf, byNHS: map[string]*SyntheticPatient{},
		scenarios: map[PDSScenario]string{}, letterPerson: map[string]string{}}
}

// personFor makes the person with an NHS number: it depends only on the
// seed and the number, never on which referral asks first.
func personFor(seed uint64, nhs string, female bool) *SyntheticPatient {
	h := fnv.New64a()
	h.Write([]byte(nhs))
	rng := rand.New(rand.NewPCG(seed, h.Sum64()))
	male := !female && rng.IntN(2) == 0
	p := &SyntheticPatient{NHSNumber: nhs, Gender: triage.GenderFemale, Restriction: triage.RestrictionNone, Version: 1 + rng.IntN(5)}
	given, titles := femaleNames, []string{"Mrs", "Ms", "Miss"}
	if male {
		p.Gender, given, titles = triage.GenderMale, maleNames, []string{"Mr"}
	}
	p.Given = pick(rng, given)
	p.Family = pick(rng, familyNames)
	p.Title = pick(rng, titles)
	p.BirthDate = time.Date(1935+rng.IntN(70), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	i := rng.IntN(len(practices))
	p.GPName = pick(rng, gpNames) + " (synthetic GP)"
	p.Practice = practices[i] + " (synthetic practice)"
	p.PracticeODS = fmt.Sprintf("Y9%04d", 100+i)
	p.AddressLine = fmt.Sprintf("%d %s Road (synthetic address)", 1+rng.IntN(200), pick(rng, familyNames))
	p.Postcode = fmt.Sprintf("ZZ%d %dZZ", 1+rng.IntN(9), rng.IntN(10))
	p.Phone = fmt.Sprintf("01632 960%03d", rng.IntN(1000))
	return p
}

// ensure returns the patient with the NHS number, creating them. A patient
// with a gynaecology referral is female.
func (r *registry) ensure(nhs, specialty string) *SyntheticPatient {
	r.mu.Lock()
	defer r.mu.Unlock()
	female := specialty == "GYNAECOLOGY"
	p, ok := r.byNHS[nhs]
	if !ok || (female && p.Gender != triage.GenderFemale) {
		np := personFor(r.seed, nhs, female)
		if ok { // keep what scenarios set
			np.Restriction, np.Deceased, np.MergedInto, np.NotInPDS = p.Restriction, p.Deceased, p.MergedInto, p.NotInPDS
		}
		r.byNHS[nhs] = np
		p = np
	}
	return p
}

// get returns a copy of the patient with the NHS number.
func (r *registry) get(nhs string) (SyntheticPatient, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.byNHS[triage.NormalizeNHSNumber(nhs)]
	if !ok {
		return SyntheticPatient{}, false
	}
	return *p, true
}

// letterPatient is the person a referral's letter names: the referral's
// patient, or another one for the wrong-patient letter.
func (r *registry) letterPatient(ubrn, nhs string) (SyntheticPatient, bool) {
	r.mu.Lock()
	other := r.letterPerson[ubrn]
	r.mu.Unlock()
	if other != "" {
		return r.get(other)
	}
	return r.get(nhs)
}

// register adds the patients of newly generated referrals and sets up the
// PDS scenarios among the first ones. taken holds NHS numbers in use; new
// ones (the surviving record of a merge, the other patient of a
// wrong-patient letter) are drawn outside it.
func (r *registry) register(gs []*generated, taken map[string]bool) {
	for _, g := range gs {
		r.ensure(g.Ref.NHSNumber, g.Ref.Specialty.Code)
	}
	for _, g := range gs {
		sc, ok := scenarioByIndex[g.Extra.Index]
		if !ok {
			continue
		}
		fresh := func(stream uint64) string {
			rng := rngFor(r.seed, g.Extra.Index, stream)
			n := triage.SyntheticNHSNumber(rng)
			for taken["nhs:"+n] {
				n = triage.SyntheticNHSNumber(rng)
			}
			taken["nhs:"+n] = true
			return n
		}
		r.mu.Lock()
		p := r.byNHS[g.Ref.NHSNumber]
		r.scenarios[sc] = g.Ref.UBRN
		switch sc {
		case ScenarioRestricted:
			p.Restriction = triage.RestrictionRestricted
		case ScenarioDeceased:
			p.Deceased = r.asOf.AddDate(0, 0, -3)
		case ScenarioNotFound:
			p.NotInPDS = true
		case ScenarioSuperseded:
			survivor := *p
			survivor.NHSNumber, survivor.Version = fresh(12), p.Version+1
			p.MergedInto = survivor.NHSNumber
			r.byNHS[survivor.NHSNumber] = &survivor
		case ScenarioWrongPatientLetter:
			other := personFor(r.seed, fresh(13), false)
			for other.BirthDate.Equal(p.BirthDate) {
				other.BirthDate = other.BirthDate.AddDate(-1, 0, 0)
			}
			r.byNHS[other.NHSNumber] = other
			r.letterPerson[g.Ref.UBRN] = other.NHSNumber
		}
		r.mu.Unlock()
	}
}

// ScenarioUBRN returns the UBRN of the referral whose patient is the PDS
// scenario, and false when the data set is too small to include it.
func (s *Sandbox) ScenarioUBRN(sc PDSScenario) (string, bool) {
	s.store.patients.mu.Lock()
	defer s.store.patients.mu.Unlock()
	u, ok := s.store.patients.scenarios[sc]
	return u, ok
}

// Patient returns the registry's patient with the NHS number (as the
// letters and PDS show them), or ErrUnknownPatient.
func (s *Sandbox) Patient(nhsNumber string) (SyntheticPatient, error) {
	p, ok := s.store.patients.get(nhsNumber)
	if !ok {
		return SyntheticPatient{}, ErrUnknownPatient
	}
	return p, nil
}

// Patients returns every patient in the registry, by NHS number.
func (s *Sandbox) Patients() []SyntheticPatient {
	r := s.store.patients
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]SyntheticPatient, 0, len(r.byNHS))
	for _, p := range r.byNHS {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NHSNumber < out[j].NHSNumber })
	return out
}

// UpdatePatient changes a patient as PDS would see a change (a death, a
// restriction, a new name), bumping their PDS version. It returns
// ErrUnknownPatient for an NHS number not in the registry.
func (s *Sandbox) UpdatePatient(nhsNumber string, fn func(p *SyntheticPatient)) error {
	r := s.store.patients
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.byNHS[triage.NormalizeNHSNumber(nhsNumber)]
	if !ok {
		return ErrUnknownPatient
	}
	nhs := p.NHSNumber
	fn(p)
	p.NHSNumber = nhs
	p.Version++
	return nil
}
