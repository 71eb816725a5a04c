// Package nhsapi holds the rules Triage Desk's clients for the NHS API
// Platform (e-RS in internal/ers, PDS in internal/pds) share: which base
// URLs they may call, and how fast.
package nhsapi

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

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
