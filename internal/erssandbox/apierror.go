package erssandbox

import (
	"fmt"
	"net/http"
)

// apiError is an e-RS error answer: the HTTP status, the e-RS error code
// (eRS-APIErrorCode-1 on STU3 paths; the R4 code systems on R4 paths), the
// FHIR issue type and a diagnostics text without patient data.
type apiError struct {
	Status      int
	Code        string
	Display     string
	IssueType   string
	Diagnostics string
	// plain sends Diagnostics as a text/plain body instead of an
	// OperationOutcome.
	plain bool
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Diagnostics)
}

func errf(status int, code, issueType, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Display: codeDisplay(code), IssueType: issueType, Diagnostics: fmt.Sprintf(format, args...)}
}

// unprocessable is a 422 business-rule failure.
func unprocessable(code, format string, args ...any) *apiError {
	issue := "business-rule"
	switch code {
	case "MISSING_VALUE", "VALUE_IS_REQUIRED":
		issue = "required"
	case "INVALID_CODE", "INVALID_VALUE", "INAPPROPRIATE_VALUE", "PRIORITY_NOT_CURRENT", "DUPLICATE_FILENAME", "FILE_SIZE_ERROR":
		issue = "value"
	case "UNEXPECTED_FIELD", "FIELD_NOT_PERMITTED", "INVALID_FHIR_STRUCTURE":
		issue = "structure"
	case "REFERENCE_NOT_FOUND":
		issue = "not-found"
	case "NO_RELATIONSHIP":
		issue = "forbidden"
	}
	return errf(http.StatusUnprocessableEntity, code, issue, format, args...)
}

// codeDisplay is the display e-RS gives an error code.
func codeDisplay(code string) string {
	switch code {
	case "INVALID_REQUEST_STATE":
		return "Invalid request state"
	case "INVALID_REQUEST_TYPE":
		return "Invalid request type"
	case "INVALID_STATE":
		return "Invalid state"
	case "INVALID_CODE":
		return "Invalid code"
	case "INVALID_VALUE":
		return "Invalid value"
	case "INAPPROPRIATE_VALUE":
		return "Inappropriate value"
	case "MISSING_VALUE":
		return "Missing value"
	case "VALUE_IS_REQUIRED":
		return "Value is required"
	case "FIELD_NOT_PERMITTED":
		return "Field not permitted"
	case "UNEXPECTED_FIELD":
		return "Unexpected field"
	case "PRIORITY_NOT_CURRENT":
		return "Priority not current"
	case "REFERENCE_NOT_FOUND":
		return "Reference not found"
	case "DUPLICATE_FILENAME":
		return "Duplicate filename"
	case "NO_RELATIONSHIP":
		return "No relationship"
	case "HISTORY_NOT_SUPPORTED":
		return "History not supported"
	case "FILE_SIZE_ERROR":
		return "File size error"
	case "PENDING":
		return "Pending"
	case "THREATS_FOUND":
		return "Threats found"
	case "VALIDATION_FAILED":
		return "Validation failed"
	case "MISSING_HEADER":
		return "Missing header"
	case "MISSING_PARAMETER":
		return "Missing parameter"
	case "NO_ACCESS":
		return "No access"
	case "FORBIDDEN":
		return "Forbidden"
	case "PAS_NOT_RESPONDING":
		return "No response from PAS"
	case "SYSTEM_UNAVAILABLE":
		return "System Unavailable"
	case "INTERNAL_SERVER_ERROR":
		return "Internal server error"
	case "INVALID_FHIR_STRUCTURE":
		return "Invalid FHIR structure"
	}
	return ""
}
