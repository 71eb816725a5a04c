package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// agRun runs the built triagectl with args and returns its output and exit
// status.
func agRun(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("triagectl %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// TestAdviceCommandsEndToEnd works through Advice and Guidance with real
// processes, on the same wiring as the referral commands: `triagectl
// sandbox` runs as its own process; `triagectl sync` pulls the A&G
// worklist and conversations; `ag worklist` lists response required first;
// `ag show` prints the conversation; `ag reply` refuses advice without an
// intended recommendation and queues a valid reply, which the next sync
// sends exactly once with its attached file (the sandbox's write log); a reply queued before the
// referrer wrote again is not sent, and `ag outbox` shows the referrer's
// new message beside it.
func TestAdviceCommandsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	bin := buildTriagectl(t, dir)
	port := strconv.Itoa(testutil.FreeLoopbackPort(t))
	sb := startSandboxProcess(t, bin, "--addr", "127.0.0.1:0", "--download-addr", "127.0.0.1:0", "--referrals", "3",
		"--advice", "12", "--redirect-uri", "http://127.0.0.1:"+port+"/callback")
	isolate := []string{"--profile", filepath.Join(dir, "profile"), "--dev-insecure-keyfile", filepath.Join(dir, "dev.key")}
	where := []string{"--env", "local", "--base-url", sb.base}
	run := func(ok bool, args ...string) string {
		t.Helper()
		full := append(append([]string{}, isolate...), args...)
		if len(args) == 0 || args[0] != "login" {
			full = append(full, where...)
		}
		out, errOut, code := agRun(t, bin, full...)
		if (code == 0) != ok {
			t.Fatalf("triagectl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
		}
		if !ok {
			return out + errOut
		}
		return out
	}
	run(true, strings.Fields(sb.login)[1:]...)
	if out := run(true, "sync"); !strings.Contains(out, "Advice and Guidance as of") {
		t.Fatalf("sync:\n%s", out)
	}
	var wl app.AdviceList
	if err := json.Unmarshal([]byte(run(true, "ag", "worklist", "--json")), &wl); err != nil {
		t.Fatal(err)
	}
	var due []string
	for i, r := range wl.Rows {
		if r.Category.ResponseRequired() {
			if i > len(due) {
				t.Fatal("a request needing a response is listed after one that does not")
			}
			due = append(due, r.UBRN)
		}
	}
	if len(due) < 2 {
		t.Fatalf("only %d requests need a response", len(due))
	}
	u, other := due[0], due[1]
	if out := run(true, "ag", "show", u); !strings.Contains(out, "a reply is based on version") {
		t.Fatalf("ag show:\n%s", out)
	}
	if out := run(false, "ag", "reply", u, "--outcome", "advice", "--guidance", "Synthetic advice."); !strings.Contains(out, "recommend") {
		t.Fatalf("advice without a recommendation was not refused with a reason:\n%s", out)
	}
	plan := filepath.Join(dir, "management plan.pdf")
	if err := os.WriteFile(plan, []byte("%PDF-1.4 synthetic plan"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(true, "ag", "reply", u, "--outcome", "advice", "--recommendation", string(triage.RecommendAdviceOnly),
		"--guidance", "Synthetic advice: no referral needed.", "--attach", plan); !strings.Contains(out, "Queued:") {
		t.Fatalf("ag reply:\n%s", out)
	}
	if out := run(true, "ag", "reply", other, "--outcome", "further-information", "--guidance", "Synthetic: please send the bloods."); !strings.Contains(out, "Queued:") {
		t.Fatalf("ag reply:\n%s", out)
	}
	// The referrer writes on the second conversation before it is sent.
	body := bytes.NewBufferString(`{"text":"Synthetic: new symptoms since I wrote."}`)
	resp, err := http.Post(sb.control+"/advice/"+other+"/reply", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("referrer reply: HTTP %d", resp.StatusCode)
	}
	if out := run(true, "sync"); !strings.Contains(out, "Advice and Guidance outbox: 1 sent, 1 conflict") {
		t.Fatalf("sync after replying:\n%s", out)
	}
	n := 0
	for _, w := range sb.stats(t).Writes {
		if w.Op == "A026" {
			n++
			if w.UBRN != u || !w.Applied {
				t.Errorf("write %+v", w)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d replies reached the sandbox, want exactly one", n)
	}
	if up := sb.stats(t).Requests["A020"]; up != 1 {
		t.Fatalf("the reply's file reached the sandbox %d times, want once", up)
	}
	var es []store.AdviceEntry
	if err := json.Unmarshal([]byte(run(true, "ag", "outbox", "--json")), &es); err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].State != triage.OutboxSent && es[1].State != triage.OutboxSent {
		t.Fatalf("ag outbox --json: %d entries %+v", len(es), es)
	}
	if out := run(true, "ag", "outbox"); !strings.Contains(out, "new symptoms since I wrote") {
		t.Fatalf("ag outbox does not show the referrer's new message:\n%s", out)
	}
}
