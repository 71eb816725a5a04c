package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// auditFixture writes five audit records and closes the store.
func auditFixture(t *testing.T) *testEnv {
	t.Helper()
	env, s, ctx, rng := openSeeded(t, 30)
	for i := range 3 {
		f := makeDecisionFixture(rng, i)
		e, err := s.Enqueue(ctx, rejectFor(f))
		mustNoErr(t, err, "enqueue")
		if i == 0 {
			_, _ = s.BeginSend(ctx, e.ID)
			_, err = s.MarkSent(ctx, e.ID, SentResult{NewVersion: f.Version + 1, RequestID: "rq"})
			mustNoErr(t, err, "sent")
		}
	}
	_, err := s.RecordAudit(ctx, AuditRecord{Event: EventConflictShown, Who: clinician, Note: "test"})
	mustNoErr(t, err, "record")
	sum, err := s.VerifyAudit(ctx)
	mustNoErr(t, err, "verify before tampering")
	if sum.Records != 5 || len(sum.Head) != sha256.Size {
		t.Fatalf("summary %+v", sum)
	}
	s.Close()
	return env
}

// outboxSealer rebuilds the outbox sealer from the keychain, as an attacker
// holding the key could.
func outboxSealer(t *testing.T, env *testEnv) *sealer {
	t.Helper()
	ud := UserDirName(env.user.SDSUserID)
	mk, err := env.keys.Get(context.Background(), MasterKeyAccount(ud))
	mustNoErr(t, err, "key")
	ks, err := deriveKeys(mk)
	mustNoErr(t, err, "derive")
	se, err := newSealer(ks.outbox, ud, OutboxSchemaVersion)
	mustNoErr(t, err, "sealer")
	return se
}

func tamper(t *testing.T, env *testEnv, fn func(b *bolt.Bucket, se *sealer)) {
	t.Helper()
	se := outboxSealer(t, env)
	db, err := bolt.Open(filepath.Join(env.dir(), OutboxFile), 0o600, nil)
	mustNoErr(t, err, "open raw")
	defer db.Close()
	mustNoErr(t, db.Update(func(tx *bolt.Tx) error { fn(tx.Bucket([]byte(bAudit)), se); return nil }), "tamper")
}

// reseal re-encrypts a record after mut changes it, optionally with a
// recomputed hash, under key newSeq.
func reseal(t *testing.T, b *bolt.Bucket, se *sealer, seq, newSeq uint64, rehash bool, mut func(r *AuditRecord)) {
	t.Helper()
	r, js, err := decodeAudit(se, seqKey(seq), b.Get(seqKey(seq)))
	mustNoErr(t, err, "decode")
	mut(&r)
	njs, _ := json.Marshal(r)
	h := r.Hash
	if rehash {
		h = chainHash(r.PrevHash, njs)
	} else if string(njs) == string(js) {
		t.Fatal("mutation changed nothing")
	}
	k := seqKey(newSeq)
	mustNoErr(t, b.Put(k, se.seal(bAudit, k, append(append([]byte{}, h...), njs...))), "put")
}

func TestVerifyAuditDetectsTampering(t *testing.T) {
	cases := []struct {
		name    string
		fn      func(t *testing.T, b *bolt.Bucket, se *sealer)
		problem string
	}{
		{"ciphertext byte changed", func(t *testing.T, b *bolt.Bucket, se *sealer) {
			v := append([]byte{}, b.Get(seqKey(2))...)
			v[len(v)/2] ^= 1
			_ = b.Put(seqKey(2), v)
		}, "does not authenticate"},
		{"record edited and resealed with the key", func(t *testing.T, b *bolt.Bucket, se *sealer) {
			reseal(t, b, se, 2, 2, false, func(r *AuditRecord) { r.ReasonCode = "SOMETHING_ELSE" })
		}, "does not match its hash"},
		{"record edited with its hash recomputed", func(t *testing.T, b *bolt.Bucket, se *sealer) {
			reseal(t, b, se, 2, 2, true, func(r *AuditRecord) { r.Who.SDSUserID = "999999999999" })
		}, "chain broken"},
		{"record deleted", func(t *testing.T, b *bolt.Bucket, se *sealer) { _ = b.Delete(seqKey(3)) }, "record missing"},
		{"last record deleted", func(t *testing.T, b *bolt.Bucket, se *sealer) { _ = b.Delete(seqKey(5)) }, "were written"},
		{"record deleted and the rest renumbered", func(t *testing.T, b *bolt.Bucket, se *sealer) {
			for seq := uint64(3); seq < 5; seq++ {
				reseal(t, b, se, seq+1, seq, true, func(r *AuditRecord) { r.Seq-- })
			}
			_ = b.Delete(seqKey(5))
		}, "chain broken"},
		{"two records swapped", func(t *testing.T, b *bolt.Bucket, se *sealer) {
			v2 := append([]byte{}, b.Get(seqKey(2))...)
			v3 := append([]byte{}, b.Get(seqKey(3))...)
			_ = b.Put(seqKey(2), v3)
			_ = b.Put(seqKey(3), v2)
		}, "does not authenticate"},
		{"two records swapped and resealed with the key", func(t *testing.T, b *bolt.Bucket, se *sealer) {
			r2, js2, _ := decodeAudit(se, seqKey(2), b.Get(seqKey(2)))
			r3, js3, _ := decodeAudit(se, seqKey(3), b.Get(seqKey(3)))
			_ = b.Put(seqKey(2), se.seal(bAudit, seqKey(2), append(append([]byte{}, r3.Hash...), js3...)))
			_ = b.Put(seqKey(3), se.seal(bAudit, seqKey(3), append(append([]byte{}, r2.Hash...), js2...)))
		}, "says it is number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := auditFixture(t)
			tamper(t, env, func(b *bolt.Bucket, se *sealer) { c.fn(t, b, se) })
			s := env.open(t)
			_, err := s.VerifyAudit(context.Background())
			if err == nil {
				t.Fatal("tampering not detected")
			}
			var ae *AuditError
			if !errors.Is(err, ErrAuditBroken) || !errors.As(err, &ae) {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(ae.Problem, c.problem) {
				t.Errorf("problem %q, want it to mention %q", ae.Problem, c.problem)
			}
			if triage.ErrorMessage(err) == "" || strings.Contains(triage.ErrorMessage(err), "seq") {
				t.Errorf("user message %q", triage.ErrorMessage(err))
			}
		})
	}
}

func TestAuditRecordsHoldWhoWhatWhen(t *testing.T) {
	env := auditFixture(t)
	s := env.open(t)
	recs, err := s.AuditRecords(context.Background(), 2, 2)
	mustNoErr(t, err, "records")
	if len(recs) != 2 || recs[0].Seq != 2 || recs[1].Seq != 3 {
		t.Fatalf("paging: %+v", recs)
	}
	r := recs[0]
	if r.Event != EventSendResult || r.Who.SDSUserID != clinician.SDSUserID || r.Who.ODS == "" ||
		r.Who.BusinessFunction == "" || r.At.IsZero() || r.RequestID != "rq" || r.Kind != triage.DecisionReject ||
		r.UBRN == "" || r.CorrelationID == "" {
		t.Errorf("send record %+v", r)
	}
	if _, err := s.RecordAudit(context.Background(), AuditRecord{Event: EventConflictShown, Who: otherClinician}); !errors.Is(err, ErrWrongUser) {
		t.Errorf("record for another user: %v", err)
	}
}
