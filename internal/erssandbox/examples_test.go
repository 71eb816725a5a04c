package erssandbox

import (
	"net/http"
	"testing"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestPublishedExampleRequestsAccepted sends the request bodies published
// with the e-RS API, unchanged, for referrals in a matching state.
func TestPublishedExampleRequestsAccepted(t *testing.T) {
	testutil.ExamplesDir(t)
	// PENDING attachments stay pending: one becoming available bumps its
	// referral's version, and on a slow machine that happened after the
	// referral was picked (409 on a correct request).
	sb := start(t, Config{Referrals: 400, PendingDelay: -1})
	const ex = "stu3/"

	t.Run("A008", func(t *testing.T) {
		for _, name := range []string{"MinimalReferralsForReview", "MinimalAppointmentSlotIssues", "FilteringByService", "FilteringBySpecialty", "FilteringByClinician"} {
			rep := do(t, sb, "POST", rrPath+"$ers.fetchworklist", asSPC, testutil.Example(t, ex+"retrieveWorklist/requests/"+name+".json"))
			if rep.Status != http.StatusOK {
				t.Errorf("%s: %d %s", name, rep.Status, rep.Body)
				continue
			}
			if _, _, err := fhir.DecodeWorklist(rep.Body); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})

	// Each write example goes to a fresh referral of the right kind.
	used := map[string]bool{}
	fresh := func(t *testing.T, match func(triage.Referral) bool) triage.Referral {
		t.Helper()
		for _, r := range sb.Referrals(match) {
			if !used[r.UBRN] {
				used[r.UBRN] = true
				return r
			}
		}
		t.Fatal("no unused referral of the kind needed")
		return triage.Referral{}
	}
	dbs := func(r triage.Referral) bool {
		return reviewable(sb, triage.ReferralTypeAppointment, triage.BookingDirect)(r) && r.Priority != triage.PriorityUrgent
	}
	ibs := reviewable(sb, triage.ReferralTypeAppointment, triage.BookingIndirect)
	ras := func(r triage.Referral) bool {
		return reviewable(sb, triage.ReferralTypeTriageDeferral, "")(r) && r.Priority != triage.PriorityUrgent
	}
	triaged := func(r triage.Referral) bool {
		return r.State.State == triage.StateTriagedProviderToAction && r.Service.ID[0] == '3'
	}
	fromPractice := func(r triage.Referral) bool {
		return r.ReferrerODS == ReferrerODSPrefix+"01" && r.State.State != triage.StateCancelledReferral
	}
	asRC := as{ODS: ReferrerODSPrefix + "01", Function: string(triage.RoleReferringClinician)}

	cases := []struct {
		op, file, path string
		match          func(triage.Referral) bool
		who            as
		uploads        []string
		want           triage.ReferralState
	}{
		{"A014", "rejectReferral/requests/BasicExampleDbs.json", "$ers.rejectReferral", dbs, asSPC, nil, triage.StateRejected},
		{"A014", "rejectReferral/requests/BasicExampleIbs.json", "$ers.rejectReferral", ibs, asSPC, nil, triage.StateRejected},
		{"A022", "cancelAppointmentActionLater/requests/MinimalExampleDBS.json", "$ers.cancelAppointmentActionLater", dbs, asSPC, nil, triage.StateTriagedProviderToAction},
		{"A022", "cancelAppointmentActionLater/requests/MinimalExampleIBS.json", "$ers.cancelAppointmentActionLater", ibs, asSPC, nil, triage.StateTriagedProviderToAction},
		{"A022", "cancelAppointmentActionLater/requests/PriorityChangeAndWithAttachmentsDBS.json", "$ers.cancelAppointmentActionLater", dbs, asSPC,
			[]string{"b2b22a7e-b3e9-4625-8d2c-00507bfdffb5", "857b901d-1491-47d3-90e2-6c9f13f744dc"}, triage.StateTriagedProviderToAction},
		{"A028", "recordTriageOutcome/requests/AcceptReferBookLater.json", "$ers.recordReviewOutcome", ras, asSPC, nil, triage.StateTriagedProviderToAction},
		{"A028", "recordTriageOutcome/requests/ReturnToReferrerWithAdvice.json", "$ers.recordReviewOutcome", ras, asSPC, nil, triage.StateTriageResponse},
		{"A028", "recordTriageOutcome/requests/AttachmentIncluded.json", "$ers.recordReviewOutcome", ras, asSPC,
			[]string{"a7c98bb4-c0d0-4094-b26d-8dbd1677edc8"}, triage.StateTriageResponse},
		{"A036", "cancelReferral/requests/outpatientService.json", "$ers.cancelReferral", triaged, asSPC, nil, triage.StateCancelledReferral},
	}
	for _, name := range []string{"IntendPrivateWithComment", "IntendPrivateWithoutComment", "NoLongerRequired", "PatientRequestCancellationOther",
		"RaisedInError", "ReferrerCancellation", "bookedOutsideCabWithoutComment"} {
		cases = append(cases, struct {
			op, file, path string
			match          func(triage.Referral) bool
			who            as
			uploads        []string
			want           triage.ReferralState
		}{"A036", "cancelReferral/requests/" + name + ".json", "$ers.cancelReferral", fromPractice, asRC, nil, triage.StateCancelledReferral})
	}
	for _, tc := range cases {
		t.Run(tc.op+"/"+tc.file, func(t *testing.T) {
			r := fresh(t, tc.match)
			for i, id := range tc.uploads {
				if err := sb.PutUpload(id, r.UBRN, "provider-note-"+string(rune('a'+i))+".pdf", "application/pdf", []byte("%PDF-1.4 synthetic")); err != nil {
					t.Fatal(err)
				}
			}
			rep := do(t, sb, "POST", rrPath+r.UBRN+"/"+tc.path, tc.who, testutil.Example(t, ex+tc.file), ifm(r.Version)...)
			if rep.Status != http.StatusOK {
				t.Fatalf("%d %s", rep.Status, rep.Body)
			}
			var got *triage.Referral
			var err error
			if tc.op == "A036" {
				got, err = fhir.DecodeCancelReferralResponse(rep.Body)
			} else {
				got, err = fhir.DecodeReferral(rep.Body)
			}
			if err != nil || got.State.State != tc.want || got.Version != r.Version+1 {
				t.Fatalf("after %s: %v, state %s v%d, want %s v%d", tc.op, err, got.State.State, got.Version, tc.want, r.Version+1)
			}
			if n := len(tc.uploads); n > 0 {
				prov := 0
				for _, d := range got.Documents {
					if d.Type == triage.AttachmentProvider {
						prov++
					}
				}
				if prov != n {
					t.Errorf("%d provider attachments, want %d", prov, n)
				}
			}
		})
	}
}
