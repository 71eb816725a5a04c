package store

import (
	"errors"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// checkRecordUpload checks the rules both outboxes keep for the ids e-RS
// gives uploaded files, on a queued entry whose first two files have the
// local ids prefix+"1" and prefix+"2": no id is recorded while the entry is
// queued; once sending (begin), the first file's id is recorded, and
// recording it again changes nothing; an unknown file, a different id for an
// uploaded file and a malformed or empty id are EINVALID.
func checkRecordUpload(t *testing.T, prefix string, begin func() error, record func(localID, binaryID string) error) {
	t.Helper()
	if err := record(prefix+"1", "bin-1"); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("record upload while queued: got %v, want ErrIllegalTransition", err)
	}
	mustNoErr(t, begin(), "begin send")
	mustNoErr(t, record(prefix+"1", "bin-1"), "record upload")
	mustNoErr(t, record(prefix+"1", "bin-1"), "record the same upload again")
	for _, tc := range []struct{ name, local, bin string }{
		{"unknown attachment", prefix + "9", "bin-9"},
		{"different id for an uploaded file", prefix + "1", "bin-2"},
		{"malformed id", prefix + "2", "../etc"},
		{"empty id", prefix + "2", ""},
	} {
		if err := record(tc.local, tc.bin); triage.ErrorCodeOf(err) != triage.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", tc.name, err)
		}
	}
}

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
	checkRecordUpload(t, "p",
		func() error { _, err := s.BeginSend(ctx, e.ID); return err },
		func(localID, binaryID string) error {
			_, err := s.RecordUpload(ctx, e.ID, localID, binaryID)
			return err
		})

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
