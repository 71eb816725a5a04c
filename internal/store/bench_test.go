package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func benchDecision(rng *rand.Rand, i int) triage.Decision {
	return triage.Decision{
		Kind: triage.DecisionReject, UBRN: fmt.Sprintf("%012d", 100000000000+i), BaseVersion: 4, By: clinician,
		Reason:   triage.Coding{Code: "CLINICAL_APPROPRIATENESS", Display: "Clinically inappropriate"},
		Comments: "Seen before: " + clinicalPhrase + ". Please refer to plastics.",
	}
}

// BenchmarkEnqueueDecision measures a durable Enqueue: decision, outbox
// entry, unsent marker and audit record sealed and committed with fsync.
// Compare with BenchmarkEnqueueDecisionBareBolt (goal: at most 2x).
func BenchmarkEnqueueDecision(b *testing.B) {
	_, s, ctx, rng := openSeeded(b, 90)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Enqueue(ctx, benchDecision(rng, i)); err != nil {
			b.Fatal(err)
		}
	}
}

// enqueueSizes returns the sizes of the keys and values one Enqueue writes.
func enqueueSizes(b *testing.B) (keys, vals []int) {
	env := newEnv(b)
	s := env.open(b)
	ctx := context.Background()
	e, err := s.Enqueue(ctx, benchDecision(rand.New(rand.NewPCG(1, 1)), 0))
	if err != nil {
		b.Fatal(err)
	}
	_ = s.outboxTx(ctx, false, func(tx *bolt.Tx) error {
		dk := decisionKey(s.keys.index, e.ID)
		rk := refKey(s.keys.index, e.UBRN)
		for _, kv := range []struct {
			bucket string
			k      []byte
		}{{bDecisions, dk}, {bEntries, dk}, {bActive, rk}, {bAudit, seqKey(1)}, {bMeta, mAuditHead}} {
			keys = append(keys, len(kv.k))
			vals = append(vals, len(tx.Bucket([]byte(kv.bucket)).Get(kv.k)))
		}
		return nil
	})
	return keys, vals
}

// BenchmarkEnqueueDecisionBareBolt is the floor: one bbolt transaction with
// fsync writing keys and values of the same sizes as Enqueue, unencrypted.
func BenchmarkEnqueueDecisionBareBolt(b *testing.B) {
	keys, vals := enqueueSizes(b)
	db, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	names := []string{bDecisions, bEntries, bActive, bAudit, bMeta}
	_ = db.Update(func(tx *bolt.Tx) error {
		for _, n := range names {
			_, _ = tx.CreateBucket([]byte(n))
		}
		return nil
	})
	rng := rand.New(rand.NewPCG(91, 91))
	total := 0
	for _, v := range vals {
		total += v
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		err := db.Update(func(tx *bolt.Tx) error {
			for j, n := range names {
				k := randomBytesFrom(rng, keys[j])
				if n == bAudit {
					k = seqKey(uint64(i + 1))
				}
				if n == bMeta {
					k = mAuditHead
				}
				if err := tx.Bucket([]byte(n)).Put(k, randomBytesFrom(rng, vals[j])); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total), "value-bytes/op")
}

func randomBytesFrom(rng *rand.Rand, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

// BenchmarkPutDocument1MB stores 1 MB documents (sealed, fsynced), cycling
// over 16 referrals so the file stays a realistic size.
func BenchmarkPutDocument1MB(b *testing.B) {
	env := newEnv(b)
	s := env.open(b)
	ctx := context.Background()
	data := randomBytesFrom(rand.New(rand.NewPCG(92, 92)), 1<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ubrn := fmt.Sprintf("%012d", 200000000000+i%16)
		if err := s.PutDocument(ctx, ubrn, DocumentMeta{ID: "cri", Kind: DocumentCRI, ContentType: "application/pdf"}, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetDocument1MB reads and opens a 1 MB document.
func BenchmarkGetDocument1MB(b *testing.B) {
	env := newEnv(b)
	s := env.open(b)
	ctx := context.Background()
	data := randomBytesFrom(rand.New(rand.NewPCG(93, 93)), 1<<20)
	if err := s.PutDocument(ctx, "300000000000", DocumentMeta{ID: "cri", Kind: DocumentCRI}, data); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, got, err := s.Document(ctx, "300000000000", "cri"); err != nil || len(got) != len(data) {
			b.Fatal(err)
		}
	}
}

func benchWorklist(n int) []triage.WorklistItem {
	rng := rand.New(rand.NewPCG(94, 94))
	items := make([]triage.WorklistItem, n)
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := range items {
		items[i] = triage.WorklistItem{
			List: triage.ListReferralsForReview, UBRN: fmt.Sprintf("%012d", 400000000000+i), NHSNumber: triage.SyntheticNHSNumber(rng),
			Priority: triage.Priorities[i%3], Type: triage.ReferralTypeAppointment, ContextStatus: triage.ContextNeverReviewed,
			Specialty:    triage.Coding{System: "https://fhir.nhs.uk/STU3/CodeSystem/SPECIALTY", Code: "DERMATOLOGY", Display: "Dermatology"},
			Service:      triage.Service{ID: fmt.Sprintf("svc-%d", i%40), Name: "Skin cancer clinic"},
			PathwayStart: start.Add(time.Duration(i) * time.Minute), ClinicalInfoFirstSubmitted: start.Add(time.Duration(i) * time.Minute),
			AppointmentStart: start.Add(30 * 24 * time.Hour), NamedClinician: "Dr Ada Vetting", Version: 1 + i%7,
		}
	}
	return items
}

// BenchmarkLoadWorklist10k loads a stored 10,000-item worklist snapshot.
func BenchmarkLoadWorklist10k(b *testing.B) {
	env := newEnv(b)
	s := env.open(b)
	ctx := context.Background()
	items := benchWorklist(10000)
	if err := s.PutWorklist(ctx, WorklistSnapshot{List: triage.ListReferralsForReview, AsOf: time.Now(), Items: items}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		snap, err := s.Worklist(ctx, triage.ListReferralsForReview)
		if err != nil || len(snap.Items) != len(items) {
			b.Fatal(err)
		}
	}
}
