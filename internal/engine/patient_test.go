package engine

import (
	"context"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// The engine reads each patient from PDS once, with the referral, and
// records the answer on every referral of that patient, sealed in the
// cache; a restricted patient's GP practice is never kept.
func TestOnePDSReadPerPatientSharedByTheirReferrals(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 300, Seed: 4}, pds: true})
	ctx := context.Background()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	items := env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS)
	patients := map[string][]string{}
	for _, it := range items {
		patients[it.NHSNumber] = append(patients[it.NHSNumber], it.UBRN)
	}
	shared := 0
	for _, us := range patients {
		if len(us) > 1 {
			shared++
		}
	}
	if shared == 0 {
		t.Fatal("no patient with two referrals on the worklist: the test proves nothing")
	}
	if got := env.sb.Stats().Requests[erssandbox.OpPDS]; got != len(patients) {
		t.Errorf("%d PDS reads for %d patients (%d referrals)", got, len(patients), len(items))
	}
	for nhs, us := range patients {
		var first *triage.Patient
		for _, u := range us {
			l, err := env.st.Patient(ctx, u)
			if err != nil {
				t.Fatalf("%s has no patient details: %v", u, err)
			}
			if l.Requested != nhs || !l.Outcome.Definitive() {
				t.Fatalf("%s: lookup %+v", u, l)
			}
			if l.Patient != nil && l.Patient.Restriction.Restricted() && l.Patient.GPPractice != "" {
				t.Errorf("%s: a restricted patient's GP practice was kept", u)
			}
			if first == nil {
				first = l.Patient
			} else if l.Patient != nil && l.Patient.DisplayName() != first.DisplayName() {
				t.Errorf("referrals of one patient have different details: %q, %q", l.Patient.DisplayName(), first.DisplayName())
			}
		}
	}
	for sc, want := range map[erssandbox.PDSScenario]func(l triage.PatientLookup) bool{
		erssandbox.ScenarioRestricted: func(l triage.PatientLookup) bool {
			return l.Patient != nil && l.Patient.Restriction == triage.RestrictionRestricted
		},
		erssandbox.ScenarioDeceased:   func(l triage.PatientLookup) bool { return l.Patient != nil && l.Patient.Deceased },
		erssandbox.ScenarioSuperseded: func(l triage.PatientLookup) bool { return l.Superseded() },
		erssandbox.ScenarioNotFound:   func(l triage.PatientLookup) bool { return l.Patient == nil && l.Outcome == triage.PatientNotFound },
	} {
		u, _ := env.sb.ScenarioUBRN(sc)
		if l, err := env.st.Patient(ctx, u); err != nil || !want(l) {
			t.Errorf("%s: %+v, %v", sc, l, err)
		}
	}

	// A second pull with nothing changed reads nobody again.
	before := env.sb.Stats().Requests[erssandbox.OpPDS]
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := env.sb.Stats().Requests[erssandbox.OpPDS]; got != before {
		t.Errorf("an unchanged worklist read PDS %d more times", got-before)
	}
}

// When a referral is re-read (it changed in e-RS), its patient is read from
// PDS again: a death recorded since shows.
func TestPatientRefreshedWhenTheReferralIsReRead(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 30, Seed: 5}, pds: true})
	ctx := context.Background()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	u := ordinaryReferral(t, env)
	ref, _ := env.sb.Referral(u)
	l, err := env.st.Patient(ctx, u)
	if err != nil || l.Patient == nil || l.Patient.Deceased {
		t.Fatalf("before: %+v, %v", l, err)
	}
	died := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
	if err := env.sb.UpdatePatient(ref.NHSNumber, func(p *erssandbox.SyntheticPatient) { p.Deceased = died }); err != nil {
		t.Fatal(err)
	}
	if _, err := env.sb.ChangeLetter(u, "Further results added (synthetic)."); err != nil {
		t.Fatal(err)
	}
	before := env.sb.Stats().Requests[erssandbox.OpPDS]
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	l, err = env.st.Patient(ctx, u)
	if err != nil || l.Patient == nil || !l.Patient.Deceased || l.Patient.DeceasedDate != triage.DateOf(died) {
		t.Fatalf("after the re-read: %+v, %v", l.Patient, err)
	}
	if got := env.sb.Stats().Requests[erssandbox.OpPDS] - before; got != 1 {
		t.Errorf("%d PDS reads for one changed referral", got)
	}
}

// PDS failing neither takes the engine offline nor loses the last details:
// the banner keeps them, with the failure noted, until PDS answers again.
func TestPDSFailureKeepsTheLastDetailsAndTheEngineOnline(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 12, Seed: 6}, pds: true,
		engine: func(c *Config) { c.PatientRefresh = time.Nanosecond }})
	ctx := context.Background()
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatal(err)
	}
	u := ordinaryReferral(t, env)
	first, err := env.st.Patient(ctx, u)
	if err != nil || first.Patient == nil {
		t.Fatalf("%+v, %v", first, err)
	}
	// Two failures, then PDS answers the engine's retry.
	env.sb.FailNext(erssandbox.OpPDS, erssandbox.FaultServerError)
	env.sb.FailNext(erssandbox.OpPDS, erssandbox.FaultServerError)
	events, stop := env.eng.Subscribe(64)
	defer stop()
	env.run()
	env.eng.Focus(u) // opening the referral re-reads its patient
	deadline := time.After(30 * time.Second)
	for failed := false; !failed; {
		select {
		case ev := <-events:
			if p, ok := ev.(PatientUpdated); ok && p.UBRN == u && p.Outcome == triage.PatientUnreachable {
				failed = true
			}
		case <-deadline:
			t.Fatal("no failed PDS read recorded")
		}
	}
	l, _ := env.st.Patient(ctx, u)
	if l.Patient == nil || l.Patient.DisplayName() != first.Patient.DisplayName() || l.Outcome != triage.PatientUnreachable {
		t.Errorf("after a failure: %+v", l)
	}
	b := triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: l.Requested, Lookup: &l, Now: time.Now()})
	if b.State != triage.BannerPatient || !b.Stale || b.Notice == "" {
		t.Errorf("banner after a failure: %+v", b)
	}
	if st := env.eng.Status().State; st != StateOnline {
		t.Errorf("PDS failing moved the engine to %s", st)
	}
	eventually(t, 30*time.Second, "PDS answering again", func() bool {
		l, _ := env.st.Patient(ctx, u)
		return l.Outcome == triage.PatientFound
	})
}

// Patient reads go in clinical order, as CRIs do: every 2WW patient before
// any routine one.
func TestPatientsReadInClinicalOrder(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 90, Seed: 21}, client: ers.Config{RateLimit: 40}, pds: true})
	items := env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS)
	priority := map[string]triage.Priority{}
	best := map[string]int{} // NHS number -> most urgent class among its referrals
	for _, it := range items {
		priority[it.UBRN] = it.Priority
		if r, ok := best[it.NHSNumber]; !ok || it.Priority.Rank() < r {
			best[it.NHSNumber] = it.Priority.Rank()
		}
	}
	if _, err := env.eng.SyncOnce(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var order []string
	seen := map[string]bool{}
	for _, c := range env.storeChanges() {
		if c.Kind == store.ChangePatient && !seen[c.UBRN] {
			seen[c.UBRN] = true
			order = append(order, c.UBRN)
		}
	}
	first, last := map[triage.Priority]int{}, map[triage.Priority]int{}
	for i, u := range order {
		p, ok := priority[u]
		if !ok {
			continue
		}
		if r, _ := env.sb.Referral(u); best[r.NHSNumber] < p.Rank() {
			continue // recorded with a more urgent referral of the same patient
		}
		if _, ok := first[p]; !ok {
			first[p] = i
		}
		last[p] = i
	}
	if _, ok := first[triage.PriorityTwoWeekWait]; !ok || len(order) < len(items)/2 {
		t.Fatalf("order %v", order)
	}
	if last[triage.PriorityTwoWeekWait] > first[triage.PriorityRoutine] || last[triage.PriorityUrgent] > first[triage.PriorityRoutine] {
		t.Errorf("a routine patient (position %d) was read before the last 2WW (%d) or urgent (%d) one",
			first[triage.PriorityRoutine], last[triage.PriorityTwoWeekWait], last[triage.PriorityUrgent])
	}
}

// ordinaryReferral is a referral on the worklist whose patient is no PDS
// scenario.
func ordinaryReferral(t *testing.T, env *testEnv) string {
	t.Helper()
	special := map[string]bool{}
	for _, sc := range []erssandbox.PDSScenario{erssandbox.ScenarioRestricted, erssandbox.ScenarioDeceased,
		erssandbox.ScenarioSuperseded, erssandbox.ScenarioNotFound, erssandbox.ScenarioWrongPatientLetter} {
		if u, ok := env.sb.ScenarioUBRN(sc); ok {
			r, _ := env.sb.Referral(u)
			special[r.NHSNumber] = true
		}
	}
	for _, it := range env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS) {
		if !special[it.NHSNumber] {
			return it.UBRN
		}
	}
	t.Fatal("no ordinary referral")
	return ""
}
