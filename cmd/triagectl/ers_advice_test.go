package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestERSAdviceCommands plays a conversation with the embedded sandbox
// through the raw A&G calls.
func TestERSAdviceCommands(t *testing.T) {
	sb, err := erssandbox.Start(context.Background(), erssandbox.Config{Referrals: 10, PendingDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	id := []string{"--base-url", sb.BaseURL(), "--ods", erssandbox.ProviderODS, "--business-function", string(triage.RoleServiceProviderClinician)}
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append(append([]string{"ers"}, args...), id...)...)
	}
	pick := func(allowed bool) erssandbox.AdviceState {
		for _, a := range sb.AdviceList(nil) {
			if a.ServiceODS == erssandbox.ProviderODS && a.Request.Category == triage.AdviceResponseRequired && a.Request.Conversion.Allows() == allowed {
				return a
			}
		}
		t.Fatal("no request")
		return erssandbox.AdviceState{}
	}
	a := pick(false)
	u, v := a.Request.UBRN, strconv.Itoa(a.Request.Version)
	dir := t.TempDir()

	code, out, errs := cli("ag-worklist")
	if code != 0 || !strings.Contains(out, "need a response") || !strings.Contains(out, u) || !strings.Contains(out, "Response required") ||
		!strings.Contains(out, "A023: HTTP 200") {
		t.Fatalf("ag-worklist: %d %s %s", code, out, errs)
	}
	if i, j := strings.Index(out, "Response required"), strings.Index(out, "Referrer reviewing advice"); i < 0 || j < 0 || i > j {
		t.Errorf("response required is not listed first:\n%s", out)
	}
	code, out, _ = cli("ag-request", u)
	if code != 0 || !strings.Contains(out, triage.FormatNHSNumber(a.Request.NHSNumber)) || !strings.Contains(out, "has not allowed conversion") {
		t.Errorf("ag-request: %d %s", code, out)
	}
	if code, out, _ = cli("ag-request", u, "--raw"); code != 0 || !strings.Contains(out, `"resourceType":"CommunicationRequest"`) {
		t.Errorf("ag-request --raw: %d %.200s", code, out)
	}
	code, out, _ = cli("ag-conversation", u)
	if code != 0 || !strings.Contains(out, a.Conversation.Messages[0].Text[:20]) || !strings.Contains(out, "oldest first") {
		t.Errorf("ag-conversation: %d %s", code, out)
	}
	pdf := filepath.Join(dir, "overview.pdf")
	if code, out, errs = cli("ag-overview", u, "--out", pdf); code != 0 || !strings.Contains(out, "Saved the advice and guidance overview") {
		t.Errorf("ag-overview: %d %s %s", code, out, errs)
	}
	if b, err := os.ReadFile(pdf); err != nil || !strings.HasPrefix(string(b), "%PDF") {
		t.Errorf("overview.pdf: %v", err)
	}

	// Refused before anything is sent.
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ag-reply", u, "--version", v, "--outcome", "advice", "--guidance", "Reassure."}, 1, "recommend"},
		{[]string{"ag-reply", u, "--version", v, "--outcome", "converted", "--guidance", "x"}, 1, "Choose an outcome"},
		{[]string{"ag-reply", u, "--outcome", "advice", "--guidance", "x"}, 2, "give --version"},
		{[]string{"ag-reply", u, "--version", strconv.Itoa(a.Request.Version - 1), "--outcome", "further-information", "--guidance", "x"}, 1, "changed since you read it"},
		{[]string{"ag-convert", u, "--version", v, "--guidance", "Converted.", "--review-comments", "Book."}, 1, "not allowed"},
		{[]string{"ag-reply", "--version", v}, 2, "UBRN"},
	} {
		code, _, errs := cli(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, %q; want %d %q", tt.args, code, errs, tt.code, tt.want)
		}
	}
	for _, w := range sb.Stats().Writes {
		t.Errorf("a write reached e-RS: %+v", w)
	}

	// Ask for further information; the referrer replies; return advice with
	// a file.
	code, out, errs = cli("ag-reply", u, "--version", v, "--outcome", "further-information", "--guidance", "Please send the ECG (synthetic).")
	if code != 0 || !strings.Contains(out, `"Waiting for further information"`) {
		t.Fatalf("ag-reply further information: %d %s %s", code, out, errs)
	}
	nv, err := sb.ReferrerReplies(u, "ECG attached (synthetic).")
	if err != nil {
		t.Fatal(err)
	}
	guidance := filepath.Join(dir, "guidance.txt")
	plan := filepath.Join(dir, "plan.pdf")
	if err := os.WriteFile(guidance, []byte("Start a beta blocker (synthetic)."), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plan, []byte("%PDF-1.4 synthetic plan"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = cli("ag-reply", u, "--version", strconv.Itoa(nv), "--outcome", "advice", "--recommendation", "referral_recommended",
		"--guidance-file", guidance, "--attach", plan, "--priority", "urgent")
	if code != 0 || !strings.Contains(out, "Uploaded plan.pdf") || !strings.Contains(out, `"Referrer reviewing advice"`) {
		t.Fatalf("ag-reply advice: %d %s %s", code, out, errs)
	}
	st, _ := sb.Advice(u)
	last := st.Conversation.Messages[len(st.Conversation.Messages)-1]
	if last.Text != "Start a beta blocker (synthetic)." || len(last.Documents) != 1 || st.Request.Priority != triage.PriorityUrgent {
		t.Errorf("after the advice: %+v %s", last, st.Request.Priority)
	}

	// Conversion where it is allowed.
	b := pick(true)
	code, out, errs = cli("ag-convert", b.Request.UBRN, "--version", strconv.Itoa(b.Request.Version), "--guidance", "Converted (synthetic).",
		"--review-comments", "Book routinely (synthetic).")
	if code != 0 || !strings.Contains(out, "Converted to referral "+b.Request.UBRN) || !strings.Contains(out, "A027: HTTP 201") {
		t.Errorf("ag-convert: %d %s %s", code, out, errs)
	}
	if code, _, errs := cli("ag-help"); code != 2 || !strings.Contains(errs, "unknown ers subcommand") {
		t.Errorf("unknown subcommand: %d %s", code, errs)
	}
	if code, out, _ := runCLI(t, "ers", "help"); code != 0 || !strings.Contains(out, "ag-conversation UBRN") {
		t.Errorf("help: %d %s", code, out)
	}
}
