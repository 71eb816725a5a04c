package triage

import (
	"testing"
	"time"
)

// TestFreshnessUsesTheServersClock: data is aged on e-RS's clock, so a
// computer whose clock is wrong never makes old data look fresh.
func TestFreshnessUsesTheServersClock(t *testing.T) {
	asOf := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) // e-RS's Date when pulled
	interval := 5 * time.Minute
	tests := []struct {
		name   string
		local  time.Time
		offset time.Duration // e-RS minus local
		age    time.Duration
		want   Freshness
	}{
		{"clocks agree, just pulled", asOf.Add(time.Minute), 0, time.Minute, Fresh},
		{"clocks agree, past the interval", asOf.Add(6 * time.Minute), 0, 6 * time.Minute, Stale},
		{"local clock 2 h behind, 3 h after the pull", asOf.Add(-2*time.Hour + 3*time.Hour), 2 * time.Hour, 3 * time.Hour, Stale},
		{"local clock 2 h behind, would look fresh uncorrected", asOf.Add(-time.Hour), 2 * time.Hour, time.Hour, Stale},
		{"local clock 30 min ahead, just pulled", asOf.Add(30*time.Minute + time.Minute), -30 * time.Minute, time.Minute, Fresh},
		{"offline since yesterday", asOf.Add(26 * time.Hour), 0, 26 * time.Hour, VeryStale},
		{"local clock a day behind, two days after", asOf.Add(24 * time.Hour), 24 * time.Hour, 48 * time.Hour, VeryStale},
	}
	for _, tt := range tests {
		if got := DataAge(asOf, tt.local, tt.offset); got != tt.age {
			t.Errorf("%s: age %v, want %v", tt.name, got, tt.age)
		}
		if got := FreshnessOf(asOf, tt.local, tt.offset, interval); got != tt.want {
			t.Errorf("%s: freshness %d, want %d", tt.name, got, tt.want)
		}
	}
	// Uncorrected, the 2-hour-slow clock would call hour-old data fresh:
	// the correction is what makes it stale.
	if FreshnessOf(asOf, asOf.Add(-time.Hour), 0, interval) != Fresh {
		t.Error("the uncorrected case no longer shows the hazard this guards against")
	}
	if FreshnessOf(time.Time{}, asOf, 0, interval) != Unknown || DataAge(time.Time{}, asOf, 0) != 0 {
		t.Error("never-pulled data must be Unknown")
	}
	if DataAge(asOf, asOf.Add(-time.Hour), 0) != 0 {
		t.Error("negative age")
	}
}
