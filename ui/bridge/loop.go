package bridge

import (
	"sync"
	"time"
)

// Loop stands in for the UI goroutine in headless tests and measurement
// harnesses. Pass Loop.Post as Options.Post: functions the Bridge posts are
// queued, and the Loop's owner runs them on its own goroutine with Pump or
// RunUntil, so widgets are only ever touched from that one goroutine (Fyne's
// test driver would otherwise run them inline on the background goroutine).
type Loop struct {
	mu   sync.Mutex
	q    []func()
	wake chan struct{}
}

// NewLoop returns an empty Loop.
func NewLoop() *Loop { return &Loop{wake: make(chan struct{}, 1)} }

// Post queues fn. It is safe on any goroutine.
func (l *Loop) Post(fn func()) {
	l.mu.Lock()
	l.q = append(l.q, fn)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Pump runs everything queued, including what those functions queue, and
// returns how many ran.
func (l *Loop) Pump() int {
	n := 0
	for {
		l.mu.Lock()
		q := l.q
		l.q = nil
		l.mu.Unlock()
		if len(q) == 0 {
			return n
		}
		for _, fn := range q {
			fn()
			n++
		}
	}
}

// RunUntil pumps until cond holds (checked after every pump) or timeout
// passes, and reports whether cond held.
func (l *Loop) RunUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.Pump()
		if cond() {
			return true
		}
		select {
		case <-l.wake:
		case <-deadline.C:
			l.Pump()
			return cond()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// RunFor pumps for d.
func (l *Loop) RunFor(d time.Duration) {
	l.RunUntil(d, func() bool { return false })
}
