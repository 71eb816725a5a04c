package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// adviceTurn gives the provider the turn on every conversation of the
// clinician's organisation that has not ended (the referrer writes again
// where it is not theirs) and returns up to n of them.
func adviceTurn(t testing.TB, sb *erssandbox.Sandbox, n int) []string {
	t.Helper()
	var out []string
	for _, a := range sb.AdviceList(nil) {
		if len(out) == n {
			break
		}
		if a.ServiceODS != erssandbox.ProviderODS || a.Request.Category.Ended() {
			continue
		}
		if !a.Request.Category.ResponseRequired() {
			if _, err := sb.ReferrerReplies(a.Request.UBRN, "Further information from the referrer (synthetic)."); err != nil {
				t.Fatalf("referrer replies: %v", err)
			}
		}
		out = append(out, a.Request.UBRN)
	}
	if len(out) < n {
		t.Fatalf("only %d open conversations at %s, want %d", len(out), erssandbox.ProviderODS, n)
	}
	return out
}

// replyAsSeen is a reply to the conversation as the sandbox holds it now:
// what the clinician read.
func replyAsSeen(t testing.TB, sb *erssandbox.Sandbox, ubrn string, i int) triage.AdviceReply {
	t.Helper()
	a, err := sb.Advice(ubrn)
	if err != nil {
		t.Fatal(err)
	}
	r := triage.AdviceReply{UBRN: ubrn, BaseVersion: a.Request.Version, By: clinician, LastMessageID: a.Conversation.LatestID(),
		Outcome: triage.GuidanceRequestFurtherInfo, Guidance: fmt.Sprintf("Synthetic guidance number %d: please send the latest blood results.", i),
		Priority: a.Request.Priority}
	if i%2 == 0 {
		r.Outcome, r.Recommendation = triage.GuidanceReturnWithAdvice, triage.RecommendAdviceOnly
	}
	if err := r.Validate(triage.AdviceContext{Request: &a.Request, Conversation: &a.Conversation, Now: time.Now()}); err != nil {
		t.Fatalf("reply %d not valid: %v", i, err)
	}
	return r
}

// waitAdviceSettled waits until no A&G action is queued or sending.
func waitAdviceSettled(t testing.TB, st *store.Store, timeout time.Duration) {
	t.Helper()
	waitDrained(t, timeout, "every advice and guidance action to be settled", st.AdviceEntries)
}

// TestHundredAdviceRepliesThroughFaults sends 100 A&G replies across 30
// conversations, in rounds (the referrer answers each sent reply, giving
// the provider the turn again), through a sandbox that answers 10% of
// requests with 500, hangs on 5%, answers 5% with 503 and Retry-After,
// throttles bursts with 429 and applies 5% of writes then drops the
// connection (a lost answer). On some conversations the referrer writes
// again after the clinician read it and before the reply is sent; on
// others, at the moment it is queued. Checked against the sandbox's write
// log and conversations: every reply was applied exactly once and is marked
// sent, or was never applied and is a conflict naming the referrer's new
// message; none lost, none sent twice, none sent blind over a new message.
func TestHundredAdviceRepliesThroughFaults(t *testing.T) {
	const replies, conversations = 100, 30
	env := newTestEnv(t, soakOptions(erssandbox.Config{Referrals: 5, AdviceRequests: 150, Seed: 17}, 16,
		func(c *Config) { c.AdviceAndGuidance = true }))
	ctx := context.Background()
	ubrns := adviceTurn(t, env.sb, conversations)
	injectSoakFaults(t, env.sb, 0.05, "A026")
	env.sb.ResetStats()
	env.run()

	type sent struct {
		entry    store.AdviceEntry
		stale    bool   // the referrer wrote after the clinician read, before queueing
		referrer string // what the referrer wrote then
	}
	var all []sent
	n := 0
	for round := 0; n < replies; round++ {
		var racing sync.WaitGroup
		for ci, u := range ubrns {
			if n == replies {
				break
			}
			r := replyAsSeen(t, env.sb, u, n)
			s := sent{}
			// Every seventh reply: the referrer writes after the
			// clinician read the conversation.
			if n%7 == 3 {
				s.stale, s.referrer = true, fmt.Sprintf("Referrer's new message %d (synthetic).", n)
				if _, err := env.sb.ReferrerReplies(u, s.referrer); err != nil {
					t.Fatal(err)
				}
			}
			en, err := env.st.EnqueueAdviceReply(ctx, r)
			if err != nil {
				t.Fatalf("enqueue reply %d: %v", n, err)
			}
			s.entry = en
			// Every eleventh: the referrer writes while it is queued;
			// either may come first.
			if n%11 == 5 {
				racing.Add(1)
				go func() {
					defer racing.Done()
					if _, err := env.sb.ReferrerReplies(u, fmt.Sprintf("Referrer writes meanwhile %d/%d (synthetic).", round, ci)); err != nil {
						t.Errorf("referrer writes meanwhile: %v", err)
					}
				}()
			}
			all = append(all, s)
			n++
		}
		racing.Wait()
		waitAdviceSettled(t, env.st, 3*time.Minute)
		// The referrer answers every reply that reached them; conflicts
		// are acknowledged and discarded, as a clinician would after
		// reading the new message.
		for _, u := range ubrns {
			a, err := env.sb.Advice(u)
			if err != nil {
				t.Fatal(err)
			}
			if !a.Request.Category.ResponseRequired() {
				if _, err := env.sb.ReferrerReplies(u, "The referrer answers (synthetic)."); err != nil {
					t.Fatal(err)
				}
			}
		}
		es, err := env.st.AdviceEntries(ctx, store.EntryFilter{States: []triage.OutboxState{triage.OutboxConflict}})
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range es {
			if _, err := env.st.AcknowledgeAdviceConflict(ctx, en.ID, clinician); err != nil {
				t.Fatal(err)
			}
			if _, err := env.st.DiscardAdvice(ctx, en.ID, clinician); err != nil {
				t.Fatal(err)
			}
		}
	}

	stats := env.sb.Stats()
	applied := map[string]int{} // message text -> A026 writes applied that created it
	for _, w := range stats.Writes {
		if w.Op != "A026" || !w.Applied {
			continue
		}
		a, err := env.sb.Advice(w.UBRN)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(a.Conversation.Messages, func(m triage.AdviceMessage) bool { return m.ID == w.MessageID })
		if i < 0 {
			t.Fatalf("an applied reply's message is not in its conversation")
		}
		applied[a.Conversation.Messages[i].Text]++
	}
	counts := map[triage.OutboxState]int{}
	for _, s := range all {
		en, err := env.st.AdviceEntry(ctx, s.entry.ID)
		if err != nil {
			t.Fatal(err)
		}
		counts[en.State]++
		times := applied[en.Reply.Guidance]
		switch {
		case en.State == triage.OutboxSent:
			if times != 1 || en.Sent == nil || en.Sent.NewVersion <= en.BaseVersion {
				t.Errorf("reply %s marked sent but applied %d times (sent %+v)", en.ID, times, en.Sent)
			}
		case en.State == triage.OutboxDiscarded && en.Conflict != nil:
			if times != 0 {
				t.Errorf("reply %s is a conflict but was applied %d times", en.ID, times)
			}
			if len(en.Conflict.NewMessages) == 0 {
				t.Errorf("reply %s is a conflict naming no new message", en.ID)
			}
			if s.stale && !slices.ContainsFunc(en.Conflict.NewMessages, func(m triage.AdviceMessage) bool { return m.Text == s.referrer }) {
				t.Errorf("reply %s's conflict does not name the referrer's new message", en.ID)
			}
		default:
			t.Errorf("reply %s ended %s after %d attempts (applied %d times, error %+v)", en.ID, en.State, en.Attempts, times, en.LastError)
		}
		if s.stale && en.State != triage.OutboxDiscarded {
			t.Errorf("reply %s was based on a conversation that moved on, yet ended %s", en.ID, en.State)
		}
	}
	for text, times := range applied {
		if times > 1 || !strings.HasPrefix(text, "Synthetic guidance number ") {
			t.Errorf("a reply was applied %d times", times)
		}
	}
	if counts[triage.OutboxSent] < replies*3/4 {
		t.Errorf("only %d of %d replies sent: %v", counts[triage.OutboxSent], replies, counts)
	}
	for _, k := range soakFaults {
		if stats.Faults[k] == 0 {
			t.Errorf("no %s fault was injected; the test proves less than it claims", k)
		}
	}
	t.Logf("%d replies across %d conversations: %v; faults %v; requests %v", replies, conversations, counts, stats.Faults, stats.Requests)
}

// TestAdvicePullIsIncremental pulls the A&G worklist twice: the first pull
// reads every request and its conversation and caches their files and
// overview PDFs, starting with those needing a response; the second reads
// again only the request whose version changed.
func TestAdvicePullIsIncremental(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 2, AdviceRequests: 12, Seed: 5, PendingDelay: -1},
		engine: func(c *Config) { c.AdviceAndGuidance = true }})
	ctx := context.Background()
	env.sb.ResetStats()
	res, err := env.eng.PullAdvice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wl := env.sb.AdviceWorklist(erssandbox.ProviderODS)
	if res.Total != len(wl) || res.Reread != len(wl) || len(wl) == 0 {
		t.Fatalf("first pull = %+v, worklist has %d", res, len(wl))
	}
	first := env.sb.Stats().Requests
	if first["A024"] != len(wl) || first["A025"] != len(wl) || first["A043"] != len(wl) {
		t.Fatalf("first pull made requests %v for %d items", first, len(wl))
	}
	// Clinical priority order: the first request read needs a response.
	order := slices.Clone(wl)
	slices.SortFunc(order, triage.CompareAdviceItems)
	if !order[0].Category.ResponseRequired() {
		t.Fatalf("the worklist has no request needing a response")
	}
	for _, it := range wl {
		ca, err := env.st.Advice(ctx, it.UBRN)
		if err != nil || !ca.Complete() || ca.Version() != it.Version || !ca.HasDocument(store.AdviceOverviewID) {
			t.Fatalf("request not cached completely: %+v, %v", ca, err)
		}
		for _, d := range adviceDocuments(ca) {
			if (d.Availability == "" || d.Availability == triage.AvailabilityAvailable) && !ca.HasDocument(d.ID) {
				t.Fatalf("an available file of a request was not cached")
			}
		}
	}
	if _, err := env.sb.ReferrerReplies(order[0].UBRN, "More information (synthetic)."); err != nil {
		t.Fatal(err)
	}
	env.sb.ResetStats()
	if res, err = env.eng.PullAdvice(ctx); err != nil || res.Reread != 1 {
		t.Fatalf("second pull = %+v, %v; want one request read again", res, err)
	}
	second := env.sb.Stats().Requests
	if second["A024"] != 1 || second["A025"] != 1 {
		t.Fatalf("second pull made requests %v, want one A024 and one A025", second)
	}
	ca, err := env.st.Advice(ctx, order[0].UBRN)
	if err != nil || ca.Conversation.Messages[len(ca.Conversation.Messages)-1].Text != "More information (synthetic)." {
		t.Fatalf("the referrer's new message is not cached: %v", err)
	}
}

// TestAdviceConversionWithdrawnWhileQueuedIsConflict queues a conversion
// the referrer allowed, then the referrer withdraws the authorisation
// before it is sent: the pre-flight re-read finds the request moved on, so
// the conversion is a conflict and nothing is sent.
func TestAdviceConversionWithdrawnWhileQueuedIsConflict(t *testing.T) {
	env := newTestEnv(t, envOptions{sandbox: erssandbox.Config{Referrals: 2, AdviceRequests: 24, Seed: 3}})
	ctx := context.Background()
	u := ""
	for _, a := range env.sb.AdviceList(nil) {
		if a.ServiceODS == erssandbox.ProviderODS && a.Request.Category.ResponseRequired() {
			u = a.Request.UBRN
			break
		}
	}
	if u == "" {
		t.Fatal("no request needing a response")
	}
	if _, err := env.sb.SetConversionAuthorisation(u, true); err != nil {
		t.Fatal(err)
	}
	a, _ := env.sb.Advice(u)
	cv := triage.AdviceConversion{UBRN: u, BaseVersion: a.Request.Version, By: clinician, LastMessageID: a.Conversation.LatestID(),
		Authorisation: a.Request.Conversion, Guidance: "Converted to a referral (synthetic).", Priority: triage.PriorityRoutine,
		ReviewComments: "Book into the next clinic (synthetic)."}
	if err := cv.Validate(triage.AdviceContext{Request: &a.Request, Conversation: &a.Conversation}); err != nil {
		t.Fatal(err)
	}
	en, err := env.st.EnqueueAdviceConversion(ctx, cv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.sb.SetConversionAuthorisation(u, false); err != nil {
		t.Fatal(err)
	}
	env.sb.ResetStats()
	env.run()
	waitAdviceSettled(t, env.st, 30*time.Second)
	if en, err = env.st.AdviceEntry(ctx, en.ID); err != nil || en.State != triage.OutboxConflict || en.Conflict == nil {
		t.Fatalf("conversion ended %s (%+v), want conflict", en.State, en.Conflict)
	}
	for _, w := range env.sb.Stats().Writes {
		if w.Op == "A027" {
			t.Fatalf("the conversion was sent: %+v", w)
		}
	}
}
