package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Worklist is the cached worklist as the clinician sees it.
type Worklist struct {
	List triage.ListType
	// AsOf is e-RS's time of the snapshot; StoredAt when it was pulled.
	AsOf, StoredAt time.Time
	// Rows are in the clinical order (2WW, urgent, routine; oldest first),
	// each with its review-by date, local status and whether its documents
	// are cached for offline reading.
	Rows   []triage.Row
	Counts triage.Counts
}

// Worklist reads the cached Referrals for Review worklist. Errors: an
// ENOTFOUND *triage.Error (with a next step) when nothing has been synced,
// an EUNAUTHORIZED one while the session is locked or someone else's, or
// the store's.
func (a *App) Worklist(ctx context.Context) (Worklist, error) {
	if _, err := a.access(); err != nil {
		return Worklist{}, err
	}
	snap, err := a.store.Worklist(ctx, triage.ListReferralsForReview)
	if errors.Is(err, store.ErrNotFound) {
		return Worklist{}, &triage.Error{Code: triage.ENOTFOUND, Message: "Nothing has been downloaded yet. Sync first (triagectl sync)."}
	}
	if err != nil {
		return Worklist{}, err
	}
	local, err := a.store.LocalStatuses(ctx)
	if err != nil {
		return Worklist{}, err
	}
	infos, err := a.store.CachedReferrals(ctx)
	if err != nil {
		return Worklist{}, err
	}
	ready := map[string]bool{}
	for _, i := range infos {
		ready[i.UBRN] = i.HasReferral && i.HasCRI()
	}
	rd, err := a.store.ReferenceData(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Worklist{}, err
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
	out := Worklist{List: snap.List, AsOf: snap.AsOf, StoredAt: snap.StoredAt, Rows: make([]triage.Row, len(ordered))}
	for i, r := range ordered {
		out.Rows[i] = *r
	}
	out.Counts = triage.Count(out.Rows)
	return out, nil
}

// ReferralView is everything cached about one referral.
type ReferralView struct {
	// Referral is the cached details (A005), with the referral type the
	// worklist states when it states one (triage.Reconcile).
	Referral  store.CachedReferral
	Documents []store.DocumentMeta
	Local     store.LocalState
	// Decision is the referral's latest outbox entry, if any.
	Decision *store.Entry
	// Mismatches are where the cached worklist and the details disagree
	// (type, NHS number, priority): show them, never pick one silently.
	Mismatches []triage.Mismatch
}

// reconcile gives the cached referral the worklist's stated type and
// returns where the two disagree (triage.Reconcile). A referral not on
// the cached worklist is returned as it is.
func (a *App) reconcile(ctx context.Context, r triage.Referral) (triage.Referral, []triage.Mismatch, error) {
	items, err := a.worklistItems(ctx)
	if err != nil {
		return r, nil, err
	}
	if it, ok := items[r.UBRN]; ok {
		r, ms := triage.Reconcile(it, r)
		return r, ms, nil
	}
	return r, nil, nil
}

// worklistItems returns the cached worklist's items by UBRN (none before
// the first sync), read from the store once per stored worklist.
func (a *App) worklistItems(ctx context.Context) (map[string]triage.WorklistItem, error) {
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

// errPatientMismatch refuses a decision on a referral whose worklist entry
// and details name different patients.
var errPatientMismatch = &triage.Error{Code: triage.EINVALID,
	Message: "The worklist and this referral's details give different NHS numbers, so Triage Desk will not record a decision on it. Refresh from e-RS; if they still differ, decide it in the e-RS web application and tell your IT service desk."}

// Referral reads one referral from the cache and tells the engine (if
// running) that the user has it open, so its documents come first. Errors:
// an ENOTFOUND *triage.Error when it is not cached; EUNAUTHORIZED while the
// session is locked or someone else's.
func (a *App) Referral(ctx context.Context, ubrn string) (ReferralView, error) {
	if _, err := a.access(); err != nil {
		return ReferralView{}, err
	}
	ubrn = triage.NormalizeNHSNumber(strings.TrimSpace(ubrn))
	cr, err := a.store.Referral(ctx, ubrn)
	if errors.Is(err, store.ErrNotFound) {
		return ReferralView{}, &triage.Error{Code: triage.ENOTFOUND, Err: err,
			Message: "That referral is not downloaded on this computer. Check the UBRN, or sync and try again."}
	}
	if err != nil {
		return ReferralView{}, err
	}
	ref, mismatches, err := a.reconcile(ctx, cr.Referral)
	if err != nil {
		return ReferralView{}, err
	}
	cr.Referral = ref
	v := ReferralView{Referral: cr, Mismatches: mismatches}
	if info, err := a.store.CacheInfo(ctx, ubrn); err == nil {
		v.Documents, v.Local = info.Documents, info.Local
	}
	if en, err := a.store.LatestForReferral(ctx, ubrn); err == nil {
		v.Decision = &en
	}
	if a.engine != nil {
		a.engine.Focus(ubrn)
	}
	return v, nil
}

// Decide records a clinician's decision: it fills in the referral version
// from the cache (the version the clinician saw), the signed-in identity and
// the time, validates it exactly as the GUI does (triage.Decision.Validate
// against the cached referral and reference data) and queues it in the
// outbox. The engine sends it when it can.
//
// Decisions are recorded while the session is active or only waiting for
// a new sign-in (they are sent after it); not while it is locked, has no
// role chosen, or belongs to someone else.
//
// Errors: a *triage.ValidationError listing every problem; ENOTFOUND when
// the referral is not cached; EUNAUTHORIZED as above; the store's (a
// decision already pending for the referral: amend or cancel it instead).
func (a *App) Decide(ctx context.Context, d triage.Decision) (store.Entry, error) {
	d, err := a.prepare(ctx, d)
	if err != nil {
		return store.Entry{}, err
	}
	return a.store.Enqueue(ctx, d)
}

// prepare checks that the workspace may record decisions now, fills in the
// referral version, identity, time and reason display, and validates the
// decision, for Decide and Amend.
func (a *App) prepare(ctx context.Context, d triage.Decision) (triage.Decision, error) {
	me, err := a.access()
	if err != nil {
		return d, err
	}
	if me.ODS == "" || me.BusinessFunction == "" {
		return d, &triage.Error{Code: triage.EUNAUTHORIZED, Message: "Choose the organisation and role you are working as before recording a decision."}
	}
	d.UBRN = triage.NormalizeNHSNumber(strings.TrimSpace(d.UBRN))
	cr, err := a.store.Referral(ctx, d.UBRN)
	if errors.Is(err, store.ErrNotFound) {
		return d, &triage.Error{Code: triage.ENOTFOUND, Err: err,
			Message: "That referral is not downloaded on this computer, so it cannot be decided here. Sync and try again."}
	}
	if err != nil {
		return d, err
	}
	rd, err := a.store.ReferenceData(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return d, err
	}
	now := time.Now()
	if d.BaseVersion == 0 {
		d.BaseVersion = cr.Referral.Version
	}
	if d.By.IsZero() {
		d.By = me
	}
	if d.DecidedAt.IsZero() {
		d.DecidedAt = now
	}
	if d.Kind == triage.DecisionReject && d.Reason.Code != "" && d.Reason.System == "" {
		if cs, ok := rd.System(triage.CodeSystemAppointmentCancellationReason); ok {
			d.Reason.System = cs.URL
			if c, ok := cs.Lookup(d.Reason.Code); ok && d.Reason.Display == "" {
				d.Reason.Display = c.Display
			}
		}
	}
	ref, mismatches, err := a.reconcile(ctx, cr.Referral)
	if err != nil {
		return d, err
	}
	if triage.PatientMismatch(mismatches) {
		return d, errPatientMismatch
	}
	if err := d.Validate(triage.ValidationContext{Referral: &ref, RefData: &rd, Now: now}); err != nil {
		return d, err
	}
	return d, nil
}

// Conflicts returns the decisions that were not applied because the
// referral changed in e-RS, oldest first.
func (a *App) Conflicts(ctx context.Context) ([]store.Entry, error) {
	if _, err := a.access(); err != nil {
		return nil, err
	}
	return a.store.Entries(ctx, store.EntryFilter{States: []triage.OutboxState{triage.OutboxConflict}})
}

// VettingPack builds the referral's vetting pack PDF from the cache: the
// patient banner on the cover page, the CRI, related CRIs, attachments and
// the latest decision.
func (a *App) VettingPack(ctx context.Context, ubrn string) ([]byte, error) {
	v, err := a.Referral(ctx, ubrn)
	if err != nil {
		return nil, err
	}
	ref := v.Referral.Referral
	in := document.PackInput{Referral: ref, GeneratedAt: time.Now(), Environment: a.Environment.Label}
	if v.Decision != nil && v.Decision.State != triage.OutboxDiscarded {
		d := v.Decision.Decision
		in.Decision = &d
	}
	if _, data, err := a.store.Document(ctx, ref.UBRN, engine.CRIDocumentID); err == nil {
		in.CRI = data
	}
	for _, u := range ref.UBRNsToRead()[1:] {
		part := document.PackPart{Name: u, ContentType: "application/pdf"}
		if _, data, err := a.store.Document(ctx, u, engine.CRIDocumentID); err == nil {
			part.Data = data
		}
		in.RelatedCRIs = append(in.RelatedCRIs, part)
	}
	for _, d := range ref.Documents {
		m, data, err := a.store.Document(ctx, ref.UBRN, d.ID)
		name := d.Title
		if name == "" {
			name = m.FileName
		}
		part := document.PackPart{Name: name, ContentType: d.ContentType}
		if err == nil && len(data) > 0 {
			part.Data, part.ContentType = data, firstNonEmpty(m.ContentType, d.ContentType)
		}
		in.Attachments = append(in.Attachments, part)
	}
	b, err := a.PatientBanner(ctx, ref.UBRN)
	if err != nil {
		return nil, fmt.Errorf("build vetting pack: %w", err)
	}
	in.Patient = &b
	pdf, err := document.BuildVettingPack(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("build vetting pack: %w", err)
	}
	return pdf, nil
}

func firstNonEmpty(s ...string) string {
	if i := slices.IndexFunc(s, func(v string) bool { return v != "" }); i >= 0 {
		return s[i]
	}
	return ""
}
