package advice

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

// TestAdviceReplyCarriesAnAttachedFile: a file chosen in the reply form is
// listed, named in the confirm step, queued with the reply and sent with
// it; a file over 5 MB is refused with a reason and nothing is attached.
func TestAdviceReplyCarriesAnAttachedFile(t *testing.T) {
	h := newHarness(t)
	c := h.openFirst(replyable)
	f := h.writeReply(c, triage.GuidanceReturnWithAdvice, triage.RecommendAdviceOnly, "Follow the attached plan (synthetic).")

	f.files.AttachFrom("huge.pdf", io.NopCloser(bytes.NewReader(make([]byte, triage.MaxAttachmentSize+1))))
	h.waitFor("the large file refused", func() bool { return f.errs.Visible() && strings.Contains(f.errs.Text, "5 MB") })
	if len(f.files.Files()) != 0 {
		t.Fatalf("a file over 5 MB was attached: %+v", f.files.Files())
	}
	f.files.AttachFrom("management plan.pdf", io.NopCloser(strings.NewReader("%PDF-1.4 synthetic plan")))
	h.waitFor("the file listed", func() bool {
		return len(f.files.Files()) == 1 && strings.HasPrefix(f.files.List.Text, "management plan.pdf (")
	})

	named := false
	for _, r := range confirmReply(c.view, f.reply()).rows {
		named = named || r[0] == "Files" && strings.Contains(r[1], "management plan.pdf")
	}
	if !named {
		t.Fatal("the confirm step does not name the attached file")
	}
	uitest.TapButton(t, f.obj, "Review and send (Ctrl+Enter)")
	uitest.TapButton(t, h.win.Canvas().Overlays().Top(), "Send advice (Ctrl+Enter)")
	h.waitFor("the reply queued", func() bool { return len(h.outbox()) == 1 && c.form == nil })
	if en := h.outbox()[0]; en.Reply == nil || len(en.Reply.Attachments) != 1 || en.Reply.Attachments[0].FileName != "management plan.pdf" {
		t.Fatalf("queued %+v, want the reply with its file", en.Reply)
	}
	h.sync()
	h.waitFor("the reply sent", func() bool { return h.outbox()[0].State == triage.OutboxSent })
	if en := h.outbox()[0]; en.Reply.Attachments[0].BinaryID == "" {
		t.Fatal("the file was not uploaded before the reply was sent")
	}
}
