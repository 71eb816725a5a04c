package store

import (
	"context"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestWorklistTimesWithoutReadingTheList: the time e-RS gave a stored
// worklist and when it was stored are read back beside it; a cache written
// before they were kept beside it gives them from the snapshot itself; a
// list never stored is ErrNotFound.
func TestWorklistTimesWithoutReadingTheList(t *testing.T) {
	env := newEnv(t)
	s := env.open(t)
	ctx := context.Background()
	list := triage.ListReferralsForReview
	if _, _, err := s.WorklistTimes(ctx, list); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no worklist stored: err %v, want ErrNotFound", err)
	}
	asOf := time.Date(2026, 12, 3, 16, 45, 0, 0, time.UTC)
	if err := s.PutWorklist(ctx, WorklistSnapshot{List: list, AsOf: asOf, Items: []triage.WorklistItem{{UBRN: "000000000001"}}}); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Worklist(ctx, list)
	if err != nil || snap.StoredAt.IsZero() {
		t.Fatalf("stored snapshot: %+v, %v", snap, err)
	}
	check := func(when string) {
		t.Helper()
		got, stored, err := s.WorklistTimes(ctx, list)
		if err != nil || !got.Equal(asOf) || !stored.Equal(snap.StoredAt) {
			t.Errorf("%s: times %v stored %v err %v, want %v stored %v", when, got, stored, err, asOf, snap.StoredAt)
		}
	}
	check("kept beside the list")
	// As a cache written before the times were kept beside the list.
	if err := s.cacheTx(ctx, true, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bMeta)).Delete(worklistTimesKey(list))
	}); err != nil {
		t.Fatal(err)
	}
	check("read from the snapshot")
}
