package erssandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// ControlPath is where the control API is mounted. It is not part of e-RS:
// tests and tools use it to read what reached the sandbox, inject faults and
// act as "someone else".
const ControlPath = "/_sandbox"

// Stats returns what reached the sandbox since start or the last ResetStats.
func (s *Sandbox) Stats() Stats { return s.stats.snapshot() }

// ResetStats clears the request counts and the write log.
func (s *Sandbox) ResetStats() { s.stats.reset() }

// SetFaults replaces the injected faults. It returns an error for an invalid
// configuration (see Faults.Validate) and leaves the faults unchanged.
func (s *Sandbox) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faults.set(f)
	return nil
}

// Faults returns the injected faults in force.
func (s *Sandbox) Faults() Faults { return s.faults.get() }

// FailNext makes the next request to the operation (an A-number, or "" for
// any) fail with the fault, once, before any probabilistic fault is drawn.
// FaultDropAfterApply applies only to writes; queued for a read it is
// discarded when that read arrives.
func (s *Sandbox) FailNext(op string, kind FaultKind) { s.faults.failNext(op, kind) }

// Referral returns a copy of a referral as the sandbox holds it now. It
// returns ErrUnknownReferral for an unknown UBRN.
func (s *Sandbox) Referral(ubrn string) (triage.Referral, error) {
	ref, _, err := s.store.snapshot(ubrn)
	return ref, err
}

// Referrals returns copies of the referrals for which match returns true
// (all of them for a nil match), in generation order.
func (s *Sandbox) Referrals(match func(triage.Referral) bool) []triage.Referral {
	return s.store.find(match)
}

// Worklist returns the worklist items a user at the organisation sees on the
// list (without filters), as A008 would.
func (s *Sandbox) Worklist(list triage.ListType, ods string) []triage.WorklistItem {
	return s.store.worklist(worklistQuery{List: list, ODS: ods})
}

// SetState changes a referral's state, reason and comments as another
// clinician, the referrer or an e-RS process would, and returns its new
// version. Setting BOOKED puts a booked referral back on Referrals for
// Review. It waits while a write holds the referral's lock, and returns
// ErrUnknownReferral or an error for an unknown state.
func (s *Sandbox) SetState(ubrn string, st triage.ReferralStatus) (int, error) {
	if _, err := triage.ParseReferralState(string(st.State)); err != nil {
		return 0, err
	}
	return s.store.change(ubrn, func(rec *record, _ time.Time) error {
		rec.ref.State = st
		rec.extra.Accepted = false
		rec.ref.Status = "active"
		if st.State == triage.StateCancelledReferral {
			rec.ref.Status = "cancelled"
		}
		return nil
	})
}

// ChangeLetter changes a referral's letter as the referrer would: the text
// (or a generated update when text is empty) is added to the clinical
// information, clinicalInfoLastUpdated is set to now, the request context
// status becomes LETTER_CHANGED (or PRIORITY_AND_LETTER_CHANGED), the CRI is
// regenerated on next request, and the new version is returned.
func (s *Sandbox) ChangeLetter(ubrn, text string) (int, error) {
	return s.store.change(ubrn, func(rec *record, now time.Time) error {
		rec.extra.LetterRevision++
		if strings.TrimSpace(text) == "" {
			text = addendumFor(s.cfg.Seed, rec.extra.Index, rec.extra.LetterRevision)
		}
		rec.extra.Addenda = append(rec.extra.Addenda, addendum{At: now, Text: text})
		rec.ref.ClinicalInfoLastUpdated = now
		rec.extra.referrerChanged(triage.ContextLetterChanged)
		return nil
	})
}

// ChangePriority changes a referral's priority as the referrer would: the
// request context status becomes PRIORITY_CHANGED (or
// PRIORITY_AND_LETTER_CHANGED). It returns the new version, or an error for
// an unknown priority.
func (s *Sandbox) ChangePriority(ubrn string, p triage.Priority) (int, error) {
	if _, err := triage.ParsePriority(string(p)); err != nil {
		return 0, err
	}
	return s.store.change(ubrn, func(rec *record, _ time.Time) error {
		rec.ref.Priority = p
		rec.extra.referrerChanged(triage.ContextPriorityChanged)
		return nil
	})
}

// referrerChanged records in the request context status that the referrer
// changed what the status what names (the letter or the priority): once
// both have changed since the last review, PRIORITY_AND_LETTER_CHANGED.
func (x *itemExtra) referrerChanged(what triage.RequestContextStatus) {
	if x.ContextStatus.ChangedSinceReview() && x.ContextStatus != what {
		x.ContextStatus = triage.ContextPriorityAndLetterChanged
		return
	}
	x.ContextStatus = what
}

// AddReferrals generates n more synthetic referrals (continuing the seed's
// sequence) and returns their UBRNs. The total stays at most MaxReferrals.
func (s *Sandbox) AddReferrals(n int) ([]string, error) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if n <= 0 || len(st.order)+n > MaxReferrals {
		return nil, fmt.Errorf("add referrals: %d requested; the sandbox holds at most %d", n, MaxReferrals)
	}
	return st.add(n), nil
}

// MakeAvailable finishes the virus scan of a PENDING attachment: it becomes
// AVAILABLE and the referral's version is bumped. It returns the referral's
// new version, ErrUnknownAttachment, or an error if the attachment is not
// PENDING.
func (s *Sandbox) MakeAvailable(attachmentID string) (int, error) {
	s.store.mu.Lock()
	att, ok := s.store.atts[attachmentID]
	s.store.mu.Unlock()
	if !ok {
		return 0, ErrUnknownAttachment
	}
	return s.store.change(att.UBRN, func(rec *record, _ time.Time) error {
		for i := range rec.ref.Documents {
			d := &rec.ref.Documents[i]
			if d.ID == attachmentID {
				if d.Availability != triage.AvailabilityPending {
					return fmt.Errorf("attachment is %s, not PENDING", d.Availability)
				}
				d.Availability = triage.AvailabilityAvailable
				return nil
			}
		}
		return ErrUnknownAttachment
	})
}

// AttachmentFile is a file a test adds to a referral with AddAttachment, or
// the referrer sends with ReferrerReplies.
type AttachmentFile struct {
	FileName     string                    `json:"fileName"`
	ContentType  string                    `json:"contentType"`
	Description  string                    `json:"description,omitempty"`
	Data         []byte                    `json:"data"`                   // base64 in JSON
	Availability triage.AvailabilityStatus `json:"availability,omitempty"` // default AVAILABLE
}

// AddAttachment adds a referrer's attachment to a referral (for example a
// file over 5 MB, to see A006 refuse it) and returns its id and the
// referral's new version.
func (s *Sandbox) AddAttachment(ubrn string, f AttachmentFile) (string, int, error) {
	if f.Availability == "" {
		f.Availability = triage.AvailabilityAvailable
	}
	id := uuid.NewString()
	v, err := s.store.change(ubrn, func(rec *record, now time.Time) error {
		rec.ref.Documents = append(rec.ref.Documents, triage.Document{ID: id, URL: "Binary/" + id, Title: f.FileName,
			Description: f.Description, ContentType: f.ContentType, Size: int64(len(f.Data)), Availability: f.Availability,
			Type: triage.AttachmentReferrer, AttachedByOrg: rec.ref.ReferrerODS, Created: now, Indexed: now})
		s.store.atts[id] = &attachment{ID: id, UBRN: ubrn, Data: f.Data}
		return nil
	})
	return id, v, err
}

// PutUpload stores a file as if uploaded with A020 under the given id, bound
// to the UBRN ("" for an upload sent without NHSD-eRS-Referral-ID), so a
// request body that names a known Binary id (such as a published example)
// can attach it.
func (s *Sandbox) PutUpload(id, ubrn, fileName, contentType string, data []byte) error {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.uploads[id]; ok {
		return fmt.Errorf("upload %s exists", id)
	}
	if _, ok := st.atts[id]; ok {
		return fmt.Errorf("attachment %s exists", id)
	}
	st.uploads[id] = &upload{ID: id, UBRN: ubrn, FileName: path.Base(fileName), ContentType: contentType, Data: data, Created: s.cfg.Now()}
	return nil
}

// LockReferral takes the update lock of a referral (or of an Advice and
// Guidance request) as another user's update would: until release is
// called, writes to it get 423 Locked (and control changes wait). release
// may be called more than once.
func (s *Sandbox) LockReferral(ubrn string) (release func(), err error) {
	s.store.mu.Lock()
	l, ok := s.store.locker(ubrn)
	s.store.mu.Unlock()
	if !ok {
		return nil, ErrUnknownReferral
	}
	l.write.Lock()
	var once sync.Once
	return func() { once.Do(l.write.Unlock) }, nil
}

// HoldNextWrite makes the next write to the referral (or Advice and
// Guidance request) stop inside its lock window until the gate is released:
// wait on gate.Entered(), send a second write (it gets 423), then call
// gate.Release().
func (s *Sandbox) HoldNextWrite(ubrn string) (*WriteGate, error) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	l, ok := s.store.locker(ubrn)
	if !ok {
		return nil, ErrUnknownReferral
	}
	g := &WriteGate{entered: make(chan struct{}), release: make(chan struct{})}
	l.gate = g
	return g, nil
}

// controlRoutes mount the control API.
func (s *Sandbox) controlRoutes(mux *http.ServeMux) {
	h := func(pattern string, fn controlHandler) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			infoOf(r).op = "control"
			v, err := fn(w, r)
			if err != nil {
				status := http.StatusBadRequest
				if errors.Is(err, ErrUnknownReferral) || errors.Is(err, ErrUnknownAttachment) || errors.Is(err, ErrUnknownAdvice) {
					status = http.StatusNotFound
				}
				writeJSON(w, status, map[string]string{"error": err.Error()})
				return
			}
			writeJSON(w, http.StatusOK, v)
		})
	}
	p := ControlPath
	h("GET "+p+"/stats", func(http.ResponseWriter, *http.Request) (any, error) { return s.Stats(), nil })
	reset := func(http.ResponseWriter, *http.Request) (any, error) { s.ResetStats(); return s.Stats(), nil }
	h("POST "+p+"/stats/reset", reset)
	h("DELETE "+p+"/stats", reset)
	h("GET "+p+"/faults", func(http.ResponseWriter, *http.Request) (any, error) { return s.Faults(), nil })
	h("POST "+p+"/faults", withBody(func(_ *http.Request, f Faults) (any, error) { return f, s.SetFaults(f) }))
	h("DELETE "+p+"/faults", func(http.ResponseWriter, *http.Request) (any, error) { return Faults{}, s.SetFaults(Faults{}) })
	h("POST "+p+"/faults/next", withBody(func(_ *http.Request, req struct {
		Op   string    `json:"op"`
		Kind FaultKind `json:"kind"`
	}) (any, error) {
		if !slices.Contains([]FaultKind{FaultRateLimit, FaultServerError, FaultUnavailable, FaultPASTimeout, FaultReset, FaultHang, FaultDropAfterApply}, req.Kind) {
			return nil, fmt.Errorf("unknown fault kind %q", req.Kind)
		}
		s.FailNext(req.Op, req.Kind)
		return req, nil
	}))
	h("GET "+p+"/users", func(http.ResponseWriter, *http.Request) (any, error) { return s.Users(), nil })
	h("POST "+p+"/token", withBody(func(_ *http.Request, req struct {
		User string `json:"user"`
	}) (any, error) {
		t, err := s.Token(req.User)
		return map[string]string{"access_token": t, "token_type": "Bearer"}, err
	}))
	h("GET "+p+"/referrals", func(http.ResponseWriter, *http.Request) (any, error) { return s.summaries(), nil })
	h("GET "+p+"/referrals/{ubrn}", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		return s.Referral(r.PathValue("ubrn"))
	})
	h("POST "+p+"/referrals", withBody(func(_ *http.Request, req struct {
		Count int `json:"count"`
	}) (any, error) {
		ubrns, err := s.AddReferrals(req.Count)
		return map[string]any{"ubrns": ubrns}, err
	}))
	h("POST "+p+"/referrals/{ubrn}/state", withBody(func(r *http.Request, st triage.ReferralStatus) (any, error) {
		return versionAnswer(s.SetState(r.PathValue("ubrn"), st))
	}))
	h("POST "+p+"/referrals/{ubrn}/letter", withBody(func(r *http.Request, req struct {
		Text string `json:"text"`
	}) (any, error) {
		return versionAnswer(s.ChangeLetter(r.PathValue("ubrn"), req.Text))
	}))
	h("POST "+p+"/referrals/{ubrn}/priority", withBody(func(r *http.Request, req struct {
		Priority triage.Priority `json:"priority"`
	}) (any, error) {
		return versionAnswer(s.ChangePriority(r.PathValue("ubrn"), req.Priority))
	}))
	lock := withBody(func(r *http.Request, req struct {
		Milliseconds int `json:"ms"`
	}) (any, error) {
		if req.Milliseconds <= 0 || req.Milliseconds > 600_000 {
			return nil, errors.New("ms must be between 1 and 600000")
		}
		release, err := s.LockReferral(r.PathValue("ubrn"))
		if err != nil {
			return nil, err
		}
		go func() {
			s.sleep(context.Background(), time.Duration(req.Milliseconds)*time.Millisecond)
			release()
		}()
		return map[string]int{"ms": req.Milliseconds}, nil
	})
	h("POST "+p+"/referrals/{ubrn}/lock", lock)
	h("POST "+p+"/advice/{ubrn}/lock", lock)
	s.adviceControlRoutes(h)
	h("POST "+p+"/attachments/{id}/available", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		return versionAnswer(s.MakeAvailable(r.PathValue("id")))
	})
}

// controlHandler answers one control API request with the value to send
// back as JSON, or the error to send as {"error": …}.
type controlHandler = func(w http.ResponseWriter, r *http.Request) (any, error)

// withBody is a control handler that first decodes the request's JSON body
// (an empty body leaves req its zero value) and hands it to fn.
func withBody[T any](fn func(r *http.Request, req T) (any, error)) controlHandler {
	return func(_ http.ResponseWriter, r *http.Request) (any, error) {
		var req T
		if err := decodeControl(r, &req); err != nil {
			return nil, err
		}
		return fn(r, req)
	}
}

// versionAnswer is the answer to a control change: the new version of the
// referral or request, and the change's error.
func versionAnswer(v int, err error) (any, error) {
	return map[string]int{"version": v}, err
}

func decodeControl(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	return nil
}

// referralSummary is one referral in GET /_sandbox/referrals.
type referralSummary struct {
	UBRN        string                               `json:"ubrn"`
	Version     int                                  `json:"version"`
	State       triage.ReferralState                 `json:"state"`
	Type        triage.ReferralType                  `json:"type"`
	Priority    triage.Priority                      `json:"priority"`
	Service     string                               `json:"service"`
	ODS         string                               `json:"ods"`
	ReferrerODS string                               `json:"referrerOds"`
	Worklist    triage.ListType                      `json:"worklist,omitempty"`
	Attachments map[string]triage.AvailabilityStatus `json:"attachments,omitempty"`
}

func (s *Sandbox) summaries() []referralSummary {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]referralSummary, 0, len(st.order))
	for _, u := range st.order {
		rec, _ := st.get(u)
		sum := referralSummary{UBRN: u, Version: rec.ref.Version, State: rec.ref.State.State, Type: rec.ref.Type,
			Priority: rec.ref.Priority, Service: rec.ref.Service.ID, ODS: rec.extra.ServiceODS, ReferrerODS: rec.ref.ReferrerODS}
		switch {
		case rec.inReferralsForReview():
			sum.Worklist = triage.ListReferralsForReview
		case rec.inAppointmentSlotIssues():
			sum.Worklist = triage.ListAppointmentSlotIssues
		}
		for _, d := range rec.ref.Documents {
			if sum.Attachments == nil {
				sum.Attachments = map[string]triage.AvailabilityStatus{}
			}
			sum.Attachments[d.ID] = d.Availability
		}
		out = append(out, sum)
	}
	return out
}
