package engine

import (
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
)

// TestAdvicePullFailureIsReportedAsA023 names the worklist that failed: when
// e-RS refuses the Advice and Guidance worklist (A023) while the referral
// worklist (A008) arrives, the error the clinician sees is about A023, not
// about the referrals they can see are fine.
func TestAdvicePullFailureIsReportedAsA023(t *testing.T) {
	env := newTestEnv(t, envOptions{
		sandbox: erssandbox.Config{Referrals: 5, Seed: 3, AdviceRequests: 3},
		client:  ers.Config{MaxRetries: -1},
		engine:  func(c *Config) { c.AdviceAndGuidance = true },
	})
	if err := env.sb.SetFaults(erssandbox.Faults{ServerError: 1, Ops: []string{"A023"}}); err != nil {
		t.Fatal(err)
	}
	events, stop := env.eng.Subscribe(1024)
	defer stop()
	env.run()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if e, ok := ev.(ErrorEvent); ok {
				if e.Op != "A023" {
					t.Fatalf("A&G worklist failure reported as %q (%s), want A023", e.Op, e.Message)
				}
				return
			}
		case <-deadline:
			t.Fatal("no error event for the refused A&G worklist")
		}
	}
}
