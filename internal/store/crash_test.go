package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// The crash harness re-executes the test binary as a child process (see
// TestMain) that enqueues decisions as fast as it can, printing each id only
// after Enqueue returned, while another goroutine writes documents to the
// cache. The parent kills it with SIGKILL at a random moment, reopens the
// store and checks that nothing acknowledged was lost or duplicated.
const (
	crashChildEnv   = "TRIAGEDESK_STORE_CRASH_CHILD" // profile folder
	crashKeyfileEnv = "TRIAGEDESK_STORE_CRASH_KEYFILE"
	crashSeedEnv    = "TRIAGEDESK_STORE_CRASH_SEED"
)

func crashChild() int {
	profile := os.Getenv(crashChildEnv)
	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	ctx := context.Background()
	s, err := Open(ctx, Options{
		ProfileDir: profile, UserID: clinician.SDSUserID,
		Keys:   DevKeyFileProvider{Path: os.Getenv(crashKeyfileEnv), Warn: io.Discard},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 3
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	say("ready")
	go func() { // cache churn alongside the outbox writes
		rng := rand.New(rand.NewPCG(seed, 2))
		for i := 0; ; i++ {
			f := makeFixture(rng, i)
			_ = s.PutReferral(ctx, CachedReferral{Referral: f.Referral, Raw: f.Raw})
			_ = s.PutDocument(ctx, f.UBRN, DocumentMeta{ID: "cri", Kind: DocumentCRI}, f.CRI[:4096+rng.IntN(60000)])
		}
	}()
	rng := rand.New(rand.NewPCG(seed, 1))
	var queued []string
	for i := 0; ; i++ {
		f := makeFixture(rng, i)
		e, err := s.Enqueue(ctx, rejectFor(f))
		if err != nil {
			fmt.Fprintln(os.Stderr, "enqueue:", err)
			continue
		}
		say("ack %s", e.ID)
		queued = append(queued, e.ID)
		if i%3 == 2 { // send an earlier one
			id := queued[0]
			queued = queued[1:]
			if _, err := s.BeginSend(ctx, id); err == nil {
				if _, err := s.MarkSent(ctx, id, SentResult{NewVersion: f.Version + 1, RequestID: "rq-" + strconv.Itoa(i)}); err == nil {
					say("sent %s", id)
				}
			}
		}
	}
}

type crashCycle struct {
	acked, sent []string
	stderr      string
}

// runCrashChild runs the child until it has acknowledged acks decisions
// (an event, not a time: a loaded machine only makes it slower), lets it
// go on for killAfter, and kills it.
func runCrashChild(t *testing.T, profile, keyfile string, seed uint64, acks int, killAfter time.Duration) crashCycle {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+profile, crashKeyfileEnv+"="+keyfile, crashSeedEnv+"="+strconv.FormatUint(seed, 10))
	stdout, err := cmd.StdoutPipe()
	mustNoErr(t, err, "pipe")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	mustNoErr(t, cmd.Start(), "start child")
	var c crashCycle
	ready := make(chan struct{})
	firstAck := make(chan struct{})
	done := make(chan struct{})
	progressed := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "ready":
				close(ready)
			case strings.HasPrefix(line, "ack "):
				if len(c.acked) == 0 {
					close(firstAck)
				}
				c.acked = append(c.acked, strings.TrimPrefix(line, "ack "))
				if len(c.acked) == acks {
					close(progressed)
				}
			case strings.HasPrefix(line, "sent "):
				c.sent = append(c.sent, strings.TrimPrefix(line, "sent "))
			}
		}
	}()
	// The kill comes killAfter the first acknowledged decision (not after
	// opening): on a loaded machine one fsync can outlast the whole delay,
	// and every cycle must have written something for the check to mean
	// anything.
	for _, ev := range []struct {
		ch   chan struct{}
		what string
	}{{ready, "ready"}, {firstAck, "acknowledging a decision"}} {
		select {
		case <-ev.ch:
		case <-done:
			_ = cmd.Wait()
			t.Fatalf("child exited before %s: %s", ev.what, stderr.String())
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("child never got to %s", ev.what)
		}
	}
	select {
	case <-progressed:
	case <-done:
		_ = cmd.Wait()
		t.Fatalf("child exited before acknowledging %d decisions: %s", acks, stderr.String())
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("child acknowledged fewer than %d decisions in 2 minutes", acks)
	}
	time.Sleep(killAfter)
	mustNoErr(t, cmd.Process.Kill(), "SIGKILL") // os.Process.Kill is SIGKILL on Unix
	<-done
	_ = cmd.Wait()
	c.stderr = stderr.String()
	return c
}

func TestCrashHarnessSIGKILL(t *testing.T) {
	const cycles = 30
	profile := t.TempDir()
	keyfile := filepath.Join(t.TempDir(), "dev.key")
	rng := rand.New(rand.NewPCG(70, 70))
	ctx := context.Background()
	acked := map[string]bool{}
	sent := map[string]bool{}
	for cycle := range cycles {
		// Killed at a random moment once it has made progress: after one to
		// three acknowledged decisions, then up to 50 ms more.
		acks, kill := 1+rng.IntN(3), time.Duration(rng.IntN(50))*time.Millisecond
		c := runCrashChild(t, profile, keyfile, uint64(cycle)+1000, acks, kill)
		for _, id := range c.acked {
			acked[id] = true
		}
		for _, id := range c.sent {
			sent[id] = true
		}

		s, err := Open(ctx, Options{ProfileDir: profile, UserID: clinician.SDSUserID,
			Keys: DevKeyFileProvider{Path: keyfile, Warn: io.Discard}, LockTimeout: 5 * time.Second,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatalf("cycle %d: reopen after SIGKILL: %v (child stderr: %s)", cycle, err, c.stderr)
		}
		rep := s.Report()
		if rep.CacheSetAside != "" {
			t.Errorf("cycle %d: cache was damaged by SIGKILL: %s", cycle, rep.CacheProblem)
		}
		if !rep.UncleanShutdown {
			t.Errorf("cycle %d: unclean shutdown not noticed", cycle)
		}
		for _, db := range []*struct {
			name string
			err  error
		}{{OutboxFile, checkBolt(s.outbox)}, {CacheFile, checkBolt(s.cache)}} {
			if db.err != nil {
				t.Errorf("cycle %d: %s check: %v", cycle, db.name, db.err)
			}
		}
		entries, err := s.Entries(ctx, EntryFilter{})
		mustNoErr(t, err, "entries")
		seen := map[string]int{}
		for _, e := range entries {
			seen[e.ID]++
			if e.Decision.ID != e.ID || e.Decision.Comments == "" {
				t.Errorf("cycle %d: half-written entry %s", cycle, e.ID)
			}
			if sent[e.ID] && e.State != triage.OutboxSent {
				t.Errorf("cycle %d: %s acknowledged as sent but is %s", cycle, e.ID, e.State)
			}
		}
		recs, err := s.AuditRecords(ctx, 1, 0)
		mustNoErr(t, err, "audit")
		created := map[string]int{}
		for _, r := range recs {
			if r.Event == EventDecisionCreated {
				created[r.DecisionID]++
			}
		}
		for id := range acked {
			if seen[id] != 1 || created[id] != 1 {
				t.Fatalf("cycle %d: acknowledged decision %s present %d times, audited %d times", cycle, id, seen[id], created[id])
			}
		}
		for id, n := range created {
			if n != 1 || seen[id] != 1 {
				t.Errorf("cycle %d: decision %s created %d times, stored %d times", cycle, id, n, seen[id])
			}
		}
		if _, err := s.VerifyAudit(ctx); err != nil {
			t.Fatalf("cycle %d: audit chain: %v", cycle, err)
		}
		mustNoErr(t, s.Close(), "close")
		if t.Failed() {
			return
		}
	}
	if len(acked) < cycles {
		t.Fatalf("only %d decisions acknowledged over %d cycles: the child barely ran", len(acked), cycles)
	}
	t.Logf("%d SIGKILL cycles: %d decisions acknowledged (%d sent), all present exactly once, audit verified, Check clean",
		cycles, len(acked), len(sent))
}
