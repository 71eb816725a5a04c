package app

import (
	"context"
	"errors"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// ReviewList is the cached worklist as the clinician sees it.
type ReviewList struct {
	List triage.ListType
	// AsOf is e-RS's time of the snapshot; StoredAt when it was pulled.
	AsOf, StoredAt time.Time
	// Rows are in the clinical order (2WW, urgent, routine; oldest first),
	// each with its review-by date, local status and whether its documents
	// are cached for offline reading.
	Rows   []triage.Row
	Counts triage.Counts
}

// ReviewList reads the cached Referrals for Review worklist. Errors: an
// ENOTFOUND *triage.Error (with a next step) when nothing has been synced,
// an EUNAUTHORIZED one while the session is locked or someone else's, or
// the store's.
func (a *Workspace) ReviewList(ctx context.Context) (ReviewList, error) {
	if _, err := a.access(); err != nil {
		return ReviewList{}, err
	}
	snap, err := a.store.Worklist(ctx, triage.ListReferralsForReview)
	if errors.Is(err, store.ErrNotFound) {
		return ReviewList{}, &triage.Error{Code: triage.ENOTFOUND, Message: "Nothing has been downloaded yet. Sync first (triagectl sync)."}
	}
	if err != nil {
		return ReviewList{}, err
	}
	triage.ShareStrings(snap.Items) // the rows stay in memory while shown
	infos, err := a.store.CachedReferrals(ctx)
	if err != nil {
		return ReviewList{}, err
	}
	local, err := a.store.LocalStatusesOf(ctx, infos)
	if err != nil {
		return ReviewList{}, err
	}
	ready := map[string]bool{}
	for _, i := range infos {
		ready[i.UBRN] = i.HasReferral && i.HasCRI()
	}
	rd, err := a.store.ReferenceData(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return ReviewList{}, err
	}
	cal := a.Settings.Calendar()
	rows := make([]triage.Row, len(snap.Items))
	for i, it := range snap.Items {
		rows[i] = triage.Row{WorklistItem: it, Local: local[it.UBRN], OfflineReady: ready[it.UBRN]}
		if rb, ok := triage.ReviewBy(it, &rd, cal); ok {
			rows[i].ReviewBy = rb
		}
	}
	ordered := triage.FilterSort(rows, triage.Filter{}, triage.Sort{})
	out := ReviewList{List: snap.List, AsOf: snap.AsOf, StoredAt: snap.StoredAt, Rows: make([]triage.Row, len(ordered))}
	for i, r := range ordered {
		out.Rows[i] = *r
	}
	out.Counts = triage.Count(out.Rows)
	return out, nil
}

// worklistItems returns the cached worklist's items by UBRN (none before
// the first sync), read from the store once per stored worklist.
func (a *Workspace) worklistItems(ctx context.Context) (map[string]triage.WorklistItem, error) {
	a.wlMu.Lock()
	items, gen := a.wlItems, a.wlGen
	a.wlMu.Unlock()
	if items != nil {
		return items, nil
	}
	snap, err := a.store.Worklist(ctx, triage.ListReferralsForReview)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	triage.ShareStrings(snap.Items)
	items = make(map[string]triage.WorklistItem, len(snap.Items))
	for _, it := range snap.Items {
		items[it.UBRN] = it
	}
	a.wlMu.Lock()
	if a.wlGen == gen { // no newer worklist was stored meanwhile
		a.wlItems = items
	}
	a.wlMu.Unlock()
	return items, nil
}
