// Package pds is Triage Desk's client for the NHS Personal Demographics
// Service (PDS) FHIR R4 API: GET /Patient/{nhsNumber}, the patient banner's
// source of name, date of birth, gender, death and restriction.
//
// Calls carry the headers PDS asks for: the same CIS2 bearer token as
// e-RS's (none for the NHS sandbox), a fresh UUID X-Request-ID per read
// (reused on its retries, so PDS can de-duplicate them), an
// X-Correlation-ID, and the user's NHSD-End-User-Organisation-ODS and
// NHSD-Session-URID when known. Every read waits for the application's
// shared rate limiter (the e-RS client's) and for PDS's own 5 requests per
// second; responses are size-limited.
//
// Patient maps the FHIR Patient to a protocol-neutral triage.Patient with
// the banner's items only: address, telecom and contacts are never mapped,
// and the GP practice is dropped for a restricted record whatever the
// server sent. A merged record (PDS answers for another NHS number) is a
// Result with Superseded set. Every failure is an *Error with a Kind
// (invalid NHS number, not found, 429, unauthorised, forbidden, unavailable,
// unreachable, bad request, bad response) and a plain-English Message.
// Neither errors nor log lines carry the NHS number or any other patient
// data.
package pds
