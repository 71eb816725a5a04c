package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/testutil"
)

// buildTriagectl builds this command into dir and returns the binary's
// path: as `make triagectl` does, or, when the tests run with the race
// detector, with it too (linking the packages the test build compiled, so
// a loaded machine does not compile everything twice). It skips when no Go
// toolchain is found.
func buildTriagectl(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no Go toolchain (go) on PATH to build triagectl for the end-to-end test")
	}
	bin := filepath.Join(dir, "triagectl")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := []string{"build", "-tags", "migrated_fynedo", "-o", bin}
	env := os.Environ()
	if raceBuild {
		// The test binary's packages are compiled already: only a link.
		args = append(args, "-race")
	} else {
		env = append(env, "CGO_ENABLED=0") // as make triagectl builds it
	}
	cmd := exec.CommandContext(ctx, goTool, append(args, ".")...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build triagectl: %v\n%s", err, out)
	}
	return bin
}

// sandboxProcess is `triagectl sandbox` running as its own process.
type sandboxProcess struct {
	cmd      *exec.Cmd
	base     string // FHIR base URL
	control  string // control API
	login    string // the printed sign-in line
	stderr   *syncBuffer
	exited   chan error
	stopOnce func()
}

// startSandboxProcess starts the sandbox and reads its stdout until it says
// it is ready, taking the addresses and the sign-in line it prints.
func startSandboxProcess(t *testing.T, bin string, args ...string) *sandboxProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"sandbox"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &sandboxProcess{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = p.stderr // one log line per request: always drained
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { p.exited <- cmd.Wait() }()
	var once sync.Once
	p.stopOnce = func() {
		once.Do(func() {
			// Ctrl-C; where a process cannot be interrupted, kill it.
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				_ = cmd.Process.Kill()
			}
		})
	}
	t.Cleanup(func() {
		p.stopOnce()
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	base := regexp.MustCompile(`^\s*FHIR base URL:\s+(\S+)`)
	control := regexp.MustCompile(`^\s*Control API:\s+(\S+)`)
	timeout := time.After(2 * time.Minute)
	nextIsLogin := false
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the sandbox stopped before it was ready:\n%s", p.stderr.String())
			}
			switch {
			case nextIsLogin:
				p.login, nextIsLogin = strings.TrimSpace(l), false
			case strings.HasPrefix(l, "Sign in to it"):
				nextIsLogin = true
			case base.MatchString(l):
				p.base = base.FindStringSubmatch(l)[1]
			case control.MatchString(l):
				p.control = control.FindStringSubmatch(l)[1]
			case strings.HasPrefix(l, "Press Ctrl-C to stop."):
				if p.base == "" || p.control == "" || p.login == "" {
					t.Fatalf("the sandbox did not print its addresses and sign-in line (base %q, control %q, login %q)", p.base, p.control, p.login)
				}
				return p
			}
		case <-timeout:
			t.Fatalf("the sandbox did not start within 2 minutes:\n%s", p.stderr.String())
		}
	}
}

// stats reads the sandbox's write log and request counts.
func (p *sandboxProcess) stats(t *testing.T) erssandbox.Stats {
	t.Helper()
	resp, err := http.Get(p.control + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s erssandbox.Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (p *sandboxProcess) resetStats(t *testing.T) {
	t.Helper()
	resp, err := http.Post(p.control+"/stats/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset stats: HTTP %d", resp.StatusCode)
	}
}

// ersOps counts the e-RS operations (A-numbers) among a sandbox's requests.
func ersOps(s erssandbox.Stats) map[string]int {
	out := map[string]int{}
	isOp := regexp.MustCompile(`^A[0-9]{3}$`)
	for op, n := range s.Requests {
		if isOp.MatchString(op) {
			out[op] = n
		}
	}
	return out
}

// A new user's first run against the standalone sandbox, with real
// processes: `triagectl sandbox` is started, the sign-in line it prints is
// run as printed (only this test's own data folder and development key file
// come first, so nothing touches the computer's keychain), then sync,
// decide and sync; the decision reaches the sandbox's write log exactly
// once; and syncing unchanged worklists again makes exactly one e-RS
// request for each (A008, and A023 for Advice and Guidance).
func TestSandboxProcessEndToEnd(t *testing.T) {
	dir := t.TempDir()
	bin := buildTriagectl(t, dir)
	port := strconv.Itoa(testutil.FreeLoopbackPort(t))
	sb := startSandboxProcess(t, bin, "--addr", "127.0.0.1:0", "--download-addr", "127.0.0.1:0", "--referrals", "6",
		"--redirect-uri", "http://127.0.0.1:"+port+"/callback")

	isolate := []string{"--profile", filepath.Join(dir, "profile"), "--dev-insecure-keyfile", filepath.Join(dir, "dev.key")}
	triagectl := func(args ...string) (string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(append([]string{}, isolate...), args...)...)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			code := -1
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			t.Fatalf("triagectl %s: exit %d (%v)\nstdout:\n%s\nstderr:\n%s\nsandbox log:\n%s", strings.Join(args, " "), code, err, out.String(), errb.String(), sb.stderr.String())
		}
		return out.String(), errb.String()
	}

	line := strings.Fields(sb.login)
	if len(line) < 3 || line[0] != "triagectl" || line[1] != "login" || strings.ContainsAny(sb.login, `"'`) {
		t.Fatalf("printed sign-in line %q", sb.login)
	}
	out, _ := triagectl(line[1:]...)
	if !strings.Contains(out, "Signed in to Local development server") || !strings.Contains(out, erssandbox.UserClinician) {
		t.Fatalf("login:\n%s", out)
	}

	where := []string{"--env", "local", "--base-url", sb.base}
	cmd := func(args ...string) string {
		t.Helper()
		out, _ := triagectl(append(append([]string{}, where...), args...)...)
		return out
	}
	if out := cmd("sync"); !strings.Contains(out, "Worklist as of") {
		t.Fatalf("sync:\n%s", out)
	}
	ubrn := firstBookedUBRN(t, cmd("worklist", "--json"))
	if out := cmd("decide", ubrn, "accept"); !strings.Contains(out, "Queued: Accept") {
		t.Fatalf("decide:\n%s", out)
	}
	if out := cmd("sync"); !strings.Contains(out, "Outbox: 1 sent") {
		t.Fatalf("sync after deciding:\n%s", out)
	}
	n := 0
	for _, w := range sb.stats(t).Writes {
		if w.UBRN == ubrn {
			n++
			if w.Op != "A013" || !w.Applied {
				t.Errorf("write %+v", w)
			}
		}
	}
	if n != 1 {
		t.Fatalf("the decision reached the sandbox %d times, want exactly once", n)
	}

	// Settle what the decision changed, then sync an unchanged worklist.
	cmd("sync")
	sb.resetStats(t)
	out = cmd("sync")
	if !strings.Contains(out, "(0 new, 0 changed, 0 left the list)") {
		t.Errorf("the worklist changed:\n%s", out)
	}
	s := sb.stats(t)
	if ops := ersOps(s); len(ops) != 2 || ops["A008"] != 1 || ops["A023"] != 1 {
		t.Errorf("re-syncing unchanged worklists made e-RS requests %v, want exactly one A008 and one A023 (Advice and Guidance)", ops)
	}
	if len(s.Writes) != 0 {
		t.Errorf("re-syncing wrote %+v", s.Writes)
	}
	if s.Requests["token"] > 1 {
		t.Errorf("%d token requests for one sync", s.Requests["token"])
	}

	sb.stopOnce()
	select {
	case err := <-sb.exited:
		if err != nil {
			t.Errorf("the sandbox did not stop cleanly: %v\n%s", err, sb.stderr.String())
		}
		sb.exited <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Error("the sandbox did not stop on interrupt")
	}
}
