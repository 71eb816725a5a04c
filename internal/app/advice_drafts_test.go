package app

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// TestAdviceDraftKeptSealedAcrossRestart: a reply being written to an A&G
// request is kept in the encrypted cache, never readable on disk, comes
// back after the app is closed and started again (row marked, form
// fields as left), and is forgotten once the reply is queued.
func TestAdviceDraftKeptSealedAcrossRestart(t *testing.T) {
	freshKeychain(t)
	dir := t.TempDir()
	o := demoOptions(dir, newTraffic())
	rt, a := demoWorkspace(t, o)
	ctx := context.Background()
	syncOnce(t, a)
	row := waitingAdvice(t, a)
	u := triage.NormalizeUBRN(row.UBRN)
	if row.Draft {
		t.Fatal("a row is marked as a draft before anything was written")
	}
	const text = "Synthetic draft guidance 7c1e: review in clinic."
	want := triage.AdviceReply{UBRN: u, Outcome: triage.GuidanceReturnWithAdvice, Recommendation: triage.RecommendAdviceOnly,
		Guidance: text, Priority: triage.PriorityUrgent}
	if err := a.SaveAdviceDraft(ctx, u, want); err != nil {
		t.Fatalf("save draft: %v", err)
	}
	if err := a.SaveAdviceDraft(ctx, "000000000000", want); triage.ErrorCodeOf(err) != triage.ENOTFOUND {
		t.Errorf("a draft for a request not downloaded: %v, want not found", err)
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("7c1e")) {
			t.Errorf("%s holds the draft's text in plaintext", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	_, a = demoWorkspace(t, o)
	wl, err := a.AdviceList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(wl.Rows, func(r AdviceRow) bool { return triage.NormalizeUBRN(r.UBRN) == u }); i < 0 || !wl.Rows[i].Draft {
		t.Fatal("after a restart the request's row is not marked as a draft")
	}
	v, err := a.Advice(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if v.Draft == nil || v.Draft.Guidance != text || v.Draft.Outcome != want.Outcome ||
		v.Draft.Recommendation != want.Recommendation || v.Draft.Priority != want.Priority {
		t.Fatalf("draft after a restart = %+v, want %+v", v.Draft, want)
	}
	r := *v.Draft
	r.BaseVersion, r.LastMessageID = v.Request.Version, v.LatestMessageID
	if _, err := a.Reply(ctx, r); err != nil {
		t.Fatalf("send the draft: %v", err)
	}
	if v, err = a.Advice(ctx, u); err != nil || v.Draft != nil {
		t.Fatalf("after the reply was queued the draft is %+v (%v), want none", v.Draft, err)
	}
	if err := a.ClearAdviceDraft(ctx, u); err != nil {
		t.Errorf("clearing a draft that is gone: %v", err)
	}
}
