// Package nhsapi holds the rules Triage Desk's clients for the NHS API
// Platform (e-RS in internal/ers, PDS in internal/pds) share: which base
// URLs they may call, and how fast.
package nhsapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
)

// BaseURL checks a client's base URL and returns it parsed, without a
// trailing slash, and whether its host is loopback. It must be an absolute
// http(s) URL without query, fragment or user info, and plain http only to
// a loopback host. Errors start with "who: ".
func BaseURL(who, raw string) (*url.URL, bool, error) {
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, false, fmt.Errorf("%s: the base URL must be an absolute http(s) URL", who)
	}
	if base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		return nil, false, fmt.Errorf("%s: the base URL may not have a query, fragment or user info", who)
	}
	loopback := IsLoopback(base.Hostname())
	if base.Scheme == "http" && !loopback {
		return nil, false, fmt.Errorf("%s: plain http is only allowed to a loopback host; use https", who)
	}
	return base, loopback, nil
}

// Rate checks a request rate r (0 means def) against the service's limit:
// above limit it is refused for an NHS host, and otherwise allowed only for
// a loopback base URL or with allowHigh (test peers and benchmarks). It
// returns the rate to use. Errors start with "who: ".
func Rate(who, service string, r, def, limit rate.Limit, base *url.URL, loopback, allowHigh bool) (rate.Limit, error) {
	if r == 0 {
		r = def
	}
	if r < 0 {
		return 0, errors.New(who + ": the rate limit must be positive")
	}
	if r > limit {
		if IsNHSHost(base.Hostname()) {
			return 0, fmt.Errorf("%s: %v requests/s is above %s's limit of %v", who, r, service, limit)
		}
		if !loopback && !allowHigh {
			return 0, fmt.Errorf("%s: %v requests/s is above %v; set AllowHighRate for a test server", who, r, limit)
		}
	}
	return r, nil
}

// Endpoint checks what a service client's New is given first: the base
// URL (BaseURL) and the rate r (Rate, with the service's default and
// limit). It returns the base URL parsed and the rate to use.
func Endpoint(who, service, raw string, r, def, limit rate.Limit, allowHigh bool) (*url.URL, rate.Limit, error) {
	base, loopback, err := BaseURL(who, raw)
	if err != nil {
		return nil, 0, err
	}
	if r, err = Rate(who, service, r, def, limit, base, loopback, allowHigh); err != nil {
		return nil, 0, err
	}
	return base, r, nil
}

// HTTPClient returns the client a service client sends with: a copy of c
// (nil: one with its own transport) that never follows redirects. It
// refuses a client whose transport adds OAuth2 credentials itself (the
// token source must be given to the service client, so tokens go nowhere
// else) and, when minTimeout is set, a client timeout below it. Errors
// start with "who: ".
func HTTPClient(who string, c *http.Client, minTimeout time.Duration) (*http.Client, error) {
	var hc http.Client
	if c != nil {
		hc = *c
		if _, ok := hc.Transport.(*oauth2.Transport); ok {
			return nil, fmt.Errorf("%s: pass the token source in Config.TokenSource, not as an oauth2.Transport", who)
		}
		if minTimeout > 0 && hc.Timeout != 0 && hc.Timeout < minTimeout {
			return nil, fmt.Errorf("%s: the HTTP client's timeout must be 0 or at least %v", who, minTimeout)
		}
	} else {
		hc.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc, nil
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsNHSHost reports whether host is nhs.uk or under it.
func IsNHSHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "nhs.uk" || strings.HasSuffix(h, ".nhs.uk")
}
