package engine

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// storedUBRNs returns the stored worklist's UBRNs, failing on a duplicate.
func storedUBRNs(t *testing.T, env *testEnv) map[string]triage.WorklistItem {
	t.Helper()
	snap, err := env.st.Worklist(context.Background(), triage.ListReferralsForReview)
	if err != nil {
		t.Fatalf("stored worklist: %v", err)
	}
	out := make(map[string]triage.WorklistItem, len(snap.Items))
	for _, it := range snap.Items {
		if _, dup := out[it.UBRN]; dup {
			t.Fatalf("referral %s is twice in the stored worklist", it.UBRN)
		}
		out[it.UBRN] = it
	}
	return out
}

// sandboxWorklist is e-RS's whole Referrals for Review worklist, by UBRN,
// with its services.
func sandboxWorklist(env *testEnv) (map[string]bool, map[string]bool) {
	ubrns, services := map[string]bool{}, map[string]bool{}
	for _, it := range env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS) {
		ubrns[it.UBRN], services[it.Service.ID] = true, true
	}
	return ubrns, services
}

func sameKeys[V any](t *testing.T, what string, got map[string]V, want map[string]bool) {
	t.Helper()
	missing, extra := 0, 0
	for u := range want {
		if _, ok := got[u]; !ok {
			missing++
		}
	}
	for u := range got {
		if !want[u] {
			extra++
		}
	}
	if missing > 0 || extra > 0 {
		t.Errorf("%s: %d referrals missing and %d extra (of %d)", what, missing, extra, len(want))
	}
}

// TestWorklistTooLargeForOneAnswerSyncsInParts pulls a 30,000-referral
// worklist (about 40 MB as one answer) from the sandbox with e-RS's 10 MB
// limit on: the pull is refused whole and split by specialty, and gives
// the whole worklist once per referral. (The next pull's one request per
// service is checked on a smaller worklist, in
// TestSplitWorklistPartNotReceivedKeepsItsReferrals.)
func TestWorklistTooLargeForOneAnswerSyncsInParts(t *testing.T) {
	// No retries, and time for a 40 MB answer under the race detector on a
	// loaded machine: every A008 counted is one the engine asked for.
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 30_000, Seed: 5, AdviceRequests: -1},
		client: ers.Config{MaxRetries: -1, ReadTimeout: 10 * time.Minute}})
	ctx := context.Background()
	want, _ := sandboxWorklist(env)
	if len(want) < 20_000 {
		t.Fatalf("sandbox worklist has %d referrals, want over 20,000", len(want))
	}
	env.sb.ResetStats()

	res, err := env.eng.Pull(ctx)
	if err != nil {
		t.Fatalf("first pull: %v", err)
	}
	sameKeys(t, "first pull", storedUBRNs(t, env), want)
	if res.Total != len(want) || res.New != len(want) || res.PartsFailed != 0 {
		t.Errorf("first pull %+v, want %d new", res, len(want))
	}
	req := env.sb.Stats().Requests
	specialties := len(env.sb.ReferenceData().Systems[triage.CodeSystemSpecialty].Concepts)
	// The refused whole, one per SPECIALTY code and one for no specialty;
	// the codes come from A004 once.
	if req["A008"] != 1+specialties+1 || req["A004"] > 1 || res.Parts != specialties+1 {
		t.Errorf("first pull: %d A008 (%d parts) and %d A004, want %d A008 and at most one A004",
			req["A008"], res.Parts, req["A004"], specialties+2)
	}

}

// TestSplitWorklistPartNotReceivedKeepsItsReferrals: when one part of a
// split worklist is not received, the referrals it would have listed stay
// on the worklist (nothing vanishes because a request failed), while the
// parts received still show referrals leaving; the next complete pull
// catches up.
func TestSplitWorklistPartNotReceivedKeepsItsReferrals(t *testing.T) {
	env := newTestEnv(t, envOptions{
		sandbox: erssandbox.Config{Referrals: 400, Seed: 9, AdviceRequests: -1, MaxWorklistBytes: 200_000},
		client:  ers.Config{MaxRetries: -1},
	})
	ctx := context.Background()
	want, _ := sandboxWorklist(env)
	if res, err := env.eng.Pull(ctx); err != nil || res.Parts < 2 {
		t.Fatalf("first pull %+v, %v: want a split", res, err)
	}
	before := storedUBRNs(t, env)
	sameKeys(t, "first pull", before, want)

	// The second pull asks one service at a time, in service id order: the
	// first part is the lowest service id. One referral leaves in that
	// service and one in another.
	var ids []string
	for _, it := range before {
		ids = append(ids, it.Service.ID)
	}
	slices.Sort(ids)
	failing := ids[0]
	var goneFailing, goneOther string
	for u, it := range before {
		switch {
		case it.Service.ID == failing && goneFailing == "":
			goneFailing = u
		case it.Service.ID != failing && goneOther == "":
			goneOther = u
		}
	}
	for _, u := range []string{goneFailing, goneOther} {
		if _, err := env.sb.SetState(u, triage.ReferralStatus{State: triage.StateRejected,
			Reason: triage.Coding{Code: "CLINICAL_APPROPRIATENESS"}, Comments: "Rejected in the e-RS web app."}); err != nil {
			t.Fatalf("set state: %v", err)
		}
	}
	env.sb.FailNext("A008", erssandbox.FaultServerError)
	res, err := env.eng.Pull(ctx)
	if !errors.Is(err, errWorklistIncomplete) {
		t.Fatalf("pull with one part failing: %v, want errWorklistIncomplete", err)
	}
	if res.PartsFailed != 1 || res.Left != 1 {
		t.Errorf("pull with one part failing %+v, want one part failed and one referral left", res)
	}
	got := storedUBRNs(t, env)
	for u, it := range before {
		_, ok := got[u]
		switch {
		case u == goneOther && ok:
			t.Errorf("the referral that left a received part is still on the worklist")
		case u != goneOther && !ok:
			t.Errorf("referral of service %s vanished from the worklist when one part failed", it.Service.ID)
		}
	}
	if st := env.eng.Status().State; st != StateOnline {
		t.Errorf("engine state %v after one part failed with 500, want online", st)
	}

	services := map[string]bool{}
	for _, it := range got {
		services[it.Service.ID] = true
	}
	env.sb.ResetStats()
	res, err = env.eng.Pull(ctx)
	if err != nil {
		t.Fatalf("pull after the failure: %v", err)
	}
	if n := env.sb.Stats().Requests["A008"]; n != len(services) || res.Parts != len(services) {
		t.Errorf("split pull: %d A008 (%d parts), want one per service (%d)", n, res.Parts, len(services))
	}
	if res.Left != 1 || res.PartsFailed != 0 {
		t.Errorf("complete pull %+v, want the failed part's leaver to leave", res)
	}
	want, _ = sandboxWorklist(env)
	sameKeys(t, "complete pull", storedUBRNs(t, env), want)
}

// TestSplitWorklistReturnsToOneRequest: once a split worklist has shrunk
// to under half its size, the whole worklist is asked for again.
func TestSplitWorklistReturnsToOneRequest(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 200, Seed: 3, AdviceRequests: -1, MaxWorklistBytes: 150_000}})
	ctx := context.Background()
	if res, err := env.eng.Pull(ctx); err != nil || res.Parts < 2 {
		t.Fatalf("first pull %+v, %v: want a split", res, err)
	}
	items := env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS)
	for _, it := range items[:len(items)*3/4] {
		if _, err := env.sb.SetState(it.UBRN, triage.ReferralStatus{State: triage.StateRejected,
			Reason: triage.Coding{Code: "CLINICAL_APPROPRIATENESS"}, Comments: "Rejected."}); err != nil {
			t.Fatalf("set state: %v", err)
		}
	}
	if _, err := env.eng.Pull(ctx); err != nil {
		t.Fatalf("second pull: %v", err)
	}
	env.sb.ResetStats()
	res, err := env.eng.Pull(ctx)
	if err != nil || res.Parts != 1 || env.sb.Stats().Requests["A008"] != 1 {
		t.Errorf("pull of the shrunk worklist %+v, %v, %d A008: want one request", res, err, env.sb.Stats().Requests["A008"])
	}
}

// TestFilterMatchesAgreesWithTheSplit checks the engine's reading of the
// parts it asks for against worklist items.
func TestFilterMatchesAgreesWithTheSplit(t *testing.T) {
	it := triage.WorklistItem{Service: triage.Service{ID: "30001"}, Specialty: triage.Coding{Code: "CARDIOLOGY"}, AllocatedClinician: "u1"}
	for _, c := range []struct {
		f    triage.WorklistFilter
		want bool
	}{
		{triage.WorklistFilter{}, true},
		{triage.WorklistFilter{Service: "30001"}, true},
		{triage.WorklistFilter{Service: "30002"}, false},
		{triage.WorklistFilter{SpecialtyAssigned: triage.AssignedYes, Specialty: triage.Coding{Code: "CARDIOLOGY"}}, true},
		{triage.WorklistFilter{SpecialtyAssigned: triage.AssignedYes, Specialty: triage.Coding{Code: "ENT"}}, false},
		{triage.WorklistFilter{SpecialtyAssigned: triage.AssignedNo}, false},
		{triage.WorklistFilter{ClinicianAssigned: triage.AssignedYes}, true},
		{triage.WorklistFilter{ClinicianAssigned: triage.AssignedNo}, false},
		{triage.WorklistFilter{Clinician: "u1"}, true},
		{triage.WorklistFilter{Clinician: "u2"}, false},
	} {
		if got := filterMatches(c.f, it); got != c.want {
			t.Errorf("filterMatches(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
}
