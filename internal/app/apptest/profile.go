package apptest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// CachedProfile is what FillCachedProfile left in a data folder.
type CachedProfile struct {
	// Listed is how many referrals the cached worklist holds.
	Listed int
	// Referrals is how many referrals' details are cached (for 10,000,
	// also those not on the worklist).
	Referrals int
	// First is the UBRN of the worklist's first referral.
	First string
}

// FillCachedProfile signs the demo's synthetic clinician in on the data
// folder o names (o.Offline is ignored: it uses the demo sandbox) and
// leaves in its encrypted store a worklist of n referrals on Referrals for
// Review, with every referral's details, as a sync leaves them, so a later
// start opens it from the cache. e-RS, and the sandbox, refuse one answer
// this large unless filtered by service, so it is stored directly. A
// non-nil cri is stored as the first referral's CRI (a PDF).
func FillCachedProfile(ctx context.Context, o app.Options, n int, cri []byte) (CachedProfile, error) {
	var out CachedProfile
	o.Offline = false
	// Some synthetic referrals are in other states or lists: generate
	// enough for n on Referrals for Review (the sandbox's most is 10,000).
	o.DemoReferrals = min(10_000, n*6/5)
	o.EngineTuning = func(c *EngineConfig) { c.NoPrefetch = true }
	rt, err := app.Start(ctx, o)
	if err != nil {
		return out, fmt.Errorf("start: %w", err)
	}
	defer rt.Close()
	if _, err := rt.DemoSignIn(ctx); err != nil {
		return out, fmt.Errorf("demo sign-in: %w", err)
	}
	ws, err := rt.OpenWorkspace(ctx)
	if err != nil {
		return out, fmt.Errorf("open the workspace: %w", err)
	}
	if err := Engine(ws).RefreshReferenceData(ctx); err != nil {
		return out, fmt.Errorf("reference data: %w", err)
	}
	sb := Sandbox(ws.Runtime())
	items := sb.Worklist(triage.ListReferralsForReview, ProviderODS)
	if len(items) < n {
		// Pessimistically, every cached referral on the worklist: the
		// sandbox's referrals in other states join it.
		on := map[string]bool{}
		for _, it := range items {
			on[it.UBRN] = true
		}
		for _, r := range sb.Referrals(func(r triage.Referral) bool { return !on[r.UBRN] }) {
			items = append(items, triage.WorklistItem{List: triage.ListReferralsForReview, UBRN: r.UBRN, NHSNumber: r.NHSNumber,
				Priority: r.Priority, Specialty: r.Specialty, Service: r.Service, Type: r.Type, PathwayStart: r.PathwayStart,
				ClinicalInfoFirstSubmitted: r.ClinicalInfoFirstSubmitted, ClinicalInfoLastUpdated: r.ClinicalInfoLastUpdated, Version: r.Version})
		}
	}
	snap := WorklistSnapshot{List: triage.ListReferralsForReview, AsOf: time.Now(), Items: items[:min(n, len(items))]}
	if err := Store(ws).PutWorklist(ctx, snap); err != nil {
		return out, fmt.Errorf("store the worklist: %w", err)
	}
	refs := sb.Referrals(func(triage.Referral) bool { return true })
	if n < len(refs) {
		on := map[string]bool{}
		for _, it := range snap.Items {
			on[it.UBRN] = true
		}
		refs = slices.DeleteFunc(refs, func(r triage.Referral) bool { return !on[r.UBRN] })
	}
	now := time.Now()
	for _, ref := range refs {
		if err := Store(ws).PutReferral(ctx, app.CachedReferral{Referral: ref, FetchedAt: now, ServerTime: snap.AsOf}); err != nil {
			return out, fmt.Errorf("store a referral: %w", err)
		}
	}
	out = CachedProfile{Listed: len(snap.Items), Referrals: len(refs)}
	if len(snap.Items) > 0 {
		out.First = snap.Items[0].UBRN
	}
	if cri != nil && out.First != "" {
		if err := Store(ws).PutDocument(ctx, out.First, app.DocumentMeta{ID: app.CRIDocumentID, Kind: app.DocumentCRI,
			ContentType: "application/pdf", FetchedAt: snap.AsOf}, cri); err != nil {
			return out, fmt.Errorf("store the CRI: %w", err)
		}
	}
	return out, nil
}
