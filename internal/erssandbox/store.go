package erssandbox

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// ErrUnknownReferral is returned by the control methods for a UBRN the
// sandbox does not hold.
var ErrUnknownReferral = errors.New("no referral with that UBRN in the sandbox")

// ErrUnknownAttachment is returned for an attachment id the sandbox does not
// hold.
var ErrUnknownAttachment = errors.New("no attachment with that id in the sandbox")

// locking is the update lock of a referral or an Advice and Guidance
// request.
type locking struct {
	// write is held for the whole of each update; a second update arriving
	// meanwhile gets 423 Locked.
	write sync.Mutex
	// gate, when set, holds the next write inside its lock window.
	gate *WriteGate
}

// record is one referral held by the sandbox.
type record struct {
	ref   triage.Referral
	extra itemExtra
	locking
	// cri caches the generated CRI for one version.
	criVersion int
	cri        []byte
	criName    string
}

// upload is a file received by A020, waiting to be attached by A022/A028.
type upload struct {
	ID          string
	UBRN        string // from NHSD-eRS-Referral-ID; "" if none was sent
	FileName    string
	ContentType string
	Data        []byte
	Created     time.Time
	Used        bool
}

// store holds the sandbox's referrals, Advice and Guidance requests,
// attachments and uploads.
type store struct {
	mu      sync.Mutex
	recs    map[string]*record
	order   []string
	advice  adviceStore
	atts    map[string]*attachment
	uploads map[string]*upload
	gen     genOptions
	next    int
	refdata map[triage.CodeSystemType]triage.CodeSystem
	docs    docTemplates
	// patients is the synthetic patient registry the letters and PDS share.
	patients *registry
	now      func() time.Time
	// lockHold is how long every write holds its lock (Config.WriteLockHold).
	lockHold time.Duration
	done     <-chan struct{}
}

func newStore(gen genOptions, refdata []triage.CodeSystem, now func() time.Time, lockHold time.Duration, done <-chan struct{}) *store {
	s := &store{recs: map[string]*record{}, atts: map[string]*attachment{}, uploads: map[string]*upload{},
		gen: gen, refdata: map[triage.CodeSystemType]triage.CodeSystem{}, now: now, lockHold: lockHold, done: done,
		patients: newRegistry(gen.Seed, gen.AsOf)}
	if s.gen.taken == nil {
		s.gen.taken = map[string]bool{}
	}
	for _, cs := range refdata {
		s.refdata[cs.Type] = cs
	}
	s.add(gen.Count)
	return s
}

// add generates n more referrals and returns their UBRNs.
func (s *store) add(n int) []string {
	opts := s.gen
	opts.First, opts.Count = s.next, n
	if s.next > 0 { // referrals added later start their scans now
		opts.Started = s.now()
	}
	gs := generate(opts)
	s.patients.register(gs, s.gen.taken)
	s.next += n
	ubrns := make([]string, 0, len(gs))
	for _, g := range gs {
		rec := &record{ref: g.Ref, extra: g.Extra}
		s.recs[g.Ref.UBRN] = rec
		s.order = append(s.order, g.Ref.UBRN)
		for _, a := range g.Attachments {
			s.atts[a.ID] = a
		}
		ubrns = append(ubrns, g.Ref.UBRN)
	}
	// Related referrals generated in an earlier batch are not linked back;
	// generate links within the batch only.
	return ubrns
}

// get returns the record, with pending attachments brought up to date. The
// caller holds s.mu.
func (s *store) get(ubrn string) (*record, bool) {
	rec, ok := s.recs[ubrn]
	if ok {
		s.refresh(rec)
	}
	return rec, ok
}

// refresh makes PENDING attachments whose scan has finished AVAILABLE, as
// e-RS does in the background; like other internal e-RS processes this bumps
// the referral's version. The caller holds s.mu.
func (s *store) refresh(rec *record) {
	now := s.now()
	changed := false
	for i := range rec.ref.Documents {
		d := &rec.ref.Documents[i]
		if d.Availability != triage.AvailabilityPending {
			continue
		}
		if a := s.atts[d.ID]; a != nil && !a.PendingUntil.IsZero() && !now.Before(a.PendingUntil) {
			d.Availability = triage.AvailabilityAvailable
			changed = true
		}
	}
	if changed {
		rec.ref.Version++
	}
}

// attachmentData returns an attachment's bytes.
func (s *store) attachmentData(a *attachment) ([]byte, error) {
	if a.Data != nil {
		return a.Data, nil
	}
	return s.docs.get(a.Kind, a.Variant)
}

// fillSizes sets the size of every synthetic attachment of the referral. The
// caller holds s.mu.
func (s *store) fillSizes(rec *record) error {
	for i := range rec.ref.Documents {
		d := &rec.ref.Documents[i]
		if d.Size > 0 {
			continue
		}
		a := s.atts[d.ID]
		if a == nil {
			continue
		}
		b, err := s.attachmentData(a)
		if err != nil {
			return err
		}
		d.Size = int64(len(b))
	}
	return nil
}

// cloneReferral returns a deep copy, safe to use outside the lock.
func cloneReferral(r triage.Referral) triage.Referral {
	c := r
	if r.Appointment != nil {
		a := *r.Appointment
		c.Appointment = &a
	}
	c.RelatedUBRNs = slices.Clone(r.RelatedUBRNs)
	c.Documents = slices.Clone(r.Documents)
	c.AdditionalRequirements = slices.Clone(r.AdditionalRequirements)
	return c
}

// snapshot returns a copy of the referral with attachment sizes filled in.
func (s *store) snapshot(ubrn string) (triage.Referral, itemExtra, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.get(ubrn)
	if !ok {
		return triage.Referral{}, itemExtra{}, ErrUnknownReferral
	}
	if err := s.fillSizes(rec); err != nil {
		return triage.Referral{}, itemExtra{}, err
	}
	x := rec.extra
	x.Addenda = slices.Clone(rec.extra.Addenda)
	return cloneReferral(rec.ref), x, nil
}

// otherThan returns a copy of another referral than ubrn for
// FaultOtherReferral's answer: the first, in generation order, that is on
// no worklist (so a client has no other reason to hold it), else the first
// at all.
func (s *store) otherThan(ubrn string) (triage.Referral, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var any *record
	for _, u := range s.order {
		rec, ok := s.get(u)
		if !ok || u == ubrn {
			continue
		}
		if !rec.inReferralsForReview() && !rec.inAppointmentSlotIssues() {
			return cloneReferral(rec.ref), true
		}
		if any == nil {
			any = rec
		}
	}
	if any == nil {
		return triage.Referral{}, false
	}
	return cloneReferral(any.ref), true
}

// inReferralsForReview reports whether the referral is on Referrals for
// Review: a booked referral not yet accepted, rejected or redirected, or a
// RAS referral awaiting triage.
func (r *record) inReferralsForReview() bool {
	switch {
	case r.ref.Type == triage.ReferralTypeAppointment && r.ref.State.State == triage.StateBooked:
		return !r.extra.Accepted
	case r.ref.Type == triage.ReferralTypeTriageDeferral && r.ref.State.State == triage.StateAwaitingTriage:
		return true
	}
	return false
}

// inAppointmentSlotIssues reports whether the referral is on Appointment Slot
// Issues: deferred to the provider for lack of slots and not yet reviewed.
func (r *record) inAppointmentSlotIssues() bool {
	return r.ref.State.State == triage.StateDeferredToProvider
}

// worklistQuery is an A008 request: the list and its filters.
type worklistQuery struct {
	List              triage.ListType
	ODS               string
	Service           string
	SpecialtyAssigned string // ASSIGNED, NOT_ASSIGNED or ""
	Specialty         string
	Location          string
	ClinicianAssigned string
	Clinician         string
}

func (q worklistQuery) match(r *record) bool {
	if r.extra.ServiceODS != q.ODS {
		return false
	}
	if q.Service != "" && r.ref.Service.ID != q.Service {
		return false
	}
	if q.Location != "" && r.extra.Location != q.Location {
		return false
	}
	switch q.SpecialtyAssigned {
	case "ASSIGNED":
		if q.Specialty != "" && r.ref.Specialty.Code != q.Specialty {
			return false
		}
	case "NOT_ASSIGNED":
		if r.ref.Specialty.Code != "" {
			return false
		}
	}
	assigned := r.extra.AllocatedClinician != "" || r.extra.NamedClinician != ""
	switch q.ClinicianAssigned {
	case "ASSIGNED":
		if !assigned {
			return false
		}
		if q.Clinician != "" && r.extra.AllocatedClinician != q.Clinician && r.extra.NamedClinician != q.Clinician {
			return false
		}
	case "NOT_ASSIGNED":
		if assigned {
			return false
		}
	}
	return true
}

// worklist returns the worklist items matching the query, in a stable order.
func (s *store) worklist(q worklistQuery) []triage.WorklistItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []triage.WorklistItem
	for _, u := range s.order {
		rec, _ := s.get(u)
		in := false
		switch q.List {
		case triage.ListReferralsForReview:
			in = rec.inReferralsForReview()
		case triage.ListAppointmentSlotIssues:
			in = rec.inAppointmentSlotIssues()
		}
		if in && q.match(rec) {
			out = append(out, rec.worklistItem(q.List))
		}
	}
	return out
}

func (r *record) worklistItem(list triage.ListType) triage.WorklistItem {
	it := triage.WorklistItem{
		List:                       list,
		UBRN:                       r.ref.UBRN,
		NHSNumber:                  r.ref.NHSNumber,
		Priority:                   r.ref.Priority,
		Specialty:                  r.ref.Specialty,
		Service:                    r.ref.Service,
		PathwayStart:               r.ref.PathwayStart,
		ClinicalInfoPrinted:        r.extra.ClinicalInfoPrinted,
		NamedClinician:             r.extra.NamedClinician,
		AllocatedClinician:         r.extra.AllocatedClinician,
		ClinicalInfoFirstSubmitted: r.ref.ClinicalInfoFirstSubmitted,
		ClinicalInfoLastUpdated:    r.ref.ClinicalInfoLastUpdated,
	}
	if list == triage.ListAppointmentSlotIssues {
		it.ReviewReason = r.extra.ReviewReason
		it.UBRNReceived = r.extra.UBRNReceived
		it.PatientContactExpected = r.extra.PatientContactExpected
		it.ClinicalInformationStatus = r.extra.ClinicalInformationStatus
		it.ClinicalInfoFirstSubmitted, it.ClinicalInfoLastUpdated = time.Time{}, time.Time{}
		return it
	}
	it.Type = r.ref.Type
	it.ContextStatus = r.extra.ContextStatus
	it.Version = r.ref.Version
	if r.ref.Type == triage.ReferralTypeAppointment && r.ref.Appointment != nil {
		it.AppointmentStart = r.ref.Appointment.Start
	}
	return it
}

// WriteGate holds one write to a referral inside its lock window, so a test
// can send a second, concurrent write and see 423 Locked deterministically.
// Get one from Sandbox.HoldNextWrite.
type WriteGate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

// Entered is closed when the held write has taken the referral's lock.
func (g *WriteGate) Entered() <-chan struct{} { return g.entered }

// Release lets the held write continue. It may be called more than once.
func (g *WriteGate) Release() { g.once.Do(func() { close(g.release) }) }

// writeResult is the outcome of a write for the stats log.
type writeResult struct {
	Version int
	Applied bool
}

// write runs one update of a referral the way e-RS does: the referral's lock
// is taken (or 423 Locked if another update holds it), held for the lock
// window, then the If-Match version is compared (409 Conflict if stale), and
// apply validates and changes the referral (a 422 apiError leaves it
// untouched). A successful update bumps the version. It returns a copy of the
// updated referral.
func (s *store) write(ctx context.Context, ubrn string, ifMatch int, apply func(rec *record, now time.Time) *apiError) (triage.Referral, writeResult, *apiError) {
	s.mu.Lock()
	rec, ok := s.get(ubrn)
	var current int
	if ok {
		current = rec.ref.Version
	}
	s.mu.Unlock()
	if !ok {
		return triage.Referral{}, writeResult{}, errf(http.StatusNotFound, "REFERENCE_NOT_FOUND", "not-found", "The referral was not found.")
	}
	if !s.lockForWrite(ctx, &rec.locking) {
		return triage.Referral{}, writeResult{Version: current}, errf(http.StatusLocked, "LOCKED", "lock-error",
			"The referral is being updated by another request. Retrieve it again and retry later.")
	}
	defer rec.write.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	rec, _ = s.get(ubrn)
	if ifMatch != rec.ref.Version {
		return triage.Referral{}, writeResult{Version: rec.ref.Version}, errf(http.StatusConflict, "CONFLICT", "conflict",
			"The version in If-Match is not the referral's current version. Retrieve the referral again.")
	}
	if e := apply(rec, s.now()); e != nil {
		return triage.Referral{}, writeResult{Version: rec.ref.Version}, e
	}
	rec.ref.Version++
	if err := s.fillSizes(rec); err != nil {
		return triage.Referral{}, writeResult{Version: rec.ref.Version, Applied: true}, errf(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "exception", "generate attachment: %v", err)
	}
	return cloneReferral(rec.ref), writeResult{Version: rec.ref.Version, Applied: true}, nil
}

// lockForWrite takes the update lock for a write, or reports false when
// another update holds it (423 Locked), then holds it for the lock window:
// until a WriteGate is released, and for Config.WriteLockHold. The caller
// unlocks l.write.
func (s *store) lockForWrite(ctx context.Context, l *locking) bool {
	if !l.write.TryLock() {
		return false
	}
	s.mu.Lock()
	gate := l.gate
	l.gate = nil
	s.mu.Unlock()
	if gate != nil {
		close(gate.entered)
		select {
		case <-gate.release:
		case <-ctx.Done():
		case <-s.done:
		}
	}
	if s.lockHold > 0 {
		t := time.NewTimer(s.lockHold)
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-s.done:
		}
		t.Stop()
	}
	return true
}

// locker returns the update lock of a referral or an Advice and Guidance
// request. The caller holds s.mu.
func (s *store) locker(ubrn string) (*locking, bool) {
	if rec, ok := s.recs[ubrn]; ok {
		return &rec.locking, true
	}
	if ar, ok := s.advice.recs[ubrn]; ok {
		return &ar.locking, true
	}
	return nil, false
}

// change applies a change made by "someone else" (the control API): it waits
// for the referral's lock, applies fn and bumps the version.
func (s *store) change(ubrn string, fn func(rec *record, now time.Time) error) (int, error) {
	s.mu.Lock()
	rec, ok := s.recs[ubrn]
	s.mu.Unlock()
	if !ok {
		return 0, ErrUnknownReferral
	}
	rec.write.Lock()
	defer rec.write.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh(rec)
	if err := fn(rec, s.now()); err != nil {
		return rec.ref.Version, err
	}
	rec.ref.Version++
	return rec.ref.Version, nil
}

// conceptCoding returns the coding e-RS records for a concept.
func (s *store) conceptCoding(t triage.CodeSystemType, c triage.Concept) triage.Coding {
	return triage.Coding{System: s.refdata[t].URL, Code: c.Code, Display: c.Display}
}

// lookupReason checks a coded reason sent by a client against reference data:
// the system must be the code system's, the code must exist and be effective
// now, and its reason type must be one of types. It returns the concept.
func (s *store) lookupReason(field string, c triage.Coding, t triage.CodeSystemType, now time.Time, types ...string) (triage.Concept, *apiError) {
	if c.IsZero() {
		return triage.Concept{}, unprocessable("MISSING_VALUE", "%s is required.", field)
	}
	if !codingIn(c, t) {
		return triage.Concept{}, unprocessable("INVALID_CODE", "%s must be a code from the %s code system.", field, t)
	}
	concept, ok := s.refdata[t].Lookup(c.Code)
	if !ok {
		return triage.Concept{}, unprocessable("INVALID_CODE", "%s %q is not a code in %s.", field, c.Code, t)
	}
	if !concept.EffectiveAt(now) {
		return triage.Concept{}, unprocessable("INVALID_CODE", "%s %q is no longer effective.", field, c.Code)
	}
	if len(types) > 0 && !slices.Contains(types, concept.ReasonType) {
		return triage.Concept{}, unprocessable("INAPPROPRIATE_VALUE", "%s %q cannot be used for this operation.", field, c.Code)
	}
	return concept, nil
}

// find returns copies of the referrals for which match returns true. match
// runs outside the lock, so it may call the sandbox.
func (s *store) find(match func(triage.Referral) bool) []triage.Referral {
	s.mu.Lock()
	all := make([]triage.Referral, 0, len(s.order))
	for _, u := range s.order {
		rec, _ := s.get(u)
		_ = s.fillSizes(rec)
		all = append(all, cloneReferral(rec.ref))
	}
	s.mu.Unlock()
	if match == nil {
		return all
	}
	out := all[:0]
	for _, r := range all {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
