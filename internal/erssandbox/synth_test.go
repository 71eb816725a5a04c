package erssandbox

import (
	"reflect"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func gen(seed uint64, n int) []*generated {
	return generate(genOptions{Seed: seed, Count: n, AsOf: testAsOf, SystemBase: "http://127.0.0.1:1/FHIR", Services: DefaultServices(), PendingDelay: -1})
}

func TestSameSeedSameData(t *testing.T) {
	a, b := gen(7, 500), gen(7, 500)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two data sets from seed 7 differ")
	}
	ra, rb := registered(7, a), registered(7, b)
	for i := range a {
		la := letterFor(7, a[i].Extra.Index, a[i].Ref.Specialty.Code, ra[a[i].Ref.NHSNumber])
		lb := letterFor(7, b[i].Extra.Index, b[i].Ref.Specialty.Code, rb[b[i].Ref.NHSNumber])
		if !reflect.DeepEqual(la, lb) {
			t.Fatalf("letter %d differs for the same seed", i)
		}
	}
	c := gen(8, 500)
	same := 0
	for i := range a {
		if a[i].Ref.NHSNumber == c[i].Ref.NHSNumber {
			same++
		}
	}
	if same > 5 {
		t.Errorf("seeds 7 and 8 share %d of 500 NHS numbers: the seed is not used", same)
	}
}

func TestSameSeedSameServedData(t *testing.T) {
	a := start(t, Config{Seed: 3, Referrals: 80})
	b := start(t, Config{Seed: 3, Referrals: 80})
	ra, rb := a.Referrals(nil), b.Referrals(nil)
	if len(ra) != 80 || len(rb) != 80 {
		t.Fatalf("got %d and %d referrals, want 80", len(ra), len(rb))
	}
	for i := range ra {
		// The code-system URLs carry each sandbox's own port.
		ra[i].Specialty.System, rb[i].Specialty.System = "", ""
		ra[i].ClinicType.System, rb[i].ClinicType.System = "", ""
		ra[i].State.Reason.System, rb[i].State.Reason.System = "", ""
		if !reflect.DeepEqual(ra[i], rb[i]) {
			t.Fatalf("referral %d differs between two sandboxes with seed 3:\n%+v\n%+v", i, ra[i], rb[i])
		}
	}
}

// TestDistribution checks the generated data against what demo mode, the
// tests and the benchmarks rely on, at the largest size.
func TestDistribution(t *testing.T) {
	gs := gen(1, MaxReferrals)
	n := float64(len(gs))
	specs, services, ubrns := map[string]bool{}, map[string]bool{}, map[string]bool{}
	prio := map[triage.Priority]int{}
	types := map[triage.ReferralType]int{}
	ctx := map[triage.RequestContextStatus]int{}
	kinds := map[docKind]int{}
	avail := map[triage.AvailabilityStatus]int{}
	related, maxDocs := 0, 0
	for _, g := range gs {
		r := g.Ref
		if err := triage.ValidateNHSNumber(r.NHSNumber); err != nil || !triage.IsSyntheticNHSNumber(r.NHSNumber) {
			t.Fatalf("NHS number %q is not a valid 999-range number: %v", r.NHSNumber, err)
		}
		if len(r.UBRN) != 12 || ubrns[r.UBRN] {
			t.Fatalf("UBRN %q is not 12 digits or is repeated", r.UBRN)
		}
		ubrns[r.UBRN] = true
		specs[r.Specialty.Code] = true
		services[r.Service.ID] = true
		prio[r.Priority]++
		types[r.Type]++
		ctx[g.Extra.ContextStatus]++
		if len(r.RelatedUBRNs) > 0 {
			related++
		}
		maxDocs = max(maxDocs, len(r.Documents))
		for i, d := range r.Documents {
			kinds[g.Attachments[i].Kind]++
			avail[d.Availability]++
		}
	}
	if len(specs) < 8 || len(services) < 12 {
		t.Errorf("%d specialties and %d services, want at least 8 and 12", len(specs), len(services))
	}
	between := func(what string, got int, lo, hi float64) {
		if f := float64(got) / n; f < lo || f > hi {
			t.Errorf("%s: %.1f%%, want %.0f–%.0f%%", what, 100*f, 100*lo, 100*hi)
		}
	}
	between("2WW", prio[triage.PriorityTwoWeekWait], 0.08, 0.12)
	between("urgent", prio[triage.PriorityUrgent], 0.22, 0.28)
	between("with related referrals", related, 0.03, 0.08)
	if types[triage.ReferralTypeAppointment] == 0 || types[triage.ReferralTypeTriageDeferral] == 0 {
		t.Errorf("referral types %v: want both", types)
	}
	for _, s := range triage.RequestContextStatuses {
		if ctx[s] == 0 {
			t.Errorf("no referral with request context status %s", s)
		}
	}
	if maxDocs != 4 {
		t.Errorf("at most %d attachments per referral, want 0 to 4", maxDocs)
	}
	for k := docKind(0); k < numDocKinds; k++ {
		if kinds[k] == 0 {
			t.Errorf("no %s attachment", docContentTypes[k])
		}
	}
	total := 0
	for _, c := range avail {
		total += c
	}
	if f := float64(avail[triage.AvailabilityAvailable]) / float64(total); f < 0.8 {
		t.Errorf("%.0f%% of attachments AVAILABLE, want most", 100*f)
	}
	if avail[triage.AvailabilityPending] == 0 || avail[triage.AvailabilityThreatsFound] == 0 {
		t.Errorf("attachment statuses %v: want some PENDING and some THREATS_FOUND", avail)
	}
}

// TestSmallSetCoversEverything checks that the default 60 referrals already
// show every case the app must handle.
func TestSmallSetCoversEverything(t *testing.T) {
	sb := start(t, Config{PendingDelay: -1})
	rs := sb.Referrals(nil)
	if len(rs) != DefaultReferrals {
		t.Fatalf("%d referrals, want %d", len(rs), DefaultReferrals)
	}
	rfr := sb.Worklist(triage.ListReferralsForReview, ProviderODS)
	asi := sb.Worklist(triage.ListAppointmentSlotIssues, ProviderODS)
	other := sb.Worklist(triage.ListReferralsForReview, SecondProviderODS)
	if len(rfr) == 0 || len(asi) == 0 || len(other) == 0 {
		t.Fatalf("worklists: %d for review and %d slot issues at R69, %d for review at RCD; want some of each", len(rfr), len(asi), len(other))
	}
	seen := map[string]bool{}
	for _, it := range rfr {
		seen[string(it.Type)] = true
		seen[string(it.ContextStatus)] = true
		seen[string(it.Priority)] = true
	}
	for _, want := range []string{"APPOINTMENT", "TRIAGE_DEFERRAL", "NEVER_REVIEWED", "LETTER_CHANGED", "PRIORITY_CHANGED",
		"PRIORITY_AND_LETTER_CHANGED", "ROUTINE", "URGENT", "TWO_WEEK_WAIT"} {
		if !seen[want] {
			t.Errorf("Referrals for Review at R69 has no %s item", want)
		}
	}
	var dbs, ibs, pending, threats, relatedN, triaged bool
	for _, r := range rs {
		dbs = dbs || r.Booking() == triage.BookingDirect
		ibs = ibs || r.Booking() == triage.BookingIndirect
		relatedN = relatedN || len(r.RelatedUBRNs) > 0
		triaged = triaged || r.State.State == triage.StateTriagedProviderToAction
		for _, d := range r.Documents {
			pending = pending || d.Availability == triage.AvailabilityPending
			threats = threats || d.Availability == triage.AvailabilityThreatsFound
		}
	}
	if !dbs || !ibs || !pending || !threats || !relatedN || !triaged {
		t.Errorf("DBS %v, IBS %v, PENDING %v, THREATS_FOUND %v, related %v, TRIAGED_PROVIDER_TO_ACTION %v: want all", dbs, ibs, pending, threats, relatedN, triaged)
	}
}

func TestLettersAreSynthetic(t *testing.T) {
	gs := gen(5, 200)
	reg := registered(5, gs)
	for i, g := range gs {
		l := letterFor(5, g.Extra.Index, g.Ref.Specialty.Code, reg[g.Ref.NHSNumber])
		for _, s := range []string{l.PatientName, l.GPName, l.Practice} {
			if !containsFold(s, "synthetic") {
				t.Fatalf("referral %d: %q is not marked synthetic", i, s)
			}
		}
		if l.Reason == "" || len(l.Medication) == 0 || len(l.Allergies) == 0 || len(l.History) == 0 {
			t.Fatalf("referral %d: letter is missing sections: %+v", i, l)
		}
	}
}

// registered puts generated referrals' patients in a registry and returns
// them by NHS number.
func registered(seed uint64, gs []*generated) map[string]SyntheticPatient {
	r := newRegistry(seed, testAsOf)
	r.register(gs, map[string]bool{})
	out := map[string]SyntheticPatient{}
	for _, g := range gs {
		out[g.Ref.NHSNumber], _ = r.get(g.Ref.NHSNumber)
	}
	return out
}
