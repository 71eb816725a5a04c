package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// corruption damages a file in place.
type corruption struct {
	name string
	fn   func(t *testing.T, path string, rng *rand.Rand)
}

var corruptions = []corruption{
	{"truncated to half", func(t *testing.T, p string, _ *rand.Rand) {
		// Half of what the file uses: bbolt grows a file ahead of its
		// pages, so half of its length can still hold every page.
		db, err := bolt.Open(p, 0o600, &bolt.Options{ReadOnly: true})
		mustNoErr(t, err, "open raw")
		var used int64
		_ = db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil })
		db.Close()
		mustNoErr(t, os.Truncate(p, used/2), "truncate")
	}},
	{"truncated to a page and a bit", func(t *testing.T, p string, _ *rand.Rand) {
		mustNoErr(t, os.Truncate(p, int64(os.Getpagesize())+100), "truncate")
	}},
	{"emptied", func(t *testing.T, p string, _ *rand.Rand) { mustNoErr(t, os.Truncate(p, 0), "truncate") }},
	{"random bytes", func(t *testing.T, p string, rng *rand.Rand) {
		fi, _ := os.Stat(p)
		b := make([]byte, fi.Size())
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		mustNoErr(t, os.WriteFile(p, b, 0o600), "write")
	}},
	{"zeroed meta pages", func(t *testing.T, p string, _ *rand.Rand) {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		mustNoErr(t, err, "open")
		defer f.Close()
		_, err = f.WriteAt(make([]byte, 2*os.Getpagesize()), 0)
		mustNoErr(t, err, "zero")
	}},
}

func corruptFixture(t *testing.T) (*testEnv, []fixture) {
	t.Helper()
	env, s, ctx, rng := openSeeded(t, 60)
	fs := fillReferrals(t, s, rng, 5)
	for _, f := range fs {
		_, err := s.Enqueue(ctx, rejectFor(f))
		mustNoErr(t, err, "enqueue")
	}
	mustNoErr(t, s.Close(), "close")
	return env, fs
}

// damagedFixture builds corruptFixture, then damages its file with c, the
// i-th corruption, drawing on random stream: it returns the file's path and
// the damaged file's hash.
func damagedFixture(t *testing.T, c corruption, i int, file string, stream uint64) (*testEnv, []fixture, string, [32]byte) {
	t.Helper()
	env, fs := corruptFixture(t)
	path := filepath.Join(env.dir(), file)
	c.fn(t, path, rand.New(rand.NewPCG(uint64(i), stream)))
	return env, fs, path, fileHash(t, path)
}

func fileHash(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	mustNoErr(t, err, "read")
	return sha256.Sum256(b)
}

func TestCorruptCacheIsSetAsideAndRebuilt(t *testing.T) {
	for i, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			env, fs, _, damaged := damagedFixture(t, c, i, CacheFile, 61)

			s := env.open(t) // must not fail and must not panic
			ctx := context.Background()
			r := s.Report()
			if r.CacheSetAside == "" || !r.CacheCreated || !strings.Contains(r.CacheProblem, "downloaded again") {
				t.Fatalf("report %+v", r)
			}
			if !strings.HasPrefix(filepath.Base(r.CacheSetAside), CacheFile+".corrupt-") {
				t.Errorf("set aside as %s", r.CacheSetAside)
			}
			if fileHash(t, r.CacheSetAside) != damaged {
				t.Error("the set-aside file is not the damaged file, unchanged")
			}
			// The new cache is empty and works.
			if _, err := s.Referral(ctx, fs[0].UBRN); !errors.Is(err, ErrNotFound) {
				t.Errorf("rebuilt cache not empty: %v", err)
			}
			fillReferral(t, s, fs[0])
			// The decisions are untouched.
			if n, err := s.UnsentCount(ctx); n != 5 || err != nil {
				t.Errorf("unsent = %d, %v", n, err)
			}
			if _, err := s.VerifyAudit(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCorruptOutboxIsRefusedAndLeftAlone(t *testing.T) {
	for i, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			env, _, path, before := damagedFixture(t, c, i, OutboxFile, 62)
			cacheBefore := fileHash(t, filepath.Join(env.dir(), CacheFile))

			for range 2 { // refused every time, not just once
				s, err := Open(context.Background(), env.options())
				if err == nil {
					s.Close()
					t.Fatal("opened a damaged outbox")
				}
				if !errors.Is(err, ErrOutboxDamaged) {
					t.Fatalf("err = %v", err)
				}
				msg := triage.ErrorMessage(err)
				if !strings.Contains(msg, "triagectl doctor") || !strings.Contains(msg, "Nothing has been changed or deleted") {
					t.Errorf("message %q", msg)
				}
			}
			if fileHash(t, path) != before {
				t.Error("damaged outbox.db was changed")
			}
			if fileHash(t, filepath.Join(env.dir(), CacheFile)) != cacheBefore {
				t.Error("cache.db was changed while refusing to start")
			}
			entries, _ := os.ReadDir(env.dir())
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), OutboxFile+".") {
					t.Errorf("outbox renamed or copied: %s", e.Name())
				}
			}
		})
	}
}

// Damage inside the data pages of a cleanly closed cache is not seen at
// open (the cache is only fully checked after an unclean shutdown). It is
// found when the damaged record is read: the record is dropped (never
// returned as wrong data, never a panic), the read says it is not stored,
// the engine is told to download it again, and nothing else changes.
// RebuildCache still starts afresh without touching the outbox.
func TestCacheDamagedWhileInUse(t *testing.T) {
	env, fs := corruptFixture(t)
	ctx := context.Background()
	// Find where the sealed CRI of fs[1] lies in the file.
	s := env.open(t)
	var sealed []byte
	mustNoErr(t, s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
		r, err := s.loadRef(tx, fs[1].UBRN, false)
		if err != nil {
			return err
		}
		sealed = append([]byte{}, tx.Bucket([]byte(bDocs)).Get(docKey(s.keys.index, r.key, "cri"))[:256]...)
		return nil
	}), "find")
	mustNoErr(t, s.Close(), "close")
	path := filepath.Join(env.dir(), CacheFile)
	b, err := os.ReadFile(path)
	mustNoErr(t, err, "read")
	at := bytes.Index(b, sealed)
	if at < 0 {
		t.Fatal("sealed CRI not found in the file")
	}
	for i := at + 100; i < at+200; i++ {
		b[i] ^= 0x5a
	}
	mustNoErr(t, os.WriteFile(path, b, 0o600), "write")

	s = env.open(t)
	if s.Report().CacheSetAside != "" {
		t.Fatal("damage inside a value was expected to pass the open checks")
	}
	var changes []Change
	s.opts.OnChange = func(c Change) { changes = append(changes, c) }
	if _, err := s.Referral(ctx, fs[1].UBRN); err != nil {
		t.Errorf("undamaged record: %v", err)
	}
	_, _, err = s.Document(ctx, fs[1].UBRN, "cri")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("read damaged document: %v, want it dropped (not stored)", err)
	}
	if len(changes) != 1 || changes[0].Kind != ChangeCacheRecordsDropped || changes[0].UBRN != triage.NormalizeUBRN(fs[1].UBRN) {
		t.Errorf("changes %+v, want one %s for the referral", changes, ChangeCacheRecordsDropped)
	}
	info, err := s.CacheInfo(ctx, fs[1].UBRN)
	mustNoErr(t, err, "cache info")
	if info.HasCRI() || !info.HasReferral {
		t.Errorf("after the drop: CRI listed %v, referral cached %v", info.HasCRI(), info.HasReferral)
	}
	fillReferral(t, s, fs[1]) // downloaded again
	if _, data, err := s.Document(ctx, fs[1].UBRN, "cri"); err != nil || !bytes.Equal(data, fs[1].CRI) {
		t.Errorf("CRI downloaded again: %v", err)
	}
	changes = nil
	aside, err := s.RebuildCache(ctx)
	mustNoErr(t, err, "rebuild")
	if _, err := os.Stat(aside); err != nil {
		t.Errorf("set-aside file: %v", err)
	}
	if len(changes) != 1 || changes[0].Kind != ChangeCacheRebuilt {
		t.Errorf("changes %+v", changes)
	}
	if _, err := s.Referral(ctx, fs[1].UBRN); !errors.Is(err, ErrNotFound) {
		t.Errorf("after rebuild: %v", err)
	}
	fillReferral(t, s, fs[1])
	if n, _ := s.UnsentCount(ctx); n != 5 {
		t.Errorf("unsent = %d", n)
	}
}

// Scrambling every data page (meta pages intact) is caught at open.
func TestScrambledCachePagesCaughtAtOpen(t *testing.T) {
	env, _ := corruptFixture(t)
	path := filepath.Join(env.dir(), CacheFile)
	b, err := os.ReadFile(path)
	mustNoErr(t, err, "read")
	rng := rand.New(rand.NewPCG(63, 63))
	for off := 2 * os.Getpagesize(); off < len(b); off++ {
		b[off] = byte(rng.IntN(256))
	}
	mustNoErr(t, os.WriteFile(path, b, 0o600), "write")
	s := env.open(t)
	if s.Report().CacheSetAside == "" {
		t.Error("scrambled cache not set aside")
	}
	if n, _ := s.UnsentCount(context.Background()); n != 5 {
		t.Errorf("unsent = %d", n)
	}
}
