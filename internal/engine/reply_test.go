package engine

import (
	"context"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// A write whose reply names another referral is not trusted: nothing is
// cached under the other referral's UBRN, and the decision is settled by
// re-reading the decided referral (A005), whose new state and version are
// what the cache and the outbox then hold.
func TestReplyForAnotherReferralIsNeverCached(t *testing.T) {
	for _, kind := range []triage.ReferralType{triage.ReferralTypeAppointment, triage.ReferralTypeTriageDeferral} {
		env := newSendEnv(t, erssandbox.Config{Referrals: 30, Seed: 21})
		ctx := context.Background()
		rd := env.sb.ReferenceData()
		var ref triage.Referral
		for _, r := range decidable(t, env.sb) {
			if r.Type == kind {
				ref = r
				break
			}
		}
		if ref.UBRN == "" {
			t.Fatalf("no %s referral in the sandbox", kind)
		}
		// The sandbox answers with a referral on no worklist, which nothing
		// else would fetch: any such referral in the cache can only have
		// come from the reply.
		onList := map[string]bool{}
		for _, l := range []triage.ListType{triage.ListReferralsForReview, triage.ListAppointmentSlotIssues} {
			for _, it := range env.sb.Worklist(l, erssandbox.ProviderODS) {
				onList[it.UBRN] = true
			}
		}
		d := decisionFor(t, ref, rd, 1)
		en, err := env.st.Enqueue(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		env.sb.FailNext(d.Kind.Operation(), erssandbox.FaultOtherReferral)
		env.run()
		waitSettled(t, env.st, 15*time.Second)

		now, err := env.sb.Referral(ref.UBRN)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := env.st.Entry(ctx, en.ID)
		if got.State != triage.OutboxSent || got.Sent == nil || !got.Sent.Settled || got.Sent.NewVersion != now.Version {
			t.Errorf("%s: decision %s %+v, want sent, settled by re-reading, at e-RS's version %d", kind, got.State, got.Sent, now.Version)
		}
		cached, err := env.st.Referral(ctx, ref.UBRN)
		if err != nil || cached.Referral.Version != now.Version || cached.Referral.State.State != now.State.State {
			t.Errorf("%s: cached referral v%d %s (%v), want e-RS's v%d %s", kind, cached.Referral.Version, cached.Referral.State.State, err, now.Version, now.State.State)
		}
		infos, err := env.st.CachedReferrals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ci := range infos {
			if ci.HasReferral && ci.UBRN != ref.UBRN && !onList[ci.UBRN] {
				t.Errorf("%s: a referral off the worklist, from e-RS's reply for another one, was cached", kind)
			}
		}
		checkOutcomes(t, env.st, env.sb)
	}
}
