package auth

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// DefaultCallbackTimeout is how long the loopback listener waits for the
// browser to come back.
const DefaultCallbackTimeout = 5 * time.Minute

// callbackResult is what the single accepted callback delivered.
type callbackResult struct {
	code string
	err  error
}

// callback is the loopback redirect receiver for one sign-in. It accepts
// exactly one callback: GET <path> from a loopback peer, with the expected
// Host header, before the deadline. Requests from elsewhere, with another
// Host or to another path are refused without ending the wait; a callback
// with the wrong state, an error, or no code ends the sign-in with an error.
type callback struct {
	state    string
	host     string // expected Host header, "127.0.0.1:<port>"
	path     string
	deadline time.Time
	now      func() time.Time
	log      *slog.Logger

	mu      sync.Mutex
	used    bool
	expired bool                // the wait ended without a callback
	result  chan callbackResult // buffered, one value
}

func newCallback(state, host string, deadline time.Time, now func() time.Time, log *slog.Logger) *callback {
	return &callback{state: state, host: host, path: config.RedirectPath, deadline: deadline, now: now, log: log,
		result: make(chan callbackResult, 1)}
}

var callbackPage = template.Must(template.New("callback").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Triage Desk sign-in</title>
<style>body{font-family:Arial,sans-serif;margin:3em auto;max-width:36em;color:#212b32;line-height:1.5}h1{color:#005eb8;font-size:1.6em}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Body}}</p><p>You can close this browser tab.</p></body></html>`))

type pageText struct{ Title, Body string }

var (
	pageSignedIn = pageText{"You are signed in", "Return to Triage Desk to continue."}
	pageFailed   = pageText{"Sign-in did not complete", "Return to Triage Desk and start the sign-in again."}
	pageUsed     = pageText{"This sign-in has already been used", "Return to Triage Desk. If you are not signed in, start the sign-in again there."}
	pageExpired  = pageText{"This sign-in has expired", "Return to Triage Desk and start the sign-in again."}
	pageRefused  = pageText{"Not accepted", "Triage Desk only accepts sign-ins from this computer's own browser. Return to Triage Desk."}
	pageNotFound = pageText{"Not found", "Return to Triage Desk."}
)

func writePage(w http.ResponseWriter, status int, p pageText) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Connection", "close")
	w.WriteHeader(status)
	_ = callbackPage.Execute(w, p)
}

// finish records the sign-in's outcome once and reports whether this call
// was the one that did.
func (c *callback) finish(r callbackResult) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used {
		return false
	}
	c.used = true
	c.result <- r
	return true
}

// expire ends the wait without a callback (timeout or cancellation); it
// reports false when a callback came first.
func (c *callback) expire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used {
		return false
	}
	c.used, c.expired = true, true
	return true
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackPeer(r.RemoteAddr) {
		c.log.Warn("sign-in callback refused: peer is not on this computer")
		writePage(w, http.StatusForbidden, pageRefused)
		return
	}
	if r.Host != c.host {
		c.log.Warn("sign-in callback refused: unexpected Host header")
		writePage(w, http.StatusMisdirectedRequest, pageRefused)
		return
	}
	if r.URL.Path != c.path {
		writePage(w, http.StatusNotFound, pageNotFound)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writePage(w, http.StatusMethodNotAllowed, pageNotFound)
		return
	}
	c.mu.Lock()
	used, expired := c.used, c.expired
	c.mu.Unlock()
	if expired || (!used && !c.now().Before(c.deadline)) {
		c.log.Warn("sign-in callback refused: too late")
		c.finish(callbackResult{err: errCallbackTimeout()})
		writePage(w, http.StatusGone, pageExpired)
		return
	}
	if used {
		c.log.Warn("sign-in callback refused: already used")
		writePage(w, http.StatusConflict, pageUsed)
		return
	}
	q := r.URL.Query()
	if states := q["state"]; len(states) != 1 || !equalSecret(states[0], c.state) {
		c.log.Warn("sign-in callback refused: state does not match")
		if c.finish(callbackResult{err: userErr(triage.EUNAUTHORIZED, ErrStateMismatch, nil, msgStateMismatch)}) {
			writePage(w, http.StatusBadRequest, pageFailed)
		} else {
			writePage(w, http.StatusConflict, pageUsed)
		}
		return
	}
	if e := q.Get("error"); e != "" {
		code := cleanText(e, 64)
		c.log.Warn("sign-in callback: the sign-in service returned an error", "error", code)
		oe := &OAuthError{Status: http.StatusOK, Code: code, Description: cleanText(q.Get("error_description"), 200)}
		reason := "the sign-in was cancelled or refused: " + code
		if code == "access_denied" {
			reason = "the sign-in was cancelled or access was refused"
		}
		c.finish(callbackResult{err: userErr(triage.EUNAUTHORIZED, ErrSignInRefused, oe, fmt.Sprintf(msgSignInRefused, reason))})
		writePage(w, http.StatusOK, pageFailed)
		return
	}
	codes := q["code"]
	if len(codes) != 1 || codes[0] == "" || len(codes[0]) > 4096 {
		c.log.Warn("sign-in callback refused: no usable code")
		c.finish(callbackResult{err: userErr(triage.EUNAUTHORIZED, ErrCodeRefused, errors.New("callback without a usable code"), msgCodeRefused)})
		writePage(w, http.StatusBadRequest, pageFailed)
		return
	}
	if !c.finish(callbackResult{code: codes[0]}) {
		writePage(w, http.StatusConflict, pageUsed)
		return
	}
	writePage(w, http.StatusOK, pageSignedIn)
}

// humanDuration writes a wait as "5 minutes" or "30 seconds".
func humanDuration(d time.Duration) string {
	if d >= time.Minute {
		n := int(d.Round(time.Minute) / time.Minute)
		if n == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", n)
	}
	n := max(int(d.Round(time.Second)/time.Second), 1)
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}

func errCallbackTimeout() error {
	return userErr(triage.EUNAUTHORIZED, ErrCallbackTimeout, nil, fmt.Sprintf(msgCallbackTimeout, "the time allowed"))
}

// equalSecret compares two short strings in constant time for equal
// lengths.
func equalSecret(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

func loopbackPeer(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// callbackServer is a running callback listener.
type callbackServer struct {
	cb   *callback
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	once sync.Once
}

// listenCallback binds addr (127.0.0.1:<port>) and serves cb on it. The
// error for a port that cannot be bound is a *triage.Error wrapping
// ErrPortInUse that names the port.
func listenCallback(addr string, cb *callback) (*callbackServer, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != config.RedirectHost {
		return nil, fmt.Errorf("sign-in callback address %q: it must be %s:<port>", addr, config.RedirectHost)
	}
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		msg := fmt.Sprintf("Triage Desk cannot receive the sign-in because port %s on this computer is not available", port)
		if errors.Is(err, syscall.EADDRINUSE) {
			msg = fmt.Sprintf("Triage Desk cannot receive the sign-in because port %s on this computer is in use by another program", port)
		}
		msg += ". Close any other Triage Desk window or sign-in that is still open and try again; if it keeps happening, " +
			"ask your IT service desk (the port is set by redirect_port in the machine policy and must match the one registered with NHS England)."
		return nil, userErr(triage.EUNAVAILABLE, ErrPortInUse, err, msg)
	}
	s := &callbackServer{cb: cb, ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10,
			ErrorLog: slog.NewLogLogger(cb.log.Handler(), slog.LevelDebug)}}
	s.srv.SetKeepAlivesEnabled(false)
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// wait returns the code of the accepted callback, or an error: ctx ended,
// the timeout passed, or the callback carried an error.
func (s *callbackServer) wait(ctx context.Context, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-s.cb.result:
		return r.code, r.err
	case <-t.C:
		if s.cb.expire() {
			return "", userErr(triage.EUNAUTHORIZED, ErrCallbackTimeout, nil, fmt.Sprintf(msgCallbackTimeout, humanDuration(timeout)))
		}
		r := <-s.cb.result
		return r.code, r.err
	case <-ctx.Done():
		if !s.cb.expire() {
			r := <-s.cb.result
			return r.code, r.err
		}
		return "", fmt.Errorf("sign-in: %w", ctx.Err())
	}
}

// close stops the listener after letting a response in progress finish.
func (s *callbackServer) close() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
		<-s.done
	})
}
