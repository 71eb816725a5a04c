package pds

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// FuzzDecodePatient feeds arbitrary bytes to the decoder and mapper: they
// must never panic, and whatever they accept must be a valid NHS number
// with nothing a restricted record may not keep.
func FuzzDecodePatient(f *testing.F) {
	f.Add(patientJSON("9434765919", "U", nil))
	f.Add(patientJSON("9434765919", "R", nil))
	f.Add(patientJSON("9434765919", "V", map[string]any{"deceasedDateTime": "2024"}))
	f.Add([]byte(`{"resourceType":"Patient","id":"9000000033"}`))
	f.Add([]byte(`{"resourceType":"Patient","id":"9000000009","name":[{"use":"usual","given":[""]}],"birthDate":"2010-02-29"}`))
	if files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "pds-examples", "*.json")); len(files) > 0 {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodePatient(b)
		if err != nil {
			return
		}
		_ = r.Restriction()
		p, err := r.ToPatient()
		if err != nil {
			return
		}
		if triage.ValidateNHSNumber(p.NHSNumber) != nil {
			t.Fatalf("accepted id %q", p.NHSNumber)
		}
		if p.Restriction.Restricted() && p.GPPractice != "" {
			t.Fatalf("restricted record kept GP %q", p.GPPractice)
		}
		_ = p.DisplayName()
		_ = triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: p.NHSNumber,
			Lookup: &triage.PatientLookup{Requested: p.NHSNumber, Patient: &p, Outcome: triage.PatientFound}}).Lines()
	})
}

// FuzzDecodeOperationOutcome: error bodies never panic.
func FuzzDecodeOperationOutcome(f *testing.F) {
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":[{"details":{"coding":[{"code":"RESOURCE_NOT_FOUND"}]}}]}`))
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":[{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if o, err := DecodeOperationOutcome(b); err == nil {
			_, _ = o.ErrorCode()
		}
	})
}
