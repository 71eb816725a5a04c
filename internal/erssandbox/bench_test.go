package erssandbox

import (
	"context"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// BenchmarkStartMaxReferrals measures start-up with the most referrals
// (30,000): generating the data and opening both listeners (CRIs and
// attachments are generated on first request). The goal is well under 5 s.
func BenchmarkStartMaxReferrals(b *testing.B) {
	for b.Loop() {
		sb, err := Start(context.Background(), Config{Referrals: MaxReferrals, AsOf: testAsOf})
		if err != nil {
			b.Fatal(err)
		}
		_ = sb.Close()
	}
}

// BenchmarkCRI measures generating one Clinical Information Summary PDF (the
// first A007 for a referral; later ones are cached).
func BenchmarkCRI(b *testing.B) {
	sb := start(b, Config{Referrals: 200})
	rs := sb.Referrals(nil)
	i := 0
	for b.Loop() {
		r := rs[i%len(rs)]
		i++
		if _, err := sb.ChangeLetter(r.UBRN, "update"); err != nil { // a new version: no cache hit
			b.Fatal(err)
		}
		if _, _, _, err := sb.cri(r.UBRN); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWorklistRequest measures one A008 round trip for one service's
// Referrals for Review out of 30,000 referrals.
func BenchmarkWorklistRequest(b *testing.B) {
	sb := start(b, Config{Referrals: MaxReferrals})
	body := string(mustJSON(b, map[string]any{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": "listType", "valueCodeableConcept": map[string]any{"coding": []any{map[string]any{
			"system": "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1", "code": string(triage.ListReferralsForReview)}}}},
		map[string]any{"name": "service", "valueIdentifier": map[string]any{"system": "http://fhir.nhs.net/Id/ers-service", "value": "30001"}},
	}}))
	for b.Loop() {
		if rep := do(b, sb, "POST", rrPath+"$ers.fetchworklist", asSPC, body); rep.Status != 200 {
			b.Fatalf("A008: %d", rep.Status)
		}
	}
}
