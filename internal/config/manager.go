package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Options says where Load finds the policy and the user's settings.
type Options struct {
	// ProfileDir is the user's data folder; "" means DefaultProfileDir().
	ProfileDir string
	// PolicyPath is the machine policy file; "" means DefaultPolicyPath().
	// Only tests and `triagectl policy show --file` set it.
	PolicyPath string
	// Override is a command-line choice of environment (--env, --base-url):
	// applied like a user choice but never saved. Nil for none.
	Override *EnvironmentChoice

	// readInstaller replaces the Windows registry reader in tests.
	readInstaller func() (map[string]string, error)
}

// Manager holds the machine policy and one user's settings, hands out the
// effective Settings and changes the user's settings, refusing changes the
// policy forbids. It is safe for concurrent use.
type Manager struct {
	mu       sync.Mutex
	path     string // settings.json
	policy   *Policy
	problems []Problem
	override *EnvironmentChoice
	user     *UserSettings
	settings *Settings
	notices  []string
	nextSub  int
	subs     map[int]func(*Settings)
}

// Load reads the machine policy and the user's settings and resolves them.
// Errors: a *PolicyError when the policy is unreadable or has errors (the app
// must not start: its message says to contact IT); a *LockedError when
// opts.Override asks for an environment or URLs the policy does not allow; a
// *triage.Error (EINVALID) for a malformed override; a wrapped I/O error
// when the settings file exists but cannot be read. An unparseable settings
// file is set aside and reported in Settings().Notices instead.
func Load(opts Options) (*Manager, error) {
	dir := opts.ProfileDir
	if dir == "" {
		var err error
		if dir, err = DefaultProfileDir(); err != nil {
			return nil, err
		}
	}
	read := opts.readInstaller
	if read == nil {
		read = readInstallerValues
	}
	p, problems, err := loadMachinePolicy(opts.PolicyPath, read)
	if err != nil {
		return nil, err
	}
	if opts.Override != nil {
		if _, err := ParseEnvironmentName(string(opts.Override.Name)); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(dir, SettingsFileName)
	u, notice, err := LoadUserSettings(path)
	if err != nil {
		return nil, err
	}
	m := &Manager{path: path, policy: p, problems: problems, override: opts.Override, user: u}
	if notice != "" {
		m.notices = append(m.notices, notice)
	}
	if m.settings, err = m.resolve(u); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Manager) resolve(u *UserSettings) (*Settings, error) {
	s, err := Resolve(m.policy, u, m.override)
	if err != nil {
		return nil, err
	}
	s.Notices = append(slices.Clone(m.notices), s.Notices...)
	return s, nil
}

// Settings returns the current effective settings. The value is never
// modified; after a change, call Settings again.
func (m *Manager) Settings() *Settings {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settings
}

// Policy returns the machine policy in force (empty when unmanaged).
func (m *Manager) Policy() *Policy { return m.policy }

// PolicyWarnings returns the policy's warnings (problems that did not stop
// it being used), for `triagectl policy show` and the About screen.
func (m *Manager) PolicyWarnings() []Problem { return slices.Clone(m.problems) }

// SettingsPath returns the user settings file's path.
func (m *Manager) SettingsPath() string { return m.path }

// OnChange registers fn to be called with the new settings after every
// successful change (the engine picks up a new sync interval, the GUI a new
// theme). fn runs on the goroutine that made the change, after the change is
// saved, and must not call the Manager's setters. The returned function
// unregisters it.
func (m *Manager) OnChange(fn func(*Settings)) (cancel func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subs == nil {
		m.subs = map[int]func(*Settings){}
	}
	id := m.nextSub
	m.nextSub++
	m.subs[id] = fn
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.subs, id)
	}
}

// update applies change to a copy of the user's settings after checking
// that none of keys is locked, resolves the result, saves it and only then
// makes it current and tells the OnChange subscribers.
func (m *Manager) update(keys []Key, change func(u *UserSettings) error) error {
	s, subs, err := m.apply(keys, change)
	if err != nil {
		return err
	}
	for _, fn := range subs {
		fn(s)
	}
	return nil
}

func (m *Manager) apply(keys []Key, change func(u *UserSettings) error) (*Settings, []func(*Settings), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if m.settings.Locked(k) {
			return nil, nil, &LockedError{Key: k}
		}
	}
	u := m.user.clone()
	if err := change(u); err != nil {
		return nil, nil, err
	}
	s, err := m.resolve(u)
	if err != nil {
		return nil, nil, err
	}
	if err := SaveUserSettings(m.path, u); err != nil {
		return nil, nil, &triage.Error{Code: triage.EUNAVAILABLE, Message: "Your settings could not be saved. Check that the disk is not full, then try again.", Err: err}
	}
	m.user, m.settings = u, s
	subs := make([]func(*Settings), 0, len(m.subs))
	for _, fn := range m.subs {
		subs = append(subs, fn)
	}
	return s, subs, nil
}

// SetTheme saves the user's theme. Errors: *LockedError, *triage.Error
// (EINVALID) for an unknown theme, *triage.Error (EUNAVAILABLE) when the file
// cannot be written.
func (m *Manager) SetTheme(t Theme) error {
	if !slices.Contains([]Theme{ThemeSystem, ThemeLight, ThemeDark}, t) {
		return triage.Errorf(triage.EINVALID, "%q is not a theme: choose system, light or dark.", t)
	}
	return m.update([]Key{KeyTheme}, func(u *UserSettings) error { u.Theme = &t; return nil })
}

// SetTextSize saves the user's text size; errors as SetTheme.
func (m *Manager) SetTextSize(t TextSize) error {
	if !slices.Contains(TextSizes(), t) {
		return triage.Errorf(triage.EINVALID, "%q is not a text size: choose %s.", t, strings.Join(textSizeNames(), ", "))
	}
	return m.update([]Key{KeyTextSize}, func(u *UserSettings) error { u.TextSize = &t; return nil })
}

// SetPrefetch saves whether documents are downloaded ahead of time; errors
// as SetTheme.
func (m *Manager) SetPrefetch(on bool) error {
	return m.update([]Key{KeyPrefetch}, func(u *UserSettings) error { u.Prefetch = &on; return nil })
}

// SetSyncInterval saves how often to sync, in whole minutes within the
// policy's bounds (Settings.SyncIntervalMin/Max). Errors as SetTheme; an
// interval outside the bounds is EINVALID with the allowed range.
func (m *Manager) SetSyncInterval(d time.Duration) error {
	s := m.Settings()
	if d%time.Minute != 0 || d < s.SyncIntervalMin || d > s.SyncIntervalMax {
		return triage.Errorf(triage.EINVALID, "Choose a sync interval of whole minutes between %d and %d minutes%s.",
			int(s.SyncIntervalMin/time.Minute), int(s.SyncIntervalMax/time.Minute), limitsBy(s, KeySyncIntervalMin, KeySyncIntervalMax))
	}
	n := int(d / time.Minute)
	return m.update([]Key{KeySyncInterval}, func(u *UserSettings) error { u.SyncIntervalMinutes = &n; return nil })
}

// SetSentRetentionDays saves how many days sent decisions are kept, from 1
// to Settings.SentRetentionMaxDays. Errors as SetSyncInterval.
func (m *Manager) SetSentRetentionDays(days int) error {
	s := m.Settings()
	if days < 1 || days > s.SentRetentionMaxDays {
		return triage.Errorf(triage.EINVALID, "Choose between 1 and %d days%s.", s.SentRetentionMaxDays, limitsBy(s, KeySentRetentionMax))
	}
	return m.update([]Key{KeySentRetentionDays}, func(u *UserSettings) error { u.SentRetentionDays = &days; return nil })
}

func limitsBy(s *Settings, keys ...Key) string {
	for _, k := range keys {
		if s.Origin(k).Source == SourcePolicy {
			return " (limits set by your organisation)"
		}
	}
	return ""
}

// SetEnvironment saves the user's choice of environment and, where the
// policy allows users to change URLs, its addresses (empty keeps the
// environment's own). Errors: *LockedError (environment, fhir_base_url or
// auth_base_url), *triage.Error (EINVALID) for an unknown name, a malformed
// URL or a local environment without an address, EUNAVAILABLE when it
// cannot be saved.
func (m *Manager) SetEnvironment(c EnvironmentChoice) error {
	if _, err := ParseEnvironmentName(string(c.Name)); err != nil {
		return err
	}
	var keys []Key
	if c.Name != m.Settings().Environment.Name {
		keys = append(keys, KeyEnvironment)
	}
	if c.FHIRBaseURL != "" {
		keys = append(keys, KeyFHIRBaseURL)
	}
	if c.AuthBaseURL != "" {
		keys = append(keys, KeyAuthBaseURL)
	}
	for _, u := range []string{c.FHIRBaseURL, c.AuthBaseURL} {
		if u == "" {
			continue
		}
		if msg := checkURL(u, c.Name.AllowsLoopbackHTTP()); msg != "" {
			return triage.Errorf(triage.EINVALID, "The address %s %s.", u, msg)
		}
	}
	if c.Name == EnvLocal && c.FHIRBaseURL == "" && !m.policy.Has(KeyFHIRBaseURL) {
		return triage.Errorf(triage.EINVALID, "Enter the address of the development server for the local environment, e.g. http://127.0.0.1:8080.")
	}
	return m.update(keys, func(u *UserSettings) error {
		c.FHIRBaseURL = strings.TrimRight(c.FHIRBaseURL, "/")
		c.AuthBaseURL = strings.TrimRight(c.AuthBaseURL, "/")
		u.Environment = &c
		return nil
	})
}

// Reset removes the user's own value for k, so the default (or the
// policy's) applies. Errors: *LockedError, EINVALID for a key that is not a
// user setting, EUNAVAILABLE when it cannot be saved.
func (m *Manager) Reset(k Key) error {
	if !k.UserSettable() {
		return triage.Errorf(triage.EINVALID, "%q is not a setting users can change.", k)
	}
	return m.update([]Key{k}, func(u *UserSettings) error {
		switch k {
		case KeyTheme:
			u.Theme = nil
		case KeyTextSize:
			u.TextSize = nil
		case KeyPrefetch:
			u.Prefetch = nil
		case KeySyncInterval:
			u.SyncIntervalMinutes = nil
		case KeySentRetentionDays:
			u.SentRetentionDays = nil
		case KeyEnvironment:
			u.Environment = nil
		case KeyFHIRBaseURL, KeyAuthBaseURL:
			if u.Environment != nil {
				if k == KeyFHIRBaseURL {
					u.Environment.FHIRBaseURL = ""
				} else {
					u.Environment.AuthBaseURL = ""
				}
			}
		}
		return nil
	})
}

// RememberRole saves the role a clinician (userID: their SDS user id)
// chose, to offer it first next time. Errors: EINVALID for an empty user id,
// a malformed ODS code or an empty business function; EFORBIDDEN when the
// policy does not allow the organisation; EUNAVAILABLE when it cannot be
// saved.
func (m *Manager) RememberRole(userID string, r RoleChoice) error {
	userID = strings.TrimSpace(userID)
	if userID == "" || len(userID) > 128 {
		return triage.Errorf(triage.EINVALID, "remember role: the user id is missing or too long")
	}
	r.ODSCode = strings.ToUpper(strings.TrimSpace(r.ODSCode))
	if !odsPattern.MatchString(r.ODSCode) {
		return triage.Errorf(triage.EINVALID, "remember role: %q is not an ODS code", r.ODSCode)
	}
	if strings.TrimSpace(r.BusinessFunction) == "" {
		return triage.Errorf(triage.EINVALID, "remember role: the business function is missing")
	}
	if !m.Settings().ODSAllowed(r.ODSCode) {
		return triage.Errorf(triage.EFORBIDDEN, "Your organisation has not allowed Triage Desk to be used for %s. Choose another role, or contact your IT service desk.", r.ODSCode)
	}
	return m.update(nil, func(u *UserSettings) error {
		if u.Roles == nil {
			u.Roles = map[string]RoleChoice{}
		}
		u.Roles[userID] = r
		return nil
	})
}

// String describes the manager for logs: where its files are.
func (m *Manager) String() string {
	return fmt.Sprintf("config(settings=%s, policy=%s)", m.path, m.settings.PolicySource)
}
