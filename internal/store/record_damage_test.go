package store

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/triagedesk/triagedesk/internal/testutil"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Bit rot inside one record: for each bucket of both files, one byte of one
// stored value is flipped (in every copy of it the file holds), and the
// store, doctor and the export must agree about it, lose nothing, send
// what can be sent, and never write a damaged outbox by reading it.

// storedValue reads bucket/key from a closed bbolt file.
func storedValue(t *testing.T, path, bucket string, key []byte) []byte {
	_, v := testutil.StoredValue(t, path, bucket, key)
	return v
}

// flipRecord flips one byte in bucket/key's value, in every copy of it
// the file holds, and returns the damaged value.
func flipRecord(t *testing.T, path, bucket string, key []byte) []byte {
	_, bad := testutil.FlipStoredValue(t, path, bucket, key)
	return bad
}

// damageFixture is an outbox of five decisions, two of them unsent (d3,
// d4), and a cache of three referrals with documents, a worklist and
// reference data.
type damageFixture struct {
	env   *testEnv
	refs  []fixture
	ids   []string // d0, d1 sent; d2 cancelled; d3, d4 queued
	index []byte
}

func newDamageFixture(t *testing.T) *damageFixture {
	t.Helper()
	env := newEnv(t)
	s := env.open(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(230, 23))
	df := &damageFixture{env: env, index: bytes.Clone(s.keys.index)}
	var items []triage.WorklistItem
	for i := range 5 {
		f := makeFixture(rng, i)
		if i < 3 {
			fillReferral(t, s, f)
			items = append(items, worklistItem(f))
		}
		df.refs = append(df.refs, f)
		e, err := s.Enqueue(ctx, rejectFor(f))
		mustNoErr(t, err, "enqueue")
		df.ids = append(df.ids, e.ID)
		switch i {
		case 0, 1:
			_, err = s.BeginSend(ctx, e.ID)
			mustNoErr(t, err, "begin")
			_, err = s.MarkSent(ctx, e.ID, SentResult{NewVersion: f.Version + 1, RequestID: "rq"})
		case 2:
			_, err = s.Cancel(ctx, e.ID, clinician)
		}
		mustNoErr(t, err, "transition")
	}
	mustNoErr(t, s.PutWorklist(ctx, WorklistSnapshot{List: triage.ListReferralsForReview, Items: items}), "worklist")
	mustNoErr(t, s.PutReferenceData(ctx, triage.ReferenceData{}), "refdata")
	mustNoErr(t, s.Close(), "close")
	return df
}

func (df *damageFixture) dk(i int) []byte { return decisionKey(df.index, df.ids[i]) }

// idsAt returns the ids of the fixture's decisions at the given indices,
// sorted as entryIDs sorts.
func (df *damageFixture) idsAt(at []int) []string {
	var out []string
	for _, i := range at {
		out = append(out, df.ids[i])
	}
	slices.Sort(out)
	return out
}
func (df *damageFixture) rk(i int) []byte { return refKey(df.index, df.refs[i].UBRN) }
func (df *damageFixture) outbox() string  { return filepath.Join(df.env.dir(), OutboxFile) }
func (df *damageFixture) cache() string   { return filepath.Join(df.env.dir(), CacheFile) }

func damagedKeysOf(d OutboxDamage) []string {
	var out []string
	for _, r := range d.Records {
		out = append(out, r.Bucket+"/"+r.Key)
	}
	slices.Sort(out)
	return out
}

func entryIDs(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	slices.Sort(out)
	return out
}

func TestRecordDamageInEveryOutboxBucket(t *testing.T) {
	cases := []struct {
		name   string
		bucket string
		key    func(df *damageFixture) []byte
		// the referral the damage report must name ("" : none), whether it
		// may hold an unsent decision, and whether the outbox is held
		ubrn     int
		unsent   bool
		held     bool
		readable []int // decisions still listed
		sendable []int // queued decisions still sendable
	}{
		{"entry of a queued decision", bEntries, func(df *damageFixture) []byte { return df.dk(3) }, 3, true, false, []int{0, 1, 2, 4}, []int{4}},
		{"entry of a sent decision", bEntries, func(df *damageFixture) []byte { return df.dk(0) }, 0, false, false, []int{1, 2, 3, 4}, []int{3, 4}},
		{"a queued decision", bDecisions, func(df *damageFixture) []byte { return df.dk(4) }, 4, true, false, []int{0, 1, 2, 3}, []int{3}},
		{"unsent-decision marker", bActive, func(df *damageFixture) []byte { return df.rk(3) }, 3, false, false, []int{0, 1, 2, 3, 4}, []int{3, 4}},
		{"an audit record", bAudit, func(*damageFixture) []byte { return seqKey(2) }, -1, false, false, []int{0, 1, 2, 3, 4}, []int{3, 4}},
		{"the audit head", bMeta, func(*damageFixture) []byte { return mAuditHead }, -1, false, true, []int{0, 1, 2, 3, 4}, nil},
		{"the key check", bMeta, func(*damageFixture) []byte { return mKeyCheck }, -1, false, false, []int{0, 1, 2, 3, 4}, []int{3, 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			df := newDamageFixture(t)
			ctx := context.Background()
			key := c.key(df)
			bad := flipRecord(t, df.outbox(), c.bucket, key)
			damagedFile := fileHash(t, df.outbox())

			// Read-only: open, read everything, close. Nothing is written.
			s := df.env.open(t)
			if s.Report().OutboxDamaged != 1 {
				t.Errorf("open report: %d damaged records, want 1", s.Report().OutboxDamaged)
			}
			dmg, err := s.OutboxDamage(ctx)
			mustNoErr(t, err, "damage")
			if len(dmg.Records) != 1 || dmg.Records[0].Bucket != c.bucket || dmg.Held != c.held {
				t.Fatalf("damage %+v", dmg)
			}
			r := dmg.Records[0]
			if c.ubrn >= 0 && r.UBRN != df.refs[c.ubrn].UBRN {
				t.Errorf("damaged record names referral %q, want %q (%s)", r.UBRN, df.refs[c.ubrn].UBRN, r.Line())
			}
			if r.PossiblyUnsent != c.unsent || dmg.Summary() == "" || !strings.Contains(dmg.Summary(), "triagectl doctor") {
				t.Errorf("record %+v, summary %q", r, dmg.Summary())
			}
			es, err := s.Entries(ctx, EntryFilter{})
			mustNoErr(t, err, "entries") // never fails, never "empty"
			if got, want := entryIDs(es), df.idsAt(c.readable); !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}
			n, err := s.UnsentCount(ctx)
			mustNoErr(t, err, "unsent")
			if n != 2 {
				t.Errorf("unsent = %d, want 2 (a damaged record that may be unsent counts)", n)
			}
			send, err := s.Sendable(ctx, clinician, df.env.clock.Now())
			mustNoErr(t, err, "sendable")
			if got, want := entryIDs(send), df.idsAt(c.sendable); !slices.Equal(got, want) {
				t.Errorf("sendable %v, want %v", got, want)
			}
			_, verr := s.VerifyAudit(ctx)
			if (verr != nil) != (c.bucket == bAudit || c.held) {
				t.Errorf("audit verification: %v", verr)
			}
			storeVerdict := dmg.Summary()
			mustNoErr(t, s.Close(), "close")

			rep := Diagnose(ctx, df.env.dir(), df.env.keys)
			if rep.Outbox.State != FileRecordsDamaged || rep.Outbox.Problem != storeVerdict || rep.Outbox.Unsent != 2 {
				t.Errorf("doctor: %s, %d unsent: %q\nstore: %q", rep.Outbox.State, rep.Outbox.Unsent, rep.Outbox.Problem, storeVerdict)
			}
			if !slices.Equal(damagedKeysOf(rep.Outbox.Damage), damagedKeysOf(dmg)) {
				t.Errorf("doctor found %v, the store %v", damagedKeysOf(rep.Outbox.Damage), damagedKeysOf(dmg))
			}
			ex, err := ExportOutbox(ctx, df.env.dir(), df.env.keys, df.env.clock.Now())
			mustNoErr(t, err, "export")
			if len(ex.Damaged) != 1 || ex.Unreadable == 0 && c.bucket != bMeta && c.bucket != bActive {
				t.Errorf("export: %d damaged, %d unreadable", len(ex.Damaged), ex.Unreadable)
			}
			if c.bucket == bEntries {
				i := slices.IndexFunc(ex.Reconstructed, func(rd ReconstructedDecision) bool { return rd.DecisionID == r.DecisionID })
				if i < 0 || ex.Reconstructed[i].PossiblyUnsent != c.unsent || len(ex.Reconstructed[i].Trail) == 0 {
					t.Errorf("the damaged entry's decision is not reconstructed from the audit log: %+v", ex.Reconstructed)
				}
			}
			if ex.PossiblyUnsent() != 2 {
				t.Errorf("export lists %d possibly unsent, want 2", ex.PossiblyUnsent())
			}
			if fileHash(t, df.outbox()) != damagedFile {
				t.Fatal("reading a damaged outbox changed it")
			}

			// Working on: the intact decisions are sent (or all are held),
			// new decisions are saved, and the damaged record is left
			// exactly as it is.
			s = df.env.open(t)
			for _, id := range c.sendable {
				if _, err := s.BeginSend(ctx, df.ids[id]); err != nil {
					t.Fatalf("begin send %d: %v", id, err)
				}
				if _, err := s.MarkSent(ctx, df.ids[id], SentResult{NewVersion: 9}); err != nil {
					t.Fatalf("mark sent %d: %v", id, err)
				}
			}
			extra := makeDecisionFixture(rand.New(rand.NewPCG(231, 23)), 9)
			_, err = s.Enqueue(ctx, acceptFor(extra))
			switch {
			case c.held && !errors.Is(err, ErrOutboxDamaged):
				t.Errorf("a held outbox saved a decision: %v", err)
			case !c.held && err != nil:
				t.Errorf("a new decision was not saved: %v", err)
			}
			if c.held {
				if _, err := s.BeginSend(ctx, df.ids[3]); !errors.Is(err, ErrOutboxDamaged) || !strings.Contains(triage.ErrorMessage(err), "held") {
					t.Errorf("a held outbox started a send: %v", err)
				}
			}
			if c.bucket == bEntries && c.unsent {
				// A new decision on the referral whose decision is damaged
				// says so, rather than "amend or cancel it" (it cannot be
				// seen in the outbox).
				_, err := s.Enqueue(ctx, acceptFor(df.refs[c.ubrn]))
				if !errors.Is(err, ErrOutboxDamaged) || !strings.Contains(triage.ErrorMessage(err), "already saved for this referral is in a damaged record") {
					t.Errorf("a decision for the referral whose decision is damaged: %v", err)
				}
			}
			if c.bucket == bActive {
				_, err := s.Enqueue(ctx, acceptFor(df.refs[3]))
				if !errors.Is(err, ErrOutboxDamaged) || !strings.Contains(triage.ErrorMessage(err), "damaged") {
					t.Errorf("a decision for the referral with the damaged marker: %v", err)
				}
			}
			mustNoErr(t, s.Close(), "close")
			if got := storedValue(t, df.outbox(), c.bucket, key); !bytes.Equal(got, bad) {
				t.Error("the damaged record was rewritten")
			}
		})
	}
}

func TestRecordDamageInEveryCacheBucket(t *testing.T) {
	cases := []struct {
		name   string
		bucket string
		key    func(df *damageFixture) []byte
		ref    int // the referral affected (-1: none)
	}{
		{"a referral's record and data key", bRefs, func(df *damageFixture) []byte { return df.rk(0) }, 0},
		{"a referral", bReferrals, func(df *damageFixture) []byte { return df.rk(1) }, 1},
		{"a document", bDocs, func(df *damageFixture) []byte { return docKey(df.index, df.rk(2), "cri") }, 2},
		{"the worklist", bWorklists, func(*damageFixture) []byte { return []byte(triage.ListReferralsForReview) }, -1},
		{"reference data", bRefData, func(*damageFixture) []byte { return []byte("current") }, -1},
		{"the last sync time", bMeta, func(*damageFixture) []byte { return mLastSync }, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			df := newDamageFixture(t)
			ctx := context.Background()
			flipRecord(t, df.cache(), c.bucket, c.key(df))
			outboxBefore := fileHash(t, df.outbox())
			if r := Diagnose(ctx, df.env.dir(), df.env.keys); r.Cache.State != FileRecordsDamaged || r.Cache.CacheDamaged != 1 {
				t.Fatalf("doctor: cache %s, %d damaged: %s", r.Cache.State, r.Cache.CacheDamaged, r.Cache.Problem)
			}

			s := df.env.open(t)
			var changes []Change
			s.opts.OnChange = func(ch Change) { changes = append(changes, ch) }
			// Everything a sync and the screens read: the damaged record
			// is dropped, never returned, never an error that repeats.
			infos, err := s.CachedReferrals(ctx)
			mustNoErr(t, err, "cached referrals")
			for i, f := range df.refs[:3] {
				_, rerr := s.Referral(ctx, f.UBRN)
				_, data, derr := s.Document(ctx, f.UBRN, "cri")
				gone := i == c.ref && (c.bucket == bRefs || c.bucket == bReferrals && rerr != nil || c.bucket == bDocs && derr != nil)
				switch {
				case gone && !errors.Is(rerr, ErrNotFound) && !errors.Is(derr, ErrNotFound):
					t.Errorf("referral %d: %v, %v", i, rerr, derr)
				case !gone && (rerr != nil || derr != nil || !bytes.Equal(data, f.CRI)):
					t.Errorf("undamaged referral %d: %v, %v", i, rerr, derr)
				}
			}
			if c.bucket == bRefs && len(infos) != 2 {
				t.Errorf("%d referrals listed after dropping one", len(infos))
			}
			if _, err := s.Worklist(ctx, triage.ListReferralsForReview); err != nil && !(c.bucket == bWorklists && errors.Is(err, ErrNotFound)) {
				t.Errorf("worklist: %v", err)
			}
			if _, err := s.ReferenceData(ctx); err != nil && !(c.bucket == bRefData && errors.Is(err, ErrNotFound)) {
				t.Errorf("reference data: %v", err)
			}
			if _, err := s.LastSync(ctx); err != nil {
				t.Errorf("last sync: %v", err)
			}
			dropped := slices.IndexFunc(changes, func(ch Change) bool { return ch.Kind == ChangeCacheRecordsDropped })
			if dropped < 0 {
				t.Errorf("no %s change, so nothing would download it again: %+v", ChangeCacheRecordsDropped, changes)
			} else if c.ref >= 0 && c.bucket != bRefs && changes[dropped].UBRN != triage.NormalizeUBRN(df.refs[c.ref].UBRN) {
				t.Errorf("change names %q", changes[dropped].UBRN)
			}
			if c.ref >= 0 { // downloaded again by the next sync
				fillReferral(t, s, df.refs[c.ref])
			}
			if n, _ := s.UnsentCount(ctx); n != 2 {
				t.Errorf("unsent = %d", n)
			}
			mustNoErr(t, s.Close(), "close")
			if r := Diagnose(ctx, df.env.dir(), df.env.keys); r.Cache.State != FileOK {
				t.Errorf("after the next sync, doctor says the cache is %s: %s", r.Cache.State, r.Cache.Problem)
			}
			if fileHash(t, df.outbox()) != outboxBefore {
				t.Error("the outbox changed while the cache was repaired")
			}
		})
	}
}

// A truncated outbox: the export lists the decisions the audit log
// records even where their entries were lost ("created, no send result:
// possibly unsent"), and a chain that ends before the log's head is
// reported as cut, never as verified.
func TestTruncatedOutboxReconstructsDecisionsAndReportsACutChain(t *testing.T) {
	df := newDamageFixture(t)
	ctx := context.Background()
	full, err := ExportOutbox(ctx, df.env.dir(), df.env.keys, df.env.clock.Now())
	mustNoErr(t, err, "export")
	if len(full.Audit) != 8 || full.AuditCut || full.PossiblyUnsent() != 2 {
		t.Fatalf("fixture: %d audit records, cut %v, %d unsent", len(full.Audit), full.AuditCut, full.PossiblyUnsent())
	}
	for _, size := range []int64{20000, 16384, 12288} {
		mustNoErr(t, os.Truncate(df.outbox(), size), "truncate")
		ex, err := ExportOutbox(ctx, df.env.dir(), df.env.keys, df.env.clock.Now())
		mustNoErr(t, err, "export")
		known := map[string]bool{}
		for _, d := range ex.Decisions {
			known[d.Entry.ID] = true
		}
		for _, rd := range ex.Reconstructed {
			known[rd.DecisionID] = true
			if rd.UBRN == "" || rd.Kind == "" || len(rd.Trail) == 0 {
				t.Errorf("reconstructed decision without its facts: %+v", rd)
			}
		}
		t.Logf("%d bytes: %d entries, %d reconstructed, %d audit records, %d possibly unsent: %s",
			size, len(ex.Decisions), len(ex.Reconstructed), len(ex.Audit), ex.PossiblyUnsent(), ex.AuditCheck)
		if len(ex.Audit) < 8 {
			if !ex.AuditCut || strings.HasPrefix(ex.AuditCheck, "All ") {
				t.Errorf("%d bytes: %d of 8 audit records read, yet %q", size, len(ex.Audit), ex.AuditCheck)
			}
		}
		// Every decision the readable audit records name is listed.
		for _, a := range ex.Audit {
			if a.DecisionID != "" && !known[a.DecisionID] {
				t.Errorf("%d bytes: decision %s is in the audit log but not in the export", size, a.DecisionID)
			}
		}
		// The two unsent decisions are never reported as sent.
		for _, id := range df.ids[3:] {
			for _, d := range ex.Decisions {
				if d.Entry.ID == id && !d.Entry.State.Unsent() {
					t.Errorf("unsent decision exported as %s", d.Entry.State)
				}
			}
			for _, rd := range ex.Reconstructed {
				if rd.DecisionID == id && !rd.PossiblyUnsent {
					t.Errorf("unsent decision reconstructed as %q", rd.Status)
				}
			}
		}
	}
}
