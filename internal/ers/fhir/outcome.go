package fhir

import (
	"fmt"
	"strings"
)

// DecodeOperationOutcome decodes an e-RS error body, STU3
// (eRS-OperationOutcome-1) or R4 (NHSDigital-OperationOutcome). It returns
// an error for malformed JSON or a resource other than an OperationOutcome.
func DecodeOperationOutcome(b []byte) (*OperationOutcome, error) {
	var o OperationOutcome
	if err := decodeAs(b, &o, &o.ResourceType, TypeOperationOutcome); err != nil {
		return nil, fmt.Errorf("decode operation outcome: %w", err)
	}
	return &o, nil
}

// errorSystems are the code systems of e-RS and NHS API Platform error codes,
// most specific first.
var errorSystems = []string{SystemAPIErrorCode, SystemR4ERSErrorCodes, SystemR4APIErrorOrWarning, SystemR4HTTPErrorCodes}

// First returns the first issue, or the zero Issue when there is none.
func (o *OperationOutcome) First() Issue {
	if o == nil || len(o.Issue) == 0 {
		return Issue{}
	}
	return o.Issue[0]
}

// ErrorCoding returns the e-RS error code of the outcome: from the first
// issue, a coding in an e-RS or NHS API Platform error system if there is
// one (the e-RS systems preferred), else the issue's first coding.
func (o *OperationOutcome) ErrorCoding() Coding {
	if o == nil {
		return Coding{}
	}
	for _, sys := range errorSystems {
		for _, is := range o.Issue {
			if is.Details == nil {
				continue
			}
			for _, c := range is.Details.Coding {
				if c.System == sys && c.Code != "" {
					return c
				}
			}
		}
	}
	return o.First().Details.First()
}

// Diagnostics joins the diagnostics of every issue. It may contain patient
// identifiers (e-RS writes UBRNs there), so it is shown, never logged.
func (o *OperationOutcome) Diagnostics() string {
	if o == nil {
		return ""
	}
	var parts []string
	for _, is := range o.Issue {
		if d := strings.TrimSpace(is.Diagnostics); d != "" {
			parts = append(parts, d)
		}
	}
	return strings.Join(parts, " ")
}

// STU3OperationOutcome builds an STU3 e-RS error body (eRS-OperationOutcome-1)
// with one issue: issueType is the FHIR issue type (business-rule, invalid,
// forbidden, login, transient, …), code an eRS-APIErrorCode-1 code.
func STU3OperationOutcome(code, display, diagnostics, issueType string) *OperationOutcome {
	return &OperationOutcome{
		ResourceType: TypeOperationOutcome,
		Meta:         &Meta{Profile: []string{ProfileOperationOutcome}},
		Issue: []Issue{{
			Severity: "error", Code: issueType,
			Details:     &CodeableConcept{Coding: []Coding{{System: SystemAPIErrorCode, Code: code, Display: display}}},
			Diagnostics: diagnostics,
		}},
	}
}

// R4OperationOutcome builds an R4 error body with one issue. The code's
// system follows the code: e-RS codes (NO_RELATIONSHIP, PENDING,
// THREATS_FOUND, VALIDATION_FAILED) use ers-error-codes, REC_* codes use
// http-error-codes, and others (ACCESS_DENIED, TOO_MANY_REQUESTS,
// SANDBOX_ERROR, …) NHSD-API-ErrorOrWarningCode.
func R4OperationOutcome(code, display, diagnostics, issueType string) *OperationOutcome {
	system := SystemR4APIErrorOrWarning
	switch {
	case strings.HasPrefix(code, "REC_"):
		system = SystemR4HTTPErrorCodes
	case code == "NO_RELATIONSHIP" || code == "PENDING" || code == "THREATS_FOUND" || code == "VALIDATION_FAILED":
		system = SystemR4ERSErrorCodes
	}
	return &OperationOutcome{
		ResourceType: TypeOperationOutcome,
		Issue: []Issue{{
			Severity: "error", Code: issueType,
			Details:     &CodeableConcept{Coding: []Coding{{System: system, Code: code, Display: display}}},
			Diagnostics: diagnostics,
		}},
	}
}
