package engine

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestFaultSoak sends 500 decisions (100 with -short) through a sandbox
// that answers 10% of requests with 500, hangs on 5%, answers 5% with 503
// and Retry-After, throttles bursts over 12 requests with 429, applies 3% of writes and then
// drops the connection, while 3% of the referrals are changed by someone
// else. From the sandbox's log of writes: every decision was applied exactly
// once and is marked sent, or was never applied and is a conflict or
// failure with its reason; none lost, none applied twice.
//
// The outcome must not depend on how loaded the machine is: the client's
// timeouts are long enough that only the sandbox's injected hangs reach
// them (a slow answer on a busy machine is not a fault), and each kind of
// fault is also injected on the first requests, so every kind is proved
// whatever the requests' pace.
// soakOptions are the soak tests' client and engine on the sandbox sb:
// quick retries, timeouts that only the sandbox's injected hangs reach,
// nothing prefetched, and workers sends at once; more adds to the engine's
// configuration.
func soakOptions(sb erssandbox.Config, workers int, more ...func(*Config)) envOptions {
	return envOptions{
		sandbox: sb,
		client: ers.Config{ReadTimeout: 3 * time.Second, MaxRetries: 3, RetryBaseDelay: 10 * time.Millisecond,
			MaxRetryWait: 3 * time.Second},
		engine: func(c *Config) {
			c.NoPrefetch, c.PrefetchWorkers, c.PushWorkers = true, 1, workers
			c.WriteTimeout = 3 * time.Second
			c.RetryBase, c.RetryCap = 10*time.Millisecond, 300*time.Millisecond
			c.PushCheckInterval = 50 * time.Millisecond
			for _, f := range more {
				f(c)
			}
		},
	}
}

func TestFaultSoak(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	env := newTestEnv(t, soakOptions(erssandbox.Config{Referrals: 2*n + 200, Seed: 99}, 32))
	refs := firstDecidable(t, env.sb, n)
	enq := enqueueAll(t, env.st, refs, env.sb.ReferenceData())

	// 3% changed behind the client's back before anything is sent.
	rng := rand.New(rand.NewPCG(1, 2))
	changedBehind := map[string]bool{}
	for len(changedBehind) < n*3/100 {
		r := refs[rng.IntN(len(refs))]
		if changedBehind[r.UBRN] {
			continue
		}
		changedBehind[r.UBRN] = true
		if _, err := env.sb.ChangeLetter(r.UBRN, ""); err != nil {
			t.Fatal(err)
		}
	}
	injectSoakFaults(t, env.sb, 0.03, "A013") // accepts are among the decisions
	env.sb.ResetStats()
	start := time.Now()
	env.run()
	waitSettled(t, env.st, 4*time.Minute)
	elapsed := time.Since(start)
	stats := env.sb.Stats()
	counts := checkOutcomes(t, env.st, env.sb)

	for u := range changedBehind {
		en, err := env.st.Entry(context.Background(), enq[u].ID)
		if err != nil || en.State != triage.OutboxConflict {
			t.Errorf("a referral changed by someone else ended %s (%v), want conflict", en.State, err)
		}
	}
	if counts[triage.OutboxSent] < n-len(changedBehind)-n/50 {
		t.Errorf("only %d of %d decisions sent: %v", counts[triage.OutboxSent], n, counts)
	}
	for _, k := range soakFaults {
		if stats.Faults[k] == 0 {
			t.Errorf("no %s fault was injected; the soak proves less than it claims", k)
		}
	}
	t.Logf("%d decisions in %v: %v; faults %v; requests %v", n, elapsed.Round(time.Millisecond), counts, stats.Faults, stats.Requests)
}

// soakFaults are the kinds of fault TestFaultSoak proves the engine
// survives.
var soakFaults = []erssandbox.FaultKind{erssandbox.FaultServerError, erssandbox.FaultHang, erssandbox.FaultRateLimit,
	erssandbox.FaultUnavailable, erssandbox.FaultDropAfterApply}

// injectSoakFaults has the sandbox answer 10% of requests with 500, hang
// on 5%, answer 5% with 503 and Retry-After, throttle bursts over 12
// requests with 429 and apply the share drop of writes, then drop the
// connection; and it fails the first requests with each of soakFaults (the
// dropped answer on the operation write, as it applies to writes only).
func injectSoakFaults(t testing.TB, sb *erssandbox.Sandbox, drop float64, write string) {
	t.Helper()
	if err := sb.SetFaults(erssandbox.Faults{ServerError: 0.10, Hang: 0.05, Unavailable: 0.05,
		DropAfterApply: drop, RetryAfter: time.Second, RatePerSecond: 75, Burst: 12}); err != nil {
		t.Fatal(err)
	}
	for _, k := range soakFaults {
		op := ""
		if k == erssandbox.FaultDropAfterApply {
			op = write
		}
		sb.FailNext(op, k)
	}
}
