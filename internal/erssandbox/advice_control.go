package erssandbox

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// AdviceState is an Advice and Guidance request as the sandbox holds it.
type AdviceState struct {
	Request      triage.AdviceRequest      `json:"request"`
	Conversation triage.AdviceConversation `json:"conversation"`
	// ServiceODS is the provider organisation; ReferrerODS the practice.
	ServiceODS  string `json:"serviceOds"`
	ReferrerODS string `json:"referrerOds"`
	// ReferralUBRN is the referral the request was converted to, if any.
	ReferralUBRN string `json:"referralUbrn,omitempty"`
}

// ErrAdviceEnded is returned when the referrer acts on a conversation that
// has ended.
var ErrAdviceEnded = errors.New("the advice and guidance conversation has ended")

func (ar *adviceRecord) state() AdviceState {
	req, conv := ar.snapshot()
	return AdviceState{Request: req, Conversation: conv, ServiceODS: ar.serviceODS, ReferrerODS: ar.referrerODS, ReferralUBRN: ar.converted}
}

// Advice returns a copy of an A&G request and its conversation as the
// sandbox holds them now, or ErrUnknownAdvice.
func (s *Sandbox) Advice(ubrn string) (AdviceState, error) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	ar, ok := st.getAdvice(ubrn)
	if !ok {
		return AdviceState{}, ErrUnknownAdvice
	}
	return ar.state(), nil
}

// AdviceList returns copies of the A&G requests for which match returns
// true (all of them for a nil match), in generation order. match runs
// outside the lock.
func (s *Sandbox) AdviceList(match func(AdviceState) bool) []AdviceState {
	st := s.store
	st.mu.Lock()
	all := make([]AdviceState, 0, len(st.advice.order))
	for _, u := range st.advice.order {
		ar, _ := st.getAdvice(u)
		all = append(all, ar.state())
	}
	st.mu.Unlock()
	if match == nil {
		return all
	}
	out := all[:0]
	for _, a := range all {
		if match(a) {
			out = append(out, a)
		}
	}
	return out
}

// AdviceWorklist returns the A&G worklist a user at the organisation sees
// (without filters), as A023 would.
func (s *Sandbox) AdviceWorklist(ods string) []triage.AdviceItem {
	return s.store.adviceWorklist(worklistQuery{ODS: ods})
}

// AddAdviceRequests generates n more synthetic A&G requests (continuing the
// seed's sequence) and returns their UBRNs. The total stays at most
// MaxAdviceRequests.
func (s *Sandbox) AddAdviceRequests(n int) ([]string, error) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if n <= 0 || len(st.advice.order)+n > MaxAdviceRequests {
		return nil, fmt.Errorf("add advice and guidance requests: %d requested; the sandbox holds at most %d", n, MaxAdviceRequests)
	}
	return st.addAdvice(n), nil
}

// ReferrerReplies plays the referrer writing to the provider: with further
// information they were asked for, a follow-up question after advice, or
// more while they wait. The message (and its files, which add e-RS's
// "clinical information updated" note) joins the conversation, the
// provider's reply is required again, and the new version is returned. It
// returns ErrUnknownAdvice, or ErrAdviceEnded for a conversation that has
// ended. Blank text gets a generated answer.
func (s *Sandbox) ReferrerReplies(ubrn, text string, files ...AttachmentFile) (int, error) {
	return s.store.changeAdvice(ubrn, func(ar *adviceRecord, now time.Time) error {
		if ar.req.Category.Ended() {
			return ErrAdviceEnded
		}
		if blank(text) {
			text = referrerAnswers[len(ar.messages)%len(referrerAnswers)]
		}
		s.store.referrerWrites(ar, text, files, uuid.NewString, now)
		return nil
	})
}

// WithdrawAdvice plays the referrer withdrawing the request: the
// conversation ends as CONVERSATION_ENDED_CANCELLED. It returns the new
// version, ErrUnknownAdvice, or ErrAdviceEnded.
func (s *Sandbox) WithdrawAdvice(ubrn string) (int, error) {
	return s.store.changeAdvice(ubrn, func(ar *adviceRecord, _ time.Time) error {
		if ar.req.Category.Ended() {
			return ErrAdviceEnded
		}
		ar.req.Category, ar.req.Status = triage.AdviceEndedCancelled, "cancelled"
		return nil
	})
}

// CloseAdvice plays the referrer closing the conversation after reading the
// advice: it ends as CONVERSATION_ENDED_CLOSED. It returns the new version,
// ErrUnknownAdvice, or ErrAdviceEnded.
func (s *Sandbox) CloseAdvice(ubrn string) (int, error) {
	return s.store.changeAdvice(ubrn, func(ar *adviceRecord, _ time.Time) error {
		if ar.req.Category.Ended() {
			return ErrAdviceEnded
		}
		ar.req.Category, ar.req.Status = triage.AdviceEndedClosed, "completed"
		return nil
	})
}

// SetConversionAuthorisation plays the referrer allowing (or withdrawing
// permission for) conversion to a referral. It returns the new version, or
// ErrUnknownAdvice.
func (s *Sandbox) SetConversionAuthorisation(ubrn string, allowed bool) (int, error) {
	return s.store.changeAdvice(ubrn, func(ar *adviceRecord, _ time.Time) error {
		ar.req.Conversion = triage.ConversionNotAuthorised
		if allowed {
			ar.req.Conversion = triage.ConversionAuthorised
		}
		return nil
	})
}

// adviceSummary is one request in GET /_sandbox/advice.
type adviceSummary struct {
	UBRN       string                         `json:"ubrn"`
	Version    int                            `json:"version"`
	Category   triage.AdviceCategory          `json:"category"`
	Priority   triage.Priority                `json:"priority"`
	Service    string                         `json:"service"`
	ODS        string                         `json:"ods"`
	Referrer   string                         `json:"referrerOds"`
	Conversion triage.ConversionAuthorisation `json:"conversion,omitempty"`
	Messages   int                            `json:"messages"`
	Referral   string                         `json:"referral,omitempty"`
}

// adviceControlRoutes mount the A&G part of the control API.
func (s *Sandbox) adviceControlRoutes(h func(pattern string, fn controlHandler)) {
	p := ControlPath + "/advice"
	h("GET "+p, func(http.ResponseWriter, *http.Request) (any, error) {
		var out []adviceSummary
		for _, a := range s.AdviceList(nil) {
			r := a.Request
			out = append(out, adviceSummary{UBRN: r.UBRN, Version: r.Version, Category: r.Category, Priority: r.Priority, Service: r.Service.ID,
				ODS: a.ServiceODS, Referrer: a.ReferrerODS, Conversion: r.Conversion, Messages: len(a.Conversation.Messages), Referral: a.ReferralUBRN})
		}
		return out, nil
	})
	h("GET "+p+"/{ubrn}", func(_ http.ResponseWriter, r *http.Request) (any, error) { return s.Advice(r.PathValue("ubrn")) })
	h("POST "+p, withBody(func(_ *http.Request, req struct {
		Count int `json:"count"`
	}) (any, error) {
		ubrns, err := s.AddAdviceRequests(req.Count)
		return map[string]any{"ubrns": ubrns}, err
	}))
	h("POST "+p+"/{ubrn}/reply", withBody(func(r *http.Request, req struct {
		Text  string           `json:"text"`
		Files []AttachmentFile `json:"files"`
	}) (any, error) {
		return versionAnswer(s.ReferrerReplies(r.PathValue("ubrn"), req.Text, req.Files...))
	}))
	h("POST "+p+"/{ubrn}/withdraw", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		return versionAnswer(s.WithdrawAdvice(r.PathValue("ubrn")))
	})
	h("POST "+p+"/{ubrn}/close", func(_ http.ResponseWriter, r *http.Request) (any, error) {
		return versionAnswer(s.CloseAdvice(r.PathValue("ubrn")))
	})
	h("POST "+p+"/{ubrn}/conversion", withBody(func(r *http.Request, req struct {
		Allowed *bool `json:"allowed"`
	}) (any, error) {
		if req.Allowed == nil {
			return nil, errors.New(`give {"allowed": true} or {"allowed": false}`)
		}
		return versionAnswer(s.SetConversionAuthorisation(r.PathValue("ubrn"), *req.Allowed))
	}))
}
