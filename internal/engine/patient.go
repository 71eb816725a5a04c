package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/pds"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// patientBook shares PDS reads between the referrals of one patient: one
// read per NHS number, whose answer is recorded for every referral waiting
// for it. It keeps the latest answer per NHS number in memory only.
type patientBook struct {
	mu      sync.Mutex
	results map[string]triage.PatientRead // NHS number -> latest read
	waiting map[string][]string           // NHS number -> referrals waiting for a read
}

func newPatientBook() *patientBook {
	return &patientBook{results: map[string]triage.PatientRead{}, waiting: map[string][]string{}}
}

// planPatient makes sure the referral's patient details will be read from
// PDS, sharing one read among the referrals of one patient. since is when
// the read that triggered this began (the pull that re-read the referral,
// or the moment it was opened): an answer already had since then is
// recorded without a new call. A zero since plans a read only when nothing
// usable is cached for the referral. It does nothing without a PDS client.
func (e *Engine) planPatient(ctx context.Context, owner string, ref *triage.Referral, rk rank, since time.Time) error {
	if e.cfg.PDS == nil {
		return nil
	}
	nhs := triage.NormalizeNHSNumber(ref.NHSNumber)
	if nhs == "" {
		return nil
	}
	if since.IsZero() {
		l, err := e.st.Patient(ctx, owner)
		switch {
		case err == nil && l.Requested == nhs && (l.Patient != nil || l.Outcome.Definitive()):
			return nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("plan patient details: %w", err)
		}
	}
	if triage.ValidateNHSNumber(nhs) != nil {
		// Never sent to PDS: the banner says the number is not valid.
		return e.recordPatient(ctx, owner, triage.PatientRead{Requested: nhs, Outcome: triage.PatientInvalidNumber, At: e.now(),
			Message: "The referral's NHS number is not a valid NHS number."})
	}
	b := e.book
	b.mu.Lock()
	if r, ok := b.results[nhs]; ok && (since.IsZero() || !r.At.Before(since)) {
		b.mu.Unlock()
		return e.recordPatient(ctx, owner, r)
	}
	if owners, ok := b.waiting[nhs]; ok {
		if !slices.Contains(owners, owner) {
			b.waiting[nhs] = append(owners, owner)
		}
		b.mu.Unlock()
		return nil
	}
	b.waiting[nhs] = []string{owner}
	b.mu.Unlock()
	if e.q.add(job{kind: jobPatient, owner: owner, target: nhs, rank: rk}) {
		return nil
	}
	// The read for this patient has just answered (finishPatient ran, the
	// job is not yet off the queue): record its answer now.
	b.mu.Lock()
	r, ok := b.results[nhs]
	owners := b.waiting[nhs]
	if ok {
		delete(b.waiting, nhs)
	}
	b.mu.Unlock()
	if !ok {
		return nil
	}
	for _, o := range owners {
		if err := e.recordPatient(ctx, o, r); err != nil {
			return err
		}
	}
	return nil
}

// recordPatient applies a PDS read to the referral's cached lookup and
// says so with a PatientUpdated event.
func (e *Engine) recordPatient(ctx context.Context, owner string, r triage.PatientRead) error {
	err := e.st.UpdatePatient(ctx, owner, func(l *triage.PatientLookup) error {
		if l.Requested != "" && l.Requested != triage.NormalizeNHSNumber(r.Requested) {
			// The referral's NHS number changed in e-RS: start afresh.
			*l = triage.PatientLookup{}
		}
		l.Apply(r)
		return nil
	})
	if err != nil {
		return err
	}
	e.emit(PatientUpdated{UBRN: owner, Outcome: r.Outcome})
	return nil
}

// runPatientJob reads one patient from PDS for every referral waiting for
// it. PDS failures never move the engine offline or ask for sign-in (PDS
// is another service): a failure that may pass is noted on the waiting
// referrals (their banners keep the last details, with their age) and
// retried with backoff; any other is recorded as PDS's answer.
func (e *Engine) runPatientJob(ctx context.Context, j *job, id triage.Identity) (bool, time.Time) {
	res, err := e.cfg.PDS.WithIdentity(pds.Identity{ODS: id.ODS}).Patient(ctx, j.target)
	if err != nil && ctx.Err() != nil {
		return true, time.Time{}
	}
	read := pds.ReadOf(j.target, res, err, e.now())
	var pe *pds.Error
	if errors.As(err, &pe) {
		e.log.Warn("patient details not read", "kind", pe.Kind.String(), "status", pe.Status, "code", pe.Code,
			"request_id", pe.RequestID, "attempt", j.tries+1)
		if pe.Kind.Retryable() && j.tries+1 < maxJobTries {
			e.notePatientAttempt(ctx, j.target, read)
			d := min(e.cfg.RetryCap, e.cfg.RetryBase<<min(j.tries, 10))
			return true, e.now().Add(d/2 + rand.N(d/2+1))
		}
	}
	e.finishPatient(ctx, j.target, read)
	return false, time.Time{}
}

// notePatientAttempt records a failed read on the waiting referrals without
// ending the wait.
func (e *Engine) notePatientAttempt(ctx context.Context, nhs string, r triage.PatientRead) {
	e.book.mu.Lock()
	owners := slices.Clone(e.book.waiting[nhs])
	e.book.mu.Unlock()
	for _, o := range owners {
		if err := e.recordPatient(ctx, o, r); err != nil {
			e.log.Error("storing patient details failed", "err", err)
		}
	}
}

// finishPatient keeps the read as the patient's latest and records it for
// every referral that waited for it.
func (e *Engine) finishPatient(ctx context.Context, nhs string, r triage.PatientRead) {
	e.book.mu.Lock()
	e.book.results[nhs] = r
	owners := e.book.waiting[nhs]
	delete(e.book.waiting, nhs)
	e.book.mu.Unlock()
	for _, o := range owners {
		if err := e.recordPatient(ctx, o, r); err != nil {
			e.log.Error("storing patient details failed", "err", err)
			e.emit(ErrorEvent{Op: "PDS", UBRN: o, Message: triage.ErrorMessage(err), Err: err})
		}
	}
}

// refreshPatientOnFocus re-reads the open referral's patient from PDS when
// the cached details are older than Config.PatientRefresh, so the banner a
// clinician checks identity against is current.
func (e *Engine) refreshPatientOnFocus(ubrn string) {
	if e.cfg.PDS == nil || ubrn == "" {
		return
	}
	ctx := context.Background()
	cr, err := e.st.Referral(ctx, ubrn)
	if err != nil {
		return
	}
	since := e.now().Add(-e.cfg.PatientRefresh)
	if l, err := e.st.Patient(ctx, ubrn); err == nil && l.Requested == triage.NormalizeNHSNumber(cr.Referral.NHSNumber) &&
		l.Outcome.Definitive() && !l.AttemptedAt.Before(since) {
		return
	}
	rk := rank{class: 0, ubrn: ubrn}
	if it, ok := e.prevItem(ubrn); ok {
		rk = rankOf(it.Priority, it.PathwayStart, ubrn)
	}
	if err := e.planPatient(ctx, ubrn, &cr.Referral, rk, since); err != nil {
		e.log.Warn("patient details not planned", "err", err)
	}
}
