// Package testutil holds helpers shared by Triage Desk's tests: finding the
// published e-RS example payloads and the project root, and generating
// hostile files (decompression bombs) that are never committed.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding the project's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// ExamplesDir returns the folder of published e-RS example payloads,
// ../shared/ers-examples beside the project root (or $TRIAGEDESK_ERS_EXAMPLES).
// When it is absent the test is skipped with a message saying so: the
// examples are NHS England's, read in place and never copied into the
// repository.
func ExamplesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TRIAGEDESK_ERS_EXAMPLES")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "ers-examples")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("published e-RS examples not found at %s (set TRIAGEDESK_ERS_EXAMPLES): contract test not run", dir)
	}
	return dir
}

// Example reads one published example payload, e.g.
// Example(t, "stu3/retrieveWorklist/responses/ReferralsForReview.json").
func Example(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ExamplesDir(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("read example %s: %v", rel, err)
	}
	return b
}
