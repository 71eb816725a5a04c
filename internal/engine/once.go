package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// SyncReport says what SyncOnce did.
type SyncReport struct {
	Pull PullResult
	// PullError is why the pull failed (nil if it worked). Decisions were
	// sent all the same.
	PullError error
	// Downloads counts prefetch downloads finished (including those given
	// up); Remaining those left queued because e-RS could not be reached
	// or sign-in is needed.
	Downloads, Remaining int
	// RefDataError is set when reference data was due and could not be
	// refreshed (the stored copy is kept).
	RefDataError error
	// Outbox counts decisions by state afterwards; Damage lists the
	// outbox's damaged records, which are not in the counts.
	Outbox map[triage.OutboxState]int
	Damage store.OutboxDamage
	// Status is the engine's state afterwards.
	Status SyncStatus
	// Advice is the A&G pull (Config.AdviceAndGuidance), AdviceError why
	// it failed; AdviceOutbox counts A&G actions by state afterwards.
	Advice       AdvicePullResult
	AdviceError  error
	AdviceOutbox map[triage.OutboxState]int
}

// SyncOnce does one complete sync in the foreground. It sends the
// decisions that are due (waiting for each) while it pulls the worklist,
// refreshes reference data when due and downloads everything the worklist
// needs (progress, if not nil, is called after each download): sending
// never waits for the pull, and a failed pull does not stop it. Decisions
// that must be retried later stay queued. It must not be called while Run
// is running.
//
// The report is filled in as far as the sync got, even with an error.
// Errors: the pull's (SyncReport.PullError), reading the outbox's, or
// ctx's.
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

	pushed := make(chan error, 1)
	go func() { pushed <- e.pushDue(ctx) }()

	rep.Pull, rep.PullError = e.Pull(ctx)
	if errors.Is(rep.PullError, store.ErrCacheDamaged) && ctx.Err() == nil {
		// The cache was set aside and started empty: pull into the new one.
		rep.Pull, rep.PullError = e.Pull(ctx)
	}
	// A split worklist with a part missing still had its other parts
	// stored: download what they need.
	if rep.PullError == nil || errors.Is(rep.PullError, errWorklistIncomplete) {
		if e.refDataDue(ctx) == 0 {
			rep.RefDataError = e.RefreshReferenceData(ctx)
		}
		rep.Downloads, rep.Remaining = e.prefetchAll(ctx, progress)
		if e.cfg.AdviceAndGuidance {
			rep.Advice, rep.AdviceError = e.PullAdvice(ctx)
		}
	}
	pushErr := <-pushed
	rep.AdviceOutbox = e.adviceCounts(ctx)

	var err error
	rep.Outbox, err = e.OutboxCounts(ctx)
	if err == nil {
		rep.Damage, err = e.st.OutboxDamage(ctx)
	}
	rep.Status = e.Status()
	switch {
	case ctx.Err() != nil:
		return rep, ctx.Err()
	case err != nil:
		return rep, fmt.Errorf("sync: read the outbox: %w", err)
	case pushErr != nil:
		return rep, fmt.Errorf("sync: send decisions: %w", pushErr)
	}
	return rep, rep.PullError
}

// prefetchAll downloads everything queued until the queue is empty, e-RS
// cannot be used, or ctx ends, and returns how many downloads finished and
// how many are left.
func (e *Engine) prefetchAll(ctx context.Context, progress func(PrefetchProgress)) (done, remaining int) {
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
	remaining = e.q.pending()
	return e.q.added() - before - remaining, remaining
}

// pushDue sends the decisions that are due, waiting for each; each is
// tried at most a few times here and the rest wait for the next sync.
func (e *Engine) pushDue(ctx context.Context) error {
	unsent, err := e.st.UnsentCount(ctx)
	if err != nil {
		return err
	}
	advice, err := e.st.AdviceEntries(ctx, store.EntryFilter{States: []triage.OutboxState{triage.OutboxQueued, triage.OutboxSending}})
	if err != nil {
		return err
	}
	budget := 3*(unsent+len(advice)) + e.cfg.PushWorkers
	for budget > 0 {
		var pwg sync.WaitGroup
		_, started := e.push.dispatch(ctx, &pwg)
		_, more := e.push.dispatchAdvice(ctx, &pwg)
		started += more
		pwg.Wait()
		budget -= started
		if started == 0 || ctx.Err() != nil {
			break
		}
	}
	return nil
}
