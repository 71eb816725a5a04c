package erssandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// A007: POST /STU3/ReferralRequest/{ubrn}/$ers.generateCRI.
func (s *Sandbox) generateCRI(w http.ResponseWriter, r *http.Request, a actor) {
	ubrn := r.PathValue("ubrn")
	if e := s.checkReferral(a, ubrn); e != nil {
		s.fail(w, stu3, e)
		return
	}
	pdf, name, star, err := s.cri(ubrn)
	if err != nil {
		s.log.Error("generate CRI", "op", "A007", "err", err)
		s.fail(w, stu3, errf(http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "exception", "The clinical information could not be generated."))
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", contentDisposition(name, star))
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pdf)
}

// cri returns the referral's CRI PDF, generating it on first request for
// each version and caching it.
func (s *Sandbox) cri(ubrn string) (pdf []byte, name string, star bool, err error) {
	st := s.store
	st.mu.Lock()
	rec, ok := st.get(ubrn)
	if !ok {
		st.mu.Unlock()
		return nil, "", false, ErrUnknownReferral
	}
	if rec.cri != nil && rec.criVersion == rec.ref.Version {
		defer st.mu.Unlock()
		return rec.cri, rec.criName, rec.extra.StarFilename, nil
	}
	st.mu.Unlock()
	ref, extra, err := st.snapshot(ubrn)
	if err != nil {
		return nil, "", false, err
	}
	now := s.cfg.Now()
	svc, _ := serviceByID(ref.Service.ID)
	patient, ok := st.patients.get(ref.NHSNumber)
	if !ok {
		patient = *st.patients.ensure(ref.NHSNumber, ref.Specialty.Code)
	}
	named, _ := st.patients.letterPatient(ubrn, ref.NHSNumber)
	pdf, err = buildCRI(criInput{Ref: ref, Extra: extra, Letter: letterFor(s.cfg.Seed, extra.Index, ref.Specialty.Code, patient),
		Named: named, Service: svc, GeneratedAt: now})
	if err != nil {
		return nil, "", false, err
	}
	name = criFileName(ubrn, now)
	st.mu.Lock()
	if rec.ref.Version == ref.Version {
		rec.cri, rec.criVersion, rec.criName = pdf, ref.Version, name
	}
	st.mu.Unlock()
	return pdf, name, extra.StarFilename, nil
}

// contentDisposition writes an attachment disposition. A non-ASCII name, or
// star set, adds the RFC 5987 filename* form beside an ASCII fallback.
func contentDisposition(name string, star bool) string {
	ascii := strings.Map(func(r rune) rune {
		switch {
		case r >= 0x80:
			return '_'
		case r < 0x20 || r == '"' || r == '\\':
			return -1
		}
		return r
	}, name)
	v := `attachment; filename="` + ascii + `"`
	if star || ascii != name {
		v += "; filename*=UTF-8''" + rfc5987(name)
	}
	return v
}

// rfc5987 percent-encodes a value for an ext-value (RFC 5987 attr-char).
func rfc5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// uploadTypes are the content types A020 accepts, with their extensions.
var uploadTypes = map[string][]string{
	"text/plain":         {".txt"},
	"application/pdf":    {".pdf"},
	"text/xml":           {".xml"},
	"application/xml":    {".xml"},
	"text/rtf":           {".rtf", ".rtx"},
	"application/rtf":    {".rtf", ".rtx"},
	"audio/basic":        {".au"},
	"audio/mpeg":         {".mp3"},
	"image/png":          {".png"},
	"image/gif":          {".gif"},
	"image/jpeg":         {".jpg", ".jpe", ".jpeg"},
	"image/tiff":         {".tif", ".tiff"},
	"video/mpeg":         {".mpg", ".mpeg", ".mpe"},
	"application/msword": {".doc"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
	"application/dicom": {".dcm"},
}

// A020: POST /STU3/Binary.
func (s *Sandbox) uploadFile(w http.ResponseWriter, r *http.Request, a actor) {
	name := strings.TrimSpace(r.Header.Get(hdrFileName))
	ubrn := strings.TrimSpace(r.Header.Get(hdrReferralID))
	if name == "" {
		s.fail(w, stu3, errf(http.StatusBadRequest, "MISSING_HEADER", "required", "The %s header is required.", hdrFileName))
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	exts, ok := uploadTypes[mt]
	if err != nil || !ok {
		s.fail(w, stu3, plain(http.StatusUnsupportedMediaType, "Unsupported Media Type"))
		return
	}
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	if !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		s.fail(w, stu3, unprocessable("INVALID_VALUE", "The file name contains characters that are not allowed."))
		return
	}
	if ext := strings.ToLower(path.Ext(base)); !slices.Contains(exts, ext) {
		s.fail(w, stu3, unprocessable("INVALID_VALUE", "The file extension is not allowed for the content type."))
		return
	}
	if r.ContentLength > maxFileBytes {
		s.fail(w, stu3, unprocessable("FILE_SIZE_ERROR", "The file is larger than the 5 MB allowed."))
		return
	}
	data, e := readBody(r, maxFileBytes)
	if e != nil {
		s.fail(w, stu3, unprocessable("FILE_SIZE_ERROR", "The file is larger than the 5 MB allowed."))
		return
	}
	if len(data) == 0 {
		s.fail(w, stu3, unprocessable("MISSING_VALUE", "The file is empty."))
		return
	}
	if ubrn != "" {
		e := s.checkReferral(a, ubrn)
		if e != nil && e.Status == http.StatusNotFound {
			// An Advice and Guidance request's UBRN, for A026 and A027.
			e = s.store.checkAdvice(a, ubrn)
		}
		if e != nil {
			if e.Status == http.StatusNotFound {
				e = unprocessable("REFERENCE_NOT_FOUND", "The referral in %s was not found.", hdrReferralID)
			}
			s.fail(w, stu3, e)
			return
		}
	}
	id := s.addUpload(ubrn, base, mt, data)
	w.Header().Set("Location", "Binary/"+id)
	w.WriteHeader(http.StatusCreated)
}

func (s *Sandbox) addUpload(ubrn, name, contentType string, data []byte) string {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	id := uuid.NewString()
	st.uploads[id] = &upload{ID: id, UBRN: ubrn, FileName: name, ContentType: contentType, Data: data, Created: s.cfg.Now()}
	return id
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// findAttachment returns an attachment, its document entry and whether the
// actor is related to its referral.
func (s *Sandbox) findAttachment(a actor, id string) (*attachment, triage.Document, *apiError) {
	if !uuidRE.MatchString(id) && !strings.HasPrefix(id, "att-") {
		return nil, triage.Document{}, errf(http.StatusBadRequest, "INVALID_VALUE", "invalid", "The attachment id is not valid.")
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	att, ok := st.atts[id]
	if !ok {
		return nil, triage.Document{}, errf(http.StatusNotFound, "REFERENCE_NOT_FOUND", "not-found", "The attachment was not found.")
	}
	rec, ok := st.get(att.UBRN)
	if !ok {
		// A file of an Advice and Guidance request.
		d, e := st.adviceAttachment(a, att)
		if e != nil {
			return nil, triage.Document{}, e
		}
		return att, d, nil
	}
	if !a.related(rec) {
		return nil, triage.Document{}, &apiError{Status: http.StatusForbidden, Code: "NO_RELATIONSHIP", Display: codeDisplay("NO_RELATIONSHIP"),
			IssueType: "forbidden", Diagnostics: "The user's organisation has no relationship with the referral."}
	}
	for _, d := range rec.ref.Documents {
		if d.ID == id {
			return att, d, nil
		}
	}
	return nil, triage.Document{}, errf(http.StatusNotFound, "REFERENCE_NOT_FOUND", "not-found", "The attachment was not found.")
}

// availabilityError is the 422 for an attachment that cannot be served.
func availabilityError(d triage.Document) *apiError {
	switch d.Availability {
	case triage.AvailabilityPending:
		return unprocessableR4("PENDING", "The file is being scanned and cannot be retrieved. Wait at least 5 minutes before checking its availability again.")
	case triage.AvailabilityThreatsFound:
		return unprocessableR4("THREATS_FOUND", "The file cannot be retrieved because threats were found in it.")
	case triage.AvailabilityValidationFailed:
		return unprocessableR4("VALIDATION_FAILED", "The file cannot be retrieved because it failed validation.")
	}
	return nil
}

func unprocessableR4(code, diag string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: code, Display: codeDisplay(code), IssueType: "invalid", Diagnostics: diag}
}

// attachmentBytes finds the attachment the request names and reads it,
// answering (in FHIR version v, with readFailed when its bytes cannot be
// read) and returning ok false when it cannot be served.
func (s *Sandbox) attachmentBytes(w http.ResponseWriter, r *http.Request, a actor, v fhirVersion, readFailed string) ([]byte, triage.Document, bool) {
	att, doc, e := s.findAttachment(a, r.PathValue("id"))
	if e == nil {
		e = availabilityError(doc)
	}
	if e != nil {
		s.fail(w, v, e)
		return nil, doc, false
	}
	data, err := s.store.attachmentData(att)
	if err != nil {
		s.fail(w, v, errf(http.StatusInternalServerError, readFailed, "exception", "The file could not be read."))
		return nil, doc, false
	}
	return data, doc, true
}

// A042: GET /R4/Binary/{id}: 307 to a single-use URL on the download host.
func (s *Sandbox) retrieveAttachmentR4(w http.ResponseWriter, r *http.Request, a actor) {
	data, doc, ok := s.attachmentBytes(w, r, a, r4, "REC_SERVER_ERROR")
	if !ok {
		return
	}
	tok := s.downloads.add(download{data: data, contentType: doc.ContentType, fileName: doc.Title})
	w.Header().Set("Location", s.dlBase+downloadPath+tok)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// A006: GET /STU3/Binary/{id}: the bytes, up to 5 MB.
func (s *Sandbox) retrieveAttachmentSTU3(w http.ResponseWriter, r *http.Request, a actor) {
	data, doc, ok := s.attachmentBytes(w, r, a, stu3, "INTERNAL_SERVER_ERROR")
	if !ok {
		return
	}
	if len(data) > maxFileBytes {
		s.fail(w, stu3, unprocessable("FILE_SIZE_ERROR", "The file is larger than 5 MB. Retrieve it with A042."))
		return
	}
	serveFile(w, data, doc.ContentType, doc.Title)
}

func serveFile(w http.ResponseWriter, data []byte, contentType, name string) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", contentDisposition(name, false))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

func fhirJSONBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errors.Join(errors.New("encode FHIR"), err)
	}
	return b, nil
}
