package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// PullResult summarises one worklist pull.
type PullResult struct {
	AsOf                      time.Time
	Total, New, Changed, Left int
	// Queued is how many downloads the pull queued.
	Queued int
	// Parts is how many A008 answers made up the worklist (1 unless it was
	// too large for one answer); PartsFailed how many parts were not
	// received (their referrals were kept as last pulled).
	Parts, PartsFailed int
}

// Pull fetches the worklist once (A008; in parts when it is too large for
// one answer, see split.go), stores it with the server's Date as "as of",
// marks referrals that left it, and queues the downloads that new or
// changed referrals need. Errors are the client's *ers.Error (the engine
// goes offline or asks for sign-in accordingly), or the store's. When some
// parts of a split worklist were received and others not, Pull stores and
// plans what it received, keeps the referrals the missing parts would have
// listed, and returns the missing parts' failure (errWorklistIncomplete).
func (e *Engine) Pull(ctx context.Context) (PullResult, error) {
	var res PullResult
	started := e.now()
	c, _, err := e.client()
	if err != nil {
		return res, err
	}
	wl, err := e.fetchWorklist(ctx, c)
	if err != nil {
		e.noteFailure(err)
		return res, fmt.Errorf("pull worklist: %w", err)
	}
	e.noteSuccess()
	if err := e.checkCache(ctx); err != nil {
		return res, err
	}
	if err := e.loadPrev(ctx); err != nil {
		return res, err
	}
	e.mu.Lock()
	prev := e.prevItems
	e.mu.Unlock()
	wl.Items = carryForward(prev, wl)
	// The items are kept as the baseline of the next pull.
	triage.ShareStrings(wl.Items)
	if err := e.st.PutWorklist(ctx, store.WorklistSnapshot{List: e.cfg.List, AsOf: wl.AsOf, Items: wl.Items}); err != nil {
		return res, fmt.Errorf("pull worklist: %w", err)
	}
	infos, err := e.st.CachedReferrals(ctx)
	if err != nil {
		return res, fmt.Errorf("pull worklist: %w", err)
	}
	byUBRN := make(map[string]store.CacheInfo, len(infos))
	for _, i := range infos {
		byUBRN[i.UBRN] = i
	}

	diff := triage.DiffWorklist(slices.Collect(maps.Values(prev)), wl.Items)
	res.AsOf, res.Total, res.Parts, res.PartsFailed = wl.AsOf, len(wl.Items), wl.Parts, wl.Failed
	res.New, res.Changed, res.Left = diff.New, diff.Changed, len(diff.Left)
	ev := WorklistUpdated{List: e.cfg.List, AsOf: wl.AsOf, Total: len(wl.Items)}
	queuedBefore := e.q.added()
	for _, c := range diff.Items {
		u, it := c.UBRN, c.Item
		switch it.Priority {
		case triage.PriorityTwoWeekWait:
			ev.TwoWeek++
		case triage.PriorityUrgent:
			ev.Urgent++
		}
		info, cached := byUBRN[u]
		if cached && info.Local.LeftWorklist {
			if err := e.st.UpdateLocalState(ctx, u, func(l *store.LocalState) error { l.LeftWorklist = false; return nil }); err != nil {
				return res, fmt.Errorf("pull worklist: %w", err)
			}
		}
		rk := rankOf(it.Priority, it.PathwayStart, u)
		needRef := !cached || !info.HasReferral || info.Version != it.Version || c.ContextChanged
		if needRef {
			e.forget(u)
			e.q.add(job{kind: jobReferral, owner: u, target: u, rank: rk, since: started})
			continue
		}
		if e.isComplete(u, info.Version) {
			continue
		}
		// Cached at the current version: check its documents from the
		// cache, once per run of the engine.
		cr, err := e.st.Referral(ctx, u)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				e.q.add(job{kind: jobReferral, owner: u, target: u, rank: rk})
				continue
			}
			return res, fmt.Errorf("pull worklist: %w", err)
		}
		ref := cr.Referral
		if it.ClinicalInfoLastUpdated.After(ref.ClinicalInfoLastUpdated) {
			ref.ClinicalInfoLastUpdated = it.ClinicalInfoLastUpdated
		}
		if err := e.planDocuments(ctx, u, &ref, rk); err != nil {
			return res, err
		}
	}
	for _, u := range diff.Left {
		e.forget(u)
		if _, cached := byUBRN[u]; cached {
			if err := e.st.UpdateLocalState(ctx, u, func(l *store.LocalState) error { l.LeftWorklist = true; return nil }); err != nil {
				return res, fmt.Errorf("pull worklist: %w", err)
			}
		}
	}
	e.mu.Lock()
	e.prevItems = triage.WorklistByUBRN(wl.Items)
	e.status.LastSuccess = e.now()
	e.status.AsOf = wl.AsOf
	// Whole seconds: the Date header has one-second resolution.
	e.status.ServerOffset = wl.Latest.Sub(e.status.LastSuccess).Round(time.Second)
	e.mu.Unlock()
	res.Queued = e.q.added() - queuedBefore
	ev.New, ev.Changed, ev.Left = res.New, res.Changed, res.Left
	e.emit(ev)
	e.log.Info("worklist pulled", "items", res.Total, "new", res.New, "changed", res.Changed, "left", res.Left,
		"queued", res.Queued, "parts", res.Parts, "parts_failed", res.PartsFailed,
		"request_id", wl.Meta.RequestID, "correlation_id", wl.Meta.CorrelationID)
	if wl.err != nil {
		e.noteFailure(wl.err)
		return res, fmt.Errorf("pull worklist: %w", wl.err)
	}
	return res, nil
}

// checkCache has the store authenticate every cached record once per run
// of the engine, before the first pull plans anything: damaged records are
// dropped then, and this pull downloads them again.
func (e *Engine) checkCache(ctx context.Context) error {
	if e.flag(&e.cacheChecked) {
		return nil
	}
	n, err := e.st.CheckCache(ctx)
	if err != nil && !errors.Is(err, store.ErrCacheDamaged) {
		return fmt.Errorf("pull worklist: %w", err)
	}
	if n > 0 {
		e.log.Warn("damaged cache records dropped; downloading them again", "records", n)
	}
	e.mu.Lock()
	e.cacheChecked = true
	e.mu.Unlock()
	return nil
}

// loadPrev loads the last stored worklist as the baseline the first time.
func (e *Engine) loadPrev(ctx context.Context) error {
	if e.flag(&e.prevLoaded) {
		return nil
	}
	prev := map[string]triage.WorklistItem{}
	snap, err := e.st.Worklist(ctx, e.cfg.List)
	switch {
	case err == nil:
		prev = triage.WorklistByUBRN(snap.Items)
	case errors.Is(err, store.ErrNotFound):
	default:
		// A damaged snapshot is only a baseline: start from nothing.
		e.log.Warn("stored worklist unreadable; pulling from scratch", "err", err)
	}
	e.mu.Lock()
	if !e.prevLoaded {
		e.prevItems, e.prevLoaded = prev, true
	}
	e.mu.Unlock()
	return nil
}

func (e *Engine) isComplete(ubrn string, version int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.complete[ubrn]
	return ok && v == version
}

func (e *Engine) markComplete(ubrn string, version int) {
	e.mu.Lock()
	e.complete[ubrn] = version
	e.mu.Unlock()
}

func (e *Engine) forget(ubrn string) {
	e.mu.Lock()
	delete(e.complete, ubrn)
	e.mu.Unlock()
}

// runPuller pulls on a timer, on demand and, while offline, as the probe.
func (e *Engine) runPuller(ctx context.Context) {
	for ctx.Err() == nil {
		wait := e.pullInterval()
		op := "A008"
		_, err := e.Pull(ctx)
		// A&G is pulled after the referrals, and also when only part of a
		// split referral worklist arrived; its failure is named as its own.
		if e.cfg.AdviceAndGuidance && ctx.Err() == nil && (err == nil || errors.Is(err, errWorklistIncomplete)) {
			if _, aerr := e.PullAdvice(ctx); aerr != nil && err == nil {
				op, err = "A023", aerr
			}
		}
		if err != nil && ctx.Err() == nil {
			switch st := e.Status().State; {
			case st == StateOffline:
				wait = e.nextProbe()
			case errors.Is(err, errNoSession) || errors.Is(err, errAuthPaused) || st == StateSignInNeeded:
				// Wait for SessionChanged (which signals pullReq).
			default:
				e.emit(ErrorEvent{Op: op, Message: triage.ErrorMessage(err), Err: err})
				wait = min(wait, e.nextProbe())
			}
			e.log.Warn("pull failed", "err", err)
		}
		sleepOrWake(ctx, wait, e.pullReq)
	}
}
