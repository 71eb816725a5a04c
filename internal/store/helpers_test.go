package store

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	// Every test that uses KeychainProvider{} talks to go-keyring's mock.
	keyring.MockInit()
	os.Exit(m.Run())
}

// fakeClock is an injectable clock the tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond) // strictly increasing, like real time
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var clinician = triage.Identity{
	SDSUserID: "555000111222", Name: "Dr Ada Vetting", ODS: "RX1",
	BusinessFunction: triage.RoleServiceProviderClinician,
}

var otherClinician = triage.Identity{
	SDSUserID: "555000999888", Name: "Dr Ben Other", ODS: "RX1",
	BusinessFunction: triage.RoleServiceProviderClinician,
}

// logBuffer collects the store's log output so tests can check it holds no
// patient data.
type logBuffer = testutil.SyncBuffer

type testEnv struct {
	profile string
	clock   *fakeClock
	logs    *logBuffer
	keys    KeyProvider
	user    triage.Identity
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	return &testEnv{profile: t.TempDir(), clock: newClock(), logs: &logBuffer{}, keys: KeychainProvider{}, user: clinician}
}

func (e *testEnv) options() Options {
	return Options{
		ProfileDir:  e.profile,
		UserID:      e.user.SDSUserID,
		Keys:        e.keys,
		Clock:       e.clock.Now,
		Logger:      slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		LockTimeout: 300 * time.Millisecond,
	}
}

func (e *testEnv) open(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), e.options())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openWith opens a store in a new test environment, for a test about one
// synthetic referral: build makes it from a seed (makeFixture or
// makeDecisionFixture).
func openWith(t testing.TB, build func(*rand.Rand, int) fixture, seed uint64) (*testEnv, *Store, context.Context, fixture) {
	t.Helper()
	env := newEnv(t)
	return env, env.open(t), context.Background(), build(rand.New(rand.NewPCG(seed, seed)), 0)
}

// openSeeded opens a store in a new test environment, with a random
// source seeded with seed for the synthetic referrals a test makes.
func openSeeded(t testing.TB, seed uint64) (*testEnv, *Store, context.Context, *rand.Rand) {
	t.Helper()
	env := newEnv(t)
	return env, env.open(t), context.Background(), rand.New(rand.NewPCG(seed, seed))
}

func (e *testEnv) dir() string { return UserDir(e.profile, e.user.SDSUserID) }

// clinicalPhrase appears in every fixture's FHIR JSON, CRI PDF and decision
// comment; the PHI scan looks for it.
const clinicalPhrase = "Rapidly enlarging pigmented lesion on the left forearm with bleeding"

// fixture is one synthetic referral.
type fixture struct {
	UBRN, NHS, Family string
	Version           int
	Raw               []byte
	Referral          triage.Referral
	CRI               []byte
}

var referralTemplate = func() string {
	b, err := os.ReadFile(filepath.Join("testdata", "referral.json.tmpl"))
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func makeFixture(rng *rand.Rand, i int) fixture {
	f := fixture{
		UBRN:    fmt.Sprintf("%012d", 100000000000+rng.Int64N(800000000000)),
		NHS:     triage.SyntheticNHSNumber(rng),
		Family:  fmt.Sprintf("Zqxfixturename%04d", i),
		Version: 3 + i%5,
	}
	f.Raw = []byte(strings.NewReplacer("{{UBRN}}", f.UBRN, "{{NHS}}", f.NHS, "{{FAMILY}}", f.Family,
		"{{PHRASE}}", clinicalPhrase, "{{VERSION}}", strconv.Itoa(f.Version)).Replace(referralTemplate))
	f.Referral = triage.Referral{
		UBRN: f.UBRN, NHSNumber: f.NHS, Version: f.Version, Status: "active",
		Priority: triage.PriorityTwoWeekWait, Type: triage.ReferralTypeAppointment,
		Specialty: triage.Coding{Code: "DERMATOLOGY", Display: "Dermatology"},
		Service:   triage.Service{ID: "svc-1", Name: "Skin cancer clinic"},
		State:     triage.ReferralStatus{State: triage.StateBooked},
		Documents: []triage.Document{{ID: "att-" + f.UBRN + "-1", Title: "Referral letter: " + clinicalPhrase,
			ContentType: "application/pdf", Availability: triage.AvailabilityAvailable}},
	}
	f.CRI = makePDF(rng, clinicalPhrase+" (NHS "+triage.FormatNHSNumber(f.NHS)+")", 96<<10)
	return f
}

// makeDecisionFixture is a fixture without the FHIR JSON and CRI, for tests
// that only make decisions.
func makeDecisionFixture(rng *rand.Rand, i int) fixture {
	return fixture{
		UBRN:    fmt.Sprintf("%012d", 100000000000+rng.Int64N(800000000000)),
		NHS:     triage.SyntheticNHSNumber(rng),
		Family:  fmt.Sprintf("Zqxfixturename%04d", i),
		Version: 3 + i%5,
	}
}

// makePDF returns a small but well-formed PDF whose page shows text, padded
// with an incompressible stream to about size bytes.
func makePDF(rng *rand.Rand, text string, size int) []byte {
	pad := make([]byte, size)
	for i := range pad {
		pad[i] = byte(rng.IntN(256))
	}
	content := "BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET"
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	b.WriteString("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	b.WriteString("2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n")
	b.WriteString("3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n")
	fmt.Fprintf(&b, "4 0 obj << /Length %d >> stream\n%s\nendstream endobj\n", len(content), content)
	fmt.Fprintf(&b, "5 0 obj << /Length %d >> stream\n", len(pad))
	b.Write(pad)
	b.WriteString("\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	return b.Bytes()
}

func worklistItem(f fixture) triage.WorklistItem {
	return triage.WorklistItem{
		List: triage.ListReferralsForReview, UBRN: f.UBRN, NHSNumber: f.NHS,
		Priority: triage.PriorityTwoWeekWait, Type: triage.ReferralTypeAppointment,
		Specialty:    triage.Coding{Code: "DERMATOLOGY", Display: "Dermatology"},
		Service:      triage.Service{ID: "svc-1", Name: "Skin cancer clinic"},
		PathwayStart: time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC), Version: f.Version,
	}
}

// rejectFor is a valid reject decision with a clinical comment.
func rejectFor(f fixture) triage.Decision {
	return triage.Decision{
		Kind: triage.DecisionReject, UBRN: f.UBRN, BaseVersion: f.Version, By: clinician,
		Reason:   triage.Coding{Code: "CLINICAL_APPROPRIATENESS", Display: "Clinically inappropriate"},
		Comments: "Seen before: " + clinicalPhrase + ". Please refer to plastics.",
	}
}

func acceptFor(f fixture) triage.Decision {
	return triage.Decision{Kind: triage.DecisionAccept, UBRN: f.UBRN, BaseVersion: f.Version, By: clinician}
}

// fillReferral stores a fixture's referral and CRI.
func fillReferral(t testing.TB, s *Store, f fixture) {
	t.Helper()
	ctx := context.Background()
	if err := s.PutReferral(ctx, CachedReferral{Referral: f.Referral, Raw: f.Raw, ETag: fmt.Sprintf(`W/"%d"`, f.Version)}); err != nil {
		t.Fatalf("put referral: %v", err)
	}
	if err := s.PutDocument(ctx, f.UBRN, DocumentMeta{ID: "cri", Kind: DocumentCRI, Title: "CRI " + f.Family,
		ContentType: "application/pdf"}, f.CRI); err != nil {
		t.Fatalf("put CRI: %v", err)
	}
}

// fillReferrals makes n synthetic referrals from rng and caches each with
// its CRI (fillReferral), in order.
func fillReferrals(t testing.TB, s *Store, rng *rand.Rand, n int) []fixture {
	t.Helper()
	fs := make([]fixture, n)
	for i := range fs {
		fs[i] = makeFixture(rng, i)
		fillReferral(t, s, fs[i])
	}
	return fs
}

func mustNoErr(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if x != "" && strings.Contains(s, x) {
			return true
		}
	}
	return false
}
