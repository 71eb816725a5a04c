package app

import (
	"context"
	"io"
	"path/filepath"
	"testing"
)

// BenchmarkDemoStartToWorkspace measures what `make run` does before the
// worklist can be read: start the demo sandbox, sign in through its mock
// CIS2 (authorize, PKCE code exchange, A030) and open the clinician's
// encrypted store with the client and engine. "first" is a new profile
// (the master key and store files are created); "again" reuses one, with
// the saved session from the previous start.
func BenchmarkDemoStartToWorkspace(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, dir string) {
		o := Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json"), DemoReferrals: 60, LockTimeout: -1,
			DevInsecureKeyfile: filepath.Join(dir, "dev.key"), KeyWarn: io.Discard}
		rt, err := Start(ctx, o)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rt.DemoSignIn(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := rt.OpenWorkspace(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := rt.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			b.StartTimer()
			run(b, dir)
		}
	})
	b.Run("again", func(b *testing.B) {
		dir := b.TempDir()
		run(b, dir)
		for b.Loop() {
			run(b, dir)
		}
	})
}

// BenchmarkPatientBannerFromCache measures PatientBanner for a cached
// referral once its letter has been read (the cross-check text is
// memoized): the store reads, the banner and the identity cross-check,
// which is what a GUI selection costs before drawing.
func BenchmarkPatientBannerFromCache(b *testing.B) {
	ctx := context.Background()
	a := openDemoWorkspace(b, 20)
	if _, err := a.engine.SyncOnce(ctx, nil); err != nil {
		b.Fatal(err)
	}
	u := a.sandbox.Referrals(nil)[2].UBRN
	if _, err := a.PatientBanner(ctx, u); err != nil { // reads the letter once
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := a.PatientBanner(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

// openDemoWorkspace opens a workspace on a demo sandbox of n referrals in
// a new profile, closed when the benchmark ends.
func openDemoWorkspace(b *testing.B, n int) *Workspace {
	b.Helper()
	dir := b.TempDir()
	a, err := Open(context.Background(), Options{ProfileDir: dir, PolicyPath: filepath.Join(dir, "none.json"), DemoReferrals: n,
		LockTimeout: -1, DevInsecureKeyfile: filepath.Join(dir, "dev.key"), KeyWarn: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	return a
}
