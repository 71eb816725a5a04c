package keychain

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

func TestDoMapsNotFoundAndWrapsFailures(t *testing.T) {
	keyring.MockInit() // OS{} talks to go-keyring's mock
	ctx := context.Background()
	if _, err := Get(ctx, OS{}, "svc", "missing"); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
		t.Errorf("missing item: %v", err)
	}
	if err := Set(ctx, OS{}, "svc", "acct", "v1"); err != nil {
		t.Fatal(err)
	}
	if v, err := Get(ctx, OS{}, "svc", "acct"); err != nil || v != "v1" {
		t.Errorf("get %q %v", v, err)
	}
	if err := Delete(ctx, OS{}, "svc", "acct"); err != nil {
		t.Fatal(err)
	}
	if err := Delete(ctx, OS{}, "svc", "acct"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	cause := errors.New("org.freedesktop.secrets was not provided by any .service files")
	keyring.MockInitWithError(cause)
	t.Cleanup(keyring.MockInit)
	_, err := Get(ctx, OS{}, "svc", "acct")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, cause) {
		t.Errorf("failing backend: %v", err)
	}
}

// hangingRing never answers until released.
type hangingRing struct{ release chan struct{} }

func (h hangingRing) Get(string, string) (string, error) { <-h.release; return "", nil }
func (h hangingRing) Set(string, string, string) error   { <-h.release; return nil }
func (h hangingRing) Delete(string, string) error        { <-h.release; return nil }

func TestAHangingKeychainGivesWayToTheContext(t *testing.T) {
	h := hangingRing{release: make(chan struct{})}
	defer close(h.release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Get(ctx, h, "svc", "acct")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging keychain: %v", err)
	}
	if took := time.Since(start); took > Timeout/2 {
		t.Errorf("took %v", took)
	}
}

// countingRing records how many calls run at once.
type countingRing struct{ now, most *atomic.Int32 }

func (c countingRing) call() {
	n := c.now.Add(1)
	for {
		m := c.most.Load()
		if n <= m || c.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(time.Millisecond)
	c.now.Add(-1)
}
func (c countingRing) Get(string, string) (string, error) { c.call(); return "", nil }
func (c countingRing) Set(string, string, string) error   { c.call(); return nil }
func (c countingRing) Delete(string, string) error        { c.call(); return nil }

// Calls made through different rings (the session's and the data key's)
// are serialised by the one lock.
func TestOneLockSerialisesEveryRing(t *testing.T) {
	var now, most atomic.Int32
	a, b := countingRing{&now, &most}, countingRing{&now, &most}
	var wg sync.WaitGroup
	for i := range 20 {
		ring := Ring(a)
		if i%2 == 1 {
			ring = b
		}
		wg.Go(func() {
			if err := Set(context.Background(), ring, "svc", "acct", "v"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d keychain calls ran at once", most.Load())
	}
}
