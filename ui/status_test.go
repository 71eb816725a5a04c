package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// eventFeed is an engine event stream the test writes to.
type eventFeed struct{ ch chan app.Event }

func newEventFeed() *eventFeed { return &eventFeed{ch: make(chan app.Event, 1024)} }

func (f *eventFeed) Subscribe(int) (<-chan app.Event, func()) { return f.ch, func() {} }

// TestStatusBarFollowsEngineEvents: the bar says online, offline or
// sign-in needed as the engine reports it, with the worklist's e-RS time,
// download progress and the outbox counts (which open the outbox), and
// counts down the last hour of the sign-in.
func TestStatusBarFollowsEngineEvents(t *testing.T) {
	test.NewTempApp(t)
	b, loop := loopBridge(t)
	now := time.Date(2026, 11, 20, 14, 30, 0, 0, time.Local)
	s := NewStatusBar(func() time.Time { return now })
	var opened []triage.OutboxState
	s.OnOpenOutbox = func(st triage.OutboxState) { opened = append(opened, st) }
	test.NewTempWindow(t, s.Object())
	b.OnEngine(s.Apply)
	feed := newEventFeed()
	b.AttachEngine(feed)
	// send feeds events and pumps the UI loop until the bar shows want (the
	// bridge delivers them on its own goroutine: how soon depends on the
	// machine's load, so the test waits for the result, not for a time).
	send := func(want string, evs ...app.Event) string {
		t.Helper()
		for _, ev := range evs {
			feed.ch <- ev
		}
		loop.RunUntil(10*time.Second, func() bool { return s.Summary() == want })
		return s.Summary()
	}
	if got := s.Summary(); got != "Not connected yet" {
		t.Errorf("before any event: %q", got)
	}
	asOf := time.Date(2026, 11, 20, 14, 5, 0, 0, time.Local)
	steps := []struct {
		name string
		evs  []app.Event
		want string
	}{
		{"first pull", []app.Event{app.SyncStateChanged{Status: app.SyncStatus{State: app.SyncOnline}},
			app.WorklistUpdated{AsOf: asOf, Total: 120}},
			"Online · Worklist as of 14:05 · Outbox: nothing waiting"},
		{"downloading", []app.Event{app.PrefetchProgress{Done: 37, Total: 120}},
			"Online · Worklist as of 14:05 · Downloading for offline: 37 of 120 · Outbox: nothing waiting"},
		{"decisions", []app.Event{app.OutboxChanged{Counts: map[triage.OutboxState]int{
			triage.OutboxQueued: 3, triage.OutboxSending: 1, triage.OutboxConflict: 1, triage.OutboxFailed: 2, triage.OutboxSent: 9}}},
			"Online · Worklist as of 14:05 · Downloading for offline: 37 of 120 · 3 queued · 1 sending · 1 conflict · 2 failed"},
		{"offline", []app.Event{app.SyncStateChanged{Status: app.SyncStatus{State: app.SyncOffline, AsOf: asOf}}},
			"Offline · Worklist as of 14:05 · Downloading for offline: 37 of 120 · 3 queued · 1 sending · 1 conflict · 2 failed"},
		{"downloads done", []app.Event{app.PrefetchProgress{Done: 120, Total: 120}},
			"Offline · Worklist as of 14:05 · All downloads finished · 3 queued · 1 sending · 1 conflict · 2 failed"},
		{"sign-in needed", []app.Event{app.SyncStateChanged{Status: app.SyncStatus{State: app.SyncSignInNeeded, AsOf: asOf}}},
			"Sign-in needed · Worklist as of 14:05 · All downloads finished · 3 queued · 1 sending · 1 conflict · 2 failed"},
		{"back online, all sent", []app.Event{app.SyncStateChanged{Status: app.SyncStatus{State: app.SyncOnline, AsOf: asOf}},
			app.WorklistUpdated{AsOf: asOf.Add(10 * time.Minute)},
			app.OutboxChanged{Counts: map[triage.OutboxState]int{triage.OutboxSent: 16}}},
			"Online · Worklist as of 14:15 · All downloads finished · Outbox: nothing waiting"},
	}
	for _, st := range steps {
		if got := send(st.want, st.evs...); got != st.want {
			t.Errorf("%s:\n got %q\nwant %q", st.name, got, st.want)
		}
	}

	send("Online · Worklist as of 14:15 · All downloads finished · 1 queued · 2 conflicts",
		app.OutboxChanged{Counts: map[triage.OutboxState]int{triage.OutboxConflict: 2, triage.OutboxQueued: 1}})
	tapButton(t, s.Object(), "2 conflicts")
	tapButton(t, s.Object(), "1 queued")
	if len(opened) != 2 || opened[0] != triage.OutboxConflict || opened[1] != triage.OutboxQueued {
		t.Errorf("counts opened the outbox at %v", opened)
	}

	// The session's last hour is counted down; the lock hides nothing here
	// because the bar never shows patient data.
	s.SetSession(app.Status{Status: app.SessionStatus{State: app.SessionActive, SessionExpires: now.Add(2 * time.Hour)}})
	if strings.Contains(s.Summary(), "Sign-in ends") {
		t.Errorf("countdown two hours before the end: %q", s.Summary())
	}
	now = now.Add(78 * time.Minute)
	s.Refresh()
	if !strings.HasSuffix(s.Summary(), "Sign-in ends in 42 min") {
		t.Errorf("42 minutes before the end: %q", s.Summary())
	}
	s.SetSession(app.Status{Status: app.SessionStatus{State: app.SessionLocked}})
	if !strings.HasPrefix(s.Summary(), "Locked · ") || strings.Contains(s.Summary(), "Sign-in ends") {
		t.Errorf("locked: %q", s.Summary())
	}
}
