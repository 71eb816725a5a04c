package vetting

import (
	"strings"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/ui/widgets"
)

// TestReferralConfirmedByAFreshWorklistIsNotShownAsOld: a referral cached
// ten minutes ago, opened while online just after a worklist read that
// lists it at the same version, is e-RS's current copy: "data as of" gives
// the worklist's time and no "older than the sync" badge. A newer version
// in the worklist leaves the referral's own (old) time and the badge.
func TestReferralConfirmedByAFreshWorklistIsNotShownAsOld(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	r := h.rows()[0]
	p := h.open(r.UBRN)
	cached := p.data.view.Referral.ServerTime
	if cached.IsZero() || r.Version == 0 || r.Version != p.referral().Version {
		t.Fatalf("the referral has no e-RS time or version (%v, %d, %d)", cached, r.Version, p.referral().Version)
	}
	now := cached.Add(10 * time.Minute)
	h.v.now = func() time.Time { return now }
	h.v.sync.ServerOffset = 0
	h.v.list.asOf = now.Add(-30 * time.Second)
	p.refreshAsOf()
	if got := p.AsOfText(); strings.Contains(got, "older than") || !strings.Contains(got, widgets.ClockText(h.v.list.asOf, now)) {
		t.Errorf("a referral the worklist read 30 s ago confirms shows %q", got)
	}
	i := h.v.list.index[r.UBRN]
	h.v.list.all[i].Version++
	p.refreshAsOf()
	if got := p.AsOfText(); !strings.Contains(got, "older than") {
		t.Errorf("a referral the worklist lists at a newer version shows %q, want the amber badge", got)
	}
}
