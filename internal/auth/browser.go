package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/triagedesk/triagedesk/internal/config"
)

// SupportsLoginHint reports whether env's sign-in is a mock that completes
// from a login_hint naming a test user: the embedded demo sandbox, a local
// development server, or an auth base ending in "-mock".
func SupportsLoginHint(env config.Environment) bool {
	if env.Name == config.EnvDemo || env.Name == config.EnvLocal {
		return true
	}
	u, err := url.Parse(env.AuthBaseURL)
	return err == nil && strings.HasSuffix(strings.TrimRight(u.Path, "/"), "-mock")
}

// LoginHintBrowser returns an openBrowser function for SignIn that plays
// the browser against a mock sign-in service: it adds login_hint=userID to
// the authorize URL, requests it and follows redirects (on this computer
// only) back to the loopback callback. It is for the demo, development and
// tests; a real CIS2 sign-in needs a person at a browser. hc nil uses a
// client of its own. Its error says what the sign-in page answered instead
// of returning to Triage Desk (an unknown user, a refused redirect URI).
func LoginHintBrowser(hc *http.Client, userID string) func(authURL string) error {
	return func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return fmt.Errorf("sign-in address: %w", err)
		}
		q := u.Query()
		q.Set("login_hint", userID)
		u.RawQuery = q.Encode()
		var c http.Client
		if hc != nil {
			c = *hc
		}
		first := u.Hostname()
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			h := req.URL.Hostname()
			if ip := net.ParseIP(h); h != first && (ip == nil || !ip.IsLoopback()) {
				return errors.New("the sign-in page redirected away from this computer")
			}
			return nil
		}
		resp, err := c.Get(u.String())
		if err != nil {
			return fmt.Errorf("mock sign-in: %w", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		if resp.StatusCode == http.StatusOK && resp.Request.URL.Path == config.RedirectPath {
			return nil
		}
		return fmt.Errorf("the mock sign-in page answered HTTP %d%s instead of returning to Triage Desk", resp.StatusCode, describeBody(body))
	}
}

// describeBody summarises an error answer: an OAuth2 error_description, or
// nothing for a page.
func describeBody(b []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(b, &e) == nil && (e.Error != "" || e.Description != "") {
		return fmt.Sprintf(" (%s: %s)", cleanText(e.Error, 64), cleanText(e.Description, 200))
	}
	if strings.Contains(string(b), "There is no test user") {
		return " (no test user with that id)"
	}
	return ""
}
