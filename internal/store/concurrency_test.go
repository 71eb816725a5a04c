package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// Decisions, cache writes, reads, retention and compaction from several
// goroutines at once: nothing is lost and the audit chain holds.
func TestConcurrentUse(t *testing.T) {
	env := newEnv(t)
	s := env.open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	const writers, each = 4, 15
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				d := acceptFor(fixture{UBRN: fmt.Sprintf("%03d%09d", w, i), Version: 2})
				if _, err := s.Enqueue(ctx, d); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(110, 110))
		for i := range 10 {
			if err := s.PutDocument(ctx, fmt.Sprintf("9%011d", i), DocumentMeta{ID: "cri", Kind: DocumentCRI}, randomBytesFrom(rng, 50_000)); err != nil {
				errs <- err
				return
			}
			if _, err := s.LocalStatuses(ctx); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 3 {
			if _, err := s.Compact(ctx); err != nil {
				errs <- err
				return
			}
			if _, err := s.RunRetention(ctx); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, _ := s.UnsentCount(ctx); n != writers*each {
		t.Errorf("unsent = %d, want %d", n, writers*each)
	}
	sum, err := s.VerifyAudit(ctx)
	mustNoErr(t, err, "verify")
	if sum.Records != writers*each {
		t.Errorf("audit records %d", sum.Records)
	}
}
