package erssandbox

import (
	"maps"
	"slices"
	"sync"
)

// WriteRecord is one write (A013, A014, A022, A028, A036, and for Advice
// and Guidance A026 and A027) that reached the sandbox, in the order they
// arrived: applied, or refused with its status.
type WriteRecord struct {
	Op string `json:"op"`
	// UBRN is the referral's, or the A&G request's (for A027, the request
	// converted).
	UBRN string `json:"ubrn"`
	// Version is the referral's version after the write when applied, and
	// its current version when refused (0 if unknown).
	Version int `json:"version"`
	// Status is the HTTP status sent (or that would have been sent, for a
	// dropped connection); 0 when the connection was reset or hung.
	Status  int  `json:"status"`
	Applied bool `json:"applied"`
	// Dropped says the connection was dropped after the write was applied,
	// so the client never saw the answer.
	Dropped bool `json:"dropped,omitempty"`
	// Fault names an injected fault that answered instead of e-RS.
	Fault FaultKind `json:"fault,omitempty"`
	// MessageID is the id of the message an applied A026 or A027 added to
	// the conversation.
	MessageID string `json:"messageId,omitempty"`
}

// Stats is what reached the sandbox since it started or was last reset.
type Stats struct {
	// Requests counts requests per operation (A-number). The mock OAuth2
	// endpoints count as "authorize" and "token", the download host as
	// "download".
	Requests map[string]int `json:"requests"`
	// Writes lists every write in order.
	Writes []WriteRecord `json:"writes"`
	// Faults counts injected faults per kind.
	Faults map[FaultKind]int `json:"faults"`
	// DownloadAuthRejected counts requests to the download host that carried
	// an Authorization header (which the object store refuses): a client
	// leaking its bearer token across hosts shows up here.
	DownloadAuthRejected int `json:"downloadAuthRejected"`
}

type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func newStats() *statsRecorder {
	r := &statsRecorder{}
	r.reset()
	return r
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s = Stats{Requests: map[string]int{}, Writes: []WriteRecord{}, Faults: map[FaultKind]int{}}
}

func (r *statsRecorder) request(op string) {
	r.mu.Lock()
	r.s.Requests[op]++
	r.mu.Unlock()
}

func (r *statsRecorder) fault(k FaultKind) {
	r.mu.Lock()
	r.s.Faults[k]++
	r.mu.Unlock()
}

func (r *statsRecorder) write(w WriteRecord) {
	r.mu.Lock()
	r.s.Writes = append(r.s.Writes, w)
	r.mu.Unlock()
}

func (r *statsRecorder) downloadAuth() {
	r.mu.Lock()
	r.s.DownloadAuthRejected++
	r.mu.Unlock()
}

func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{Requests: maps.Clone(r.s.Requests), Writes: slices.Clone(r.s.Writes),
		Faults: maps.Clone(r.s.Faults), DownloadAuthRejected: r.s.DownloadAuthRejected}
}
