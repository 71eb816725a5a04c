package triage

import (
	"mime"
	"path/filepath"
	"strings"
	"time"
)

// AttachmentContentType is the content type sent for a file the clinician
// attaches, worked out from its name's extension (without parameters such
// as a charset): application/octet-stream when the extension says nothing.
func AttachmentContentType(name string) string {
	ct, _, _ := mime.ParseMediaType(mime.TypeByExtension(strings.ToLower(filepath.Ext(name))))
	if ct == "" {
		return "application/octet-stream"
	}
	return ct
}

// NewProviderAttachment describes a file of size bytes called name that the
// clinician attached at the given time, kept under localID: its content
// type from its name (AttachmentContentType), its description the name
// without the extension.
func NewProviderAttachment(localID, name string, size int64, at time.Time) ProviderAttachment {
	return ProviderAttachment{LocalID: localID, FileName: name, ContentType: AttachmentContentType(name), Size: size,
		Description: strings.TrimSuffix(name, filepath.Ext(name)), AttachedAt: at}
}
