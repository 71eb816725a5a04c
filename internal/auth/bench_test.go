package auth

import (
	"context"
	"testing"
	"time"
)

// BenchmarkTokenCached measures what every e-RS call pays for its bearer
// token while the access token is valid (no refresh).
func BenchmarkTokenCached(b *testing.B) {
	env := offlineEnv("td-bench")
	now := time.Now()
	s, _ := (&record{V: recordVersion, Auth: env.AuthBaseURL, RT: "rt-1", RTExp: now.Add(12 * time.Hour), Since: now, ID: clinician}).encode()
	OSKeyring{}.Set(KeychainService, SessionAccount(env), s)
	m, err := New(Options{Environment: env, Exchanger: newFakeExchanger("rt-1"), LockTimeout: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Restore(context.Background()); err != nil {
		b.Fatal(err)
	}
	ts := m.TokenSource()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ts.Token(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTouch measures recording user activity, called on every input
// event.
func BenchmarkTouch(b *testing.B) {
	m, err := New(Options{Environment: offlineEnv("td-bench-touch"), Exchanger: newFakeExchanger()})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.ReportAllocs()
	for b.Loop() {
		m.Touch()
	}
}
