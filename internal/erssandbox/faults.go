package erssandbox

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// FaultKind is one kind of injected failure.
type FaultKind string

// The fault kinds.
const (
	// FaultRateLimit answers 429 Too Many Requests (an empty body on STU3
	// paths, an OperationOutcome TOO_MANY_REQUESTS on R4 paths).
	FaultRateLimit FaultKind = "429"
	// FaultServerError answers 500 with an OperationOutcome.
	FaultServerError FaultKind = "500"
	// FaultUnavailable answers 503 SYSTEM_UNAVAILABLE with Retry-After.
	FaultUnavailable FaultKind = "503"
	// FaultPASTimeout answers 504 PAS_NOT_RESPONDING (A014 reject only; the
	// referral is not changed).
	FaultPASTimeout FaultKind = "504"
	// FaultReset closes the connection without an answer (a TCP reset).
	FaultReset FaultKind = "reset"
	// FaultHang never answers, until the client gives up or the sandbox
	// closes.
	FaultHang FaultKind = "hang"
	// FaultDropAfterApply applies a write, then drops the connection before
	// the answer is sent: the ambiguous case a client must settle by reading
	// the referral again.
	FaultDropAfterApply FaultKind = "drop"
	// FaultOtherReferral applies a write (A013, A014, A022, A028), then
	// answers 200 with another referral's resource and ETag (one on no
	// worklist where there is one): a server that replies for the wrong
	// referral. It is only injected with FailNext; queued for a read it is
	// discarded when that read arrives.
	FaultOtherReferral FaultKind = "other-referral"
)

// Faults configures injected failures. Probabilities are between 0 and 1 and
// are drawn, in the order of the fields, from a random source seeded by the
// sandbox's seed, so a run with the same requests fails the same way.
type Faults struct {
	// RatePerSecond limits FHIR requests (all operations); requests over
	// the limit get 429. Zero means no limit.
	RatePerSecond float64
	// Burst is how many requests may arrive at once before the rate limit
	// applies (like the API platform's spike arrest). Zero means one
	// second's worth of RatePerSecond.
	Burst int
	// Latency is added to every FHIR request.
	Latency time.Duration
	// Hang, Reset, ServerError, Unavailable and PASTimeout are the
	// probabilities of those faults on each request (PASTimeout on A014
	// only).
	Hang        float64
	Reset       float64
	ServerError float64
	Unavailable float64
	PASTimeout  float64
	// DropAfterApply is the probability that a write (A013, A014, A022,
	// A026, A027, A028, A036) is applied and its connection then dropped.
	DropAfterApply float64
	// RetryAfter is the Retry-After of 503 answers (default 1 s).
	RetryAfter time.Duration
	// Ops limits the probabilistic faults and the latency to these
	// operations (A-numbers); empty means all of e-RS's. PDS reads (OpPDS)
	// get faults only when named here or in FailNext.
	Ops []string
}

// faultsJSON is the JSON form of Faults used by the control API, with
// durations as Go duration strings ("250ms").
type faultsJSON struct {
	RatePerSecond  float64  `json:"rate,omitempty"`
	Burst          int      `json:"burst,omitempty"`
	Latency        string   `json:"latency,omitempty"`
	Hang           float64  `json:"hang,omitempty"`
	Reset          float64  `json:"reset,omitempty"`
	ServerError    float64  `json:"error500,omitempty"`
	Unavailable    float64  `json:"error503,omitempty"`
	PASTimeout     float64  `json:"pas504,omitempty"`
	DropAfterApply float64  `json:"drop,omitempty"`
	RetryAfter     string   `json:"retryAfter,omitempty"`
	Ops            []string `json:"ops,omitempty"`
}

// MarshalJSON writes the faults with durations as strings.
func (f Faults) MarshalJSON() ([]byte, error) {
	j := faultsJSON{RatePerSecond: f.RatePerSecond, Burst: f.Burst, Hang: f.Hang, Reset: f.Reset, ServerError: f.ServerError,
		Unavailable: f.Unavailable, PASTimeout: f.PASTimeout, DropAfterApply: f.DropAfterApply, Ops: f.Ops}
	if f.Latency > 0 {
		j.Latency = f.Latency.String()
	}
	if f.RetryAfter > 0 {
		j.RetryAfter = f.RetryAfter.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads faults written by MarshalJSON; it returns an error for
// a bad duration or a probability outside 0..1.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	out := Faults{RatePerSecond: j.RatePerSecond, Burst: j.Burst, Hang: j.Hang, Reset: j.Reset, ServerError: j.ServerError,
		Unavailable: j.Unavailable, PASTimeout: j.PASTimeout, DropAfterApply: j.DropAfterApply, Ops: j.Ops}
	var err error
	if j.Latency != "" {
		if out.Latency, err = time.ParseDuration(j.Latency); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	if j.RetryAfter != "" {
		if out.RetryAfter, err = time.ParseDuration(j.RetryAfter); err != nil {
			return fmt.Errorf("retryAfter: %w", err)
		}
	}
	if err := out.Validate(); err != nil {
		return err
	}
	*f = out
	return nil
}

// Validate reports probabilities outside 0..1 and negative rates or
// durations.
func (f Faults) Validate() error {
	for name, p := range map[string]float64{"hang": f.Hang, "reset": f.Reset, "500": f.ServerError,
		"503": f.Unavailable, "504": f.PASTimeout, "drop": f.DropAfterApply} {
		if !(p >= 0 && p <= 1) { // NaN fails both
			return fmt.Errorf("fault %s: probability %v is not between 0 and 1", name, p)
		}
	}
	if !(f.RatePerSecond >= 0) || math.IsInf(f.RatePerSecond, 0) {
		return fmt.Errorf("faults: rate %v is not a number of requests per second", f.RatePerSecond)
	}
	if f.Burst < 0 || f.Latency < 0 || f.RetryAfter < 0 {
		return fmt.Errorf("faults: rate, burst, latency and retry-after cannot be negative")
	}
	return nil
}

// ParseFaults parses the --faults flag: comma-separated key=value pairs,
// where the keys are 500, 503, 504 (PAS timeout on reject), reset, hang and
// drop (probabilities), latency and retry-after (durations), rate (requests
// per second), burst (requests allowed at once) and ops (A-numbers joined
// with +), for example
// "500=0.05,503=0.05,reset=0.01,drop=0.1,ops=A013+A014". It returns an error
// naming the bad pair.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Faults{}, fmt.Errorf("fault %q: want key=value", kv)
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		prob := func(dst *float64) error {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return err
			}
			*dst = p
			return nil
		}
		var err error
		switch k {
		case "500":
			err = prob(&f.ServerError)
		case "503":
			err = prob(&f.Unavailable)
		case "504", "pas":
			err = prob(&f.PASTimeout)
		case "reset":
			err = prob(&f.Reset)
		case "hang":
			err = prob(&f.Hang)
		case "drop":
			err = prob(&f.DropAfterApply)
		case "rate":
			err = prob(&f.RatePerSecond)
		case "burst":
			f.Burst, err = strconv.Atoi(v)
			if err == nil && f.Burst < 0 {
				err = fmt.Errorf("burst %d is negative", f.Burst)
			}
		case "latency":
			f.Latency, err = time.ParseDuration(v)
		case "retry-after", "retryafter":
			f.RetryAfter, err = time.ParseDuration(v)
		case "ops":
			for _, op := range strings.Split(v, "+") {
				if op = strings.ToUpper(strings.TrimSpace(op)); op != "" {
					f.Ops = append(f.Ops, op)
				}
			}
		default:
			return Faults{}, fmt.Errorf("fault %q: unknown key %q", kv, k)
		}
		if err != nil {
			return Faults{}, fmt.Errorf("fault %q: %w", kv, err)
		}
	}
	if err := f.Validate(); err != nil {
		return Faults{}, err
	}
	return f, nil
}

// faultInjector decides, per request, which fault (if any) to inject.
type faultInjector struct {
	mu      sync.Mutex
	cfg     Faults
	limiter *rate.Limiter
	rng     *rand.Rand
	next    []scripted
}

// scripted is a one-shot fault for the next request to an operation.
type scripted struct {
	op   string
	kind FaultKind
}

func newFaultInjector(seed uint64, f Faults) *faultInjector {
	fi := &faultInjector{rng: rand.New(rand.NewPCG(seed, 0xfa0175))}
	fi.set(f)
	return fi
}

func (fi *faultInjector) set(f Faults) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.cfg = f
	fi.limiter = nil
	if f.RatePerSecond > 0 {
		burst := f.Burst
		if burst == 0 {
			burst = int(f.RatePerSecond)
		}
		fi.limiter = rate.NewLimiter(rate.Limit(f.RatePerSecond), max(1, burst))
	}
}

func (fi *faultInjector) get() Faults {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.cfg
}

// failNext queues a one-shot fault for the next request to op ("" for any
// operation).
func (fi *faultInjector) failNext(op string, kind FaultKind) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.next = append(fi.next, scripted{op: op, kind: kind})
}

// decision is what happens to one request.
type decision struct {
	kind    FaultKind // "" for none
	latency time.Duration
	retry   time.Duration
}

// decide draws the fault for a request to op. write says whether op changes
// a referral.
func (fi *faultInjector) decide(op string, write bool) decision {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	d := decision{retry: fi.cfg.RetryAfter}
	if d.retry <= 0 {
		d.retry = time.Second
	}
	// PDS is another service: only faults aimed at it explicitly reach it,
	// and e-RS's rate limit does not apply.
	pds := op == OpPDS
	for i, s := range fi.next {
		if (s.op == "" && !pds) || s.op == op {
			fi.next = slices.Delete(fi.next, i, i+1)
			if (s.kind == FaultDropAfterApply || s.kind == FaultOtherReferral) && !write {
				break
			}
			d.kind = s.kind
			return d
		}
	}
	if !pds && fi.limiter != nil && !fi.limiter.Allow() {
		d.kind = FaultRateLimit
		return d
	}
	c := fi.cfg
	if (len(c.Ops) > 0 || pds) && !slices.Contains(c.Ops, op) {
		return d
	}
	d.latency = c.Latency
	draw := func(p float64) bool { return p > 0 && fi.rng.Float64() < p }
	switch {
	case draw(c.Hang):
		d.kind = FaultHang
	case draw(c.Reset):
		d.kind = FaultReset
	case draw(c.ServerError):
		d.kind = FaultServerError
	case draw(c.Unavailable):
		d.kind = FaultUnavailable
	case op == opReject && draw(c.PASTimeout):
		d.kind = FaultPASTimeout
	case write && draw(c.DropAfterApply):
		d.kind = FaultDropAfterApply
	}
	return d
}
