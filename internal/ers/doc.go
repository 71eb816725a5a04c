// Package ers is Triage Desk's client for the NHS e-Referral Service (e-RS)
// FHIR API: one method per provider-side endpoint the app uses (A004, A005,
// A006, A007, A008, A013, A014, A020, A022, A028, A029, A030, A036, A040,
// A042, and for Advice and Guidance A023, A024, A025, A026, A027, A043),
// returning internal/triage domain values. The FHIR shapes and their
// mapping live in the sub-package fhir.
//
// Every call carries the e-RS headers: Authorization from an
// oauth2.TokenSource (none for the NHS sandbox environment), the identity
// headers set with WithIdentity (the on-behalf-of header only for a
// clinician admin), a fresh X-Correlation-ID, and If-Match on writes.
// Results carry the correlation id and e-RS request id, and the server's
// Date.
//
// All calls share one rate limiter (golang.org/x/time/rate, 5 requests/s by
// default, never above e-RS's 10/s on NHS hosts). Reads are retried after
// network errors, 429 and 5xx with exponential backoff and jitter, honouring
// Retry-After. Writes (including A&G replies and conversions) are never
// retried: e-RS has no idempotency keys, so the caller re-reads the referral
// or request (Error.MayHaveApplied) and decides.
//
// Every failure is an *Error with a Class the sync engine acts on and a
// plain-English Message for the clinician; errors.As finds a *triage.Error
// in it. Neither errors nor log lines contain URLs, diagnostics, file names
// or other patient data: logs carry the operation id, status, duration,
// attempt, class and the correlation and request ids.
//
// A042 answers with a 307 to a pre-signed URL on another host. The client
// follows it itself with a bare request (no Authorization or e-RS headers),
// asks for a fresh redirect on every download and never keeps or logs the
// URL. Download file names are decoded (RFC 6266/5987, 2231, 2047) and
// sanitised with SanitizeFilename.
package ers
