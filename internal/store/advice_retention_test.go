package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// putAdviceFixture caches adviceFixture's request (read at now) and its
// conversation, and returns the request.
func putAdviceFixture(t *testing.T, s *Store, now time.Time) triage.AdviceRequest {
	t.Helper()
	ctx := context.Background()
	req, conv := adviceFixture()
	mustNoErr(t, s.PutAdviceRequest(ctx, req, nil, `W/"3"`, now), "put request")
	mustNoErr(t, s.PutAdviceConversation(ctx, conv, nil), "put conversation")
	return req
}

// TestAdviceRetention holds A&G data to the same retention as referrals: a
// request not refreshed from e-RS (nor seen on the A&G worklist) for the
// WithoutSync period is purged with its files, never while a reply to it
// is unsent; a sent reply is removed from the outbox after AfterSent.
func TestAdviceRetention(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.open(t)

	putAdviceFixture(t, s, env.clock.Now())
	mustNoErr(t, s.PutAdviceDocument(ctx, adviceUBRN, DocumentMeta{ID: AdviceOverviewID, Kind: DocumentAdviceOverview},
		[]byte("%PDF-1.4 "+advicePhrase)), "put overview")
	e, err := s.EnqueueAdviceReply(ctx, adviceReplyFixture(3))
	mustNoErr(t, err, "enqueue reply")

	// Unsent reply: the request stays however old it is.
	env.clock.Advance(DefaultWithoutSync + time.Hour)
	if _, err := s.RunRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Advice(ctx, adviceUBRN); err != nil {
		t.Fatalf("request with an unsent reply was purged: %v", err)
	}

	// Sent: the request goes once stale, and the sent entry after AfterSent.
	e, err = s.BeginAdviceSend(ctx, e.ID)
	mustNoErr(t, err, "begin send")
	_, err = s.MarkAdviceSent(ctx, e.ID, SentResult{NewVersion: 4, At: env.clock.Now()})
	mustNoErr(t, err, "mark sent")
	env.clock.Advance(DefaultAfterSent + time.Hour)
	rep, err := s.RunRetention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Advice(ctx, adviceUBRN); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stale request after its reply was sent: %v, want ErrNotFound", err)
	}
	if got, err := s.AdviceEntries(ctx, EntryFilter{}); err != nil || len(got) != 0 {
		t.Fatalf("advice outbox after retention = %d entries, %v; want none", len(got), err)
	}
	if rep.AdviceRequests != 1 || rep.AdviceActions != 1 {
		t.Fatalf("report = %+v, want one request and one action removed", rep)
	}
	s.Close()
	scanTree(t, env.dir(), [][]byte{[]byte(advicePhrase), []byte(adviceReply)})
}

// TestListedAdviceRequestIsKept keeps a request that is still on the A&G
// worklist, however long ago it was last read: unchanged requests are not
// read again, and must not vanish while the clinician may still answer.
func TestListedAdviceRequestIsKept(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.open(t)
	req := putAdviceFixture(t, s, env.clock.Now())
	env.clock.Advance(DefaultWithoutSync + time.Hour)
	item := triage.AdviceItem{UBRN: adviceUBRN, NHSNumber: adviceNHS, Category: req.Category, Version: 3}
	mustNoErr(t, s.PutAdviceWorklist(ctx, AdviceWorklistSnapshot{AsOf: env.clock.Now(), Items: []triage.AdviceItem{item}}), "put worklist")
	if _, err := s.RunRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Advice(ctx, adviceUBRN); err != nil {
		t.Fatalf("listed request was purged: %v", err)
	}
}
