package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// phiNeedles are the byte strings that must never appear in any file: each
// fixture's NHS number (plain and 3-3-4), UBRN (plain and 4-4-4), surname,
// the clinical phrase and the PDF header.
func phiNeedles(fs []fixture) [][]byte {
	n := [][]byte{[]byte("%PDF"), []byte(clinicalPhrase), []byte("pigmented lesion"), []byte("photos of lesion")}
	for _, f := range fs {
		n = append(n, []byte(f.NHS), []byte(triage.FormatNHSNumber(f.NHS)),
			[]byte(f.UBRN), []byte(f.UBRN[:4]+" "+f.UBRN[4:8]+" "+f.UBRN[8:]), []byte(f.Family))
	}
	return n
}

// findNeedles reads every file under dir and lists each needle found in a
// file's bytes or its name, with the files' sizes.
func findNeedles(dir string, needles [][]byte) (found []string, files map[string]int64, err error) {
	files = map[string]int64{}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.Base(p)] = int64(len(b))
		for _, n := range needles {
			if c := bytes.Count(b, n); c > 0 {
				found = append(found, fmt.Sprintf("%s contains %q %d times", filepath.Base(p), n, c))
			}
			if strings.Contains(p, string(n)) {
				found = append(found, fmt.Sprintf("file name %s contains %q", p, n))
			}
		}
		return nil
	})
	return found, files, err
}

func scanTree(t *testing.T, dir string, needles [][]byte) map[string]int64 {
	t.Helper()
	found, files, err := findNeedles(dir, needles)
	mustNoErr(t, err, "scan")
	for _, f := range found {
		t.Error(f)
	}
	return files
}

// The scan itself must find plaintext, or the test above proves nothing.
func TestPHIScanFindsPlaintext(t *testing.T) {
	dir := t.TempDir()
	f := makeFixture(rand.New(rand.NewPCG(41, 41)), 0)
	db, err := bolt.Open(filepath.Join(dir, "plain.db"), 0o600, nil)
	mustNoErr(t, err, "open")
	mustNoErr(t, db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("x"))
		return b.Put([]byte("k"), append(f.Raw, f.CRI...))
	}), "put")
	db.Close()
	found, _, err := findNeedles(dir, phiNeedles([]fixture{f}))
	mustNoErr(t, err, "scan")
	for _, want := range []string{"%PDF", f.NHS, f.UBRN, f.Family, clinicalPhrase, triage.FormatNHSNumber(f.NHS)} {
		if !slices.ContainsFunc(found, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("scan missed %q in a plaintext file", want)
		}
	}
}

func TestNoPatientDataOnDiskBeforeAndAfterPurge(t *testing.T) {
	env, s, ctx, rng := openSeeded(t, 40)

	var fs []fixture
	var items []triage.WorklistItem
	for i := range 24 {
		f := makeFixture(rng, i)
		fs = append(fs, f)
		items = append(items, worklistItem(f))
	}
	mustNoErr(t, s.PutWorklist(ctx, WorklistSnapshot{List: triage.ListReferralsForReview, AsOf: env.clock.Now(), Items: items}), "worklist")
	mustNoErr(t, s.PutReferenceData(ctx, triage.ReferenceData{Systems: map[triage.CodeSystemType]triage.CodeSystem{
		triage.CodeSystemAppointmentCancellationReason: {Concepts: []triage.Concept{{Code: "R1", Display: "Clinically inappropriate"}}}}}), "refdata")
	var sealedCRI [][]byte
	for i, f := range fs {
		fillReferral(t, s, f)
		mustNoErr(t, s.PutDocument(ctx, f.UBRN, DocumentMeta{ID: "att-" + f.UBRN + "-1", Kind: DocumentAttachment,
			Title: "Referral letter " + f.Family, FileName: "photos of lesion " + f.NHS + ".pdf",
			Availability: triage.AvailabilityAvailable}, makePDF(rng, clinicalPhrase, 40<<10)), "attachment")
		draft := rejectFor(f)
		mustNoErr(t, s.UpdateLocalState(ctx, f.UBRN, func(l *LocalState) error {
			l.OpenedAt = env.clock.Now()
			l.Draft = &draft
			return nil
		}), "draft")
		switch i % 4 {
		case 0: // sent
			e, err := s.Enqueue(ctx, rejectFor(f))
			mustNoErr(t, err, "enqueue")
			_, _ = s.BeginSend(ctx, e.ID)
			_, err = s.MarkSent(ctx, e.ID, SentResult{NewVersion: f.Version + 1, RequestID: "rq-" + f.UBRN[:3]})
			mustNoErr(t, err, "sent")
		case 1: // waiting (unsent: must survive every purge)
			_, err := s.Enqueue(ctx, rejectFor(f))
			mustNoErr(t, err, "enqueue")
		case 2: // conflict with e-RS's comments
			e, _ := s.Enqueue(ctx, rejectFor(f))
			_, _ = s.BeginSend(ctx, e.ID)
			_, err := s.MarkConflict(ctx, e.ID, ConflictInfo{Status: triage.ReferralStatus{State: triage.StateRejected,
				Comments: "Already rejected: " + clinicalPhrase}, Version: f.Version + 1}, nil)
			mustNoErr(t, err, "conflict")
		}
	}
	_, _ = s.VerifyAudit(ctx)
	// Capture a sealed CRI as stored, to check compaction removes it.
	for _, f := range []fixture{fs[0], fs[3], fs[4], fs[7]} { // purged below
		_ = s.cacheTx(ctx, false, func(tx *bolt.Tx) error {
			r, err := s.loadRef(tx, f.UBRN, false)
			if err != nil {
				return err
			}
			v := tx.Bucket([]byte(bDocs)).Get(docKey(s.keys.index, r.key, "cri"))
			sealedCRI = append(sealedCRI, append([]byte{}, v[:64]...))
			return nil
		})
	}
	mustNoErr(t, s.Close(), "close")

	needles := phiNeedles(fs)
	before := scanTree(t, env.profile, needles)
	if before[CacheFile] < 24*(96<<10) {
		t.Fatalf("cache.db is only %d bytes: the documents were not stored", before[CacheFile])
	}

	// Fifteen days later nothing was synced: everything without an unsent
	// decision is purged, then both files are compacted.
	env.clock.Advance(15 * 24 * time.Hour)
	s = env.open(t)
	rep, err := s.RunRetention(ctx)
	mustNoErr(t, err, "retention")
	if rep.Referrals != 12 || !rep.Compacted || rep.Decisions != 6 {
		t.Errorf("retention report %+v", rep)
	}
	for i, f := range fs {
		_, err := s.Referral(ctx, f.UBRN)
		if unsent := i%4 == 1 || i%4 == 2; unsent != (err == nil) {
			t.Errorf("referral %d (unsent=%v): %v", i, unsent, err)
		}
	}
	if n, _ := s.UnsentCount(ctx); n != 12 {
		t.Errorf("unsent after purge = %d, want 12", n)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Errorf("audit after purge: %v", err)
	}
	mustNoErr(t, s.Close(), "close")

	after := scanTree(t, env.profile, needles)
	if after[CacheFile] >= before[CacheFile] {
		t.Errorf("cache.db did not shrink: %d -> %d bytes", before[CacheFile], after[CacheFile])
	}
	b, _ := os.ReadFile(filepath.Join(env.dir(), CacheFile))
	for i, c := range sealedCRI {
		if bytes.Contains(b, c) {
			t.Errorf("purged CRI %d still in cache.db after compaction", i)
		}
	}
	t.Logf("cache.db %d -> %d bytes, outbox.db %d -> %d bytes", before[CacheFile], after[CacheFile], before[OutboxFile], after[OutboxFile])

	// The logs carry no patient data either.
	logs := env.logs.String()
	for _, n := range needles[1:] {
		if strings.Contains(logs, string(n)) {
			t.Errorf("log contains %q", n)
		}
	}
	if !strings.Contains(logs, "retention run") {
		t.Error("retention not logged")
	}
}
