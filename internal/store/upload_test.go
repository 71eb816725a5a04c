package store

import (
	"errors"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestRecordUploadKeepsBinaryIDAcrossReopen(t *testing.T) {
	env, s, ctx, f := openWith(t, makeDecisionFixture, 7)
	d := triage.Decision{Kind: triage.DecisionRedirect, UBRN: f.UBRN, BaseVersion: f.Version, By: clinician,
		Comments: "Please book into the nurse-led clinic.",
		Attachments: []triage.ProviderAttachment{
			{LocalID: "p1", FileName: "plan.pdf", ContentType: "application/pdf", Size: 10},
			{LocalID: "p2", FileName: "photo.png", ContentType: "image/png", Size: 10},
		}}
	e, err := s.Enqueue(ctx, d)
	mustNoErr(t, err, "enqueue")

	if _, err := s.RecordUpload(ctx, e.ID, "p1", "bin-1"); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("record upload while queued: got %v, want ErrIllegalTransition", err)
	}
	_, err = s.BeginSend(ctx, e.ID)
	mustNoErr(t, err, "begin send")
	_, err = s.RecordUpload(ctx, e.ID, "p1", "bin-1")
	mustNoErr(t, err, "record upload")
	_, err = s.RecordUpload(ctx, e.ID, "p1", "bin-1")
	mustNoErr(t, err, "record the same upload again")

	tests := []struct {
		name, local, bin string
	}{
		{"unknown attachment", "p9", "bin-9"},
		{"different id for an uploaded file", "p1", "bin-2"},
		{"malformed id", "p2", "../etc"},
		{"empty id", "p2", ""},
	}
	for _, tc := range tests {
		if _, err := s.RecordUpload(ctx, e.ID, tc.local, tc.bin); triage.ErrorCodeOf(err) != triage.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", tc.name, err)
		}
	}

	s.Close()
	s = env.open(t)
	got, err := s.Entry(ctx, e.ID)
	mustNoErr(t, err, "read entry")
	if got.Decision.Attachments[0].BinaryID != "bin-1" || got.Decision.Attachments[1].BinaryID != "" {
		t.Fatalf("attachments after reopen = %+v, want bin-1 on p1 only", got.Decision.Attachments)
	}
	if got.State != triage.OutboxSending {
		t.Fatalf("state = %s, want sending", got.State)
	}
}
