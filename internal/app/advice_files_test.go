package app

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestAdviceReplyWithAFileUploadsItOnce: a file attached to an A&G reply is
// kept sealed on this computer, uploaded (A020) just before the reply is
// sent, and reaches the referrer with the reply. When the reply itself
// fails after the upload, the retry sends it with the file already uploaded:
// e-RS receives the file exactly once. Files that are empty, too large or
// not kept for the request are refused before anything is queued.
func TestAdviceReplyWithAFileUploadsItOnce(t *testing.T) {
	freshKeychain(t)
	opts := demoOptions(t.TempDir(), newTraffic())
	opts.EngineTuning = func(c *engine.Config) { c.RetryBase, c.RetryCap = time.Millisecond, 5*time.Millisecond }
	rt, a := demoWorkspace(t, opts)
	ctx := context.Background()
	syncOnce(t, a)
	u := waitingAdvice(t, a).UBRN
	v, err := a.Advice(ctx, u)
	if err != nil {
		t.Fatal(err)
	}

	for name, data := range map[string][]byte{"empty.pdf": nil, "huge.pdf": make([]byte, triage.MaxAttachmentSize+1)} {
		if _, err := a.AttachAdviceFile(ctx, u, name, data); triage.ErrorCodeOf(err) != triage.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	plan := []byte("%PDF-1.4 synthetic management plan")
	att, err := a.AttachAdviceFile(ctx, u, `C:\Users\clinician\Documents\management plan.pdf`, plan)
	if err != nil || att.FileName != "management plan.pdf" || att.ContentType != "application/pdf" || att.Size != int64(len(plan)) {
		t.Fatalf("attach = %+v, %v", att, err)
	}
	if _, data, err := a.AdviceDocument(ctx, u, att.LocalID); err != nil || !bytes.Equal(data, plan) {
		t.Fatalf("the attached file is not kept: %v", err)
	}
	reply := triage.AdviceReply{UBRN: u, BaseVersion: v.Request.Version, LastMessageID: v.LatestMessageID,
		Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendAdviceOnly,
		Guidance: "Synthetic advice: follow the attached plan and review in six weeks."}
	stranger := reply
	stranger.Attachments = []triage.ProviderAttachment{{LocalID: "pa-never-kept", FileName: "other.pdf", ContentType: "application/pdf", Size: 3}}
	if _, err := a.Reply(ctx, stranger); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Fatalf("a file not kept for the request: %v, want EINVALID", err)
	}

	reply.Attachments = []triage.ProviderAttachment{att}
	en, err := a.Reply(ctx, reply)
	if err != nil {
		t.Fatalf("reply with a file: %v", err)
	}
	// The reply fails once after its file was uploaded.
	if err := rt.sandbox.SetFaults(erssandbox.Faults{ServerError: 1, Ops: []string{"A026"}}); err != nil {
		t.Fatal(err)
	}
	rt.sandbox.ResetStats()
	syncOnce(t, a)
	got, err := a.store.AdviceEntry(ctx, en.ID)
	if err != nil || got.State == triage.OutboxSent || got.Reply.Attachments[0].BinaryID == "" {
		t.Fatalf("after a failed reply: %s %+v, %v; want unsent with the upload recorded", got.State, got.Reply.Attachments, err)
	}
	if err := rt.sandbox.SetFaults(erssandbox.Faults{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); got.State != triage.OutboxSent && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		syncOnce(t, a)
		if got, err = a.store.AdviceEntry(ctx, en.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got.State != triage.OutboxSent {
		t.Fatalf("reply state %s, want sent", got.State)
	}
	if uploads := rt.sandbox.Stats().Requests["A020"]; uploads != 1 {
		t.Errorf("e-RS received the file %d times, want once", uploads)
	}
	st, err := rt.sandbox.Advice(u)
	if err != nil {
		t.Fatal(err)
	}
	last := st.Conversation.Messages[len(st.Conversation.Messages)-1]
	if last.Text != reply.Guidance || len(last.Documents) != 1 || last.Documents[0].Title != "management plan.pdf" {
		t.Fatalf("e-RS's latest message = %q with %+v, want the reply with its file", last.Text, last.Documents)
	}
}
