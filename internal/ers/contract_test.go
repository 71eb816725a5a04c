package ers

// End-to-end contract tests: the published e-RS example responses served by
// the fake and read through the client (skipped when ../shared/ers-examples
// is absent).

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestContractDownloads(t *testing.T) {
	cri := testutil.Example(t, "stu3/retrieveClinicalInformation/responses/000000070000_Clinical_Information_Summary_20210706114852.pdf")
	attR4 := testutil.Example(t, "r4/retrieveAttachment/example_attachment.pdf")
	attSTU3 := testutil.Example(t, "stu3/retrieveAttachment/responses/example_attachment.pdf")
	f := newFake(t)
	f.handle("POST", "/referrals/FHIR/STU3/ReferralRequest/000000070000/$ers.generateCRI", respond(200, cri,
		"Content-Type", "application/pdf", "Content-Disposition", "attachment; filename=000000070000_Clinical_Information_Summary_20210706114852.pdf"))
	// As in the hosted sandbox, the redirect stays on the same host.
	f.handle("GET", "/referrals/FHIR/R4/Binary/c5d2d200-7613-4a0a-9c6b-a1a7e8a1e2a1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/object-store/example_attachment.pdf?signature=abc")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	f.handle("GET", "/object-store/example_attachment.pdf", respond(200, attR4, "Content-Type", "application/pdf"))
	f.handle("GET", "/referrals/FHIR/STU3/Binary/att-70000-70001", respond(200, attSTU3, "Content-Type", "application/pdf"))
	c, _ := testClient(t, f)
	ctx := context.Background()

	file, err := c.ClinicalInformation(ctx, "000000070000")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file.Data, cri) || !bytes.HasPrefix(file.Data, []byte("%PDF")) ||
		file.FileName != "000000070000_Clinical_Information_Summary_20210706114852.pdf" {
		t.Errorf("CRI: %d bytes, name %q", len(file.Data), file.FileName)
	}
	file, err = c.Attachment(ctx, "Binary/c5d2d200-7613-4a0a-9c6b-a1a7e8a1e2a1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file.Data, attR4) || file.Meta.Op != "A042" {
		t.Errorf("A042: %d bytes via %s", len(file.Data), file.Meta.Op)
	}
	for _, r := range f.requests() {
		if r.Path == "/object-store/example_attachment.pdf" && r.Header.Get("Authorization") != "" {
			t.Error("the redirect target received the token, even on the same host")
		}
	}
	file, err = c.AttachmentSTU3(ctx, "att-70000-70001")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file.Data, attSTU3) {
		t.Errorf("A006: %d bytes", len(file.Data))
	}
}

func TestContractResponsesThroughClient(t *testing.T) {
	f := newFake(t)
	ex := func(rel string) http.HandlerFunc { return respond(200, testutil.Example(t, rel)) }
	f.handle("GET", "/referrals/FHIR/R4/PractitionerRole", ex("r4/retrieveBusinessFunctions/responses/PractitionerRoleBundle.json"))
	f.handle("GET", "/referrals/FHIR/R4/Practitioner", ex("r4/retrieveOboUsers/responses/PractitionerBundle.json"))
	f.handle("POST", "/referrals/FHIR/STU3/ReferralRequest/$ers.fetchworklist", ex("stu3/retrieveWorklist/responses/ReferralsForReview.json"))
	f.handle("GET", "/referrals/FHIR/STU3/ReferralRequest/000000070005", ex("stu3/retrieveReferralRequest/responses/WithRelatedReferral.json"))
	f.handle("GET", "/referrals/FHIR/STU3/Task", ex("stu3/availableActionsForUserList/WithRecordReviewOutcome.json"))
	f.handle("GET", "/referrals/FHIR/STU3/CodeSystem/APPOINTMENT-CANCELLATION-REASON", ex("stu3/getCodeSystem/responses/AppointmentCancellationReasonCodeSystem.json"))
	f.handle("POST", "/referrals/FHIR/STU3/ReferralRequest/000000070001/$ers.rejectReferral",
		respond(422, testutil.Example(t, "stu3/STU3-SandboxErrorOutcome.json")))
	c, _ := testClient(t, f, func(cfg *Config) { cfg.TokenSource = nil })
	c = c.WithIdentity(triage.Identity{ODS: "R69", BusinessFunction: triage.RoleServiceProviderClinician})
	ctx := context.Background()

	roles := must(c.PractitionerRoles(ctx))
	if len(roles.Roles) != 2 || roles.Roles[0].ODS != "R69" || !roles.Roles[0].CanVet() {
		t.Errorf("roles %+v", roles.Roles)
	}
	if users := must(c.OnBehalfOfUsers(ctx)); len(users.Users) != 1 || users.Users[0].SDSUserID != "111111111111" {
		t.Errorf("users %+v", users.Users)
	}
	wl := must(c.Worklist(ctx, triage.ListReferralsForReview, triage.WorklistFilter{}))
	if len(wl.Items) != 2 || wl.Items[0].UBRN != "000000070002" || wl.Items[1].Version != 12 {
		t.Errorf("worklist %+v", wl.Items)
	}
	ref := must(c.Referral(ctx, "000000070005"))
	if ref.Version != 5 || !slices.Equal(ref.Referral.UBRNsToRead(), []string{"000000070005", "000000070004"}) {
		t.Errorf("referral v%d related %v", ref.Version, ref.Referral.RelatedUBRNs)
	}
	acts := must(c.AvailableActions(ctx, "000000070001", 6))
	if len(acts.Actions) != 1 || acts.Actions[0] != triage.ActionRecordReviewOutcome {
		t.Errorf("actions %v", acts.Actions)
	}
	cs := must(c.CodeSystem(ctx, triage.CodeSystemAppointmentCancellationReason))
	rd := &triage.ReferenceData{Systems: map[triage.CodeSystemType]triage.CodeSystem{cs.CodeSystem.Type: cs.CodeSystem}}
	reasons := rd.RejectReasons(wl.AsOf)
	if len(reasons) != 5 {
		t.Errorf("%d reject reasons", len(reasons))
	}

	// A decision built from the live reference data: its reason is sent with
	// the code system URL A004 gave, which is what e-RS expects.
	d := triage.Decision{Kind: triage.DecisionReject, UBRN: "000000070001", BaseVersion: 6,
		Reason: triage.Coding{System: cs.CodeSystem.URL, Code: "SERVICE_INAPPROPRIATE"}, Comments: "This is a short comment"}
	_, err := c.Decide(ctx, d)
	jsonEq(t, f.last().Body, testutil.Example(t, "stu3/rejectReferral/requests/BasicExampleDbs.json"))
	// The sandbox's own error body is read as a 422 refusal.
	var e *Error
	if !errors.As(err, &e) || e.Code != "SANDBOX_ERROR" || e.Class != Permanent || !strings.Contains(e.Message, "Sandbox error") {
		t.Errorf("sandbox error %v", err)
	}
}
