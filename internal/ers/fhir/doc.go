// Package fhir holds the subset of FHIR STU3 and R4 that the NHS e-Referral
// Service (e-RS) API uses for provider-side vetting, and the mapping between
// those resources and the domain types of internal/triage, in both
// directions.
//
// The client (internal/ers) decodes e-RS responses with the Decode...
// functions and builds request bodies with WorklistRequest,
// DecisionParameters and CancelReferralParameters. The embedded sandbox
// (internal/erssandbox) does the reverse: it parses request bodies with the
// Parse... functions and answers with the Encode... functions, so both sides
// speak exactly the same shapes.
//
// The structs are hand-written for just the fields e-RS uses. Unknown fields
// are ignored when decoding. e-RS nests most of its data in extensions that
// are found by URL; Extension.Find does that lookup.
//
// The package is pure: no HTTP, no files, no logging, no clocks. Every
// decoder returns an error (never panics) for malformed input, and errors
// never contain patient data (UBRNs, NHS numbers, names or free text), so
// they are safe to log.
package fhir
