package triage

import (
	"testing"
	"time"
)

func TestAttachmentContentType(t *testing.T) {
	for name, want := range map[string]string{
		"letter.pdf":        "application/pdf",
		"SCAN.PDF":          "application/pdf",
		"photo.jpeg":        "image/jpeg",
		"notes.txt":         "text/plain", // no "; charset=utf-8"
		"report.final.png":  "image/png",
		"no-extension":      "application/octet-stream",
		"odd.unknown-thing": "application/octet-stream",
	} {
		if got := AttachmentContentType(name); got != want {
			t.Errorf("AttachmentContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestNewProviderAttachment(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	got := NewProviderAttachment("pa-1", "clinic letter.v2.pdf", 1234, at)
	want := ProviderAttachment{LocalID: "pa-1", FileName: "clinic letter.v2.pdf", ContentType: "application/pdf", Size: 1234,
		Description: "clinic letter.v2", AttachedAt: at}
	if got != want {
		t.Errorf("NewProviderAttachment = %+v, want %+v", got, want)
	}
}
