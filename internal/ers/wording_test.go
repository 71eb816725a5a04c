package ers

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// What the clinician reads when e-RS refuses or cannot be reached: a 4xx
// from the server names the server's code and its words and says what to
// do, without blaming Triage Desk; "a fault in Triage Desk" is kept for
// answers Triage Desk itself could not read; and "will be sent" is said only
// where a decision is waiting to be sent.
func TestErrorWording(t *testing.T) {
	tests := []struct {
		name    string
		write   bool
		status  int
		body    []byte
		want    []string
		notWant []string
	}{
		{name: "422 on a read", status: 422, body: testutil.Testdata(t, "fhir/outcome-422-invalid-value.json"),
			want:    []string{"e-RS refused the request", "HTTP 422", "INVALID_VALUE", "Invalid value", "try again", "correlation id"},
			notWant: []string{"fault in Triage Desk", "will be sent"}},
		{name: "400 without a body", status: 400,
			want:    []string{"e-RS refused the request", "HTTP 400", "correlation id"},
			notWant: []string{"fault in Triage Desk", "will be sent"}},
		{name: "422 SANDBOX_ERROR", status: 422, body: testutil.Testdata(t, "fhir/outcome-422-sandbox-error.json"),
			want:    []string{"SANDBOX_ERROR", "Sandbox error", "example requests"},
			notWant: []string{"fault in Triage Desk"}},
		{name: "422 on a decision", write: true, status: 422, body: testutil.Testdata(t, "fhir/outcome-422-invalid-value.json"),
			want:    []string{"did not accept the decision", "HTTP 422", "INVALID_VALUE", "Invalid value", "Amend"},
			notWant: []string{"fault in Triage Desk"}},
		{name: "decoding bug on a read", status: 200, body: testutil.Testdata(t, "fhir/worklist-truncated.json"),
			want:    []string{"fault in Triage Desk", "correlation id"},
			notWant: []string{"will be sent"}},
		{name: "401 on a read", status: 401,
			want:    []string{"Sign in again"},
			notWant: []string{"will be sent", "fault in Triage Desk"}},
		{name: "401 on a decision", write: true, status: 401,
			want: []string{"Sign in again", "will be sent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			path, method := refPath, "GET"
			if tt.write {
				path, method = refPath+"/$ers.acceptReferral", "POST"
			}
			f.handle(method, path, respond(tt.status, tt.body))
			c, _ := testClient(t, f)
			var err error
			if tt.write {
				_, err = c.AcceptReferral(context.Background(), "100000000001", 4)
			} else {
				_, err = c.Referral(context.Background(), "100000000001")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %v", err)
			}
			msg := triage.ErrorMessage(err)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("message %q says %q", msg, w)
				}
			}
			if strings.Contains(msg, "100000000001") || (e.Diagnostics != "" && strings.Contains(msg, e.Diagnostics)) {
				t.Errorf("message %q carries the UBRN or e-RS's free text", msg)
			}
		})
	}
}

// e-RS out of reach: a read says nothing is lost without promising to send
// anything; a decision that was never sent says it is kept and will be sent.
func TestUnreachableWording(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	f := newFake(t)
	c, _ := testClient(t, f, func(cfg *Config) { cfg.BaseURL = "http://" + addr + "/FHIR"; cfg.MaxRetries = -1 })
	_, err = c.Referral(context.Background(), "100000000001")
	if msg := triage.ErrorMessage(err); !strings.Contains(msg, "cannot reach e-RS") || strings.Contains(msg, "will be sent") {
		t.Errorf("read: %q", msg)
	}
	_, err = c.AcceptReferral(context.Background(), "100000000001", 4)
	if msg := triage.ErrorMessage(err); !strings.Contains(msg, "cannot reach e-RS") || !strings.Contains(msg, "will be sent") {
		t.Errorf("decision: %q", msg)
	}
}
