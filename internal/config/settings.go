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

// Resolve computes the effective settings from a policy (nil for none), the
// user's settings (nil for none) and an optional command-line choice of
// environment, which counts as a user choice but is not saved. A stored user
// value the policy no longer permits is ignored or brought within the
// policy's limits, with a notice. The only error is a *LockedError, when
// override asks for an environment or URLs the policy does not allow.
func Resolve(p *Policy, u *UserSettings, override *EnvironmentChoice) (*Settings, error) {
	if u == nil {
		u = &UserSettings{}
	}
	s := &Settings{origins: map[Key]Origin{}, Managed: p.Managed()}
	if s.Managed {
		s.PolicySource = p.Source
	}
	locked := p.lockedKeys()
	pol := func(k Key) Origin { return Origin{Source: SourcePolicy, Locked: true, From: p.From(k)} }
	// userOrigin is the origin of a user setting the policy does not set.
	userLocked := func(k Key) bool { return slices.Contains(locked, k) }
	lockedFrom := func(k Key) string {
		if userLocked(k) {
			return p.From(KeyLocked)
		}
		return ""
	}
	machine := func(k Key) Origin {
		if p.Has(k) {
			return pol(k)
		}
		return Origin{Source: SourceDefault, Locked: true}
	}

	// URLs may be changed by users only on unmanaged machines or where the
	// policy says so.
	s.UserMayOverrideURLs = !s.Managed
	if b, ok := p.bool(KeyUserMayOverride); ok {
		s.UserMayOverrideURLs = b
	}
	s.origins[KeyUserMayOverride] = machine(KeyUserMayOverride)

	// Environment.
	name := EnvDemo
	envOrigin := Origin{Locked: userLocked(KeyEnvironment), From: lockedFrom(KeyEnvironment)}
	choice := u.Environment
	if override != nil {
		choice = override
	}
	switch v, ok := p.str(KeyEnvironment); {
	case ok:
		name, envOrigin = EnvironmentName(v), pol(KeyEnvironment)
	case choice != nil && !envOrigin.Locked:
		if _, known := Builtin(choice.Name); known {
			name, envOrigin.Source = choice.Name, SourceUser
		} else if override == nil {
			s.Notices = append(s.Notices, fmt.Sprintf("The saved environment %q is not known to this version of Triage Desk; the demo is in use.", choice.Name))
		}
	}
	if override != nil && override.Name != name {
		return nil, &LockedError{Key: KeyEnvironment}
	}
	s.origins[KeyEnvironment] = envOrigin
	env, _ := Builtin(name)

	urlLocked := func(k Key) bool { return p.Has(k) || userLocked(k) || !s.UserMayOverrideURLs }
	for _, k := range []Key{KeyFHIRBaseURL, KeyAuthBaseURL} {
		var userURL string
		if choice != nil && choice.Name == name {
			userURL = choice.FHIRBaseURL
			if k == KeyAuthBaseURL {
				userURL = choice.AuthBaseURL
			}
		}
		o := Origin{Locked: urlLocked(k), From: lockedFrom(k)}
		val := ""
		switch v, ok := p.str(k); {
		case ok && name != EnvDemo:
			val, o = v, pol(k)
		case userURL != "" && !o.Locked:
			if msg := checkURL(userURL, name.AllowsLoopbackHTTP()); msg != "" {
				if override != nil {
					return nil, triage.Errorf(triage.EINVALID, "The address %s %s.", userURL, msg)
				}
				s.Notices = append(s.Notices, fmt.Sprintf("The saved address %s %s, so it is not used.", userURL, msg))
			} else {
				val, o.Source = strings.TrimRight(userURL, "/"), SourceUser
			}
		case userURL != "" && override != nil:
			return nil, &LockedError{Key: k}
		}
		if val != "" {
			if k == KeyFHIRBaseURL {
				env.FHIRBaseURL = val
			} else {
				env.AuthBaseURL = val
			}
		}
		s.origins[k] = o
	}
	if name == EnvLocal && env.AuthBaseURL == "" && env.FHIRBaseURL != "" {
		// A local development server serves its mock sign-in beside the API.
		if origin, ok := urlOrigin(env.FHIRBaseURL); ok {
			env.AuthBaseURL = origin + "/oauth2-mock"
		}
	}
	if name == EnvLocal && env.FHIRBaseURL != "" {
		// A local development server serves PDS beside the API too.
		if origin, ok := urlOrigin(env.FHIRBaseURL); ok {
			env.PDSBaseURL = origin + LocalPDSPath
		}
	}
	if v, ok := p.str(KeyPDSBaseURL); ok && name != EnvDemo {
		env.PDSBaseURL = strings.TrimRight(v, "/")
	}
	s.origins[KeyPDSBaseURL] = machine(KeyPDSBaseURL)
	if v, ok := p.str(KeyClientID); ok {
		env.ClientID = v
	}
	s.origins[KeyClientID] = machine(KeyClientID)
	if v, ok := p.str(KeySecretSource); ok {
		env.Secret.Kind = SecretKind(v)
	}
	s.origins[KeySecretSource] = machine(KeySecretSource)
	if env.Secret.Kind == SecretKeychain {
		env.Secret.KeychainService = DefaultKeychainService
		if v, ok := p.str(KeyKeychainService); ok {
			env.Secret.KeychainService = v
		}
	}
	s.origins[KeyKeychainService] = machine(KeyKeychainService)
	if v, ok := p.str(KeyBrokerURL); ok && env.Secret.Kind == SecretBroker {
		env.Secret.BrokerURL = v
	}
	s.origins[KeyBrokerURL] = machine(KeyBrokerURL)
	if v, ok := p.int(KeyRedirectPort); ok {
		env.RedirectPort = v
	}
	s.origins[KeyRedirectPort] = machine(KeyRedirectPort)
	if v, ok := p.str(KeyACRValues); ok {
		env.ACRValues = v
	}
	s.origins[KeyACRValues] = machine(KeyACRValues)
	s.Environment = env

	// Policy-only settings.
	s.AllowedODSCodes, _ = p.list(KeyAllowedODSCodes)
	s.origins[KeyAllowedODSCodes] = machine(KeyAllowedODSCodes)
	s.MaxDaysWithoutSync = intOr(p, KeyMaxDaysWithoutSync, DefaultMaxDaysWithoutSync)
	s.origins[KeyMaxDaysWithoutSync] = machine(KeyMaxDaysWithoutSync)
	s.LockTimeout = time.Duration(intOr(p, KeyLockTimeout, DefaultLockTimeoutMinutes)) * time.Minute
	s.origins[KeyLockTimeout] = machine(KeyLockTimeout)
	s.ExtraBankHolidays = p.bankHolidays()
	s.origins[KeyExtraBankHolidays] = machine(KeyExtraBankHolidays)

	// bound is a limit on a user number setting: its value and, when the
	// policy set it, the policy key it came from ("" for a built-in limit).
	type bound struct {
		v    int
		from Key
	}
	// userInt resolves a user number setting within [lo, hi].
	userInt := func(k Key, user *int, def int, lo, hi bound) int {
		if v, ok := p.int(k); ok {
			s.origins[k] = pol(k)
			return v
		}
		o := Origin{Locked: userLocked(k), From: lockedFrom(k)}
		v := def
		if user != nil && !o.Locked {
			v, o.Source = *user, SourceUser
		}
		if c := min(max(v, lo.v), hi.v); c != v {
			limit := lo
			if v > hi.v {
				limit = hi
			}
			byPolicy := limit.from != ""
			if o.Source == SourceUser {
				who := "Triage Desk"
				if byPolicy {
					who = "your organisation"
				}
				s.Notices = append(s.Notices, fmt.Sprintf("%s is now %d: %s allows %d to %d.", k.Label(), c, who, lo.v, hi.v))
			}
			// The policy's limit set the value; a built-in limit only
			// corrected the user's (or the default) value, which stays
			// theirs.
			if byPolicy {
				o.Source, o.From = SourcePolicy, p.From(limit.from)
			}
			v, o.Corrected = c, true
		}
		s.origins[k] = o
		return v
	}

	s.SentRetentionMaxDays = intOr(p, KeySentRetentionMax, MaxSentRetentionDays)
	s.origins[KeySentRetentionMax] = machine(KeySentRetentionMax)
	retMax := bound{v: s.SentRetentionMaxDays}
	if p.Has(KeySentRetentionMax) {
		retMax.from = KeySentRetentionMax
	}
	s.SentRetentionDays = userInt(KeySentRetentionDays, u.SentRetentionDays, DefaultSentRetentionDays, bound{v: 1}, retMax)

	lo, hasLo := p.int(KeySyncIntervalMin)
	hi, hasHi := p.int(KeySyncIntervalMax)
	loB, hiB := bound{}, bound{}
	if hasLo {
		loB.from = KeySyncIntervalMin
	} else {
		lo = DefaultSyncMinMinutes
	}
	if hasHi {
		hiB.from = KeySyncIntervalMax
	} else {
		hi = DefaultSyncMaxMinutes
	}
	if lo > hi { // only one bound set, beyond the other's default
		if hasLo {
			hi, hiB.from = lo, KeySyncIntervalMin
		} else {
			lo, loB.from = hi, KeySyncIntervalMax
		}
	}
	loB.v, hiB.v = lo, hi
	s.SyncIntervalMin, s.SyncIntervalMax = time.Duration(lo)*time.Minute, time.Duration(hi)*time.Minute
	s.origins[KeySyncIntervalMin] = machine(KeySyncIntervalMin)
	s.origins[KeySyncIntervalMax] = machine(KeySyncIntervalMax)
	s.SyncInterval = time.Duration(userInt(KeySyncInterval, u.SyncIntervalMinutes, DefaultSyncMinutes, loB, hiB)) * time.Minute

	s.Prefetch = true
	s.origins[KeyPrefetch] = Origin{Locked: userLocked(KeyPrefetch), From: lockedFrom(KeyPrefetch)}
	if v, ok := p.bool(KeyPrefetch); ok {
		s.Prefetch, s.origins[KeyPrefetch] = v, pol(KeyPrefetch)
	} else if u.Prefetch != nil && !userLocked(KeyPrefetch) {
		s.Prefetch = *u.Prefetch
		s.origins[KeyPrefetch] = Origin{Source: SourceUser}
	}

	s.Theme = ThemeSystem
	s.origins[KeyTheme] = Origin{Locked: userLocked(KeyTheme), From: lockedFrom(KeyTheme)}
	if v, ok := p.str(KeyTheme); ok {
		s.Theme, s.origins[KeyTheme] = Theme(v), pol(KeyTheme)
	} else if u.Theme != nil && !userLocked(KeyTheme) {
		if slices.Contains([]Theme{ThemeSystem, ThemeLight, ThemeDark}, *u.Theme) {
			s.Theme = *u.Theme
			s.origins[KeyTheme] = Origin{Source: SourceUser}
		} else {
			s.Notices = append(s.Notices, fmt.Sprintf("The saved theme %q is not known; the system theme is in use.", *u.Theme))
		}
	}

	s.TextSize = TextNormal
	s.origins[KeyTextSize] = Origin{Locked: userLocked(KeyTextSize), From: lockedFrom(KeyTextSize)}
	if v, ok := p.str(KeyTextSize); ok {
		s.TextSize, s.origins[KeyTextSize] = TextSize(v), pol(KeyTextSize)
	} else if u.TextSize != nil && !userLocked(KeyTextSize) {
		if slices.Contains(TextSizes(), *u.TextSize) {
			s.TextSize = *u.TextSize
			s.origins[KeyTextSize] = Origin{Source: SourceUser}
		} else {
			s.Notices = append(s.Notices, fmt.Sprintf("The saved text size %q is not known; normal text is in use.", *u.TextSize))
		}
	}

	s.roles = make(map[string]RoleChoice, len(u.Roles))
	for k, v := range u.Roles {
		s.roles[k] = v
	}
	return s, nil
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
