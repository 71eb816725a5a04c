package engine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// a029Mode is how the e-RS in front of the sandbox answers A029.
type a029Mode int

const (
	// a029OtherVersion answers only without a version, as the NHS sandbox
	// answers only for the version of its example (not the one A005 gives).
	a029OtherVersion a029Mode = iota
	// a029Never refuses every A029.
	a029Never
	// a029ChangedMeanwhile changes the referral, as someone else would,
	// and then refuses the (now old) version, as e-RS does.
	a029ChangedMeanwhile
)

// a029Proxy passes everything to the sandbox except A029, which it answers
// as its mode says, counting the A029 requests with and without a version.
type a029Proxy struct {
	sb        *erssandbox.Sandbox
	mode      a029Mode
	refused   []byte
	tasks     []byte
	mu        sync.Mutex
	versioned int
	bare      int
}

func (p *a029Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/STU3/Task") {
		next.ServeHTTP(w, r)
		return
	}
	focus := r.URL.Query().Get("focus")
	ubrn := strings.TrimPrefix(strings.SplitN(focus, "/_history/", 2)[0], "ReferralRequest/")
	p.mu.Lock()
	withVersion := strings.Contains(focus, "/_history/")
	if withVersion {
		p.versioned++
	} else {
		p.bare++
	}
	first := p.versioned == 1 && withVersion
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/fhir+json")
	switch {
	case p.mode == a029ChangedMeanwhile && first:
		if _, err := p.sb.ChangeLetter(ubrn, "A further note from the referrer (synthetic)."); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fallthrough
	case withVersion, p.mode == a029Never:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(p.refused)
	default:
		_, _ = w.Write([]byte(strings.ReplaceAll(string(p.tasks), "100000000002", ubrn)))
	}
}

func (p *a029Proxy) counts() (versioned, bare int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.versioned, p.bare
}

// a029Env is a test environment whose e-RS answers A029 as mode says.
func a029Env(t *testing.T, mode a029Mode) (*testEnv, *a029Proxy) {
	t.Helper()
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 12, Seed: 7}, noEngine: true})
	p := &a029Proxy{sb: env.sb, mode: mode, refused: testutil.Testdata(t, "fhir/outcome-400-history-not-supported.json"),
		tasks: testutil.Testdata(t, "fhir/tasks-record-review-outcome.json")}
	target, err := url.Parse(env.sb.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.ServeHTTP(w, r, rp) }))
	t.Cleanup(srv.Close)
	env.client, err = ers.New(ers.Config{BaseURL: srv.URL + target.Path, RateLimit: rate.Inf, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	env.newEngine(nil)
	return env, p
}

// rasReferral returns a triage (RAS) referral on the worklist.
func rasReferral(t *testing.T, sb *erssandbox.Sandbox) triage.Referral {
	t.Helper()
	for _, r := range decidable(t, sb) {
		if r.Type == triage.ReferralTypeTriageDeferral {
			return r
		}
	}
	t.Fatal("no triage referral on the sandbox's worklist")
	return triage.Referral{}
}

// sendOne queues a triage outcome on the referral and syncs once.
func sendOne(t *testing.T, env *testEnv, ref triage.Referral) store.Entry {
	t.Helper()
	ctx := context.Background()
	en, err := env.st.Enqueue(ctx, decisionFor(t, ref, &triage.ReferenceData{}, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.eng.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	en, err = env.st.Entry(ctx, en.ID)
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// appliedWrites counts the writes applied to a referral.
func appliedWrites(sb *erssandbox.Sandbox, ubrn string) int {
	n := 0
	for _, w := range sb.Stats().Writes {
		if w.UBRN == ubrn && w.Applied {
			n++
		}
	}
	return n
}

// sentAfterFallback sends a triage outcome through an e-RS answering A029
// as mode says (never for the version asked about) and checks that A029
// was asked once with the version and once without, and the decision was
// sent and applied once.
func sentAfterFallback(t *testing.T, mode a029Mode) *testEnv {
	t.Helper()
	env, p := a029Env(t, mode)
	ref := rasReferral(t, env.sb)
	en := sendOne(t, env, ref)
	if en.State != triage.OutboxSent {
		t.Fatalf("decision is %s (%+v), want sent", en.State, en.LastError)
	}
	if v, b := p.counts(); v != 1 || b != 1 {
		t.Errorf("A029 asked %d times with a version and %d without, want once each", v, b)
	}
	if n := appliedWrites(env.sb, ref.UBRN); n != 1 {
		t.Errorf("applied %d times", n)
	}
	return env
}

// When e-RS answers A029 only for another version than the one A005 gave
// (the NHS sandbox does), the pre-flight re-reads the referral once, then
// asks without a version, and the triage outcome is sent once.
func TestA029AtAnotherVersionIsAskedWithoutOne(t *testing.T) {
	env := sentAfterFallback(t, a029OtherVersion)
	// The decision panel gets the actions the same way.
	acts, err := env.eng.AvailableActions(context.Background(), rasReferral(t, env.sb).UBRN, rasReferral(t, env.sb).Version)
	if err != nil || len(acts) != 1 || acts[0] != triage.ActionRecordReviewOutcome {
		t.Errorf("AvailableActions: %v %v", acts, err)
	}
}

// When e-RS answers A029 for no version at all, the actions are unknown:
// the pre-flight does not fail the decision (e-RS checks it when it
// arrives), and the decision panel is told to offer every decision that
// fits the referral and to say so.
func TestA029NeverAnsweredMeansActionsUnknown(t *testing.T) {
	env := sentAfterFallback(t, a029Never)
	other := rasReferral(t, env.sb)
	_, err := env.eng.AvailableActions(context.Background(), other.UBRN, other.Version)
	if !errors.Is(err, ErrActionsUnknown) || !strings.Contains(triage.ErrorMessage(err), "every decision that fits") {
		t.Errorf("AvailableActions when e-RS does not say: %v", err)
	}
}

// When the version was refused because the referral really changed (the
// reason e-RS refuses an old version), the re-read shows it: the decision
// is a conflict, shown to the clinician, and nothing is sent.
func TestA029RefusedBecauseTheReferralChanged(t *testing.T) {
	env, p := a029Env(t, a029ChangedMeanwhile)
	ref := rasReferral(t, env.sb)
	en := sendOne(t, env, ref)
	if en.State != triage.OutboxConflict || en.Conflict == nil || en.Conflict.Version <= ref.Version {
		t.Fatalf("decision is %s (conflict %+v), want a conflict at a newer version", en.State, en.Conflict)
	}
	if _, b := p.counts(); b != 0 {
		t.Errorf("A029 was asked without a version %d times after the referral changed", b)
	}
	if n := appliedWrites(env.sb, ref.UBRN); n != 0 {
		t.Errorf("applied %d times", n)
	}
}
