package ers

import (
	"context"
	"errors"
	"mime"
	"strings"

	"github.com/triagedesk/triagedesk/internal/ers/fhir"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// File is a downloaded CRI PDF or attachment.
type File struct {
	Data []byte
	// ContentType is the media type the server gave (without parameters).
	ContentType string
	// FileName is the Content-Disposition file name, decoded and passed
	// through SanitizeFilename, or a generated name when there was none.
	// It is patient data: never log it.
	FileName string
	Meta     Meta
}

func fileResult(resp *response, fallback string) *File {
	f := &File{Data: resp.body, Meta: resp.meta}
	if mt, _, err := mime.ParseMediaType(resp.header.Get("Content-Type")); err == nil {
		f.ContentType = mt
	}
	name, ok := ContentDispositionFilename(resp.header.Get("Content-Disposition"))
	if !ok {
		name = fallback
		if !strings.Contains(fallback, ".") {
			name += extensionFor(f.ContentType)
		}
	}
	f.FileName = SanitizeFilename(name)
	return f
}

// preferredExt is the usual extension of each file type e-RS serves.
var preferredExt = map[string]string{
	"text/plain": ".txt", "text/html": ".html", "application/pdf": ".pdf", "text/xml": ".xml", "text/rtf": ".rtf",
	"audio/basic": ".au", "audio/mpeg": ".mp3", "image/png": ".png", "image/gif": ".gif", "image/jpeg": ".jpg",
	"image/tiff": ".tif", "video/mpeg": ".mpg", "application/msword": ".doc",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx", "application/dicom": ".dcm",
}

// extensionFor returns a file extension for a media type, or "".
func extensionFor(mediaType string) string {
	if ext, ok := preferredExt[mediaType]; ok {
		return ext
	}
	if exts, _ := mime.ExtensionsByType(mediaType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// ClinicalInformation downloads a referral's Clinical Referral Information
// PDF (A007, POST /STU3/ReferralRequest/{ubrn}/$ers.generateCRI, no body). It
// is a read and is retried. Errors are *Error.
func (c *Client) ClinicalInformation(ctx context.Context, ubrn string) (*File, error) {
	return c.generateCRI(ctx, "A007", "referral number (UBRN)", "STU3/ReferralRequest/", ubrn, "clinical-information.pdf")
}

// generateCRI downloads the PDF e-RS generates for a referral or an A&G
// request (op, POST {base}{ubrn}/$ers.generateCRI, no body); what names the
// UBRN for a local error and fallback is the file name when e-RS gives none.
// It is a read and is retried. Errors are *Error.
func (c *Client) generateCRI(ctx context.Context, op, what, base, ubrn, fallback string) (*File, error) {
	if err := checkID(op, what, ubrn); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call{op: op, method: "POST", path: base + ubrn + "/$ers.generateCRI",
		accept: "application/pdf", download: true})
	if err != nil {
		return nil, err
	}
	return fileResult(resp, fallback), nil
}

// Attachment downloads an attachment by its id or its DocumentReference URL
// ("Binary/{id}"). It uses A042 (GET /R4/Binary/{id}), following the 307 to
// the temporary download URL without credentials, and falls back to the
// deprecated A006 (GET /STU3/Binary/{id}) when A042 does not know the id or
// is not available (400, 404, 405, 501). A still-scanning file is a Pending
// error. Errors are *Error.
func (c *Client) Attachment(ctx context.Context, idOrURL string) (*File, error) {
	f, err := c.AttachmentR4(ctx, idOrURL)
	var e *Error
	if errors.As(err, &e) && e.Op == "A042" {
		switch e.Status {
		case 400, 404, 405, 501:
			return c.AttachmentSTU3(ctx, idOrURL)
		}
	}
	return f, err
}

// AttachmentR4 downloads an attachment with A042 only. Errors are *Error.
func (c *Client) AttachmentR4(ctx context.Context, idOrURL string) (*File, error) {
	id := fhir.BinaryID(idOrURL)
	if err := checkID("A042", "attachment id", id); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call{op: "A042", method: "GET", path: "R4/Binary/" + id, accept: "*/*", download: true, redirect: true})
	if err != nil {
		return nil, err
	}
	return fileResult(resp, "attachment-"+id), nil
}

// AttachmentSTU3 downloads an attachment with the deprecated A006 (at most
// 5 MB). Errors are *Error.
func (c *Client) AttachmentSTU3(ctx context.Context, idOrURL string) (*File, error) {
	id := fhir.BinaryID(idOrURL)
	if err := checkID("A006", "attachment id", id); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call{op: "A006", method: "GET", path: "STU3/Binary/" + id, accept: "*/*", download: true})
	if err != nil {
		return nil, err
	}
	return fileResult(resp, "attachment-"+id), nil
}

// UploadResult is the result of A020.
type UploadResult struct {
	// BinaryID is the e-RS id of the uploaded file, for
	// ProviderAttachment.BinaryID.
	BinaryID string
	Meta     Meta
}

// UploadAttachment uploads a provider attachment for a later A022 or A028
// on the referral, or A026 or A027 on an Advice and Guidance request (A020,
// POST /STU3/Binary): the raw bytes with the file's own Content-Type,
// NHSD-eRS-File-Name (sanitised) and NHSD-eRS-Referral-ID (the UBRN).
// Files over 5 MB are refused before sending. It is a write and never
// retried. Errors are *Error.
func (c *Client) UploadAttachment(ctx context.Context, ubrn string, a triage.ProviderAttachment, data []byte) (*UploadResult, error) {
	if err := checkID("A020", "referral number (UBRN)", ubrn); err != nil {
		return nil, err
	}
	if len(data) == 0 || len(data) > triage.MaxAttachmentSize {
		return nil, newLocalError("A020", Permanent, "Attachments must be between 1 byte and 5 MB. Attach a smaller file.", nil)
	}
	ct := "application/octet-stream"
	if mt, _, err := mime.ParseMediaType(a.ContentType); err == nil {
		ct = mt
	}
	resp, err := c.do(ctx, call{op: "A020", method: "POST", path: "STU3/Binary", body: data, contentType: ct, accept: acceptJSON,
		write: true, headers: map[string]string{"NHSD-eRS-File-Name": SanitizeFilename(a.FileName), "NHSD-eRS-Referral-ID": ubrn}})
	if err != nil {
		return nil, err
	}
	loc := resp.header.Get("Location")
	id := ""
	if i := strings.LastIndex(loc, "Binary/"); i >= 0 {
		id = fhir.BinaryID(loc[i:])
	}
	if !validID.MatchString(id) {
		return nil, decodeError(resp.meta, true, errors.New("no Binary id in Location"))
	}
	return &UploadResult{BinaryID: id, Meta: resp.meta}, nil
}
