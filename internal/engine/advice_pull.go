package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Advice and Guidance sync: when Config.AdviceAndGuidance is set, every
// sync cycle pulls the A&G worklist (A023) right after the referral
// worklist, with the same client (so the same rate limiter, identity and
// retries). Pulls are incremental: a request is read again (A024, then its
// conversation with A025) only when its communicationRequestVersion differs
// from the cached one. Requests are handled in clinical priority order
// (triage.CompareAdviceItems: response required first, then 2WW, urgent,
// routine, then the longest waiting), and unless prefetching is off their
// files (A042) and overview PDF (A043) are downloaded into the encrypted
// cache as they are reached.

// AdviceUpdated: the A&G worklist was pulled (UBRN "") or one request was
// stored (UBRN set).
type AdviceUpdated struct {
	UBRN string
	// Version is the request's version (0 for the worklist).
	Version int
	// Total is the number of items on the worklist (UBRN "").
	Total int
}

func (AdviceUpdated) isEvent() {}

// AdviceActionChanged: an A&G reply or conversion (ID) for the request
// (UBRN) was queued or moved to State.
type AdviceActionChanged struct {
	UBRN  string
	ID    string
	State triage.OutboxState
}

func (AdviceActionChanged) isEvent() {}

// AdvicePullResult summarises one A&G pull.
type AdvicePullResult struct {
	AsOf  time.Time
	Total int
	// Reread counts the requests read again (new or changed version);
	// Documents the files and overview PDFs downloaded.
	Reread, Documents int
}

// PullAdvice pulls the A&G worklist once and brings the cache up to date
// with it, as described above. A request that cannot be read now is left
// for the next pull (and reported); losing the connection or the session
// ends the pull with the client's *ers.Error.
func (e *Engine) PullAdvice(ctx context.Context) (AdvicePullResult, error) {
	var res AdvicePullResult
	c, _, err := e.client()
	if err != nil {
		return res, err
	}
	wl, err := c.AdviceWorklist(ctx, e.cfg.Filter)
	if err != nil {
		e.noteFailure(err)
		return res, fmt.Errorf("pull advice and guidance worklist: %w", err)
	}
	e.noteSuccess()
	if err := e.st.PutAdviceWorklist(ctx, store.AdviceWorklistSnapshot{AsOf: wl.AsOf, Items: wl.Items}); err != nil {
		return res, fmt.Errorf("pull advice and guidance worklist: %w", err)
	}
	res.AsOf, res.Total = wl.AsOf, len(wl.Items)
	e.emit(AdviceUpdated{Total: len(wl.Items)})
	cached, err := e.st.CachedAdviceRequests(ctx)
	if err != nil {
		return res, fmt.Errorf("pull advice and guidance worklist: %w", err)
	}
	byUBRN := make(map[string]store.CachedAdvice, len(cached))
	for _, ca := range cached {
		byUBRN[ca.UBRN] = ca
	}
	items := slices.Clone(wl.Items)
	slices.SortFunc(items, triage.CompareAdviceItems)
	for _, it := range items {
		u := triage.NormalizeUBRN(it.UBRN)
		ca := byUBRN[u]
		if !ca.Complete() || ca.Version() != it.Version {
			if ca, err = e.readAdvice(ctx, c, u); err != nil {
				if stop := e.adviceReadFailed(err); stop {
					return res, err
				}
				continue
			}
			res.Reread++
		}
		if e.cfg.NoPrefetch {
			continue
		}
		n, err := e.prefetchAdvice(ctx, c, ca)
		res.Documents += n
		if err != nil && e.adviceReadFailed(err) {
			return res, err
		}
	}
	e.log.Info("advice and guidance worklist pulled", "items", res.Total, "reread", res.Reread, "documents", res.Documents,
		"request_id", wl.Meta.RequestID, "correlation_id", wl.Meta.CorrelationID)
	return res, nil
}

// adviceReadFailed notes a failed read during the A&G pull and reports
// whether the pull should stop (no connection, no session, or shutting
// down); other failures leave that request for the next pull.
func (e *Engine) adviceReadFailed(err error) bool {
	var ee *ers.Error
	if !errors.As(err, &ee) {
		return true // the store, or no client: nothing more can be done now
	}
	class := e.noteFailure(err)
	e.log.Warn("an advice and guidance request could not be read; it is tried again on the next pull",
		"class", class.String(), "code", ee.Code, "request_id", ee.RequestID)
	return class == ers.Unreachable || class == ers.AuthRequired
}

// readAdvice reads a request (A024) and its conversation at that version
// (A025) and caches both.
func (e *Engine) readAdvice(ctx context.Context, c *ers.Client, ubrn string) (store.CachedAdvice, error) {
	rr, err := c.AdviceRequest(ctx, ubrn)
	if err != nil {
		return store.CachedAdvice{}, err
	}
	e.noteSuccess()
	e.cacheAdviceRequest(ctx, rr)
	cr, err := c.AdviceConversation(ctx, ubrn, rr.Version)
	if err != nil {
		return store.CachedAdvice{}, err
	}
	e.cacheAdviceConversation(ctx, cr)
	ca, err := e.st.Advice(ctx, ubrn)
	if err != nil {
		return store.CachedAdvice{}, fmt.Errorf("read cached advice request: %w", err)
	}
	return ca, nil
}

// cacheAdviceRequest stores a request as read (A024) or returned (A026).
func (e *Engine) cacheAdviceRequest(ctx context.Context, rr *ers.AdviceRequestResult) {
	if rr == nil || rr.Request == nil {
		return
	}
	if err := e.st.PutAdviceRequest(ctx, *rr.Request, rr.Raw, rr.ETag, rr.Meta.Date); err != nil {
		e.log.Warn("caching an advice and guidance request failed", "err", err)
		return
	}
	e.emit(AdviceUpdated{UBRN: rr.Request.UBRN, Version: rr.Version})
}

// cacheAdviceConversation stores a conversation read with A025.
func (e *Engine) cacheAdviceConversation(ctx context.Context, cr *ers.AdviceConversationResult) {
	if cr == nil || cr.Conversation == nil {
		return
	}
	if err := e.st.PutAdviceConversation(ctx, *cr.Conversation, cr.Raw); err != nil {
		e.log.Warn("caching an advice and guidance conversation failed", "err", err)
		return
	}
	e.emit(AdviceUpdated{UBRN: cr.Conversation.UBRN, Version: cr.Conversation.Version})
}

// adviceDocuments lists a request's files: those sent with the request,
// then each message's, oldest first, once each.
func adviceDocuments(ca store.CachedAdvice) []triage.Document {
	var out []triage.Document
	add := func(ds []triage.Document) {
		for _, d := range ds {
			if d.ID != "" && !slices.ContainsFunc(out, func(o triage.Document) bool { return o.ID == d.ID }) {
				out = append(out, d)
			}
		}
	}
	if ca.Request != nil {
		add(ca.Request.Documents)
	}
	if ca.Conversation != nil {
		for _, m := range ca.Conversation.Messages {
			add(m.Documents)
		}
	}
	return out
}

// prefetchAdvice downloads the request's files that are available and not
// cached yet, then its overview PDF when the cached one predates the last
// read of the request. It returns how many it stored.
func (e *Engine) prefetchAdvice(ctx context.Context, c *ers.Client, ca store.CachedAdvice) (int, error) {
	n := 0
	for _, d := range adviceDocuments(ca) {
		if ca.HasDocument(d.ID) || (d.Availability != "" && d.Availability != triage.AvailabilityAvailable) {
			continue
		}
		ref := d.URL
		if ref == "" {
			ref = d.ID
		}
		f, err := c.Attachment(ctx, ref)
		if err != nil {
			return n, err
		}
		e.noteSuccess()
		meta := store.DocumentMeta{ID: d.ID, Kind: store.DocumentAttachment, Title: d.Title, FileName: f.FileName,
			ContentType: f.ContentType, Availability: triage.AvailabilityAvailable, FetchedAt: f.Meta.Date}
		if err := e.st.PutAdviceDocument(ctx, ca.UBRN, meta, f.Data); err != nil {
			return n, fmt.Errorf("cache advice attachment: %w", err)
		}
		n++
	}
	i := slices.IndexFunc(ca.Documents, func(d store.DocumentMeta) bool { return d.ID == store.AdviceOverviewID })
	if i >= 0 && !ca.Documents[i].FetchedAt.Before(ca.FetchedAt) {
		return n, nil
	}
	f, err := c.AdviceOverview(ctx, ca.UBRN)
	if err != nil {
		return n, err
	}
	e.noteSuccess()
	meta := store.DocumentMeta{ID: store.AdviceOverviewID, Kind: store.DocumentAdviceOverview, Title: "Advice and guidance overview",
		FileName: f.FileName, ContentType: f.ContentType, Availability: triage.AvailabilityAvailable, FetchedAt: e.now()}
	if err := e.st.PutAdviceDocument(ctx, ca.UBRN, meta, f.Data); err != nil {
		return n, fmt.Errorf("cache advice overview: %w", err)
	}
	return n + 1, nil
}

// adviceCounts counts the A&G outbox's actions by state (nil if the outbox
// cannot be read).
func (e *Engine) adviceCounts(ctx context.Context) map[triage.OutboxState]int {
	es, err := e.st.AdviceEntries(ctx, store.EntryFilter{})
	if err != nil {
		return nil
	}
	out := map[triage.OutboxState]int{}
	for _, en := range es {
		out[en.State]++
	}
	return out
}
