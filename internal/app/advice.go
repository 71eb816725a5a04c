package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// Advice and Guidance (A&G): the consultant's second inbox. The sync engine
// keeps the A&G worklist, each request, its conversation, files and
// overview PDF in the encrypted cache (engine.Config.AdviceAndGuidance,
// which the app turns on), and sends queued replies and conversions from
// the durable outbox. These methods are what the GUI and `triagectl ag`
// build on; like ReviewList and Decide they read only the cache (they work
// offline) and refuse with a plain message while the session is locked or
// someone else's.
//
// The flow for a screen:
//
//  1. AdviceList: the worklist, "response required" first.
//  2. Advice(ubrn): one request with its messages in the order sent, what
//     the reply must answer, and the reply or conversion already queued.
//  3. Reply or Convert, passing the AdviceView.Request.Version and
//     AdviceView.LatestMessageID that were on screen (BaseVersion,
//     LastMessageID): the reply is validated exactly as the engine will
//     check it, and queued. The engine sends it once, with If-Match of that
//     version; if the referrer wrote meanwhile it is not sent but becomes a
//     conflict naming the new messages (AdviceOutbox, AdviceEntry.Conflict).
//  4. AcknowledgeAdviceConflict then DiscardAdvice, or CancelAdvice for a
//     queued one, as for decisions.

// AdviceRow is one line of the A&G worklist.
type AdviceRow struct {
	triage.AdviceItem
	// DaysSinceAsked is whole days since advice was first requested.
	DaysSinceAsked int
	// Action is the state of the request's latest reply or conversion in
	// the outbox ("" when none).
	Action triage.OutboxState
	// Cached says the request and its conversation are cached at the
	// worklist's version (readable offline).
	Cached bool
	// Draft says a reply is being written (SaveAdviceDraft) and not sent.
	Draft bool
}

// AdviceList is the cached A&G worklist.
type AdviceList struct {
	// AsOf is e-RS's time of the snapshot; StoredAt when it was pulled.
	AsOf, StoredAt time.Time
	// Rows are in the clinical order of triage.CompareAdviceItems:
	// response required first, then categories Triage Desk does not know,
	// then the others; within each 2WW, urgent, routine, then the longest
	// waiting.
	Rows []AdviceRow
	// ResponseRequired counts the requests waiting for the provider;
	// Conflicts the actions not sent because the conversation moved on and
	// not yet acknowledged.
	ResponseRequired, Conflicts int
}

// AdviceList reads the cached A&G worklist. Errors: ENOTFOUND (with the
// next step) before the first A&G sync; EUNAUTHORIZED while the session is
// locked or someone else's; the store's.
func (a *Workspace) AdviceList(ctx context.Context) (AdviceList, error) {
	if _, err := a.access(); err != nil {
		return AdviceList{}, err
	}
	snap, err := a.store.AdviceWorklist(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return AdviceList{}, &triage.Error{Code: triage.ENOTFOUND, Err: err,
			Message: "No Advice and Guidance requests have been downloaded yet. Sync first (triagectl sync)."}
	}
	if err != nil {
		return AdviceList{}, err
	}
	cached, err := a.store.CachedAdviceRequests(ctx)
	if err != nil {
		return AdviceList{}, err
	}
	version, drafts := map[string]int{}, map[string]bool{}
	for _, ca := range cached {
		if ca.Complete() {
			version[ca.UBRN] = ca.Version()
		}
		drafts[ca.UBRN] = ca.Draft != nil
	}
	actions, err := a.store.AdviceEntries(ctx, store.EntryFilter{})
	if err != nil {
		return AdviceList{}, err
	}
	latest := map[string]store.AdviceEntry{}
	out := AdviceList{AsOf: snap.AsOf, StoredAt: snap.StoredAt}
	for _, en := range actions { // oldest first: the latest wins
		latest[en.UBRN] = en
		if en.State == triage.OutboxConflict && en.Conflict != nil && !en.Conflict.Acknowledged {
			out.Conflicts++
		}
	}
	now := time.Now()
	items := slices.Clone(snap.Items)
	slices.SortFunc(items, triage.CompareAdviceItems)
	for _, it := range items {
		u := triage.NormalizeUBRN(it.UBRN)
		row := AdviceRow{AdviceItem: it, DaysSinceAsked: it.DaysSinceAsked(now), Cached: version[u] == it.Version && it.Version > 0, Draft: drafts[u]}
		if en, ok := latest[u]; ok {
			row.Action = en.State
		}
		if it.Category.ResponseRequired() {
			out.ResponseRequired++
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

// AdviceView is one A&G request as the conversation screen shows it.
type AdviceView struct {
	Request triage.AdviceRequest
	// Messages are every message of the conversation, oldest first (by
	// the time sent, ties by id), none dropped.
	Messages []triage.AdviceMessage
	// Unanswered are the referrer's messages since the provider last
	// wrote: what a reply has to answer.
	Unanswered []triage.AdviceMessage
	// LatestMessageID is the id of the latest message: pass it, with
	// Request.Version, as the reply's LastMessageID and BaseVersion.
	LatestMessageID string
	// Documents are the request's files cached for offline reading
	// (attachments, and the overview PDF with id store.AdviceOverviewID);
	// read one with AdviceDocument.
	Documents []store.DocumentMeta
	// Actions are the request's replies and conversions in the outbox,
	// oldest first; Pending is the unsent one, if any (only one may be).
	Actions []store.AdviceEntry
	Pending *store.AdviceEntry
	// CanReply says a reply may be written now (the provider's turn and
	// nothing pending); CanConvert also that the referrer allows
	// conversion.
	CanReply, CanConvert bool
	// Draft is the reply being written (SaveAdviceDraft), nil when none:
	// its outcome, recommendation, guidance, priority and files.
	Draft *triage.AdviceReply
	// FetchedAt is when the request was last read; AsOf e-RS's time then.
	FetchedAt, AsOf time.Time
}

// Advice reads one cached A&G request and its conversation. Errors:
// ENOTFOUND when it is not cached (sync first); EUNAUTHORIZED; the store's.
func (a *Workspace) Advice(ctx context.Context, ubrn string) (AdviceView, error) {
	if _, err := a.access(); err != nil {
		return AdviceView{}, err
	}
	ca, err := a.cachedAdvice(ctx, ubrn)
	if err != nil {
		return AdviceView{}, err
	}
	conv := triage.AdviceConversation{UBRN: ca.UBRN}
	if ca.Conversation != nil {
		conv = *ca.Conversation
		conv.Messages = slices.Clone(conv.Messages)
	}
	triage.SortMessages(conv.Messages)
	v := AdviceView{Request: *ca.Request, Messages: conv.Messages, Unanswered: conv.Unanswered(), LatestMessageID: conv.LatestID(),
		Documents: ca.Documents, FetchedAt: ca.FetchedAt, AsOf: ca.ServerTime, Draft: ca.Draft}
	if v.Actions, err = a.store.AdviceEntries(ctx, store.EntryFilter{UBRN: ca.UBRN}); err != nil {
		return AdviceView{}, err
	}
	for i := range v.Actions {
		if v.Actions[i].State.Unsent() {
			v.Pending = &v.Actions[i]
		}
	}
	v.CanReply = v.Pending == nil && v.Request.Category.ResponseRequired()
	v.CanConvert = v.CanReply && v.Request.Conversion.Allows()
	return v, nil
}

// cachedAdvice returns the cached request with its conversation, or an
// ENOTFOUND error with the next step.
func (a *Workspace) cachedAdvice(ctx context.Context, ubrn string) (store.CachedAdvice, error) {
	ca, err := a.store.Advice(ctx, triage.NormalizeUBRN(ubrn))
	if errors.Is(err, store.ErrNotFound) || (err == nil && ca.Request == nil) {
		return ca, &triage.Error{Code: triage.ENOTFOUND, Err: store.ErrNotFound,
			Message: "That Advice and Guidance request is not downloaded on this computer. Sync and try again."}
	}
	return ca, err
}

// AdviceDocument returns a cached file of a request (an attachment, or the
// overview PDF: store.AdviceOverviewID). Errors: ENOTFOUND; EUNAUTHORIZED.
func (a *Workspace) AdviceDocument(ctx context.Context, ubrn, id string) (store.DocumentMeta, []byte, error) {
	if _, err := a.access(); err != nil {
		return store.DocumentMeta{}, nil, err
	}
	return a.store.AdviceDocument(ctx, triage.NormalizeUBRN(ubrn), id)
}

// adviceActor is who may act on A&G requests now, with the same checks as
// Decide: the session active or only waiting for a new sign-in, an
// organisation and role chosen, this workspace's clinician.
func (a *Workspace) adviceActor() (triage.Identity, error) {
	me, err := a.access()
	if err != nil {
		return me, err
	}
	if me.ODS == "" || me.BusinessFunction == "" {
		return me, &triage.Error{Code: triage.EUNAUTHORIZED, Message: "Choose the organisation and role you are working as before replying to advice and guidance requests."}
	}
	return me, nil
}

// Reply queues a reply to an A&G request: advice (with its intended
// recommendation) or a request for further information. BaseVersion and
// LastMessageID should be those of the AdviceView on screen; when zero they
// are taken from the cache (what `triagectl ag show` printed). The
// identity, time and (when empty) the request's current priority are
// filled in; it is validated as the engine will check it
// (triage.AdviceReply.Validate against the cached request and
// conversation) and saved in the outbox. The engine sends it when it can.
//
// Errors: a *triage.ValidationError listing every problem (for example no
// intended recommendation with advice, guidance over 8000 characters, the
// conversation moved on since BaseVersion/LastMessageID, not the
// provider's turn); ENOTFOUND when the request is not cached;
// EUNAUTHORIZED; EINVALID with an attachment not kept with
// AttachAdviceFile for this request; the store's (ErrDecisionPending
// when a reply or conversion is already waiting).
func (a *Workspace) Reply(ctx context.Context, r triage.AdviceReply) (store.AdviceEntry, error) {
	ac, err := a.completeAdvice(ctx, adviceFields{&r.UBRN, &r.BaseVersion, &r.LastMessageID, &r.Priority, &r.By, &r.DecidedAt}, r.Attachments)
	if err != nil {
		return store.AdviceEntry{}, err
	}
	if err := r.Validate(ac); err != nil {
		return store.AdviceEntry{}, err
	}
	return a.queuedAdvice(ctx, r.UBRN)(a.store.EnqueueAdviceReply(ctx, r))
}

// Convert queues the conversion of an A&G request into a referral, as
// Reply does; the referrer's authorisation is taken from the cached
// request, and conversion is refused unless it is AUTHORISED_TO_CONVERT.
// Errors: as Reply (a *triage.ValidationError with
// conversion-not-authorised when the referrer did not allow it).
func (a *Workspace) Convert(ctx context.Context, c triage.AdviceConversion) (store.AdviceEntry, error) {
	ac, err := a.completeAdvice(ctx, adviceFields{&c.UBRN, &c.BaseVersion, &c.LastMessageID, &c.Priority, &c.By, &c.DecidedAt},
		c.GuidanceAttachments, c.ReviewAttachments)
	if err != nil {
		return store.AdviceEntry{}, err
	}
	c.Authorisation = ac.Request.Conversion
	if err := c.Validate(ac); err != nil {
		return store.AdviceEntry{}, err
	}
	return a.queuedAdvice(ctx, c.UBRN)(a.store.EnqueueAdviceConversion(ctx, c))
}

// adviceFields are the fields a reply and a conversion share, which
// completeAdvice fills in.
type adviceFields struct {
	ubrn          *string
	baseVersion   *int
	lastMessageID *string
	priority      *triage.Priority
	by            *triage.Identity
	decidedAt     *time.Time
}

// completeAdvice readies a reply or conversion for validation: it checks
// who may act (adviceActor) and that its files are kept for the request,
// names the request by its cached UBRN, bases the action on the cached
// conversation unless the form already was, keeps the request's priority
// unless another was chosen, and records who acts and when. It returns
// the request and conversation to validate against.
func (a *Workspace) completeAdvice(ctx context.Context, f adviceFields, files ...[]triage.ProviderAttachment) (triage.AdviceContext, error) {
	me, err := a.adviceActor()
	if err != nil {
		return triage.AdviceContext{}, err
	}
	ac, err := a.adviceContext(ctx, *f.ubrn)
	if err != nil {
		return triage.AdviceContext{}, err
	}
	if err := a.checkAdviceFiles(ctx, ac.Request.UBRN, files...); err != nil {
		return triage.AdviceContext{}, err
	}
	*f.ubrn = ac.Request.UBRN
	if *f.baseVersion == 0 {
		*f.baseVersion, *f.lastMessageID = ac.Request.Version, ac.Conversation.LatestID()
	}
	if *f.priority == "" {
		*f.priority = ac.Request.Priority
	}
	*f.by, *f.decidedAt = me, ac.Now
	return ac, nil
}

// queuedAdvice returns what passes on an enqueue's result, forgetting the
// request's draft once its reply or conversion is safely queued. The
// action is queued whether or not the draft could be dropped (the outbox
// and the cache are separate files): a draft left behind shows only when
// the request waits for a reply again, and is checked like any other reply.
func (a *Workspace) queuedAdvice(ctx context.Context, ubrn string) func(store.AdviceEntry, error) (store.AdviceEntry, error) {
	return func(en store.AdviceEntry, err error) (store.AdviceEntry, error) {
		if err == nil {
			_ = a.clearAdviceDraft(ctx, ubrn)
		}
		return en, err
	}
}

// adviceContext is the cached request and conversation to check an action
// against.
func (a *Workspace) adviceContext(ctx context.Context, ubrn string) (triage.AdviceContext, error) {
	ca, err := a.cachedAdvice(ctx, ubrn)
	if err != nil {
		return triage.AdviceContext{}, err
	}
	conv := ca.Conversation
	if conv == nil {
		conv = &triage.AdviceConversation{UBRN: ca.UBRN}
	}
	triage.SortMessages(conv.Messages)
	return triage.AdviceContext{Request: ca.Request, Conversation: conv, Now: time.Now()}, nil
}

// AdviceOutbox returns the A&G replies and conversions in the outbox
// matching the filter, oldest first.
func (a *Workspace) AdviceOutbox(ctx context.Context, f store.EntryFilter) ([]store.AdviceEntry, error) {
	if _, err := a.access(); err != nil {
		return nil, err
	}
	return a.store.AdviceEntries(ctx, f)
}

// AcknowledgeAdviceConflict records that the clinician read why their
// action was not sent (the new messages). Errors: the store's.
func (a *Workspace) AcknowledgeAdviceConflict(ctx context.Context, id string) (store.AdviceEntry, error) {
	me, err := a.access()
	if err != nil {
		return store.AdviceEntry{}, err
	}
	return a.store.AcknowledgeAdviceConflict(ctx, id, me)
}

// DiscardAdvice gives up a failed action or an acknowledged conflict.
func (a *Workspace) DiscardAdvice(ctx context.Context, id string) (store.AdviceEntry, error) {
	me, err := a.access()
	if err != nil {
		return store.AdviceEntry{}, err
	}
	return a.store.DiscardAdvice(ctx, id, me)
}

// CancelAdvice withdraws a queued action before it is sent.
func (a *Workspace) CancelAdvice(ctx context.Context, id string) (store.AdviceEntry, error) {
	me, err := a.access()
	if err != nil {
		return store.AdviceEntry{}, err
	}
	return a.store.CancelAdvice(ctx, id, me)
}
