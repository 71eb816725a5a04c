package document

import (
	"path/filepath"
	"strings"
	"testing"
)

// The compiled PDFium code is shared by every profile of an OS user, so a
// new profile (and the demo's throwaway one) does not compile PDFium again;
// it lives in the OS cache folder, outside every profile.
func TestCompileCacheIsSharedByProfilesOutsideThem(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	a, b := filepath.Join(t.TempDir(), "alice"), filepath.Join(t.TempDir(), "demo")
	if CompileCacheDir(a) != CompileCacheDir(b) {
		t.Fatalf("profiles get different compile caches: %s and %s", CompileCacheDir(a), CompileCacheDir(b))
	}
	got := CompileCacheDir(a)
	if !strings.HasPrefix(got, cache+string(filepath.Separator)) {
		t.Fatalf("compile cache %s is not in the OS cache folder %s", got, cache)
	}
}

// Where the OS names no cache folder, the cache stays inside the profile.
func TestCompileCacheFallsBackToTheProfile(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	profile := t.TempDir()
	if got := CompileCacheDir(profile); !strings.HasPrefix(got, profile+string(filepath.Separator)) {
		t.Fatalf("compile cache %s is not inside the profile %s", got, profile)
	}
}
