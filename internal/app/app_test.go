package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func openDemo(t *testing.T, dir string, offline bool) *App {
	t.Helper()
	a, err := Open(context.Background(), Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "no-policy.json"),
		DevInsecureKeyfile: filepath.Join(dir, "dev.key"), KeyWarn: io.Discard, Offline: offline, DemoReferrals: 30})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestDemoAppSyncsDecidesSendsAndExports(t *testing.T) {
	dir := t.TempDir()
	a := openDemo(t, dir, false)
	ctx := context.Background()
	if a.Sandbox == nil || a.Engine == nil || a.Identity() != DemoIdentity {
		t.Fatalf("demo app not wired: sandbox %v, engine %v, identity %+v", a.Sandbox != nil, a.Engine != nil, a.Identity())
	}
	if _, err := a.Engine.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	wl, err := a.Worklist(ctx)
	if err != nil || len(wl.Rows) == 0 {
		t.Fatalf("worklist: %d rows, %v", len(wl.Rows), err)
	}
	for i := 1; i < len(wl.Rows); i++ {
		if wl.Rows[i-1].Priority.Rank() > wl.Rows[i].Priority.Rank() {
			t.Fatalf("worklist not in clinical order")
		}
	}
	var booked triage.Row
	for _, r := range wl.Rows {
		if r.Type == triage.ReferralTypeAppointment {
			booked = r
			break
		}
	}
	if !booked.OfflineReady {
		t.Errorf("a synced referral is not marked ready offline")
	}

	// The GUI's validation: a triage outcome does not fit a booked referral.
	_, err = a.Decide(ctx, triage.Decision{Kind: triage.DecisionReviewOutcome, UBRN: booked.UBRN,
		Outcome: triage.OutcomeAcceptReferBookLater, Comments: "Book later."})
	var ve *triage.ValidationError
	if !errors.As(err, &ve) || !ve.Has(triage.RuleWrongReferralType) {
		t.Fatalf("wrong-kind decision: got %v, want a validation error", err)
	}
	en, err := a.Decide(ctx, triage.Decision{Kind: triage.DecisionAccept, UBRN: booked.UBRN})
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	if en.State != triage.OutboxQueued || en.By != DemoIdentity || en.BaseVersion == 0 {
		t.Fatalf("queued entry %+v", en)
	}
	if _, err := a.Engine.SyncOnce(ctx, nil); err != nil {
		t.Fatalf("sync: %v", err)
	}
	got, err := a.Store.Entry(ctx, en.ID)
	if err != nil || got.State != triage.OutboxSent {
		t.Fatalf("after sync the decision is %s (%v), want sent", got.State, err)
	}

	pdf, err := a.VettingPack(ctx, booked.UBRN)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("vetting pack: %d bytes, %v", len(pdf), err)
	}

	// Offline, the same data is readable without a sandbox or engine.
	a.Close()
	off := openDemo(t, dir, true)
	if off.Engine != nil || off.Sandbox != nil {
		t.Fatal("offline app started services")
	}
	v, err := off.Referral(ctx, booked.UBRN)
	if err != nil || v.Decision == nil || v.Decision.State != triage.OutboxSent {
		t.Fatalf("offline referral view: %+v, %v", v.Decision, err)
	}
}

func TestOpenOutsideDemoNeedsASession(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(context.Background(), Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json"),
		Override: &config.EnvironmentChoice{Name: config.EnvNHSSandbox}, DevInsecureKeyfile: filepath.Join(dir, "k"), KeyWarn: io.Discard})
	if triage.ErrorCodeOf(err) != triage.EUNAUTHORIZED {
		t.Fatalf("open nhs-sandbox without a session: %v, want EUNAUTHORIZED", err)
	}
	// With the caller's session (the sign-in seam), it opens.
	sess := engine.NewStaticSession(DemoIdentity)
	a, err := Open(context.Background(), Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json"),
		Override: &config.EnvironmentChoice{Name: config.EnvNHSSandbox}, DevInsecureKeyfile: filepath.Join(dir, "k"), KeyWarn: io.Discard, Session: sess})
	if err != nil {
		t.Fatalf("open nhs-sandbox with a session: %v", err)
	}
	defer a.Close()
	if a.Sandbox != nil || a.Client.BaseURL() != config.NHSSandboxFHIRBaseURL {
		t.Errorf("nhs-sandbox app: sandbox %v, base %s", a.Sandbox != nil, a.Client.BaseURL())
	}
}

func TestRetentionFollowsTheStoreUnlessChosen(t *testing.T) {
	dir := t.TempDir()
	m, err := config.Load(config.Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json")})
	if err != nil {
		t.Fatal(err)
	}
	if r := RetentionFor(m.Settings()); r != (store.Retention{}) {
		t.Errorf("defaults: %+v, want the store's own (7 and 14 days)", r)
	}
	if err := m.SetSentRetentionDays(3); err != nil {
		t.Fatal(err)
	}
	if r := RetentionFor(m.Settings()); r.AfterSent != 3*24*time.Hour || r.WithoutSync != 0 {
		t.Errorf("user chose 3 days: %+v", r)
	}
}
