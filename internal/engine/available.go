package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// tuning holds the settings the user can change while the engine runs (the
// sync interval and prefetch), and the referrals the user asked to have
// available offline whatever the prefetch setting.
type tuning struct {
	mu           sync.Mutex
	set          bool // the fields below replace cfg's
	pullInterval time.Duration
	noPrefetch   bool
	forced       map[string]bool
}

// pullInterval returns how long the puller waits between pulls.
func (e *Engine) pullInterval() time.Duration {
	e.tune.mu.Lock()
	defer e.tune.mu.Unlock()
	if e.tune.set {
		return e.tune.pullInterval
	}
	return e.cfg.PullInterval
}

// prefetchOff reports whether documents of owner are fetched only when the
// user opens it: prefetch is off and owner was not made available offline.
func (e *Engine) prefetchOff(owner string) bool {
	e.tune.mu.Lock()
	defer e.tune.mu.Unlock()
	off := e.cfg.NoPrefetch
	if e.tune.set {
		off = e.tune.noPrefetch
	}
	return off && !e.tune.forced[owner]
}

// tuneLocked copies cfg's values on the first change. Call with tune.mu held.
func (e *Engine) tuneLocked() {
	if !e.tune.set {
		e.tune.set = true
		e.tune.pullInterval, e.tune.noPrefetch = e.cfg.PullInterval, e.cfg.NoPrefetch
	}
}

// SetPullInterval changes how often the worklist is pulled (the user's sync
// interval) while the engine runs; d <= 0 restores the default. The puller
// pulls once at once and then waits d between pulls.
func (e *Engine) SetPullInterval(d time.Duration) {
	if d <= 0 {
		d = DefaultPullInterval
	}
	e.tune.mu.Lock()
	e.tuneLocked()
	e.tune.pullInterval = d
	e.tune.mu.Unlock()
	signal(e.pullReq)
}

// SetPrefetch turns downloading documents ahead of time on or off while the
// engine runs (Config.NoPrefetch is its opposite). Turning it on checks
// every referral of the worklist again at the next pull, which it asks for.
func (e *Engine) SetPrefetch(on bool) {
	e.tune.mu.Lock()
	e.tuneLocked()
	changed := e.tune.noPrefetch == on
	e.tune.noPrefetch = !on
	e.tune.mu.Unlock()
	if changed && on {
		// Referrals planned with prefetch off count as complete without
		// their documents: plan them again.
		e.mu.Lock()
		clear(e.complete)
		e.mu.Unlock()
		signal(e.pullReq)
	}
}

// MakeAvailableOffline queues every download the cached worklist still
// needs for reading offline, even while prefetch is off: each referral's
// details (A005), its CRI and the CRIs of related referrals, and every
// AVAILABLE attachment (PENDING ones are asked for again later, as always).
// It also asks for a pull, so referrals that arrive meanwhile follow. Those
// referrals stay "wanted offline": if they change later, their documents are
// fetched again.
//
// Progress is published as PrefetchProgress events, like any prefetch; the
// downloads run while the engine runs and e-RS can be reached, and wait
// otherwise. It returns how many downloads it queued: 0 means everything on
// the worklist is already on this computer (or already being fetched).
//
// Errors: an ENOTFOUND *triage.Error when no worklist has been downloaded
// yet; the store's.
func (e *Engine) MakeAvailableOffline(ctx context.Context) (int, error) {
	snap, err := e.st.Worklist(ctx, e.cfg.List)
	if errors.Is(err, store.ErrNotFound) {
		signal(e.pullReq)
		return 0, &triage.Error{Code: triage.ENOTFOUND, Err: err,
			Message: "No worklist has been downloaded yet, so there is nothing to make available offline. Connect to e-RS and try again."}
	}
	if err != nil {
		return 0, fmt.Errorf("make available offline: %w", err)
	}
	infos, err := e.st.CachedReferrals(ctx)
	if err != nil {
		return 0, fmt.Errorf("make available offline: %w", err)
	}
	byUBRN := make(map[string]store.CacheInfo, len(infos))
	for _, i := range infos {
		byUBRN[i.UBRN] = i
	}
	e.tune.mu.Lock()
	if e.tune.forced == nil {
		e.tune.forced = map[string]bool{}
	}
	for _, it := range snap.Items {
		e.tune.forced[triage.NormalizeUBRN(it.UBRN)] = true
	}
	e.tune.mu.Unlock()

	before := e.q.added()
	for _, it := range snap.Items {
		if err := ctx.Err(); err != nil {
			return e.q.added() - before, err
		}
		u := triage.NormalizeUBRN(it.UBRN)
		rk := rankOf(it.Priority, it.PathwayStart, u)
		info, cached := byUBRN[u]
		if !cached || !info.HasReferral || info.Version != it.Version {
			e.forget(u)
			e.q.add(job{kind: jobReferral, owner: u, target: u, rank: rk})
			continue
		}
		cr, err := e.st.Referral(ctx, u)
		if errors.Is(err, store.ErrNotFound) {
			e.q.add(job{kind: jobReferral, owner: u, target: u, rank: rk})
			continue
		}
		if err != nil {
			return e.q.added() - before, fmt.Errorf("make available offline: %w", err)
		}
		ref := cr.Referral
		if it.ClinicalInfoLastUpdated.After(ref.ClinicalInfoLastUpdated) {
			ref.ClinicalInfoLastUpdated = it.ClinicalInfoLastUpdated
		}
		if err := e.planDocuments(ctx, u, &ref, rk); err != nil {
			return e.q.added() - before, fmt.Errorf("make available offline: %w", err)
		}
	}
	signal(e.pullReq)
	return e.q.added() - before, nil
}
