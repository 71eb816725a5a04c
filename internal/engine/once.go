package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// SyncReport says what SyncOnce did.
type SyncReport struct {
	Pull PullResult
	// Downloads counts prefetch downloads finished (including those given
	// up); Remaining those left queued because e-RS could not be reached
	// or sign-in is needed.
	Downloads, Remaining int
	// RefDataError is set when reference data was due and could not be
	// refreshed (the stored copy is kept).
	RefDataError error
	// Outbox counts decisions by state afterwards.
	Outbox map[triage.OutboxState]int
	// Status is the engine's state afterwards.
	Status SyncStatus
}

// SyncOnce does one complete sync in the foreground: it pulls the
// worklist, refreshes reference data when due, downloads everything the
// worklist needs (progress, if not nil, is called after each download), and
// sends the decisions that are due, waiting for each. Decisions that must
// be retried later stay queued. It must not be called while Run is
// running. Errors: the pull's (nothing else was attempted) or ctx's.
func (e *Engine) SyncOnce(ctx context.Context, progress func(PrefetchProgress)) (SyncReport, error) {
	var rep SyncReport
	e.runMu.Lock()
	if e.running || e.closed {
		e.runMu.Unlock()
		return rep, fmt.Errorf("sync: the engine is already running or closed")
	}
	e.running = true
	e.runMu.Unlock()
	defer func() {
		e.runMu.Lock()
		e.running = false
		e.runMu.Unlock()
	}()

	pr, err := e.Pull(ctx)
	rep.Pull = pr
	if err != nil {
		rep.Status = e.Status()
		return rep, err
	}
	if e.refDataDue(ctx) == 0 {
		rep.RefDataError = e.RefreshReferenceData(ctx)
	}

	before := e.q.added()
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < e.cfg.PrefetchWorkers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.runPrefetchWorker(wctx)
		}()
	}
	events, unsubscribe := e.Subscribe(1024)
	for {
		empty, changed := e.q.idle()
		usable, stateCh := e.usable()
		if empty || !usable {
			break
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-stateCh:
		case ev := <-events:
			if p, ok := ev.(PrefetchProgress); ok && progress != nil {
				progress(p)
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	cancel()
	wg.Wait()
	unsubscribe()
	rep.Remaining = e.q.pending()
	rep.Downloads = e.q.added() - before - rep.Remaining
	if err := ctx.Err(); err != nil {
		return rep, err
	}

	// Each decision is tried at most a few times here; the rest wait for
	// the next sync.
	unsent, _ := e.st.UnsentCount(ctx)
	budget := 3*unsent + e.cfg.PushWorkers
	for budget > 0 {
		var pwg sync.WaitGroup
		_, started := e.push.dispatch(ctx, &pwg)
		pwg.Wait()
		budget -= started
		if started == 0 || ctx.Err() != nil {
			break
		}
	}
	rep.Outbox, _ = e.OutboxCounts(ctx)
	rep.Status = e.Status()
	return rep, ctx.Err()
}
