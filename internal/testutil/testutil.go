// Package testutil holds helpers shared by Triage Desk's tests: finding the
// published e-RS and PDS example payloads, the project root, the project's
// own fixtures in the top-level testdata folder, and generating hostile
// files (decompression bombs) that are never committed.
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

// PDSExamplesDir returns the folder of published PDS example responses,
// ../shared/pds-examples beside the project root (or
// $TRIAGEDESK_PDS_EXAMPLES), skipping the test with a message when it is
// absent. The examples are NHS England's: read in place, never copied into
// the repository.
func PDSExamplesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TRIAGEDESK_PDS_EXAMPLES")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "pds-examples")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("published PDS examples not found at %s (set TRIAGEDESK_PDS_EXAMPLES): contract test not run", dir)
	}
	return dir
}

// TestdataPath returns the path of a file in the project's top-level
// testdata folder, e.g. TestdataPath(t, "fhir/outcome-422-invalid-value.json").
// Those fixtures are written for this project (none is copied from the
// published examples); see testdata/README.md.
func TestdataPath(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "testdata", filepath.FromSlash(rel))
}

// Testdata reads a file of the project's top-level testdata folder. A
// missing file fails the test: the folder is part of the repository.
func Testdata(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(TestdataPath(t, rel))
	if err != nil {
		t.Fatalf("read testdata %s: %v", rel, err)
	}
	return b
}
