package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

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
func (a *Workspace) reconcile(ctx context.Context, r triage.Referral) (triage.Referral, []triage.Mismatch, error) {
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

// errPatientMismatch refuses a decision on a referral whose worklist entry
// and details name different patients.
var errPatientMismatch = &triage.Error{Code: triage.EINVALID,
	Message: "The worklist and this referral's details give different NHS numbers, so Triage Desk will not record a decision on it. Refresh from e-RS; if they still differ, decide it in the e-RS web application and tell your IT service desk."}

// Referral reads one referral from the cache and tells the engine (if
// running) that the user has it open, so its documents come first. Errors:
// an ENOTFOUND *triage.Error when it is not cached; EUNAUTHORIZED while the
// session is locked or someone else's.
func (a *Workspace) Referral(ctx context.Context, ubrn string) (ReferralView, error) {
	if _, err := a.access(); err != nil {
		return ReferralView{}, err
	}
	ubrn = triage.NormalizeUBRN(ubrn)
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

// VettingPack builds the referral's vetting pack PDF from the cache: the
// patient banner on the cover page, the CRI, related CRIs, attachments and
// the latest decision.
func (a *Workspace) VettingPack(ctx context.Context, ubrn string) ([]byte, error) {
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
