package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Resolve computes the effective settings from a policy (nil for none), the
// user's settings (nil for none) and an optional command-line choice of
// environment, which counts as a user choice but is not saved. A stored user
// value the policy no longer permits is ignored or brought within the
// policy's limits, with a notice. The only error is a *LockedError, when
// override asks for an environment or URLs the policy does not allow.
//
// It runs in steps: who may change the URLs, the environment, its URLs,
// its machine-wide settings, the policy-only settings, the retention and
// sync numbers, then the user's preferences.
func Resolve(p *Policy, u *UserSettings, override *EnvironmentChoice) (*Settings, error) {
	if u == nil {
		u = &UserSettings{}
	}
	r := &resolver{p: p, u: u, override: override, locked: p.lockedKeys(),
		s: &Settings{origins: map[Key]Origin{}, Managed: p.Managed()}}
	s := r.s
	if s.Managed {
		s.PolicySource = p.Source
	}
	r.urlPermission()
	name, choice, err := r.environmentName()
	if err != nil {
		return nil, err
	}
	env, _ := Builtin(name)
	if err := r.urls(name, choice, &env); err != nil {
		return nil, err
	}
	r.localServer(name, &env)
	r.machineSettings(name, &env)
	s.Environment = env
	r.policyOnly()
	r.retention()
	r.syncInterval()
	r.preferences()
	s.roles = make(map[string]RoleChoice, len(u.Roles))
	for k, v := range u.Roles {
		s.roles[k] = v
	}
	return s, nil
}

// resolver holds Resolve's inputs and the settings it is building.
type resolver struct {
	p        *Policy
	u        *UserSettings
	override *EnvironmentChoice
	locked   []Key
	s        *Settings
}

// pol is the origin of a setting the policy sets.
func (r *resolver) pol(k Key) Origin {
	return Origin{Source: SourcePolicy, Locked: true, From: r.p.From(k)}
}

// userLocked reports whether the policy locks a user setting it does not set.
func (r *resolver) userLocked(k Key) bool { return slices.Contains(r.locked, k) }

// lockedFrom is where the lock on k comes from ("" when not locked).
func (r *resolver) lockedFrom(k Key) string {
	if r.userLocked(k) {
		return r.p.From(KeyLocked)
	}
	return ""
}

// userOrigin is the origin of a user setting before the user's value is
// taken: locked or not.
func (r *resolver) userOrigin(k Key) Origin {
	return Origin{Locked: r.userLocked(k), From: r.lockedFrom(k)}
}

// machine is the origin of a setting only the policy may set.
func (r *resolver) machine(k Key) Origin {
	if r.p.Has(k) {
		return r.pol(k)
	}
	return Origin{Source: SourceDefault, Locked: true}
}

func (r *resolver) notice(format string, a ...any) {
	r.s.Notices = append(r.s.Notices, fmt.Sprintf(format, a...))
}

// urlPermission: URLs may be changed by users only on unmanaged machines
// or where the policy says so.
func (r *resolver) urlPermission() {
	r.s.UserMayOverrideURLs = !r.s.Managed
	if b, ok := r.p.bool(KeyUserMayOverride); ok {
		r.s.UserMayOverrideURLs = b
	}
	r.s.origins[KeyUserMayOverride] = r.machine(KeyUserMayOverride)
}

// environmentName chooses the environment: the policy's, else the user's
// (or the command line's) choice, else the demo. It returns the choice the
// URLs come from.
func (r *resolver) environmentName() (EnvironmentName, *EnvironmentChoice, error) {
	name := EnvDemo
	envOrigin := r.userOrigin(KeyEnvironment)
	choice := r.u.Environment
	if r.override != nil {
		choice = r.override
	}
	switch v, ok := r.p.str(KeyEnvironment); {
	case ok:
		name, envOrigin = EnvironmentName(v), r.pol(KeyEnvironment)
	case choice != nil && !envOrigin.Locked:
		if _, known := Builtin(choice.Name); known {
			name, envOrigin.Source = choice.Name, SourceUser
		} else if r.override == nil {
			r.notice("The saved environment %q is not known to this version of Triage Desk; the demo is in use.", choice.Name)
		}
	}
	if r.override != nil && r.override.Name != name {
		return "", nil, &LockedError{Key: KeyEnvironment}
	}
	r.s.origins[KeyEnvironment] = envOrigin
	return name, choice, nil
}

// urls sets the e-RS and sign-in base URLs: the policy's (except for the
// demo), else the user's where they may change them.
func (r *resolver) urls(name EnvironmentName, choice *EnvironmentChoice, env *Environment) error {
	urlLocked := func(k Key) bool { return r.p.Has(k) || r.userLocked(k) || !r.s.UserMayOverrideURLs }
	for _, k := range []Key{KeyFHIRBaseURL, KeyAuthBaseURL} {
		var userURL string
		if choice != nil && choice.Name == name {
			userURL = choice.FHIRBaseURL
			if k == KeyAuthBaseURL {
				userURL = choice.AuthBaseURL
			}
		}
		o := Origin{Locked: urlLocked(k), From: r.lockedFrom(k)}
		val := ""
		switch v, ok := r.p.str(k); {
		case ok && name != EnvDemo:
			val, o = v, r.pol(k)
		case userURL != "" && !o.Locked:
			if msg := checkURL(userURL, name.AllowsLoopbackHTTP()); msg != "" {
				if r.override != nil {
					return triage.Errorf(triage.EINVALID, "The address %s %s.", userURL, msg)
				}
				r.notice("The saved address %s %s, so it is not used.", userURL, msg)
			} else {
				val, o.Source = strings.TrimRight(userURL, "/"), SourceUser
			}
		case userURL != "" && r.override != nil:
			return &LockedError{Key: k}
		}
		if val != "" {
			if k == KeyFHIRBaseURL {
				env.FHIRBaseURL = val
			} else {
				env.AuthBaseURL = val
			}
		}
		r.s.origins[k] = o
	}
	return nil
}

// localServer: a local development server serves its mock sign-in and PDS
// beside the API.
func (r *resolver) localServer(name EnvironmentName, env *Environment) {
	if name != EnvLocal || env.FHIRBaseURL == "" {
		return
	}
	origin, ok := urlOrigin(env.FHIRBaseURL)
	if !ok {
		return
	}
	if env.AuthBaseURL == "" {
		env.AuthBaseURL = origin + "/oauth2-mock"
	}
	env.PDSBaseURL = origin + LocalPDSPath
}

// machineSettings applies the policy's connection settings: PDS, client id,
// client secret, broker, redirect port and ACR values.
func (r *resolver) machineSettings(name EnvironmentName, env *Environment) {
	p := r.p
	if v, ok := p.str(KeyPDSBaseURL); ok && name != EnvDemo {
		env.PDSBaseURL = strings.TrimRight(v, "/")
	}
	if v, ok := p.str(KeyClientID); ok {
		env.ClientID = v
	}
	if v, ok := p.str(KeySecretSource); ok {
		env.Secret.Kind = SecretKind(v)
	}
	if env.Secret.Kind == SecretKeychain {
		env.Secret.KeychainService = DefaultKeychainService
		if v, ok := p.str(KeyKeychainService); ok {
			env.Secret.KeychainService = v
		}
	}
	if v, ok := p.str(KeyBrokerURL); ok && env.Secret.Kind == SecretBroker {
		env.Secret.BrokerURL = v
	}
	if v, ok := p.int(KeyRedirectPort); ok {
		env.RedirectPort = v
	}
	if v, ok := p.str(KeyACRValues); ok {
		env.ACRValues = v
	}
	for _, k := range []Key{KeyPDSBaseURL, KeyClientID, KeySecretSource, KeyKeychainService, KeyBrokerURL, KeyRedirectPort, KeyACRValues} {
		r.s.origins[k] = r.machine(k)
	}
}

// policyOnly sets what only the policy may set.
func (r *resolver) policyOnly() {
	p, s := r.p, r.s
	s.AllowedODSCodes, _ = p.list(KeyAllowedODSCodes)
	s.MaxDaysWithoutSync = intOr(p, KeyMaxDaysWithoutSync, DefaultMaxDaysWithoutSync)
	s.LockTimeout = time.Duration(intOr(p, KeyLockTimeout, DefaultLockTimeoutMinutes)) * time.Minute
	s.ExtraBankHolidays = p.bankHolidays()
	for _, k := range []Key{KeyAllowedODSCodes, KeyMaxDaysWithoutSync, KeyLockTimeout, KeyExtraBankHolidays} {
		s.origins[k] = r.machine(k)
	}
}

// bound is a limit on a user number setting: its value and, when the
// policy set it, the policy key it came from ("" for a built-in limit).
type bound struct {
	v    int
	from Key
}

// userInt resolves a user number setting within [lo, hi].
func (r *resolver) userInt(k Key, user *int, def int, lo, hi bound) int {
	p, s := r.p, r.s
	if v, ok := p.int(k); ok {
		s.origins[k] = r.pol(k)
		return v
	}
	o := r.userOrigin(k)
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
			r.notice("%s is now %d: %s allows %d to %d.", k.Label(), c, who, lo.v, hi.v)
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

// retention sets how long sent decisions are kept, within the policy's
// maximum.
func (r *resolver) retention() {
	p, s := r.p, r.s
	s.SentRetentionMaxDays = intOr(p, KeySentRetentionMax, MaxSentRetentionDays)
	s.origins[KeySentRetentionMax] = r.machine(KeySentRetentionMax)
	retMax := bound{v: s.SentRetentionMaxDays}
	if p.Has(KeySentRetentionMax) {
		retMax.from = KeySentRetentionMax
	}
	s.SentRetentionDays = r.userInt(KeySentRetentionDays, r.u.SentRetentionDays, DefaultSentRetentionDays, bound{v: 1}, retMax)
}

// syncInterval sets the sync interval within the policy's bounds (or the
// built-in ones).
func (r *resolver) syncInterval() {
	p, s := r.p, r.s
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
	s.origins[KeySyncIntervalMin] = r.machine(KeySyncIntervalMin)
	s.origins[KeySyncIntervalMax] = r.machine(KeySyncIntervalMax)
	s.SyncInterval = time.Duration(r.userInt(KeySyncInterval, r.u.SyncIntervalMinutes, DefaultSyncMinutes, loB, hiB)) * time.Minute
}

// preferences sets prefetch, theme and text size: the policy's, else the
// user's where not locked and known.
func (r *resolver) preferences() {
	p, s, u := r.p, r.s, r.u
	s.Prefetch = true
	s.origins[KeyPrefetch] = r.userOrigin(KeyPrefetch)
	if v, ok := p.bool(KeyPrefetch); ok {
		s.Prefetch, s.origins[KeyPrefetch] = v, r.pol(KeyPrefetch)
	} else if u.Prefetch != nil && !r.userLocked(KeyPrefetch) {
		s.Prefetch = *u.Prefetch
		s.origins[KeyPrefetch] = Origin{Source: SourceUser}
	}
	s.Theme = ThemeSystem
	s.origins[KeyTheme] = r.userOrigin(KeyTheme)
	if v, ok := p.str(KeyTheme); ok {
		s.Theme, s.origins[KeyTheme] = Theme(v), r.pol(KeyTheme)
	} else if u.Theme != nil && !r.userLocked(KeyTheme) {
		if slices.Contains([]Theme{ThemeSystem, ThemeLight, ThemeDark}, *u.Theme) {
			s.Theme = *u.Theme
			s.origins[KeyTheme] = Origin{Source: SourceUser}
		} else {
			r.notice("The saved theme %q is not known; the system theme is in use.", *u.Theme)
		}
	}
	s.TextSize = TextNormal
	s.origins[KeyTextSize] = r.userOrigin(KeyTextSize)
	if v, ok := p.str(KeyTextSize); ok {
		s.TextSize, s.origins[KeyTextSize] = TextSize(v), r.pol(KeyTextSize)
	} else if u.TextSize != nil && !r.userLocked(KeyTextSize) {
		if slices.Contains(TextSizes(), *u.TextSize) {
			s.TextSize = *u.TextSize
			s.origins[KeyTextSize] = Origin{Source: SourceUser}
		} else {
			r.notice("The saved text size %q is not known; normal text is in use.", *u.TextSize)
		}
	}
}
