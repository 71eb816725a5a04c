package engine

import (
	"context"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// BenchmarkFullSync300At20PerSecond syncs a worklist of about 300 referrals
// from a sandbox that allows 20 requests/s (429 above that) with the
// client's limiter at 20/s, and reports: util (requests/s achieved ÷
// allowed; goal ≥ 0.95), 429s received (goal 0), s-to-first-2WW-CRI and
// total-s.
func BenchmarkFullSync300At20PerSecond(b *testing.B) {
	const allowed = 20.0
	for b.Loop() {
		b.StopTimer()
		env := newTestEnv(b, envOptions{
			sandbox: erssandbox.Config{Referrals: 358, Seed: 300, Faults: erssandbox.Faults{RatePerSecond: allowed}},
			client:  ers.Config{RateLimit: allowed},
			engine:  func(c *Config) { c.PrefetchWorkers = 6 },
		})
		items := env.sb.Worklist(triage.ListReferralsForReview, erssandbox.ProviderODS)
		twoWeek := map[string]bool{}
		for _, it := range items {
			if it.Priority == triage.PriorityTwoWeekWait {
				twoWeek[it.UBRN] = true
			}
		}
		env.sb.ResetStats()
		b.StartTimer()
		start := time.Now()
		rep, err := env.eng.SyncOnce(context.Background(), nil)
		total := time.Since(start)
		b.StopTimer()
		if err != nil || rep.Remaining != 0 {
			b.Fatalf("sync: %v (%d downloads left)", err, rep.Remaining)
		}
		stats := env.sb.Stats()
		requests := 0
		for op, n := range stats.Requests {
			if op != "download" && op != "token" && op != "authorize" {
				requests += n
			}
		}
		var first time.Duration
		env.mu.Lock()
		for i, c := range env.changes {
			if c.Kind == store.ChangeDocument && c.DocumentID == CRIDocumentID && twoWeek[c.UBRN] {
				first = env.times[i].Sub(start)
				break
			}
		}
		env.mu.Unlock()
		b.ReportMetric(float64(requests)/total.Seconds()/allowed, "util")
		b.ReportMetric(float64(stats.Faults[erssandbox.FaultRateLimit]), "429s")
		b.ReportMetric(first.Seconds(), "s-to-first-2WW-CRI")
		b.ReportMetric(total.Seconds(), "total-s")
		b.ReportMetric(float64(len(items)), "referrals")
		b.ReportMetric(float64(requests), "requests")
		env.eng.Close()
		b.StartTimer()
	}
}
