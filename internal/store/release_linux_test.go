package store

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mappedKB returns the resident kB of this process's mappings of path.
func mappedKB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no /proc/self/smaps")
	}
	defer f.Close()
	kb, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			in = len(fields) >= 6 && fields[5] == path
		case in && len(fields) >= 2 && fields[0] == "Rss:":
			n, _ := strconv.Atoi(fields[1])
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
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	var fs []fixture
	for i := range 150 {
		f := makeFixture(rng, i)
		if err := s.PutReferral(ctx, CachedReferral{Referral: f.Referral, Raw: f.Raw}); err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
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
