package pds

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// The published PDS sandbox responses (../shared/pds-examples) are the
// contract: every one must decode, and map to what its README says.
func TestContractEveryPublishedExampleDecodes(t *testing.T) {
	dir := testutil.PDSExamplesDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	want := map[string]func(t *testing.T, p triage.Patient){
		"patient_9000000009.json": func(t *testing.T, p triage.Patient) {
			if p.NHSNumber != "9000000009" || p.DisplayName() != "SMITH, Jane (Mrs)" || p.Gender != triage.GenderFemale ||
				p.BirthDate != (triage.PartialDate{Year: 2010, Month: 10, Day: 22}) || p.Restriction != triage.RestrictionNone {
				t.Errorf("9000000009 = %+v", p)
			}
			if !p.Deceased || p.DeceasedDate != (triage.PartialDate{Year: 2010, Month: 10, Day: 22}) || p.DeathNotification != "2" {
				t.Errorf("9000000009 is deceased (formal notification): %+v", p)
			}
			if p.GPPractice != "Y12345" || p.VersionID != "2" {
				t.Errorf("9000000009 GP %q version %q", p.GPPractice, p.VersionID)
			}
		},
		"patient_9000000025.json": func(t *testing.T, p triage.Patient) {
			if p.Restriction != triage.RestrictionRestricted || p.DisplayName() != "SMYTHE, Janet (Mrs)" || !p.Deceased || p.GPPractice != "" {
				t.Errorf("9000000025 (restricted, deceased) = %+v", p)
			}
		},
		"patient_9000000033.json": func(t *testing.T, p triage.Patient) {
			if p.HasName() || !p.BirthDate.IsZero() || p.Gender != "" || p.Restriction != triage.RestrictionNone || p.Deceased {
				t.Errorf("9000000033 (minimal) = %+v", p)
			}
			b := triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: "9000000033",
				Lookup: &triage.PatientLookup{Requested: "9000000033", Patient: &p, Outcome: triage.PatientFound}})
			if b.Name != triage.NotKnown || b.Born != triage.NotKnown || b.Gender != triage.NotKnown {
				t.Errorf("minimal record's banner = %+v", b)
			}
		},
		"patient_9732110317.json": func(t *testing.T, p triage.Patient) {
			if p.DisplayName() != "SANDERSON, Adrian (Mr)" || p.Gender != triage.GenderMale || p.BirthDate.ISO() != "1936-06-21" || p.GPPractice != "" || p.Deceased {
				t.Errorf("9732110317 (usual and old names) = %+v", p)
			}
		},
	}
	outcomes := map[string]string{"RESOURCE_NOT_FOUND.json": "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID.json": "INVALID_RESOURCE_ID"}
	for _, f := range files {
		name := filepath.Base(f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			if code, ok := outcomes[name]; ok {
				o, err := DecodeOperationOutcome(b)
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := o.ErrorCode(); got != code {
					t.Errorf("code = %q, want %q", got, code)
				}
				return
			}
			r, err := DecodePatient(b)
			if err != nil {
				t.Fatal(err)
			}
			p, err := r.ToPatient()
			if err != nil {
				t.Fatal(err)
			}
			check, ok := want[name]
			if !ok {
				t.Fatalf("a new published example %s: add what it must map to", name)
			}
			check(t, p)
		})
	}
}

// The client, served the published examples with the sandbox's statuses,
// returns the patient or the right typed error.
func TestContractClientReadsPublishedResponses(t *testing.T) {
	dir := testutil.PDSExamplesDir(t)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f := newFake(t)
	f.handle(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/Patient/")
		w.Header().Set("X-Request-ID", r.Header.Get("X-Request-ID"))
		w.Header().Set("Content-Type", fhirJSON)
		switch id {
		case "9000000009", "9000000025", "9000000033", "9732110317":
			w.Header().Set("ETag", `W/"2"`)
			_, _ = w.Write(read("patient_" + id + ".json"))
		case "9111231130":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(read("RESOURCE_NOT_FOUND.json"))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(read("INVALID_RESOURCE_ID.json"))
		}
	})
	c := f.client(t, Config{})
	ctx := context.Background()
	res, err := c.Patient(ctx, "900 000 0009")
	if err != nil || res.Patient.Family != "Smith" || res.Superseded || res.ETag != `W/"2"` {
		t.Fatalf("9000000009: %+v, %v", res, err)
	}
	res, err = c.Patient(ctx, "9000000025")
	if err != nil || res.Patient.Restriction != triage.RestrictionRestricted {
		t.Fatalf("9000000025: %+v, %v", res, err)
	}
	_, err = c.Patient(ctx, "9111231130")
	var e *Error
	if !errors.As(err, &e) || e.Kind != NotFound || e.Code != "RESOURCE_NOT_FOUND" {
		t.Fatalf("9111231130: %v", err)
	}
	// A number with a bad check digit is refused before anything is sent;
	// a server that calls a valid one invalid is believed.
	n := f.count()
	if _, err = c.Patient(ctx, "9000000000"); !errors.As(err, &e) || e.Kind != InvalidNHSNumber || f.count() != n {
		t.Fatalf("9000000000: %v (requests %d -> %d)", err, n, f.count())
	}
	if _, err = c.Patient(ctx, "9434765919"); !errors.As(err, &e) || e.Kind != InvalidNHSNumber || e.Code != "INVALID_RESOURCE_ID" {
		t.Fatalf("server's INVALID_RESOURCE_ID: %v", err)
	}
}
