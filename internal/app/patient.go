package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// letterTexts memoizes the text of cached CRIs, keyed by UBRN and the
// cached copy's fetch time and size, so the identity cross-check reads
// each letter once. It is memory only, like every decrypted document.
type letterTexts struct {
	mu sync.Mutex
	m  map[string]letterText
}

type letterText struct {
	key  string
	text string
}

func (l *letterTexts) get(ubrn, key string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.m[ubrn]
	return t.text, ok && t.key == key
}

func (l *letterTexts) put(ubrn, key, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]letterText{}
	}
	l.m[ubrn] = letterText{key: key, text: text}
}

// PatientBanner returns the patient banner of a cached referral, ready to
// show: PDS's name, date of birth with age, gender and NHS number from the
// cache with how old they are; the deceased, restricted and superseded
// markers; "not found", "could not be checked" or "not checked yet" instead
// of a blank; and the identity cross-check of the referral's cached CRI and
// its related referrals' CRIs against PDS and the referral (the letters'
// text is read with the PDF engine and kept in memory only). It never calls
// e-RS or PDS: call it off the UI goroutine (the first cross-check of a
// letter waits for the PDF engine).
//
// Errors: an ENOTFOUND *triage.Error when the referral is not cached;
// EUNAUTHORIZED while the session is locked or someone else's; the
// store's.
func (a *Workspace) PatientBanner(ctx context.Context, ubrn string) (triage.Banner, error) {
	if _, err := a.access(); err != nil {
		return triage.Banner{}, err
	}
	ubrn = triage.NormalizeUBRN(ubrn)
	cr, err := a.store.Referral(ctx, ubrn)
	if errors.Is(err, store.ErrNotFound) {
		return triage.Banner{}, &triage.Error{Code: triage.ENOTFOUND, Err: err,
			Message: "That referral is not downloaded on this computer. Check the UBRN, or sync and try again."}
	}
	if err != nil {
		return triage.Banner{}, err
	}
	in := triage.BannerInput{ReferralNHSNumber: cr.Referral.NHSNumber, NoPDS: a.Environment.PDSBaseURL == "", Now: time.Now()}
	l, err := a.store.Patient(ctx, ubrn)
	switch {
	case err == nil:
		in.Lookup = &l
	case !errors.Is(err, store.ErrNotFound):
		return triage.Banner{}, err
	}
	var patient *triage.Patient
	if in.Lookup != nil {
		patient = in.Lookup.Patient
	}
	for i, u := range cr.Referral.UBRNsToRead() {
		text, ok := a.letterText(ctx, triage.NormalizeUBRN(u))
		if !ok {
			continue
		}
		src := "The letter"
		if i > 0 {
			src = "The letter of related referral " + u
		}
		in.Flags = append(in.Flags, triage.CheckIdentity(triage.IdentityCheckInput{Text: text, Source: src,
			ReferralNHSNumber: cr.Referral.NHSNumber, Patient: patient})...)
	}
	return triage.BuildBanner(in), nil
}

// letterText is the text of the referral's cached CRI, or false when it is
// not cached or cannot be read (the CRI viewer says why).
func (a *Workspace) letterText(ctx context.Context, ubrn string) (string, bool) {
	docs, err := a.store.Documents(ctx, ubrn)
	if err != nil {
		return "", false
	}
	i := slices.IndexFunc(docs, func(d store.DocumentMeta) bool { return d.ID == engine.CRIDocumentID })
	if i < 0 || docs[i].Size == 0 {
		return "", false
	}
	// The memo is checked before anything is decrypted.
	key := fmt.Sprintf("%d/%d", docs[i].FetchedAt.UnixNano(), docs[i].Size)
	if t, ok := a.letters.get(ubrn, key); ok {
		return t, true
	}
	_, data, err := a.store.Document(ctx, ubrn, engine.CRIDocumentID)
	if err != nil || len(data) == 0 {
		return "", false
	}
	text, err := a.Documents(ctx).DocumentText(ctx, data)
	if err != nil {
		a.log.Warn("letter not read for the identity cross-check", "err", err)
		return "", false
	}
	a.letters.put(ubrn, key, text)
	return text, true
}
