package fhir

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// addSeeds adds the package's fixtures whose names start with one of the
// prefixes, and the published examples under the given folders when they are
// present (seeds only: their absence does not skip the fuzz test).
func addSeeds(f *testing.F, prefixes []string, exampleDirs ...string) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "*.json"))
	for _, name := range files {
		for _, p := range prefixes {
			if strings.HasPrefix(filepath.Base(name), p) {
				if b, err := os.ReadFile(name); err == nil {
					f.Add(b)
				}
			}
		}
	}
	dir := os.Getenv("TRIAGEDESK_ERS_EXAMPLES")
	if dir == "" {
		dir = filepath.Join(testutil.RepoRoot(f), "..", "shared", "ers-examples")
	}
	for _, d := range exampleDirs {
		examples, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(d), "*.json"))
		for _, name := range examples {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range []string{``, `{}`, `null`, `[]`, `{"resourceType":"List","entry":[{}]}`,
		`{"resourceType":"ReferralRequest","id":"1","contained":[{"resourceType":"Appointment","id":"appointment","participant":[{"type":{}}]}]}`,
		`{"resourceType":"OperationOutcome","issue":[{"details":null}]}`} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeWorklist(f *testing.F) {
	addSeeds(f, []string{"worklist_"}, "stu3/retrieveWorklist/responses")
	f.Fuzz(func(t *testing.T, b []byte) {
		list, items, err := DecodeWorklist(b)
		if err != nil {
			return
		}
		if len(items) > 0 && list == "" {
			t.Fatal("items without a list type")
		}
		for _, it := range items {
			if it.UBRN == "" || it.NHSNumber == "" {
				t.Fatalf("item without UBRN or NHS number: %+v", it)
			}
		}
		// What decodes re-encodes and decodes again.
		if _, _, err := DecodeWorklist(mustJSON(t, EncodeWorklist(list, items))); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeReferral(f *testing.F) {
	addSeeds(f, []string{"referral_"}, "stu3/retrieveReferralRequest/responses", "stu3/rejectReferral/responses",
		"stu3/recordTriageOutcome/responses", "stu3/cancelAppointmentActionLater/responses")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeReferral(b)
		if err != nil {
			return
		}
		if r.UBRN == "" || r.Version < 0 {
			t.Fatalf("bad referral %+v", r)
		}
		_ = r.UBRNsToRead()
		_ = r.Unavailable()
		if _, err := DecodeReferral(mustJSON(t, EncodeReferral(r))); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeOperationOutcome(f *testing.F) {
	addSeeds(f, []string{"outcome_"}, "stu3", "r4")
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := DecodeOperationOutcome(b)
		if err != nil {
			return
		}
		_ = o.ErrorCoding()
		_ = o.First()
		_ = o.Diagnostics()
	})
}

// FuzzParseDecisionParameters covers the sandbox side, which parses request
// bodies from any client.
func FuzzParseDecisionParameters(f *testing.F) {
	for _, tt := range decisionExamples {
		if p, err := DecisionParameters(tt.d, "s"); err == nil && p != nil {
			b, _ := json.Marshal(p)
			f.Add(uint8(1), b)
		}
	}
	f.Add(uint8(0), []byte(``))
	f.Add(uint8(3), []byte(`{"resourceType":"Parameters","parameter":[{"name":"reviewAttachmentFile","resource":{"resourceType":"DocumentReference"}}]}`))
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		k := triage.DecisionKinds[int(kind)%len(triage.DecisionKinds)]
		d, err := ParseDecisionParameters(k, b)
		if err != nil {
			return
		}
		if d.Kind != k {
			t.Fatalf("kind %s, want %s", d.Kind, k)
		}
		// A parsed decision builds a body again (reason system kept).
		if _, err := DecisionParameters(d, ""); err != nil && k != triage.DecisionReject {
			t.Fatalf("rebuild: %v", err)
		}
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkDecodeWorklist10k decodes a Referrals for Review worklist of
// 10,000 items (about twice what e-RS's 10 MB response limit allows).
func BenchmarkDecodeWorklist10k(b *testing.B) {
	items := syntheticItems(rand.New(rand.NewPCG(5, 6)), triage.ListReferralsForReview, 10_000)
	body := mustJSON(b, EncodeWorklist(triage.ListReferralsForReview, items))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_, got, err := DecodeWorklist(body)
		if err != nil || len(got) != len(items) {
			b.Fatalf("%d items, %v", len(got), err)
		}
	}
}

// BenchmarkEncodeWorklist10k encodes the same worklist, as the sandbox does.
func BenchmarkEncodeWorklist10k(b *testing.B) {
	items := syntheticItems(rand.New(rand.NewPCG(5, 6)), triage.ListReferralsForReview, 10_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(EncodeWorklist(triage.ListReferralsForReview, items)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeReferral decodes one referral with three attachments.
func BenchmarkDecodeReferral(b *testing.B) {
	body := mustJSON(b, EncodeReferral(syntheticReferrals()[0]))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeReferral(body); err != nil {
			b.Fatal(err)
		}
	}
}
