package nhsapi

import "github.com/google/uuid"

// NewCorrelationID returns a new X-Correlation-ID: a random UUID (version
// 4). A decision keeps the one it was queued with for every attempt, so
// e-RS's logs tie them together; a read makes one per call.
func NewCorrelationID() string { return uuid.NewString() }
