package store

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// putReferrals caches n synthetic referrals (without documents).
func putReferrals(t *testing.T, s *Store, n int) []fixture {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	fs := make([]fixture, n)
	for i := range fs {
		fs[i] = makeFixture(rng, i)
		mustNoErr(t, s.PutReferral(context.Background(), CachedReferral{Referral: fs[i].Referral, Raw: fs[i].Raw}), "put referral")
	}
	return fs
}

// mappedKB returns the resident kB of this process's mappings of path,
// from /proc/self/smaps (a mapping's header line names its file; its Rss
// line follows).
func mappedKB(t *testing.T, path string) int {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatalf("read /proc/self/smaps: %v", err)
	}
	kb, in := 0, false
	for _, line := range strings.Split(string(smaps), "\n") {
		if f := strings.Fields(line); len(f) >= 5 && !strings.HasSuffix(f[0], ":") {
			in = len(f) >= 6 && f[5] == path
		} else if rss, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rss), "kB")))
			kb += n
		}
	}
	return kb
}

// TestListingCachedReferralsLetsTheMappedFileGo: after the scan of every
// cached referral (the worklist's), the pages of the cache file bbolt
// mapped are no longer counted in the process's resident memory, and
// reading a referral afterwards still gives what was stored.
func TestListingCachedReferralsLetsTheMappedFileGo(t *testing.T) {
	env := newEnv(t)
	s := env.open(t)
	fs := putReferrals(t, s, 150)
	ctx := context.Background()
	path, err := filepath.EvalSymlinks(filepath.Join(env.dir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if _, err := s.Referral(ctx, f.UBRN); err != nil {
			t.Fatal(err)
		}
	}
	before := mappedKB(t, path)
	if before < 256 {
		t.Fatalf("reading 150 referrals left %d kB of %s resident: the file is not where the test looks", before, path)
	}
	infos, err := s.CachedReferrals(ctx)
	if err != nil || len(infos) != len(fs) {
		t.Fatalf("%d cached referrals, %v", len(infos), err)
	}
	if after := mappedKB(t, path); after > 64 {
		t.Errorf("%d kB of the cache file still resident after the scan (%d kB before)", after, before)
	}
	got, err := s.Referral(ctx, fs[42].UBRN)
	if err != nil || !bytes.Equal(got.Raw, fs[42].Raw) || got.Referral.NHSNumber != fs[42].NHS {
		t.Fatalf("referral read after the scan differs: %v", err)
	}
}
