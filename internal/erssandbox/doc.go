// Package erssandbox is an in-process fake of the NHS e-Referral Service
// (e-RS) FHIR API with a mock NHS CIS2 login, for demo mode, integration tests
// and benchmarks.
//
// It speaks the real paths (/FHIR/STU3/..., /FHIR/R4/...), headers, status
// codes and error bodies of e-RS for every endpoint Triage Desk uses, keeps
// referrals in memory with versions, locks and state transitions, keeps
// Advice and Guidance conversations the same way (several rounds between a
// referrer and the provider, replies, conversion to a referral where the
// referrer allowed it), serves
// deterministic synthetic data (referrals, multi-page Clinical Information
// Summary PDFs and attachments, all for synthetic 999-range NHS numbers), and
// can inject faults: rate limiting, latency, 5xx answers, PAS timeouts,
// connection resets, hangs and "applied, then the connection dropped".
//
// Start runs it on loopback listeners: one for the FHIR API, the mock OAuth2
// server (/oauth2-mock) and the control API (/_sandbox/), and a second one,
// on another port, standing in for the object store that A042 redirects to.
// The Go methods on *Sandbox and the HTTP control API let a test act as
// "someone else" (another clinician, the referrer, an e-RS process) and read
// exactly what reached the server: every write, A&G replies and
// conversions included, is in the write log (Stats).
//
// It also serves the Personal Demographics Service (PDS) read, GET
// /personal-demographics/FHIR/R4/Patient/{nhsNumber}, from one synthetic
// patient registry keyed by NHS number that the CRI letters use too, so
// referrals sharing an NHS number (related referrals) name the same person
// in every letter and in PDS. The registry covers a restricted record, a
// deceased patient, a superseded (merged) NHS number, a number PDS does not
// know and a letter naming another patient (see PDSScenario).
//
// Request bodies and responses use the FHIR mapping of internal/ers/fhir, so
// the sandbox and the client agree on every shape. Logs carry operation ids,
// status codes, correlation and request ids, never patient data.
package erssandbox
