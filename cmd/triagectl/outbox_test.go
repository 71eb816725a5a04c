package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// refusingProxy passes requests to the sandbox, except that it refuses the
// next decision with e-RS's 422 when told to.
func refusingProxy(t *testing.T, sb *erssandbox.Sandbox) (base string, refuseNext *atomic.Bool) {
	t.Helper()
	target, err := url.Parse(sb.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	refusal := testutil.Testdata(t, "fhir/outcome-422-invalid-value.json")
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	refuseNext = &atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		decision := regexp.MustCompile(`/\$ers\.(acceptReferral|rejectReferral|cancelAppointmentActionLater|recordReviewOutcome)$`)
		if r.Method == http.MethodPost && decision.MatchString(r.URL.Path) && refuseNext.CompareAndSwap(true, false) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write(refusal)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + target.Path, refuseNext
}

// outboxIDs maps each UBRN to the ID of its latest decision in the
// `triagectl outbox` listing.
func outboxIDs(t *testing.T, out string) map[string]string {
	t.Helper()
	row := regexp.MustCompile(`(?m)^([0-9a-f]{32})\s+.*?\s(\d{12})\s`)
	ids := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(out, -1) {
		ids[m[2]] = m[1]
	}
	return ids
}

// The CLI's outbox does what the GUI's does, with the same rules and
// audit records: a failed decision is retried, or amended with decide's
// flags and sent; a queued one is cancelled; a conflict is acknowledged
// (after e-RS's view is shown) and then discarded, and not before.
func TestOutboxCommands(t *testing.T) {
	sb, _ := inProcessSandbox(t, false, 20)
	base, refuseNext := refusingProxy(t, sb)
	dir := t.TempDir()
	profile, keyfile := filepath.Join(dir, "profile"), filepath.Join(dir, "dev.key")
	where := []string{"--env", "local", "--base-url", base, "--profile", profile, "--dev-insecure-keyfile", keyfile}
	cmd := cliWith(t, where)
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := cmd(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		return out
	}
	must("login", "--no-sign-in", "--ods", erssandbox.ProviderODS)
	must("sync")
	var booked []string
	for _, r := range sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS) {
		ref, err := sb.Referral(r.UBRN)
		if err != nil {
			t.Fatal(err)
		}
		if r.Type == triage.ReferralTypeAppointment && ref.Booking() == triage.BookingDirect {
			booked = append(booked, r.UBRN)
		}
	}
	if len(booked) < 3 {
		t.Fatalf("only %d directly booked referrals", len(booked))
	}
	failing, queued, changing := booked[0], booked[1], booked[2]

	// A decision e-RS refuses (422) ends failed.
	must("decide", failing, "accept")
	refuseNext.Store(true)
	must("sync")
	ids := outboxIDs(t, must("outbox"))
	if code, _, errOut := cmd("outbox", "cancel", ids[failing]); code != 1 || !strings.Contains(errOut, "failed now") {
		t.Errorf("cancel of a failed decision: %d %q", code, errOut)
	}
	// Retry: queued again, and refused again.
	if out := must("outbox", "retry", ids[failing][:10]); !strings.Contains(out, "Queued again") {
		t.Errorf("retry: %s", out)
	}
	refuseNext.Store(true)
	must("sync")
	// Amend with decide's flags: redirect with a comment and a new
	// priority, then sent once.
	out := must("outbox", "amend", ids[failing], "redirect", "--comment", "Please book into the nurse-led clinic.", "--priority", "urgent")
	if !strings.Contains(out, "Amended: Redirect") {
		t.Errorf("amend: %s", out)
	}
	must("sync")
	// The two refusals were the proxy's; the sandbox saw the amended
	// decision only, once.
	if n, applied := writesFor(sb, failing); n != 1 || applied != 1 || sb.Stats().Writes[0].Op != "A022" {
		t.Errorf("%d writes reached e-RS for the amended referral (%d applied): %+v", n, applied, sb.Stats().Writes)
	}
	if r, _ := sb.Referral(failing); r.Priority != triage.PriorityUrgent {
		t.Errorf("the amended decision's priority did not reach e-RS: %s", r.Priority)
	}

	// Cancel a queued decision: it is never sent.
	must("decide", queued, "accept")
	ids = outboxIDs(t, must("outbox"))
	if out := must("outbox", "cancel", ids[queued]); !strings.Contains(out, "Cancelled") {
		t.Errorf("cancel: %s", out)
	}
	must("sync")
	if n, _ := writesFor(sb, queued); n != 0 {
		t.Errorf("a cancelled decision reached e-RS %d times", n)
	}

	// A conflict: discard is refused until it is acknowledged.
	must("decide", changing, "accept")
	if _, err := sb.ChangeLetter(changing, ""); err != nil {
		t.Fatal(err)
	}
	must("sync")
	ids = outboxIDs(t, must("outbox"))
	code, _, errOut := cmd("outbox", "discard", ids[changing])
	if code != 1 || !strings.Contains(errOut, "acknowledge the conflict first") || !strings.Contains(errOut, "triagectl outbox acknowledge "+ids[changing]) {
		t.Errorf("discard before acknowledging: %d %q", code, errOut)
	}
	out = must("outbox", "acknowledge", ids[changing])
	if !strings.Contains(out, "e-RS now says") || !strings.Contains(out, "Acknowledged") {
		t.Errorf("acknowledge: %s", out)
	}
	if out := must("outbox", "discard", ids[changing]); !strings.Contains(out, "Discarded") {
		t.Errorf("discard: %s", out)
	}
	if n, _ := writesFor(sb, changing); n != 0 {
		t.Errorf("the conflicting decision reached e-RS %d times", n)
	}
	if code, _, errOut := cmd("outbox", "retry", "ffffffffffff"); code != 1 || !strings.Contains(errOut, "no decision") {
		t.Errorf("unknown id: %d %q", code, errOut)
	}

	// The audit log holds what the GUI's outbox would have recorded.
	a, err := app.Open(context.Background(), app.Options{ProfileDir: profile, PolicyPath: filepath.Join(dir, "none.json"),
		Override: &config.EnvironmentChoice{Name: config.EnvLocal, FHIRBaseURL: base}, DevInsecureKeyfile: keyfile,
		KeyWarn: io.Discard, LockTimeout: -1, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	recs, err := a.AuditRecords(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	events := map[store.AuditEvent]int{}
	for _, r := range recs {
		events[r.Event]++
		if r.Who.SDSUserID != erssandbox.UserClinician {
			t.Errorf("audit record %s by %q", r.Event, r.Who.SDSUserID)
		}
	}
	for ev, n := range map[store.AuditEvent]int{store.EventRetryRequested: 1, store.EventDecisionAmended: 1, store.EventDecisionCancelled: 1,
		store.EventConflictShown: 1, store.EventConflictAcknowledged: 1, store.EventDecisionDiscarded: 1} {
		if events[ev] != n {
			t.Errorf("%d %s audit records, want %d (all: %v)", events[ev], ev, n, events)
		}
	}
}
