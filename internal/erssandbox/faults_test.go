package erssandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("500=0.1, 503=0.05,504=1,reset=0.01,hang=0.02,drop=0.3,latency=150ms,retry-after=3s,rate=4,burst=2,ops=A013+a014")
	if err != nil {
		t.Fatal(err)
	}
	want := Faults{ServerError: 0.1, Unavailable: 0.05, PASTimeout: 1, Reset: 0.01, Hang: 0.02, DropAfterApply: 0.3,
		Latency: 150 * time.Millisecond, RetryAfter: 3 * time.Second, RatePerSecond: 4, Burst: 2, Ops: []string{"A013", "A014"}}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("got %+v\nwant %+v", f, want)
	}
	for _, bad := range []string{"500", "500=2", "latency=fast", "teleport=0.5", "reset=-0.1", "burst=-1", "burst=many"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted", bad)
		}
	}
	var back Faults
	if err := back.UnmarshalJSON(mustJSON(t, want)); err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("JSON round trip: %+v %v", back, err)
	}
}

// transport returns a client that does not reuse connections, so a reset
// connection does not affect the next request.
func freshClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

func TestEachFault(t *testing.T) {
	sb := start(t, Config{Referrals: 100})
	r := pickReferral(t, sb, reviewable(sb, triage.ReferralTypeAppointment, triage.BookingDirect))
	read := rrPath + r.UBRN

	sb.FailNext("A005", FaultRateLimit)
	if rep := do(t, sb, "GET", read, asSPC, nil); rep.Status != 429 || len(rep.Body) != 0 {
		t.Errorf("STU3 429: %d with %d body bytes, want an empty body", rep.Status, len(rep.Body))
	}
	sb.FailNext("A030", FaultRateLimit)
	if rep := do(t, sb, "GET", "/R4/PractitionerRole", as{}, nil); rep.Status != 429 || rep.code() != "TOO_MANY_REQUESTS" {
		t.Errorf("R4 429: %d %s", rep.Status, rep.code())
	}
	sb.FailNext("A005", FaultServerError)
	if rep := do(t, sb, "GET", read, asSPC, nil); rep.Status != 500 || rep.code() != "INTERNAL_SERVER_ERROR" {
		t.Errorf("500: %d %s", rep.Status, rep.code())
	}
	sb.SetFaults(Faults{RetryAfter: 7 * time.Second})
	sb.FailNext("A005", FaultUnavailable)
	if rep := do(t, sb, "GET", read, asSPC, nil); rep.Status != 503 || rep.code() != "SYSTEM_UNAVAILABLE" || rep.Header.Get("Retry-After") != "7" {
		t.Errorf("503: %d %s Retry-After %q", rep.Status, rep.code(), rep.Header.Get("Retry-After"))
	}
	sb.FailNext("A042", FaultUnavailable)
	if rep := do(t, sb, "GET", "/R4/Binary/"+uuid.NewString(), asSPC, nil); rep.Status != 503 || rep.code() != "REC_UNAVAILABLE" {
		t.Errorf("R4 503: %d %s", rep.Status, rep.code())
	}

	sb.FailNext("A014", FaultPASTimeout)
	rep := send(t, sb, r.UBRN, r.Version, triage.Decision{Kind: triage.DecisionReject, Reason: rejectReason("OTHER"), Comments: "x"})
	if rep.Status != 504 || rep.code() != "PAS_NOT_RESPONDING" {
		t.Errorf("504: %d %s", rep.Status, rep.code())
	}
	if after, _ := sb.Referral(r.UBRN); after.Version != r.Version || after.State.State != triage.StateBooked {
		t.Error("a reject answered 504 changed the referral")
	}

	sb.FailNext("A005", FaultReset)
	if _, err := freshClient(5 * time.Second).Do(mustReq(t, sb, "GET", read)); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("reset: %v, want a connection error", err)
	}

	sb.FailNext("A005", FaultHang)
	start := time.Now()
	_, err := freshClient(300 * time.Millisecond).Do(mustReq(t, sb, "GET", read))
	if err == nil || !strings.Contains(err.Error(), "Client.Timeout") || time.Since(start) < 300*time.Millisecond {
		t.Errorf("hang: %v after %v, want the client to give up", err, time.Since(start))
	}

	// Applied, then the connection dropped: the client sees an error but the
	// referral was accepted.
	sb.FailNext("A013", FaultDropAfterApply)
	req := mustReq(t, sb, "POST", rrPath+r.UBRN+"/$ers.acceptReferral")
	req.Header.Set("If-Match", etag(r.Version))
	if _, err := freshClient(5 * time.Second).Do(req); err == nil {
		t.Error("drop after apply: the client got an answer")
	}
	if after, _ := sb.Referral(r.UBRN); after.Version != r.Version+1 || onList(sb, triage.ListReferralsForReview, r.UBRN) {
		t.Errorf("drop after apply: version %d, still for review %v; want the write applied", after.Version, onList(sb, triage.ListReferralsForReview, r.UBRN))
	}

	st := sb.Stats()
	var writes []string
	for _, w := range st.Writes {
		writes = append(writes, fmt.Sprintf("%s:%d:%v:%v", w.Op, w.Status, w.Applied, w.Dropped))
	}
	want := []string{"A014:504:false:false", "A013:200:true:true"}
	if !reflect.DeepEqual(writes, want) {
		t.Errorf("write log %v, want %v", writes, want)
	}
	for _, k := range []FaultKind{FaultRateLimit, FaultServerError, FaultUnavailable, FaultPASTimeout, FaultReset, FaultHang, FaultDropAfterApply} {
		if st.Faults[k] == 0 {
			t.Errorf("fault %s not counted", k)
		}
	}
	if st.Requests["A005"] != 5 || st.Requests["A013"] != 1 || st.Requests["A014"] != 1 {
		t.Errorf("request counts %v", st.Requests)
	}
}

func mustReq(t *testing.T, sb *Sandbox, method, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, sb.BaseURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(hdrODS, ProviderODS)
	req.Header.Set(hdrFunction, string(triage.RoleServiceProviderClinician))
	return req
}

func TestRateLimitAndLatency(t *testing.T) {
	// One request per 20 s: the first passes, the next ones within the
	// same 20 s get 429 however slowly the machine runs.
	sb := start(t, Config{Faults: Faults{RatePerSecond: 0.05}})
	codes := map[int]int{}
	for range 5 {
		codes[do(t, sb, "GET", "/STU3/CodeSystem/PRIORITY", asSPC, nil).Status]++
	}
	if codes[200] != 1 || codes[429] != 4 {
		t.Errorf("5 requests at once against 1 per 20 s: %v", codes)
	}
	// A burst of 3 at 1 per 20 s: three pass at once, the rest get 429.
	if err := sb.SetFaults(Faults{RatePerSecond: 0.05, Burst: 3}); err != nil {
		t.Fatal(err)
	}
	codes = map[int]int{}
	for range 5 {
		codes[do(t, sb, "GET", "/STU3/CodeSystem/PRIORITY", asSPC, nil).Status]++
	}
	if codes[200] != 3 || codes[429] != 2 {
		t.Errorf("5 requests at once against a burst of 3: %v", codes)
	}
	if err := sb.SetFaults(Faults{Latency: 120 * time.Millisecond, Ops: []string{"A004"}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	do(t, sb, "GET", "/STU3/CodeSystem/PRIORITY", asSPC, nil)
	if d := time.Since(t0); d < 120*time.Millisecond {
		t.Errorf("latency: answered in %v, want at least 120ms", d)
	}
	if err := sb.SetFaults(Faults{Hang: 2}); err == nil {
		t.Error("a probability of 2 was accepted")
	}
}

// TestFaultsAreDeterministic: the same seed and requests fail the same way.
func TestFaultsAreDeterministic(t *testing.T) {
	run := func() []int {
		sb := start(t, Config{Seed: 11, Faults: Faults{ServerError: 0.3, Unavailable: 0.2, Ops: []string{"A004"}}})
		var got []int
		for range 40 {
			got = append(got, do(t, sb, "GET", "/STU3/CodeSystem/PRIORITY", asSPC, nil).Status)
		}
		return got
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	n := map[int]int{}
	for _, s := range a {
		n[s]++
	}
	if n[200] == 0 || n[500] == 0 || n[503] == 0 {
		t.Errorf("statuses %v: want a mix", n)
	}
}

func TestFaultsControlAPI(t *testing.T) {
	sb := start(t, Config{})
	if rep := do(t, sb, "POST", sb.ControlURL()+"/faults", as{}, `{"error500":1,"ops":["A004"],"latency":"10ms"}`); rep.Status != 200 {
		t.Fatalf("set faults: %d %s", rep.Status, rep.Body)
	}
	if f := sb.Faults(); f.ServerError != 1 || f.Latency != 10*time.Millisecond {
		t.Errorf("faults %+v", f)
	}
	if rep := do(t, sb, "GET", "/STU3/CodeSystem/PRIORITY", asSPC, nil); rep.Status != 500 {
		t.Errorf("with error500=1: %d", rep.Status)
	}
	do(t, sb, "DELETE", sb.ControlURL()+"/faults", as{}, nil)
	if rep := do(t, sb, "POST", sb.ControlURL()+"/faults/next", as{}, `{"op":"A004","kind":"503"}`); rep.Status != 200 {
		t.Fatalf("next: %d", rep.Status)
	}
	if rep := do(t, sb, "GET", "/STU3/CodeSystem/PRIORITY", asSPC, nil); rep.Status != 503 {
		t.Errorf("scripted 503: %d", rep.Status)
	}
	if rep := do(t, sb, "GET", "/STU3/CodeSystem/PRIORITY", asSPC, nil); rep.Status != 200 {
		t.Errorf("after the scripted fault: %d", rep.Status)
	}
	if rep := do(t, sb, "POST", sb.ControlURL()+"/faults", as{}, `{"reset":5}`); rep.Status != 400 {
		t.Errorf("bad faults accepted: %d", rep.Status)
	}
	rep := do(t, sb, "GET", sb.ControlURL()+"/stats", as{}, nil)
	if rep.Status != 200 || !strings.Contains(string(rep.Body), `"A004": 3`) {
		t.Errorf("stats: %s", rep.Body)
	}
	do(t, sb, "POST", sb.ControlURL()+"/stats/reset", as{}, nil)
	if st := sb.Stats(); len(st.Requests) != 0 || len(st.Writes) != 0 {
		t.Errorf("after reset: %+v", st)
	}
}
