// Package engine is Triage Desk's sync engine: it keeps the encrypted store
// (internal/store) in step with e-RS (internal/ers) so the UI can read
// everything offline and never waits on the network.
//
// # Services
//
// Run starts supervised services, each restarted after a panic and all
// joined before Run returns:
//
//   - the worklist puller: A008 every Config.PullInterval (5 minutes by
//     default), on demand (SyncNow) and when the connection comes back;
//     while offline it doubles as the connection probe, with exponential
//     backoff;
//   - the prefetcher: a pool of workers fetching, in clinical order, each
//     referral's details (A005), the clinical referral information (A007)
//     for it and every related UBRN, and every AVAILABLE attachment (A042);
//   - the outbox pusher: sends queued decisions (see below);
//   - the reference-data refresher (A004, daily);
//   - the pending-attachment re-poller (no sooner than 5 minutes after
//     e-RS said PENDING);
//   - the retention runner (store.RunRetention) and the outbox counter,
//     which coalesces outbox changes into OutboxChanged events.
//
// # Pull
//
// After A008 the snapshot is stored with the server's Date as "as of". A005
// is fetched only for referrals that are new or whose referralRequestVersion
// or requestContextStatus changed; the CRI is fetched again only when the
// letter changed (its clinicalInfoLastUpdated is later than the server time
// the cached CRI was fetched at); referrals that left the worklist are marked
// (LocalState.LeftWorklist) and kept until retention purges them. A
// worklist with nothing changed costs exactly one request.
//
// A worklist e-RS refuses as too large for one answer (over 10 MB, 422) is
// asked for in parts, by service, specialty or assigned clinician, through
// the same rate limiter, and merged one item per UBRN (split.go). A part not
// received never takes referrals off the worklist: those it would have
// listed are kept as last pulled, and the pull reports the failure. A split
// worklist with nothing changed costs one request per part.
//
// CRIs are cached under their own UBRN with document id CRIDocumentID, so
// a related referral's CRI is fetched once however many referrals name it;
// its DocumentMeta.FetchedAt is e-RS's Date on the response. Attachments
// that are PENDING, THREATS_FOUND or VALIDATION_FAILED are recorded as
// documents with that Availability and no bytes, so the UI shows them.
//
// # Prefetch order
//
// Work is queued per request, ordered by: the referral the user has open
// (Focus) first, then 2WW, urgent, routine; oldest pathway start first; a
// referral's A005 before its CRIs before its attachments. A CRI of a lower
// priority class does not start while any A005 or CRI of a higher class is
// queued or in flight, so every 2WW CRI is stored before any urgent or
// routine one; the workers meanwhile keep the shared rate limiter busy with
// other requests.
//
// # Patients
//
// With Config.PDS set, each referral's patient is read from PDS for the
// banner when the referral is read (A005) and, when the cached details are
// older than Config.PatientRefresh, when the user opens it (Focus). One
// read per NHS number serves every referral of that patient in the same
// pull; its answer is stored on each (store.UpdatePatient, sealed with the
// referral) and announced with PatientUpdated. PDS reads are queued like
// CRIs, behind the class barrier, and wait for the shared rate limiter. A
// PDS failure never moves the engine offline or asks for sign-in: a
// failure that may pass keeps the last details, marks them unchecked and
// is retried with backoff.
//
// # Push
//
// A decision is sent only under the identity that made it
// (triage.Identity.SameUser) while that session is live; otherwise it waits
// and an OutboxWaiting event says why. For each decision, one at a time per
// referral: A005 is re-read (and A029 for triage outcomes); if the referral
// is no longer as the clinician saw it, the decision becomes a conflict
// holding what e-RS says now, and nothing is sent. Provider attachments are
// uploaded (A020) and each Binary id recorded (store.RecordUpload) before
// the decision is sent with If-Match. An ambiguous or contended answer (409,
// 423, INVALID_REQUEST_STATE, timeout, reset, 5xx) is settled by re-reading
// the referral (triage.Decision.Settle; for an accept, whether it left
// Referrals for Review): applied → sent, unchanged → retried later with
// full-jitter backoff (Retry-After as a floor), changed → conflict. 401
// pauses the whole queue until SessionChanged reports a new sign-in; 403
// and other 422s mark the decision failed with e-RS's reason in plain
// English. Decisions left "sending" by a crash are settled the same way
// before anything else is sent. A decision is never sent with a version
// other than the one the clinician saw, so it can never be applied twice.
//
// # Events
//
// Subscribe returns a buffered channel of typed events. Publishing never
// blocks: when a subscriber's buffer is full, events are dropped and a
// Lagged event with the count is delivered as soon as there is room, so the
// subscriber knows to re-read the store.
//
// # Sign-in seam
//
// The engine does not sign anyone in. It asks a Session who is signed in
// and whether that session is live, calls e-RS with a client that already
// carries the session's token source, and treats ers.AuthRequired as "sign
// in again". The caller reports a new sign-in with SessionChanged.
package engine
