package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// A patient's PDS details are kept sealed with the referral: never in
// plaintext on disk, never a restricted patient's GP practice, and shredded
// with the referral.
func TestPatientDetailsSealedSanitizedAndPurged(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.open(t)
	f := makeFixture(rand.New(rand.NewPCG(7, 7)), 1)
	fillReferral(t, s, f)
	if _, err := s.Patient(ctx, f.UBRN); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no lookup yet: %v", err)
	}
	p := &triage.Patient{NHSNumber: f.NHS, Family: f.Family, Given: []string{"Qwertina"}, BirthDate: triage.PartialDate{Year: 1950, Month: 3, Day: 12},
		Restriction: triage.RestrictionRestricted, GPPractice: "Y98765"}
	err := s.UpdatePatient(ctx, f.UBRN, func(l *triage.PatientLookup) error {
		// Bypass Apply, as a careless caller might: the store still drops
		// what a restricted record may not keep.
		l.Requested, l.Patient, l.Outcome, l.FetchedAt = f.NHS, p, triage.PatientFound, env.clock.Now()
		return nil
	})
	mustNoErr(t, err, "update patient")
	got, err := s.Patient(ctx, f.UBRN)
	mustNoErr(t, err, "read patient")
	if got.Patient == nil || got.Patient.Family != f.Family || got.Patient.GPPractice != "" {
		t.Fatalf("stored lookup = %+v", got.Patient)
	}
	// The referral's own record survives a patient update and vice versa.
	if _, err := s.Referral(ctx, f.UBRN); err != nil {
		t.Fatal(err)
	}
	fillReferral(t, s, f)
	if got, _ := s.Patient(ctx, f.UBRN); got.Patient == nil {
		t.Fatal("storing the referral again lost the patient details")
	}
	mustNoErr(t, s.Close(), "close")
	needles := append(phiNeedles([]fixture{f}), []byte("Qwertina"), []byte("Y98765"), []byte("1950-03-12"))
	scanTree(t, env.dir(), needles)

	s = env.open(t)
	env.clock.Advance(time.Hour)
	mustNoErr(t, s.PurgeReferral(ctx, f.UBRN), "purge")
	if _, err := s.Patient(ctx, f.UBRN); !errors.Is(err, ErrNotFound) {
		t.Errorf("patient details outlived the purged referral: %v", err)
	}
}
