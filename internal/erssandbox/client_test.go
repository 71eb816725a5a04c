package erssandbox_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

var asOf = time.Date(2026, time.March, 2, 0, 0, 0, 0, time.UTC)

func startSandbox(t *testing.T, cfg erssandbox.Config) *erssandbox.Sandbox {
	t.Helper()
	if cfg.AsOf.IsZero() {
		cfg.AsOf = asOf
	}
	sb, err := erssandbox.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}

// signIn runs the mock CIS2 login for a user the way Triage Desk does
// (authorization code with PKCE, client secret in the form) and returns a
// refreshing token source.
func signIn(t *testing.T, sb *erssandbox.Sandbox, user string) oauth2.TokenSource {
	t.Helper()
	id, secret, redirect := sb.OAuthClient()
	conf := &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: redirect, Scopes: []string{"nhs-cis2"},
		Endpoint: oauth2.Endpoint{AuthURL: sb.AuthBaseURL() + "/authorize", TokenURL: sb.AuthBaseURL() + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(conf.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", user)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return conf.TokenSource(context.Background(), tok)
}

func newClient(t *testing.T, sb *erssandbox.Sandbox, ts oauth2.TokenSource, id triage.Identity) *ers.Client {
	t.Helper()
	c, err := ers.New(ers.Config{BaseURL: sb.BaseURL(), TokenSource: ts, RateLimit: rate.Inf, RetryBaseDelay: 5 * time.Millisecond,
		ReadTimeout: 5 * time.Second, MaxRetryWait: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c.WithIdentity(id)
}

var clinician = triage.Identity{SDSUserID: erssandbox.UserClinician, ODS: erssandbox.ProviderODS, BusinessFunction: triage.RoleServiceProviderClinician}

func errOf(t *testing.T, err error) *ers.Error {
	t.Helper()
	var e *ers.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *ers.Error", err)
	}
	return e
}

// first returns the first worklist item matching.
func first(t *testing.T, items []triage.WorklistItem, match func(triage.WorklistItem) bool) triage.WorklistItem {
	t.Helper()
	for _, it := range items {
		if match(it) {
			return it
		}
	}
	t.Fatal("no worklist item matches")
	return triage.WorklistItem{}
}

// TestClientAgainstSandbox drives every endpoint through internal/ers, as
// the app does, with a signed-in clinician.
func TestClientAgainstSandbox(t *testing.T) {
	sb := startSandbox(t, erssandbox.Config{Auth: true, Referrals: 200, PendingDelay: -1})
	ctx := context.Background()
	c := newClient(t, sb, signIn(t, sb, erssandbox.UserClinician), clinician)

	roles, err := c.PractitionerRoles(ctx)
	if err != nil || len(roles.Roles) != 2 || roles.Meta.RequestID == "" {
		t.Fatalf("A030: %v %+v", err, roles)
	}

	rd := &triage.ReferenceData{Systems: map[triage.CodeSystemType]triage.CodeSystem{}}
	for _, typ := range triage.CodeSystemTypes {
		res, err := c.CodeSystem(ctx, typ)
		if err != nil {
			t.Fatalf("A004 %s: %v", typ, err)
		}
		rd.Systems[typ] = res.CodeSystem
	}
	rejects := rd.RejectReasons(asOf)
	if len(rejects) == 0 {
		t.Fatal("no reject reasons")
	}
	for _, r := range rejects {
		if r.Code == erssandbox.ExpiredRejectReason {
			t.Error("expired reject reason offered")
		}
	}

	rfr, err := c.Worklist(ctx, triage.ListReferralsForReview, triage.WorklistFilter{})
	if err != nil || len(rfr.Items) != len(sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS)) {
		t.Fatalf("A008 Referrals for Review: %v", err)
	}
	asi, err := c.Worklist(ctx, triage.ListAppointmentSlotIssues, triage.WorklistFilter{})
	if err != nil || len(asi.Items) == 0 {
		t.Fatalf("A008 Appointment Slot Issues: %v", err)
	}
	svc := rfr.Items[0].Service.ID
	filtered, err := c.Worklist(ctx, triage.ListReferralsForReview, triage.WorklistFilter{Service: svc})
	if err != nil || len(filtered.Items) == 0 || len(filtered.Items) >= len(rfr.Items) {
		t.Fatalf("A008 by service: %v", err)
	}

	// A005, versioned read, A007 and the attachments of a referral with some.
	withDocs := first(t, rfr.Items, func(it triage.WorklistItem) bool {
		r, _ := sb.Referral(it.UBRN)
		return len(r.Documents) > 0 && r.Documents[0].Availability == triage.AvailabilityAvailable
	})
	ref, err := c.Referral(ctx, withDocs.UBRN)
	if err != nil || ref.Version != withDocs.Version || ref.ETag != `W/"`+strconv.Itoa(withDocs.Version)+`"` {
		t.Fatalf("A005: %v %+v", err, ref)
	}
	if _, err := c.ReferralAtVersion(ctx, withDocs.UBRN, ref.Version); err != nil {
		t.Errorf("A005 current version: %v", err)
	}
	if _, err := c.ReferralAtVersion(ctx, withDocs.UBRN, ref.Version-1); err == nil || errOf(t, err).Code != "HISTORY_NOT_SUPPORTED" {
		t.Errorf("A005 old version: %v", err)
	}
	cri, err := c.ClinicalInformation(ctx, withDocs.UBRN)
	if err != nil || !bytes.HasPrefix(cri.Data, []byte("%PDF-")) || cri.ContentType != "application/pdf" ||
		!strings.HasPrefix(cri.FileName, withDocs.UBRN+"_Clinical_Information_Summary_") {
		t.Fatalf("A007: %v %q %q", err, cri.ContentType, cri.FileName)
	}
	doc := ref.Referral.Documents[0]
	att, err := c.Attachment(ctx, doc.URL)
	if err != nil || int64(len(att.Data)) != doc.Size || att.ContentType != doc.ContentType {
		t.Fatalf("A042: %v (%d bytes, want %d)", err, len(att.Data), doc.Size)
	}
	old, err := c.AttachmentSTU3(ctx, doc.ID)
	if err != nil || !bytes.Equal(old.Data, att.Data) {
		t.Errorf("A006: %v", err)
	}
	st := sb.Stats()
	if st.Requests["download"] != 1 || st.DownloadAuthRejected != 0 {
		t.Errorf("download host saw %d requests, %d with Authorization; want 1 and 0", st.Requests["download"], st.DownloadAuthRejected)
	}
	for _, r := range sb.Referrals(nil) {
		for _, d := range r.Documents {
			if d.Availability == triage.AvailabilityPending && strings.HasPrefix(r.Service.ID, "3") {
				_, err := c.Attachment(ctx, d.ID)
				if e := errOf(t, err); e.Class != ers.Pending || e.Code != "PENDING" {
					t.Errorf("pending attachment: class %s code %s", e.Class, e.Code)
				}
				goto donePending
			}
		}
	}
donePending:

	// A029 and the triage outcome with an uploaded attachment (A020, A028).
	ras := first(t, rfr.Items, func(it triage.WorklistItem) bool { return it.Type == triage.ReferralTypeTriageDeferral })
	acts, err := c.AvailableActions(ctx, ras.UBRN, ras.Version)
	if err != nil || len(acts.Actions) != 1 || acts.Actions[0] != triage.ActionRecordReviewOutcome {
		t.Fatalf("A029: %v %+v", err, acts)
	}
	up, err := c.UploadAttachment(ctx, ras.UBRN, triage.ProviderAttachment{FileName: "advice.txt", ContentType: "text/plain"}, []byte("Synthetic advice."))
	if err != nil {
		t.Fatalf("A020: %v", err)
	}
	res, err := c.Decide(ctx, triage.Decision{Kind: triage.DecisionReviewOutcome, UBRN: ras.UBRN, BaseVersion: ras.Version, By: clinician,
		Outcome: triage.OutcomeReturnToReferrerWithAdvice, Comments: "Advice attached.", DecidedAt: time.Now(),
		Attachments: []triage.ProviderAttachment{{BinaryID: up.BinaryID, FileName: "advice.txt", Description: "Advice"}}})
	if err != nil || res.Referral.State.State != triage.StateTriageResponse || res.Version != ras.Version+1 {
		t.Fatalf("A028: %v", err)
	}

	// A013 accept, A014 reject, A022 redirect.
	var dbs, ibs []triage.WorklistItem
	for _, it := range rfr.Items {
		if it.Type != triage.ReferralTypeAppointment {
			continue
		}
		if r, _ := sb.Referral(it.UBRN); r.Booking() == triage.BookingIndirect {
			ibs = append(ibs, it)
		} else {
			dbs = append(dbs, it)
		}
	}
	if res, err := c.AcceptReferral(ctx, dbs[0].UBRN, dbs[0].Version); err != nil || res.Referral.State.State != triage.StateBooked {
		t.Errorf("A013: %v", err)
	}
	reason := rejects[0]
	rejSys := rd.Systems[triage.CodeSystemAppointmentCancellationReason].URL
	if res, err := c.Decide(ctx, triage.Decision{Kind: triage.DecisionReject, UBRN: dbs[1].UBRN, BaseVersion: dbs[1].Version, By: clinician,
		Reason: triage.Coding{System: rejSys, Code: reason.Code}, Comments: "Please refer to the community service."}); err != nil || res.Referral.State.State != triage.StateRejected {
		t.Errorf("A014: %v", err)
	}
	no := false
	if res, err := c.Decide(ctx, triage.Decision{Kind: triage.DecisionRedirect, UBRN: ibs[0].UBRN, BaseVersion: ibs[0].Version, By: clinician,
		Comments: "Rebook into the general clinic.", AppointmentCancelledInPAS: &no}); err != nil || res.Referral.State.State != triage.StateTriagedProviderToAction {
		t.Errorf("A022: %v", err)
	}

	// A036: end triage of a referral triaged "provider to action".
	triaged := sb.Referrals(func(r triage.Referral) bool {
		return r.State.State == triage.StateTriagedProviderToAction && strings.HasPrefix(r.Service.ID, "3")
	})[0]
	end := rd.EndTriageReasons(asOf)[0]
	cancelled, err := c.CancelReferral(ctx, triaged.UBRN, triaged.Version,
		triage.Coding{System: rd.Systems[triage.CodeSystemReferralCancellationReason].URL, Code: end.Code}, "Sent straight to a test.")
	if err != nil || cancelled.Referral.State.State != triage.StateCancelledReferral {
		t.Errorf("A036: %v", err)
	}

	// A040 as a clinician admin acting for the clinician.
	admin := triage.Identity{SDSUserID: erssandbox.UserClinicianAdmin, ODS: erssandbox.ProviderODS,
		BusinessFunction: triage.RoleServiceProviderClinicianAdmin, OnBehalfOf: erssandbox.UserClinician}
	ac := newClient(t, sb, signIn(t, sb, erssandbox.UserClinicianAdmin), admin)
	obo, err := ac.OnBehalfOfUsers(ctx)
	if err != nil || len(obo.Users) != 2 {
		t.Errorf("A040: %v", err)
	}
	if _, err := ac.Referral(ctx, withDocs.UBRN); err != nil {
		t.Errorf("A005 on behalf of a clinician: %v", err)
	}

	got := sb.Stats()
	for _, op := range []string{"A004", "A005", "A006", "A007", "A008", "A013", "A014", "A020", "A022", "A028", "A029", "A030", "A036", "A040", "A042"} {
		if got.Requests[op] == 0 {
			t.Errorf("no %s request reached the sandbox", op)
		}
	}
}

// TestClientErrorClassesFromSandbox checks that what the sandbox answers is
// classified by the client as e-RS's answers would be.
func TestClientErrorClassesFromSandbox(t *testing.T) {
	sb := startSandbox(t, erssandbox.Config{Auth: true, Referrals: 200})
	ctx := context.Background()
	c := newClient(t, sb, signIn(t, sb, erssandbox.UserClinician), clinician)
	items := sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS)
	var dbs []triage.WorklistItem
	for _, it := range items {
		if r, _ := sb.Referral(it.UBRN); it.Type == triage.ReferralTypeAppointment && r.Booking() == triage.BookingDirect {
			dbs = append(dbs, it)
		}
	}
	next := func() triage.WorklistItem { it := dbs[0]; dbs = dbs[1:]; return it }

	t.Run("409 stale version", func(t *testing.T) {
		it := next()
		_, err := c.AcceptReferral(ctx, it.UBRN, it.Version-1)
		if e := errOf(t, err); e.Status != 409 || e.Class != ers.Conflict || e.MayHaveApplied() {
			t.Errorf("%d %s", e.Status, e.Class)
		}
	})
	t.Run("423 locked by someone else", func(t *testing.T) {
		it := next()
		release, _ := sb.LockReferral(it.UBRN)
		defer release()
		_, err := c.AcceptReferral(ctx, it.UBRN, it.Version)
		if e := errOf(t, err); e.Status != 423 || e.Class != ers.Conflict {
			t.Errorf("%d %s", e.Status, e.Class)
		}
	})
	t.Run("422 after another clinician rejected it", func(t *testing.T) {
		it := next()
		v, _ := sb.SetState(it.UBRN, triage.ReferralStatus{State: triage.StateRejected, Comments: "Rejected by a colleague."})
		_, err := c.AcceptReferral(ctx, it.UBRN, v)
		if e := errOf(t, err); e.Status != 422 || e.Code != "INVALID_REQUEST_STATE" || e.Class != ers.Conflict {
			t.Errorf("%d %s %s", e.Status, e.Code, e.Class)
		}
	})
	t.Run("401 without a valid token", func(t *testing.T) {
		bad := newClient(t, sb, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "stolen"}), clinician)
		_, err := bad.Referral(ctx, items[0].UBRN)
		if e := errOf(t, err); e.Status != 401 || e.Class != ers.AuthRequired {
			t.Errorf("%d %s", e.Status, e.Class)
		}
	})
	t.Run("403 role not allowed", func(t *testing.T) {
		admin := newClient(t, sb, signIn(t, sb, erssandbox.UserAdmin),
			triage.Identity{SDSUserID: erssandbox.UserAdmin, ODS: erssandbox.ProviderODS, BusinessFunction: triage.RoleServiceProviderAdmin})
		_, err := admin.Referral(ctx, items[0].UBRN)
		if e := errOf(t, err); e.Status != 403 || e.Class != ers.Forbidden {
			t.Errorf("%d %s", e.Status, e.Class)
		}
	})
	t.Run("429 then success is retried", func(t *testing.T) {
		sb.ResetStats()
		sb.FailNext("A005", erssandbox.FaultRateLimit)
		if _, err := c.Referral(ctx, items[0].UBRN); err != nil {
			t.Fatalf("read after one 429: %v", err)
		}
		if n := sb.Stats().Requests["A005"]; n != 2 {
			t.Errorf("%d A005 requests reached the sandbox, want 2", n)
		}
	})
	t.Run("reset read is retried", func(t *testing.T) {
		sb.ResetStats()
		sb.FailNext("A008", erssandbox.FaultReset)
		if _, err := c.Worklist(ctx, triage.ListReferralsForReview, triage.WorklistFilter{Service: items[0].Service.ID}); err != nil {
			t.Fatalf("worklist after a reset: %v", err)
		}
		if n := sb.Stats().Requests["A008"]; n != 2 {
			t.Errorf("%d A008 requests, want 2", n)
		}
	})
	t.Run("504 PAS not responding on reject", func(t *testing.T) {
		it := next()
		sb.FailNext("A014", erssandbox.FaultPASTimeout)
		_, err := c.Decide(ctx, triage.Decision{Kind: triage.DecisionReject, UBRN: it.UBRN, BaseVersion: it.Version, By: clinician,
			Reason: triage.Coding{System: "x/STU3/CodeSystem/APPOINTMENT-CANCELLATION-REASON", Code: "OTHER"}, Comments: "x"})
		if e := errOf(t, err); e.Status != 504 || e.Code != "PAS_NOT_RESPONDING" || e.Class != ers.Retryable {
			t.Errorf("%d %s %s", e.Status, e.Code, e.Class)
		}
		if r, _ := sb.Referral(it.UBRN); r.Version != it.Version {
			t.Error("the refused reject changed the referral")
		}
	})
	t.Run("write applied then dropped", func(t *testing.T) {
		it := next()
		sb.ResetStats()
		sb.FailNext("A013", erssandbox.FaultDropAfterApply)
		_, err := c.AcceptReferral(ctx, it.UBRN, it.Version)
		e := errOf(t, err)
		if e.Class != ers.Unreachable || !e.MayHaveApplied() {
			t.Errorf("class %s, may have applied %v", e.Class, e.MayHaveApplied())
		}
		if n := sb.Stats().Requests["A013"]; n != 1 {
			t.Errorf("the write was sent %d times; writes are never retried", n)
		}
		// Re-reading settles it: the accept was applied.
		res, err := c.Referral(ctx, it.UBRN)
		if err != nil || res.Version != it.Version+1 {
			t.Errorf("re-read: %v", err)
		}
		w := sb.Stats().Writes
		if len(w) != 1 || !w[0].Applied || !w[0].Dropped {
			t.Errorf("write log %+v", w)
		}
	})
	t.Run("503 with Retry-After", func(t *testing.T) {
		sb.ResetStats()
		sb.FailNext("A004", erssandbox.FaultUnavailable)
		if _, err := c.CodeSystem(ctx, triage.CodeSystemPriority); err != nil {
			t.Fatalf("read after a 503: %v", err)
		}
		if n := sb.Stats().Requests["A004"]; n != 2 {
			t.Errorf("%d A004 requests, want 2", n)
		}
	})
}
