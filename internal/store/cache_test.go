package store

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

func TestReferralRoundTrip(t *testing.T) {
	env, s, ctx, f := openWith(t, makeFixture, 20)
	if _, err := s.Referral(ctx, f.UBRN); !errors.Is(err, ErrNotFound) || triage.ErrorCodeOf(err) != triage.ENOTFOUND {
		t.Fatalf("missing referral: %v", err)
	}
	server := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	mustNoErr(t, s.PutReferral(ctx, CachedReferral{Referral: f.Referral, Raw: f.Raw, ETag: `W/"4"`, ServerTime: server}), "put")
	s.Close()
	s = env.open(t)
	// Spaces in the UBRN do not matter.
	spaced := f.UBRN[:4] + " " + f.UBRN[4:8] + " " + f.UBRN[8:]
	got, err := s.Referral(ctx, spaced)
	mustNoErr(t, err, "get")
	if !bytes.Equal(got.Raw, f.Raw) || got.ETag != `W/"4"` || !got.ServerTime.Equal(server) || got.FetchedAt.IsZero() ||
		got.Referral.NHSNumber != f.NHS || got.Referral.Version != f.Version || len(got.Referral.Documents) != 1 {
		t.Errorf("referral after reopen: %+v", got)
	}
	info, err := s.CacheInfo(ctx, f.UBRN)
	mustNoErr(t, err, "info")
	if !info.HasReferral || info.Version != f.Version || info.ETag != `W/"4"` || info.Local.LastSynced.IsZero() {
		t.Errorf("info %+v", info)
	}
}

// TestOlderReadNeverReplacesANewerReferral: a pull's A005 that crossed a
// write (e-RS answered it in the same second or earlier, with a lower
// version) does not take the cache back; a later answer with a lower
// version (e-RS's data reset, as the demo sandbox's is on restart) does.
func TestOlderReadNeverReplacesANewerReferral(t *testing.T) {
	_, s, ctx, f := openWith(t, makeFixture, 21)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	put := func(version int, server time.Time) {
		t.Helper()
		r := f.Referral
		r.Version = version
		mustNoErr(t, s.PutReferral(ctx, CachedReferral{Referral: r, Raw: f.Raw, ServerTime: server}), "put")
	}
	version := func() int {
		t.Helper()
		got, err := s.Referral(ctx, f.UBRN)
		mustNoErr(t, err, "get")
		return got.Referral.Version
	}
	put(5, at)
	put(4, at)
	if v := version(); v != 5 {
		t.Fatalf("a read of version 4 answered in the same second replaced version 5: cached %d", v)
	}
	put(4, at.Add(-time.Second))
	if v := version(); v != 5 {
		t.Fatalf("an earlier read of version 4 replaced version 5: cached %d", v)
	}
	put(6, at)
	if v := version(); v != 6 {
		t.Fatalf("a newer version was not stored: cached %d", v)
	}
	put(2, at.Add(time.Hour))
	if v := version(); v != 2 {
		t.Fatalf("e-RS's later answer (version 2 after a reset) was not stored: cached %d", v)
	}
}

func TestDocumentsRoundTrip(t *testing.T) {
	_, s, ctx, rng := openSeeded(t, 21)
	f := makeFixture(rng, 0)
	big := makePDF(rng, clinicalPhrase, 5<<20+123) // an attachment over 5 MB
	mustNoErr(t, s.PutDocument(ctx, f.UBRN, DocumentMeta{ID: "cri", Kind: DocumentCRI, ContentType: "application/pdf"}, f.CRI), "cri")
	mustNoErr(t, s.PutDocument(ctx, f.UBRN, DocumentMeta{ID: "att-1", Kind: DocumentAttachment, Title: "Dermoscopy images",
		FileName: "photos of lesion.pdf", ContentType: "application/pdf", Availability: triage.AvailabilityAvailable}, big), "attachment")
	mustNoErr(t, s.PutDocument(ctx, f.UBRN, DocumentMeta{ID: "att-2", Kind: DocumentAttachment, Title: "Pending scan",
		Availability: triage.AvailabilityPending}, nil), "pending attachment")

	meta, data, err := s.Document(ctx, f.UBRN, "att-1")
	mustNoErr(t, err, "get attachment")
	if !bytes.Equal(data, big) || meta.Size != int64(len(big)) || meta.FileName != "photos of lesion.pdf" || meta.FetchedAt.IsZero() {
		t.Errorf("attachment meta %+v, %d bytes", meta, len(data))
	}
	docs, err := s.Documents(ctx, f.UBRN)
	mustNoErr(t, err, "list")
	ids := []string{}
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"att-1", "att-2", "cri"}) {
		t.Errorf("documents %v", ids)
	}
	info, _ := s.CacheInfo(ctx, f.UBRN)
	if !info.HasCRI() || info.HasReferral {
		t.Errorf("info %+v", info)
	}
	// Replacing keeps one copy.
	mustNoErr(t, s.PutDocument(ctx, f.UBRN, DocumentMeta{ID: "cri", Kind: DocumentCRI}, []byte("%PDF-1.4 newer")), "replace")
	_, data, _ = s.Document(ctx, f.UBRN, "cri")
	if string(data) != "%PDF-1.4 newer" {
		t.Errorf("replaced CRI = %q", data)
	}
	if docs, _ := s.Documents(ctx, f.UBRN); len(docs) != 3 {
		t.Errorf("%d documents after replace", len(docs))
	}
	mustNoErr(t, s.DeleteDocument(ctx, f.UBRN, "att-1"), "delete")
	if _, _, err := s.Document(ctx, f.UBRN, "att-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted document: %v", err)
	}
	if err := s.PutDocument(ctx, f.UBRN, DocumentMeta{ID: ""}, []byte("x")); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("document without id: %v", err)
	}
	// Another referral's documents are separate.
	if _, _, err := s.Document(ctx, makeFixture(rng, 1).UBRN, "cri"); !errors.Is(err, ErrNotFound) {
		t.Errorf("other referral: %v", err)
	}
}

func TestWorklistSnapshotKeepsAsOf(t *testing.T) {
	_, s, ctx, rng := openSeeded(t, 22)
	var items []triage.WorklistItem
	for i := range 50 {
		items = append(items, worklistItem(makeFixture(rng, i)))
	}
	asOf := time.Date(2026, 3, 2, 8, 59, 58, 0, time.UTC)
	if _, err := s.Worklist(ctx, triage.ListReferralsForReview); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no snapshot yet: %v", err)
	}
	mustNoErr(t, s.PutWorklist(ctx, WorklistSnapshot{List: triage.ListReferralsForReview, AsOf: asOf, Items: items}), "put")
	mustNoErr(t, s.PutWorklist(ctx, WorklistSnapshot{List: triage.ListAppointmentSlotIssues, AsOf: asOf, Items: items[:3]}), "put ASI")
	got, err := s.Worklist(ctx, triage.ListReferralsForReview)
	mustNoErr(t, err, "get")
	if !got.AsOf.Equal(asOf) || got.StoredAt.IsZero() || len(got.Items) != 50 || got.Items[7].UBRN != items[7].UBRN ||
		!got.Items[7].PathwayStart.Equal(items[7].PathwayStart) {
		t.Errorf("snapshot: asOf %v, %d items", got.AsOf, len(got.Items))
	}
	if asi, _ := s.Worklist(ctx, triage.ListAppointmentSlotIssues); len(asi.Items) != 3 {
		t.Errorf("lists mixed up: %d", len(asi.Items))
	}
	last, err := s.LastSync(ctx)
	mustNoErr(t, err, "last sync")
	if !last.Equal(got.StoredAt) && last.Before(got.StoredAt) {
		t.Errorf("last sync %v", last)
	}
	if err := s.PutWorklist(ctx, WorklistSnapshot{}); triage.ErrorCodeOf(err) != triage.EINVALID {
		t.Errorf("unnamed list: %v", err)
	}
}

func TestLocalStateAndDraft(t *testing.T) {
	env, s, ctx, f := openWith(t, makeFixture, 23)
	st, err := s.LocalState(ctx, f.UBRN)
	mustNoErr(t, err, "empty")
	if st.Draft != nil || !st.OpenedAt.IsZero() {
		t.Errorf("zero state expected: %+v", st)
	}
	draft := rejectFor(f)
	opened := env.clock.Now()
	mustNoErr(t, s.UpdateLocalState(ctx, f.UBRN, func(l *LocalState) error {
		l.OpenedAt = opened
		l.Draft = &draft
		return nil
	}), "update")
	boom := errors.New("changed my mind")
	if err := s.UpdateLocalState(ctx, f.UBRN, func(l *LocalState) error { l.Draft = nil; return boom }); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
	s.Close()
	s = env.open(t)
	st, _ = s.LocalState(ctx, f.UBRN)
	if st.Draft == nil || st.Draft.Comments != draft.Comments || !st.OpenedAt.Equal(opened) {
		t.Errorf("state after reopen: %+v", st)
	}
	statuses, _ := s.LocalStatuses(ctx)
	if statuses[f.UBRN] != triage.LocalDraft {
		t.Errorf("status %q", statuses[f.UBRN])
	}
	mustNoErr(t, s.UpdateLocalState(ctx, f.UBRN, func(l *LocalState) error { l.LeftWorklist = true; return nil }), "left")
	st, _ = s.LocalState(ctx, f.UBRN)
	if !st.LeftWorklist || st.Draft == nil {
		t.Errorf("flag lost or draft lost: %+v", st)
	}
}

func TestReferenceDataRoundTrip(t *testing.T) {
	env := newEnv(t)
	s := env.open(t)
	ctx := context.Background()
	if _, err := s.ReferenceData(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("none yet: %v", err)
	}
	rd := triage.ReferenceData{FetchedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Systems: map[triage.CodeSystemType]triage.CodeSystem{
		triage.CodeSystemAppointmentCancellationReason: {Type: triage.CodeSystemAppointmentCancellationReason, URL: "https://example/acr",
			Concepts: []triage.Concept{{Code: "R1", Display: "Clinically inappropriate", ReasonType: triage.ReasonTypeProviderReject, CommentIsMandatory: true}}},
	}}
	mustNoErr(t, s.PutReferenceData(ctx, rd), "put")
	got, err := s.ReferenceData(ctx)
	mustNoErr(t, err, "get")
	if len(got.RejectReasons(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))) != 1 || !got.FetchedAt.Equal(rd.FetchedAt) {
		t.Errorf("reference data %+v", got)
	}
}

func TestCachedReferralsSummarises(t *testing.T) {
	_, s, ctx, rng := openSeeded(t, 24)
	want := map[string]int{}
	for _, f := range fillReferrals(t, s, rng, 3) {
		want[f.UBRN] = f.Version
	}
	infos, err := s.CachedReferrals(ctx)
	mustNoErr(t, err, "list")
	if len(infos) != 3 {
		t.Fatalf("%d infos", len(infos))
	}
	for _, i := range infos {
		if !i.HasReferral || !i.HasCRI() || want[i.UBRN] != i.Version || i.ETag == "" {
			t.Errorf("info %+v", i)
		}
	}
}
