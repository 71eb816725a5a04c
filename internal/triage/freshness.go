package triage

import "time"

// Freshness says how far cached data can be trusted as current.
type Freshness int

// The freshness levels shown beside cached data.
const (
	// Fresh: pulled from e-RS within the sync interval.
	Fresh Freshness = iota
	// Stale: older than the sync interval (shown amber).
	Stale
	// VeryStale: older than a day, e.g. a laptop offline since yesterday
	// (shown red).
	VeryStale
	// Unknown: never pulled from e-RS on this computer.
	Unknown
)

// VeryStaleAfter is when cached data turns from amber to red.
const VeryStaleAfter = 24 * time.Hour

// DataAge is how old data pulled from e-RS at asOf (e-RS's own clock, its
// Date header) is now. serverOffset is e-RS's clock minus this computer's
// clock, measured when the data arrived; adding it means a computer whose
// clock runs behind e-RS cannot make old data look fresh (nor one running
// ahead make new data look old). The age is never negative; it is zero for
// an unknown asOf (use FreshnessOf to tell that case apart).
func DataAge(asOf, localNow time.Time, serverOffset time.Duration) time.Duration {
	if asOf.IsZero() {
		return 0
	}
	age := localNow.Add(serverOffset).Sub(asOf)
	if age < 0 {
		return 0
	}
	return age
}

// FreshnessOf classifies data pulled at asOf, as DataAge measures it,
// against the sync interval.
func FreshnessOf(asOf, localNow time.Time, serverOffset, syncInterval time.Duration) Freshness {
	if asOf.IsZero() {
		return Unknown
	}
	switch age := DataAge(asOf, localNow, serverOffset); {
	case age > VeryStaleAfter:
		return VeryStale
	case syncInterval > 0 && age > syncInterval:
		return Stale
	}
	return Fresh
}
