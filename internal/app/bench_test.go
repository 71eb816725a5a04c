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
