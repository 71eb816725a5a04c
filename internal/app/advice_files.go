package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// AttachAdviceFile keeps a file the clinician chose for an A&G reply or
// conversion, sealed in the encrypted cache beside the request, and returns
// the attachment to put on the triage.AdviceReply (or AdviceConversion).
// The engine uploads it to e-RS (A020) just before sending the action, and
// records e-RS's id so no retry uploads it twice. fileName is the file's
// own name (its folder is dropped); its type comes from its extension.
//
// Errors: EINVALID for an empty file or one over the 5 MB e-RS allows;
// ENOTFOUND when the request is not cached; EUNAUTHORIZED; the store's.
func (a *Workspace) AttachAdviceFile(ctx context.Context, ubrn, fileName string, data []byte) (triage.ProviderAttachment, error) {
	if _, err := a.adviceActor(); err != nil {
		return triage.ProviderAttachment{}, err
	}
	name := filepath.Base(strings.ReplaceAll(strings.TrimSpace(fileName), `\`, "/"))
	switch {
	case name == "" || name == "." || name == "/":
		return triage.ProviderAttachment{}, triage.Errorf(triage.EINVALID, "The file has no name. Choose the file again.")
	case len(data) == 0:
		return triage.ProviderAttachment{}, triage.Errorf(triage.EINVALID, "“%s” is empty. Choose another file.", name)
	case len(data) > triage.MaxAttachmentSize:
		return triage.ProviderAttachment{}, triage.Errorf(triage.EINVALID, "“%s” is larger than the 5 MB e-RS allows. Attach a smaller file.", name)
	}
	ca, err := a.cachedAdvice(ctx, ubrn)
	if err != nil {
		return triage.ProviderAttachment{}, err
	}
	pa := triage.NewProviderAttachment("pa-"+rand.Text(), name, int64(len(data)), time.Now())
	meta := store.DocumentMeta{ID: pa.LocalID, Kind: store.DocumentProvider, FileName: name, Title: name, ContentType: pa.ContentType}
	if err := a.store.PutAdviceDocument(ctx, ca.UBRN, meta, data); err != nil {
		return triage.ProviderAttachment{}, fmt.Errorf("keep attached file: %w", err)
	}
	return pa, nil
}

// checkAdviceFiles refuses attachments that were not kept with
// AttachAdviceFile for this request, or that claim an e-RS id already.
func (a *Workspace) checkAdviceFiles(ctx context.Context, ubrn string, lists ...[]triage.ProviderAttachment) error {
	for _, as := range lists {
		for _, at := range as {
			if at.BinaryID != "" {
				return triage.Errorf(triage.EINVALID, "“%s” is already marked as uploaded. Attach the file again.", at.FileName)
			}
			if _, _, err := a.store.AdviceDocument(ctx, ubrn, at.LocalID); err != nil {
				return &triage.Error{Code: triage.EINVALID, Err: err,
					Message: fmt.Sprintf("The attached file “%s” is not kept on this computer. Attach it again.", at.FileName)}
			}
		}
	}
	return nil
}
