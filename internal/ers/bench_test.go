package ers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// BenchmarkClientWorklist10k fetches and decodes a 10,000-item worklist over
// loopback HTTP: the whole A008 path (request, headers, body read, decode).
func BenchmarkClientWorklist10k(b *testing.B) {
	items := make([]triage.WorklistItem, 10_000)
	for i := range items {
		items[i] = triage.WorklistItem{UBRN: fmt.Sprintf("%012d", 300000000000+i), NHSNumber: "9991000003",
			Priority: triage.PriorityRoutine, Type: triage.ReferralTypeAppointment, Version: 1 + i%9,
			Specialty: triage.Coding{System: "https://example.test/STU3/CodeSystem/SPECIALTY", Code: "CARDIOLOGY"},
			Service:   triage.Service{ID: "30001", Name: "Synthetic Service"}, ContextStatus: triage.ContextNeverReviewed,
			PathwayStart: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	}
	body, err := json.Marshal(fhir.EncodeWorklist(triage.ListReferralsForReview, items))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, RateLimit: rate.Inf})
	if err != nil {
		b.Fatal(err)
	}
	c = c.WithIdentity(spcIdentity)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.Worklist(context.Background(), triage.ListReferralsForReview, triage.WorklistFilter{})
		if err != nil || len(res.Items) != len(items) {
			b.Fatalf("%v", err)
		}
	}
}
