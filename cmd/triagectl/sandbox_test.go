package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/testutil"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer = testutil.SyncBuffer

func TestSandboxCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--referrals", "40", "--seed", "5", "--auth", "off", "--latency", "1ms"}, &out, &errb)
	}()
	base := regexp.MustCompile(`FHIR base URL:\s+(\S+)`)
	var url string
	// The banner is complete when it says how to stop; the lines before
	// it are written one by one.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		printed := out.String()
		if m := base.FindStringSubmatch(printed); m != nil && strings.Contains(printed, "Press Ctrl-C to stop.") {
			url = m[1]
			break
		}
	}
	if url == "" {
		t.Fatalf("no base URL printed: %s %s", out.String(), errb.String())
	}
	for _, want := range []string{"Mock login:", "/oauth2-mock/authorize?", "Control API:", "Press Ctrl-C to stop.",
		"triagectl login --env local --base-url " + url + " --no-sign-in --ods R69 --business-function SERVICE_PROVIDER_CLINICIAN"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	req, _ := http.NewRequest("GET", url+"/STU3/CodeSystem/PRIORITY", nil)
	req.Header.Set("NHSD-End-User-Organisation-ODS", "R69")
	req.Header.Set("NHSD-eRS-Business-Function", "SERVICE_PROVIDER_CLINICIAN")
	req.Header.Set("X-Correlation-ID", "cli-test-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("A004: %d", resp.StatusCode)
	}
	// One log line per request, with the operation and ids, without the path.
	logged := ""
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !strings.Contains(logged, "cli-test-1"); time.Sleep(10 * time.Millisecond) {
		logged = errb.String()
	}
	var line string
	for _, l := range strings.Split(logged, "\n") {
		if strings.Contains(l, "correlation_id=cli-test-1") {
			line = l
		}
	}
	if !strings.Contains(line, "op=A004") || !strings.Contains(line, "status=200") || !strings.Contains(line, "request_id=") {
		t.Errorf("request log line %q", line)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sandbox did not stop on cancel")
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Error("no stop message")
	}
}

func TestSandboxCommandRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"sandbox", "--auth", "maybe"},
		{"sandbox", "--referrals", strconv.Itoa(erssandbox.MaxReferrals + 1)},
		{"sandbox", "--referrals", "0"},
		{"sandbox", "--faults", "500=2"},
		{"sandbox", "--faults", "drop=NaN"},
		{"sandbox", "--faults", "rate=NaN"},
		{"sandbox", "--faults", "rate=+Inf"},
		{"sandbox", "--rate", "NaN"},
		{"sandbox", "--rate", "-1"},
		{"sandbox", "--token-ttl", "-1s"},
		{"sandbox", "--token-ttl", "0s"},
		{"sandbox", "--refresh-ttl", "-5m"},
		{"sandbox", "extra"},
	} {
		// A bad flag must be refused before the sandbox starts; a deadline
		// turns a sandbox that started anyway into a failure, not a hang.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var out, errb bytes.Buffer
		if code := run(ctx, args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s%s)", args, code, out.String(), errb.String())
		}
		cancel()
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"sandbox", "--addr", "10.1.2.3:9100"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "loopback") {
		t.Errorf("non-loopback address: exit %d %q", code, errb.String())
	}
}
