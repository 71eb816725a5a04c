package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Source says where an effective setting's value came from.
type Source int

// The sources, weakest first: a user value beats a default, a policy value
// beats both.
const (
	SourceDefault Source = iota
	SourceUser
	SourcePolicy
)

// String returns "default", "user" or "policy".
func (s Source) String() string {
	switch s {
	case SourceUser:
		return "user"
	case SourcePolicy:
		return "policy"
	}
	return "default"
}

// Origin describes one effective setting: where its value came from and
// whether the user may change it.
type Origin struct {
	Source Source
	// Locked is true when the user cannot change the setting: the policy
	// sets or locks it, or it is one only the policy can set.
	Locked bool
	// From is the policy file or registry key for SourcePolicy.
	From string
	// Corrected is true when the value was held to its allowed range: by
	// the policy's limit (Source is SourcePolicy) or by Triage Desk's own
	// (the Source is kept: a corrected user value is still "user").
	Corrected bool
}

// Settings are the effective settings: built-in defaults, overridden by the
// user's choices, overridden by the machine policy. Sign-in, the store, the
// engine and the GUI read them; none of them should look at the policy or
// the user's file directly. A *Settings is immutable; Manager hands out a
// new one after every change.
type Settings struct {
	// Environment is where to connect, complete with client id, secret
	// source, redirect port and acr_values. Call Environment.Check before
	// connecting.
	Environment Environment
	// AllowedODSCodes lists the organisations (upper-case ODS codes) the
	// clinician may act for; empty means any.
	AllowedODSCodes []string
	// SentRetentionDays is how long sent decisions stay on this machine.
	SentRetentionDays int
	// SentRetentionMaxDays is the longest the user may choose.
	SentRetentionMaxDays int
	// MaxDaysWithoutSync: cached patient data is purged once the last
	// successful sync is older than this many days (unsent decisions are
	// never purged).
	MaxDaysWithoutSync int
	// LockTimeout locks the session after this much inactivity.
	LockTimeout time.Duration
	// Prefetch downloads documents ahead of time for offline reading.
	Prefetch bool
	// SyncInterval is how often the worklist is refreshed, within
	// [SyncIntervalMin, SyncIntervalMax].
	SyncInterval, SyncIntervalMin, SyncIntervalMax time.Duration
	Theme                                          Theme
	TextSize                                       TextSize
	// ExtraBankHolidays are the policy's non-working days, added to the
	// built-in England and Wales list by Calendar.
	ExtraBankHolidays []time.Time
	// UserMayOverrideURLs says whether the user may change the e-RS and
	// sign-in addresses.
	UserMayOverrideURLs bool
	// Managed is true when a machine policy applies.
	Managed bool
	// PolicySource names the policy file and/or registry key.
	PolicySource string
	// Notices are plain-English messages for the user about settings that
	// could not be used (an unreadable settings file, a stored value outside
	// the policy's limits).
	Notices []string

	origins map[Key]Origin
	roles   map[string]RoleChoice
}

// Origin returns where k's value came from and whether it is locked. Unknown
// keys report a locked default.
func (s *Settings) Origin(k Key) Origin {
	if o, ok := s.origins[k]; ok {
		return o
	}
	return Origin{Locked: true}
}

// Locked reports whether the user may not change k.
func (s *Settings) Locked(k Key) bool { return s.Origin(k).Locked }

// ODSAllowed reports whether the clinician may act for the organisation
// with this ODS code (case-insensitive).
func (s *Settings) ODSAllowed(code string) bool {
	if len(s.AllowedODSCodes) == 0 {
		return true
	}
	return slices.Contains(s.AllowedODSCodes, strings.ToUpper(strings.TrimSpace(code)))
}

// Calendar returns the working-day calendar: the England and Wales bank
// holidays plus the policy's extra ones.
func (s *Settings) Calendar() triage.Calendar {
	return triage.NewCalendar(append(triage.EnglandAndWalesBankHolidays(), s.ExtraBankHolidays...)...)
}

// RememberedRole returns the role userID (an SDS user id) last chose, if any
// and if its organisation is still allowed.
func (s *Settings) RememberedRole(userID string) (RoleChoice, bool) {
	r, ok := s.roles[userID]
	if !ok || !s.ODSAllowed(r.ODSCode) {
		return RoleChoice{}, false
	}
	return r, true
}

// Entry is one line of `triagectl policy show` or a settings screen's
// summary.
type Entry struct {
	Key    Key
	Label  string
	Value  string
	Origin Origin
}

// Entries lists every setting with its value as text and its origin, in the
// order of Keys().
func (s *Settings) Entries() []Entry {
	var out []Entry
	for _, k := range Keys() {
		sp, _ := specFor(k)
		if !sp.show {
			continue
		}
		out = append(out, Entry{Key: k, Label: sp.label, Value: s.valueText(k), Origin: s.Origin(k)})
	}
	return out
}

func (s *Settings) valueText(k Key) string {
	e := s.Environment
	orNone := func(v string) string {
		if v == "" {
			return "(not set)"
		}
		return v
	}
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	switch k {
	case KeyEnvironment:
		return fmt.Sprintf("%s (%s)", e.Name, e.Label)
	case KeyFHIRBaseURL:
		if e.Name == EnvDemo {
			return "(built-in sandbox)"
		}
		return orNone(e.FHIRBaseURL)
	case KeyAuthBaseURL:
		switch {
		case e.Name == EnvDemo:
			return "(built-in sandbox)"
		case !e.NeedsToken:
			return "(no sign-in)"
		}
		return orNone(e.AuthBaseURL)
	case KeyPDSBaseURL:
		if e.Name == EnvDemo {
			return "(built-in sandbox)"
		}
		return orNone(e.PDSBaseURL)
	case KeyClientID:
		return orNone(e.ClientID)
	case KeySecretSource:
		return string(e.Secret.Kind)
	case KeyKeychainService:
		if e.Secret.Kind != SecretKeychain {
			return "(not used)"
		}
		return e.Secret.KeychainService
	case KeyBrokerURL:
		if e.Secret.Kind != SecretBroker {
			return "(not used)"
		}
		return e.Secret.BrokerURL
	case KeyRedirectPort:
		return fmt.Sprintf("%d (%s)", e.RedirectPort, e.RedirectURL())
	case KeyACRValues:
		return e.ACRValues
	case KeyAllowedODSCodes:
		if len(s.AllowedODSCodes) == 0 {
			return "(any)"
		}
		return strings.Join(s.AllowedODSCodes, ", ")
	case KeySentRetentionDays:
		return plural(s.SentRetentionDays, "day")
	case KeySentRetentionMax:
		return plural(s.SentRetentionMaxDays, "day")
	case KeyMaxDaysWithoutSync:
		return plural(s.MaxDaysWithoutSync, "day")
	case KeyLockTimeout:
		return plural(int(s.LockTimeout/time.Minute), "minute")
	case KeyPrefetch:
		return yesNo(s.Prefetch)
	case KeySyncInterval:
		return plural(int(s.SyncInterval/time.Minute), "minute")
	case KeySyncIntervalMin:
		return plural(int(s.SyncIntervalMin/time.Minute), "minute")
	case KeySyncIntervalMax:
		return plural(int(s.SyncIntervalMax/time.Minute), "minute")
	case KeyExtraBankHolidays:
		if len(s.ExtraBankHolidays) == 0 {
			return "(none)"
		}
		var ds []string
		for _, d := range s.ExtraBankHolidays {
			ds = append(ds, d.Format(time.DateOnly))
		}
		return strings.Join(ds, ", ")
	case KeyTheme:
		return string(s.Theme)
	case KeyTextSize:
		return string(s.TextSize)
	case KeyUserMayOverride:
		return yesNo(s.UserMayOverrideURLs)
	}
	return ""
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func intOr(p *Policy, k Key, def int) int {
	if v, ok := p.int(k); ok {
		return v
	}
	return def
}

// urlOrigin returns scheme://host[:port] of a URL.
func urlOrigin(s string) (string, bool) {
	i := strings.Index(s, "://")
	if i < 0 {
		return "", false
	}
	rest := s[i+3:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	if rest == "" {
		return "", false
	}
	return s[:i+3] + rest, true
}
