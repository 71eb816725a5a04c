package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// maxJobTries is how often a download refused with a retryable error is
// tried before it is reported and left for the next pull.
const maxJobTries = 6

func (e *Engine) isCompleteAny(ubrn string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.complete[ubrn]
	return ok
}

func (e *Engine) prevItem(ubrn string) (triage.WorklistItem, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	it, ok := e.prevItems[ubrn]
	return it, ok
}

// runPrefetchWorker runs prefetch jobs while e-RS can be called.
func (e *Engine) runPrefetchWorker(ctx context.Context) {
	for {
		if err := e.waitUsable(ctx); err != nil {
			return
		}
		j, err := e.q.next(ctx)
		if err != nil {
			return
		}
		requeue, nb := e.runJob(ctx, j)
		if ctx.Err() != nil {
			requeue = true
		}
		e.q.finish(j, requeue, nb)
	}
}

// criFresh reports whether a cached CRI, fetched at server time m.FetchedAt,
// reflects a letter last updated at lastUpdated.
func criFresh(m store.DocumentMeta, lastUpdated time.Time) bool {
	return lastUpdated.IsZero() || m.FetchedAt.After(lastUpdated)
}

// planDocuments queues the downloads a referral needs: its CRI when missing
// or older than the letter, the CRIs of related referrals that are missing,
// and AVAILABLE attachments not yet cached. Attachments that cannot be
// downloaded are recorded; PENDING ones are re-polled later.
func (e *Engine) planDocuments(ctx context.Context, owner string, ref *triage.Referral, rk rank) error {
	if e.prefetchOff(owner) && !e.q.isFocus(owner) {
		if e.q.planned(owner, ref.Version) {
			e.markComplete(owner, ref.Version)
		}
		return nil
	}
	if err := e.planPatient(ctx, owner, ref, rk, time.Time{}); err != nil {
		return err
	}
	info, err := e.st.CacheInfo(ctx, owner)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("plan downloads: %w", err)
	}
	docs := map[string]store.DocumentMeta{}
	for _, d := range info.Documents {
		docs[d.ID] = d
	}
	for i, u := range ref.UBRNsToRead() {
		u = triage.NormalizeUBRN(u)
		if i == 0 {
			if m, ok := docs[CRIDocumentID]; !ok || !criFresh(m, ref.ClinicalInfoLastUpdated) {
				e.q.add(job{kind: jobCRI, owner: owner, target: u, rank: rk})
			}
			continue
		}
		ti, err := e.st.CacheInfo(ctx, u)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("plan downloads: %w", err)
		}
		if !ti.HasCRI() {
			e.q.add(job{kind: jobCRI, owner: owner, target: u, rank: rk})
		}
	}
	for _, d := range ref.Documents {
		if d.ID == "" {
			continue
		}
		m, have := docs[d.ID]
		switch d.Availability {
		case triage.AvailabilityPending:
			if !have {
				if err := e.recordUnavailable(ctx, owner, d, triage.AvailabilityPending); err != nil {
					return err
				}
				m.FetchedAt = e.now()
			}
			e.schedulePending(owner, d, rk, m.FetchedAt.Add(e.cfg.PendingRecheck))
		case triage.AvailabilityThreatsFound, triage.AvailabilityValidationFailed:
			if !have || m.Availability != d.Availability {
				if err := e.recordUnavailable(ctx, owner, d, d.Availability); err != nil {
					return err
				}
			}
		default: // AVAILABLE, or not said: try
			if !have || m.Availability != triage.AvailabilityAvailable || m.Size == 0 {
				e.q.add(job{kind: jobAttachment, owner: owner, target: d.ID, doc: d, rank: rk})
			}
		}
	}
	if e.q.planned(owner, ref.Version) {
		e.markComplete(owner, ref.Version)
	}
	return nil
}

// recordUnavailable stores an attachment that cannot be downloaded (no
// bytes, its availability) so the referral view can say why.
func (e *Engine) recordUnavailable(ctx context.Context, owner string, d triage.Document, a triage.AvailabilityStatus) error {
	meta := store.DocumentMeta{ID: d.ID, Kind: store.DocumentAttachment, Title: d.Title, ContentType: d.ContentType, Availability: a}
	if err := e.st.PutDocument(ctx, owner, meta, nil); err != nil {
		return fmt.Errorf("record attachment status: %w", err)
	}
	e.emit(DocumentReady{UBRN: owner, DocumentID: d.ID, Kind: store.DocumentAttachment, Availability: a})
	return nil
}

// schedulePending asks the re-poller to try the attachment again at due.
func (e *Engine) schedulePending(owner string, d triage.Document, rk rank, due time.Time) {
	e.mu.Lock()
	if p, ok := e.pending[d.ID]; !ok || due.Before(p.due) {
		e.pending[d.ID] = pendingDoc{ubrn: owner, doc: d, due: due, rank: rk}
	}
	e.mu.Unlock()
	signal(e.pendingWake)
}

// runPendingPoller queues PENDING attachments again once they are due.
func (e *Engine) runPendingPoller(ctx context.Context) {
	for {
		e.mu.Lock()
		now := e.now()
		var next time.Time
		var due []pendingDoc
		for id, p := range e.pending {
			if !p.due.After(now) {
				due = append(due, p)
				delete(e.pending, id)
			} else if next.IsZero() || p.due.Before(next) {
				next = p.due
			}
		}
		e.mu.Unlock()
		for _, p := range due {
			e.q.add(job{kind: jobAttachment, owner: p.ubrn, target: p.doc.ID, doc: p.doc, rank: p.rank})
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = next.Sub(now)
		}
		sleepOrWake(ctx, wait, e.pendingWake)
		if ctx.Err() != nil {
			return
		}
	}
}

// runJob performs one download. It returns whether to try again, and not
// before when.
func (e *Engine) runJob(ctx context.Context, j *job) (bool, time.Time) {
	c, id, err := e.client()
	if err != nil {
		return true, time.Time{}
	}
	switch j.kind {
	case jobPatient:
		return e.runPatientJob(ctx, j, id)
	case jobReferral:
		res, err := c.Referral(ctx, j.target)
		if err != nil {
			return e.jobFailed(ctx, j, err)
		}
		e.noteSuccess()
		cr := store.CachedReferral{Referral: *res.Referral, Raw: res.Raw, ETag: res.ETag, ServerTime: res.Meta.Date}
		if err := e.st.PutReferral(ctx, cr); err != nil {
			return e.storeFailed(j, err)
		}
		e.emit(ReferralUpdated{UBRN: j.target, Version: res.Version})
		// The referral was (re-)read: so is its patient, once per pull for
		// all of that patient's referrals.
		if !e.prefetchOff(j.owner) || e.q.isFocus(j.owner) {
			since := j.since
			if since.IsZero() {
				since = e.now()
			}
			if err := e.planPatient(ctx, j.owner, res.Referral, j.rank, since); err != nil {
				return e.storeFailed(j, err)
			}
		}
		if err := e.planDocuments(ctx, j.owner, res.Referral, j.rank); err != nil {
			return e.storeFailed(j, err)
		}
	case jobCRI:
		f, err := c.ClinicalInformation(ctx, j.target)
		if err != nil {
			return e.jobFailed(ctx, j, err)
		}
		e.noteSuccess()
		meta := store.DocumentMeta{ID: CRIDocumentID, Kind: store.DocumentCRI, Title: "Clinical referral information",
			FileName: f.FileName, ContentType: f.ContentType, Availability: triage.AvailabilityAvailable, FetchedAt: f.Meta.Date}
		if err := e.st.PutDocument(ctx, j.target, meta, f.Data); err != nil {
			return e.storeFailed(j, err)
		}
		e.emit(DocumentReady{UBRN: j.target, DocumentID: CRIDocumentID, Kind: store.DocumentCRI, Availability: triage.AvailabilityAvailable})
	case jobAttachment:
		ref := j.doc.URL
		if ref == "" {
			ref = j.doc.ID
		}
		f, err := c.Attachment(ctx, ref)
		if err != nil {
			var ee *ers.Error
			if errors.As(err, &ee) {
				switch {
				case ee.Class == ers.Pending:
					e.noteSuccess()
					if err := e.recordUnavailable(ctx, j.owner, j.doc, triage.AvailabilityPending); err != nil {
						return e.storeFailed(j, err)
					}
					due := e.now().Add(e.cfg.PendingRecheck)
					if ee.NotBefore.After(due) {
						due = ee.NotBefore
					}
					e.schedulePending(j.owner, j.doc, j.rank, due)
					return false, time.Time{}
				case ee.Code == "THREATS_FOUND" || ee.Code == "VALIDATION_FAILED":
					e.noteSuccess()
					if err := e.recordUnavailable(ctx, j.owner, j.doc, triage.AvailabilityStatus(ee.Code)); err != nil {
						return e.storeFailed(j, err)
					}
					return false, time.Time{}
				}
			}
			return e.jobFailed(ctx, j, err)
		}
		e.noteSuccess()
		title := j.doc.Title
		meta := store.DocumentMeta{ID: j.doc.ID, Kind: store.DocumentAttachment, Title: title, FileName: f.FileName,
			ContentType: f.ContentType, Availability: triage.AvailabilityAvailable, FetchedAt: f.Meta.Date}
		if err := e.st.PutDocument(ctx, j.owner, meta, f.Data); err != nil {
			return e.storeFailed(j, err)
		}
		e.emit(DocumentReady{UBRN: j.owner, DocumentID: j.doc.ID, Kind: store.DocumentAttachment, Availability: triage.AvailabilityAvailable})
	}
	return false, time.Time{}
}

// jobFailed decides what a failed download means: wait for the connection
// or a sign-in, retry later, or report it and give up until the next pull.
func (e *Engine) jobFailed(ctx context.Context, j *job, err error) (bool, time.Time) {
	if ctx.Err() != nil {
		return true, time.Time{}
	}
	class := e.noteFailure(err)
	log := e.log.With("op", j.kind.String(), "attempt", j.tries+1)
	var ee *ers.Error
	if errors.As(err, &ee) {
		log = log.With("status", ee.Status, "code", ee.Code, "correlation_id", ee.CorrelationID, "request_id", ee.RequestID)
	}
	switch class {
	case ers.Unreachable, ers.AuthRequired:
		log.Warn("download paused", "class", class.String())
		return true, time.Time{}
	case ers.Retryable:
		if j.tries+1 < maxJobTries {
			d := e.cfg.RetryBase << min(j.tries, 10)
			d = min(d, e.cfg.RetryCap)
			nb := e.now().Add(d/2 + rand.N(d/2+1))
			if ee != nil && ee.NotBefore.After(nb) {
				nb = ee.NotBefore
			}
			log.Warn("download will be retried", "class", class.String())
			return true, nb
		}
	}
	log.Warn("download failed", "class", class.String())
	e.emit(ErrorEvent{Op: j.kind.String(), UBRN: j.owner, Message: triage.ErrorMessage(err), Err: err})
	return false, time.Time{}
}

// storeFailed reports a store error during a download: the download is
// given up until the next pull (the store explains full disks and damage).
func (e *Engine) storeFailed(j *job, err error) (bool, time.Time) {
	e.log.Error("storing a download failed", "op", j.kind.String(), "err", err)
	e.emit(ErrorEvent{Op: j.kind.String(), UBRN: j.owner, Message: triage.ErrorMessage(err), Err: err})
	return false, time.Time{}
}

// RefreshReferenceData downloads every A004 code system and stores them
// together; the stored copy is kept when any fails. Errors are *ers.Error
// or the store's.
func (e *Engine) RefreshReferenceData(ctx context.Context) error {
	c, _, err := e.client()
	if err != nil {
		return err
	}
	rd := triage.ReferenceData{Systems: map[triage.CodeSystemType]triage.CodeSystem{}, FetchedAt: e.now()}
	for _, t := range triage.CodeSystemTypes {
		r, err := c.CodeSystem(ctx, t)
		if err != nil {
			e.noteFailure(err)
			return fmt.Errorf("refresh reference data: %w", err)
		}
		rd.Systems[t] = r.CodeSystem
	}
	e.noteSuccess()
	if err := e.st.PutReferenceData(ctx, rd); err != nil {
		return fmt.Errorf("refresh reference data: %w", err)
	}
	e.log.Info("reference data refreshed", "systems", len(rd.Systems))
	return nil
}

// refDataDue returns how long until the stored reference data is due for
// refresh (0: now).
func (e *Engine) refDataDue(ctx context.Context) time.Duration {
	rd, err := e.st.ReferenceData(ctx)
	if err != nil || rd.FetchedAt.IsZero() {
		return 0
	}
	return max(0, rd.FetchedAt.Add(e.cfg.RefDataInterval).Sub(e.now()))
}

// runRefData refreshes reference data when due, retrying hourly (or at the
// next reconnect) after a failure.
func (e *Engine) runRefData(ctx context.Context) {
	for {
		wait := e.refDataDue(ctx)
		if wait == 0 {
			if err := e.waitUsable(ctx); err != nil {
				return
			}
			if err := e.RefreshReferenceData(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				e.log.Warn("reference data refresh failed", "err", err)
				wait = min(time.Hour, e.cfg.RefDataInterval)
			} else {
				wait = e.cfg.RefDataInterval
			}
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// runRetention purges what the retention policy says is due, now and every
// RetentionInterval.
func (e *Engine) runRetention(ctx context.Context) {
	for {
		if rep, err := e.st.RunRetention(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			e.log.Warn("retention run failed", "err", err)
		} else if rep.Referrals > 0 {
			e.mu.Lock()
			clear(e.complete)
			e.mu.Unlock()
		}
		if !sleep(ctx, e.cfg.RetentionInterval) {
			return
		}
	}
}
