package app

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func hasRule(err error, r triage.Rule) bool {
	var ve *triage.ValidationError
	return errors.As(err, &ve) && slices.ContainsFunc(ve.Problems, func(p triage.Problem) bool { return p.Rule == r })
}

// TestAdviceFacade drives the A&G façade as the GUI will: the synced
// worklist puts "response required" first; a conversation reads in order;
// advice without an intended recommendation, a reply to a conversation
// that moved on and a conversion the referrer did not allow are refused;
// a valid reply is queued once and sent by the next sync.
func TestAdviceFacade(t *testing.T) {
	freshKeychain(t)
	rt, a := demoWorkspace(t, demoOptions(t.TempDir(), newTraffic()))
	ctx := context.Background()
	if _, err := a.AdviceList(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("worklist before the first sync: %v, want not found", err)
	}
	syncOnce(t, a)
	wl, err := a.AdviceList(ctx)
	if err != nil || len(wl.Rows) == 0 || wl.ResponseRequired == 0 {
		t.Fatalf("advice list = %+v, %v", wl, err)
	}
	if !slices.IsSortedFunc(wl.Rows, func(x, y AdviceRow) int { return triage.CompareAdviceItems(x.AdviceItem, y.AdviceItem) }) ||
		!wl.Rows[0].Category.ResponseRequired() {
		t.Fatal("the A&G worklist does not put response required first")
	}
	var u string
	for _, r := range wl.Rows {
		if r.Category.ResponseRequired() && r.Cached {
			u = r.UBRN
			break
		}
	}
	if u == "" {
		t.Fatal("no cached request needing a response")
	}
	v, err := a.Advice(ctx, u)
	if err != nil || !v.CanReply || len(v.Messages) == 0 || v.LatestMessageID != v.Messages[len(v.Messages)-1].ID {
		t.Fatalf("advice view = %+v, %v", v, err)
	}
	if !slices.IsSortedFunc(v.Messages, func(x, y triage.AdviceMessage) int { return x.Sent.Compare(y.Sent) }) {
		t.Fatal("messages are not in the order sent")
	}
	if !v.Messages[len(v.Messages)-1].SentBy.FromProvider() && len(v.Unanswered) == 0 {
		t.Fatal("the referrer's last message is not shown as unanswered")
	}

	base := triage.AdviceReply{UBRN: u, BaseVersion: v.Request.Version, LastMessageID: v.LatestMessageID,
		Outcome: triage.GuidanceReturnWithAdvice, Guidance: "Synthetic advice: start treatment and review in six weeks."}
	if _, err := a.Reply(ctx, base); !hasRule(err, triage.RuleRecommendationRequired) {
		t.Fatalf("advice without a recommendation: %v, want recommendation-required", err)
	}
	stale := base
	stale.Recommendation, stale.BaseVersion = triage.RecommendAdviceOnly, v.Request.Version-1
	if _, err := a.Reply(ctx, stale); !hasRule(err, triage.RuleConversationMovedOn) {
		t.Fatalf("reply on an older version: %v, want conversation-moved-on", err)
	}
	if _, err := rt.sandbox.SetConversionAuthorisation(u, false); err != nil {
		t.Fatal(err)
	}
	syncOnce(t, a)
	if v, err = a.Advice(ctx, u); err != nil || v.CanConvert {
		t.Fatalf("after the referrer refused conversion: can convert %v, %v", v.CanConvert, err)
	}
	cv := triage.AdviceConversion{UBRN: u, Guidance: "Converted (synthetic).", ReviewComments: "Book routinely (synthetic)."}
	if _, err := a.Convert(ctx, cv); !hasRule(err, triage.RuleConversionNotAuthorised) {
		t.Fatalf("conversion the referrer did not allow: %v, want conversion-not-authorised", err)
	}

	ok := base
	ok.Recommendation, ok.BaseVersion, ok.LastMessageID = triage.RecommendAdviceOnly, v.Request.Version, v.LatestMessageID
	en, err := a.Reply(ctx, ok)
	if err != nil || en.State != triage.OutboxQueued || !en.By.SameUser(a.Identity()) || en.Reply.Priority == "" {
		t.Fatalf("reply = %+v, %v", en, err)
	}
	if _, err := a.Reply(ctx, ok); !errors.Is(err, store.ErrDecisionPending) {
		t.Fatalf("a second reply while one is queued: %v, want ErrDecisionPending", err)
	}
	syncOnce(t, a)
	out, err := a.AdviceOutbox(ctx, store.EntryFilter{UBRN: u})
	if err != nil || len(out) != 1 || out[0].State != triage.OutboxSent {
		t.Fatalf("outbox after sync = %+v, %v", out, err)
	}
	st, err := rt.sandbox.Advice(u)
	if err != nil || st.Conversation.Messages[len(st.Conversation.Messages)-1].Text != ok.Guidance {
		t.Fatalf("the reply is not the conversation's latest message in e-RS: %v", err)
	}
	if v, err = a.Advice(ctx, u); err != nil || v.CanReply || v.Request.Category != triage.AdviceReferrerReviewing {
		t.Fatalf("after sending: category %s, can reply %v, %v", v.Request.Category, v.CanReply, err)
	}
}
