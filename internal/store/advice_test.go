package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

const (
	adviceUBRN   = "000000070123"
	adviceNHS    = "9990001234"
	advicePhrase = "Intermittent chest tightness on exertion for three weeks"
	adviceReply  = "Please arrange an exercise tolerance test and send the result"
)

func adviceFixture() (triage.AdviceRequest, triage.AdviceConversation) {
	req := triage.AdviceRequest{UBRN: adviceUBRN, NHSNumber: adviceNHS, Version: 3, Category: triage.AdviceResponseRequired,
		Priority: triage.PriorityRoutine, Conversion: triage.ConversionAuthorised}
	conv := triage.AdviceConversation{UBRN: adviceUBRN, Version: 3, Messages: []triage.AdviceMessage{
		{ID: "1", SentBy: triage.SentByRequester, Text: advicePhrase, RequestUBRN: adviceUBRN}}}
	return req, conv
}

func adviceReplyFixture(base int) triage.AdviceReply {
	return triage.AdviceReply{UBRN: adviceUBRN, BaseVersion: base, By: clinician, LastMessageID: "1",
		Outcome: triage.GuidanceRequestFurtherInfo, Guidance: adviceReply, Priority: triage.PriorityRoutine}
}

// TestAdviceCacheSealed stores an A&G worklist, request, conversation and
// overview PDF, reads them back, and finds none of the patient's data in
// plaintext on disk, nor in the logs.
func TestAdviceCacheSealed(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.open(t)
	req, conv := adviceFixture()
	item := triage.AdviceItem{UBRN: adviceUBRN, NHSNumber: adviceNHS, Category: req.Category, Version: 3}
	mustNoErr(t, s.PutAdviceWorklist(ctx, AdviceWorklistSnapshot{AsOf: env.clock.Now(), Items: []triage.AdviceItem{item}}), "put worklist")
	mustNoErr(t, s.PutAdviceRequest(ctx, req, []byte(`{"raw":"`+adviceNHS+`"}`), `W/"3"`, env.clock.Now()), "put request")
	mustNoErr(t, s.PutAdviceConversation(ctx, conv, []byte(advicePhrase)), "put conversation")
	mustNoErr(t, s.PutAdviceDocument(ctx, adviceUBRN, DocumentMeta{ID: AdviceOverviewID, Kind: DocumentAdviceOverview},
		[]byte("%PDF-1.4 "+advicePhrase)), "put overview")

	// An older read never replaces a newer one.
	old := req
	old.Version = 2
	mustNoErr(t, s.PutAdviceRequest(ctx, old, nil, `W/"2"`, env.clock.Now()), "put old request")

	wl, err := s.AdviceWorklist(ctx)
	if err != nil || len(wl.Items) != 1 || wl.Items[0].UBRN != adviceUBRN {
		t.Fatalf("advice worklist = %+v, %v", wl, err)
	}
	ca, err := s.Advice(ctx, adviceUBRN)
	if err != nil || !ca.Complete() || ca.Version() != 3 || ca.ETag != `W/"3"` || ca.Conversation.Messages[0].Text != advicePhrase {
		t.Fatalf("cached advice = %+v, %v", ca, err)
	}
	if _, data, err := s.AdviceDocument(ctx, adviceUBRN, AdviceOverviewID); err != nil || len(data) == 0 {
		t.Fatalf("overview = %d bytes, %v", len(data), err)
	}
	if _, err := s.Advice(ctx, "000000070999"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("uncached request: %v, want ErrNotFound", err)
	}
	// The referral of the same UBRN is a different record.
	if _, err := s.Referral(ctx, adviceUBRN); !errors.Is(err, ErrNotFound) {
		t.Fatalf("referral of the request's UBRN: %v, want ErrNotFound", err)
	}
	if _, err := s.EnqueueAdviceReply(ctx, adviceReplyFixture(3)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	scanTree(t, env.dir(), [][]byte{[]byte(adviceNHS), []byte(adviceUBRN), []byte(advicePhrase), []byte(adviceReply), []byte("%PDF")})
	if containsAny(env.logs.String(), adviceNHS, adviceUBRN, advicePhrase, adviceReply) {
		t.Fatal("patient data in the logs")
	}
}

// TestAdviceOutboxStateMachine takes A&G replies through the outbox: one
// unsent action per request, every step as the outbox state machine
// allows, each audited, and a conflict kept with the message that arrived.
func TestAdviceOutboxStateMachine(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.open(t)

	e, err := s.EnqueueAdviceReply(ctx, adviceReplyFixture(3))
	if err != nil || e.State != triage.OutboxQueued || e.Kind != AdviceActionReply || e.Reply == nil {
		t.Fatalf("enqueue = %+v, %v", e, err)
	}
	if _, err := s.EnqueueAdviceReply(ctx, adviceReplyFixture(3)); !errors.Is(err, ErrDecisionPending) {
		t.Fatalf("second reply to the same request: %v, want ErrDecisionPending", err)
	}
	other := adviceReplyFixture(3)
	other.By = otherClinician
	if _, err := s.EnqueueAdviceReply(ctx, other); !errors.Is(err, ErrWrongUser) {
		t.Fatalf("reply by another clinician: %v, want ErrWrongUser", err)
	}
	if _, err := s.MarkAdviceSent(ctx, e.ID, SentResult{NewVersion: 4}); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("sent before sending: %v, want ErrIllegalTransition", err)
	}
	if e, err = s.BeginAdviceSend(ctx, e.ID); err != nil || e.State != triage.OutboxSending || e.Attempts != 1 {
		t.Fatalf("begin = %+v, %v", e, err)
	}
	if e, err = s.MarkAdviceRetry(ctx, e.ID, SendError{Message: "busy", HTTPStatus: 503}, env.clock.Now().Add(time.Second)); err != nil || e.State != triage.OutboxQueued {
		t.Fatalf("retry = %+v, %v", e, err)
	}
	newMsg := triage.AdviceMessage{ID: "2", SentBy: triage.SentByRequester, Text: "Further information"}
	if e, err = s.MarkAdviceConflict(ctx, e.ID, AdviceConflict{Version: 4, Category: triage.AdviceResponseRequired,
		NewMessages: []triage.AdviceMessage{newMsg}, Reason: "a new message"}); err != nil || e.State != triage.OutboxConflict {
		t.Fatalf("conflict = %+v, %v", e, err)
	}
	if _, err := s.DiscardAdvice(ctx, e.ID, clinician); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("discard before acknowledging: %v, want ErrIllegalTransition", err)
	}
	if e, err = s.AcknowledgeAdviceConflict(ctx, e.ID, clinician); err != nil || !e.Conflict.Acknowledged {
		t.Fatalf("acknowledge = %+v, %v", e, err)
	}
	if e, err = s.DiscardAdvice(ctx, e.ID, clinician); err != nil || e.State != triage.OutboxDiscarded {
		t.Fatalf("discard = %+v, %v", e, err)
	}

	// The request is free again: a new reply on the new version is sent.
	r2 := adviceReplyFixture(4)
	r2.LastMessageID = "2"
	e2, err := s.EnqueueAdviceReply(ctx, r2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = s.BeginAdviceSend(ctx, e2.ID); err != nil {
		t.Fatal(err)
	}
	if e2, err = s.MarkAdviceSent(ctx, e2.ID, SentResult{NewVersion: 5}); err != nil || e2.State != triage.OutboxSent {
		t.Fatalf("sent = %+v, %v", e2, err)
	}
	all, err := s.AdviceEntries(ctx, EntryFilter{UBRN: adviceUBRN})
	if err != nil || len(all) != 2 || all[0].ID != e.ID || all[1].ID != e2.ID {
		t.Fatalf("entries = %d, %v", len(all), err)
	}
	got, err := s.AdviceEntry(ctx, e.ID)
	if err != nil || got.Conflict == nil || got.Conflict.NewMessages[0].ID != "2" {
		t.Fatalf("conflict kept = %+v, %v", got.Conflict, err)
	}
	recs, err := s.AuditRecords(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.DecisionID == e.ID || r.DecisionID == e2.ID {
			n++
		}
	}
	if n < 7 {
		t.Fatalf("%d audit records for the two replies, want at least 7", n)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
}

// TestAdviceRepliesCountAsUnsent keeps the exit and sign-out warnings
// honest: a queued A&G reply is work that has not reached e-RS, counted
// beside unsent decisions until it is sent or discarded.
func TestAdviceRepliesCountAsUnsent(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.open(t)

	e, err := s.EnqueueAdviceReply(ctx, adviceReplyFixture(3))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.UnsentCount(ctx); n != 1 || err != nil {
		t.Fatalf("unsent with one queued reply = %d, %v; want 1", n, err)
	}
	if e, err = s.BeginAdviceSend(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err = s.MarkAdviceSent(ctx, e.ID, SentResult{NewVersion: 4}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.UnsentCount(ctx); n != 0 || err != nil {
		t.Fatalf("unsent after the reply was sent = %d, %v; want 0", n, err)
	}
}
