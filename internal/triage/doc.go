// Package triage is the domain model of Triage Desk: the referrals a consultant
// vets, the decisions they make, and the rules those decisions must obey.
//
// It performs no I/O and imports nothing else from the project. Every other
// package (the e-RS client, the encrypted store, the sync engine and the UI)
// speaks in these types. The rules here come from the NHS e-Referral Service
// API: coded rejection reasons from live reference data, comment limits,
// which decisions fit which referral type, and review-by dates counted in
// working days.
package triage
