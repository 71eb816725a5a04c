package store

import (
	"context"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestRecordAdviceUploadKeepsBinaryIDAcrossReopen: the id e-RS gave an
// uploaded reply file is kept in the sealed outbox entry, so a retry after a
// crash sends the reply with it instead of uploading the file again.
func TestRecordAdviceUploadKeepsBinaryIDAcrossReopen(t *testing.T) {
	env := newEnv(t)
	s := env.open(t)
	ctx := context.Background()
	r := adviceReplyFixture(3)
	r.Attachments = []triage.ProviderAttachment{
		{LocalID: "g1", FileName: "plan.pdf", ContentType: "application/pdf", Size: 10},
		{LocalID: "g2", FileName: "leaflet.pdf", ContentType: "application/pdf", Size: 10},
	}
	e, err := s.EnqueueAdviceReply(ctx, r)
	mustNoErr(t, err, "enqueue")
	checkRecordUpload(t, "g",
		func() error { _, err := s.BeginAdviceSend(ctx, e.ID); return err },
		func(localID, binaryID string) error {
			_, err := s.RecordAdviceUpload(ctx, e.ID, localID, binaryID)
			return err
		})
	s.Close()
	s = env.open(t)
	got, err := s.AdviceEntry(ctx, e.ID)
	mustNoErr(t, err, "read entry")
	if as := got.Reply.Attachments; as[0].BinaryID != "bin-1" || as[1].BinaryID != "" || got.State != triage.OutboxSending {
		t.Fatalf("after reopen: %s %+v, want sending with bin-1 on g1 only", got.State, as)
	}
}
