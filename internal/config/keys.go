package config

import (
	"slices"
	"strings"
)

// Key names a setting. The same name is used in the machine policy file, in
// the Windows registry values the installer writes, in `triagectl policy
// show`, and in LockedError.
type Key string

// The settings. Keys marked "user" are user settings that the policy may
// enforce; the others are set only by the machine policy (or the built-in
// environment definition).
const (
	KeyEnvironment        Key = "environment"         // user: demo, local, nhs-sandbox, int, prod
	KeyFHIRBaseURL        Key = "fhir_base_url"       // user where user_may_override_urls
	KeyAuthBaseURL        Key = "auth_base_url"       // user where user_may_override_urls
	KeyPDSBaseURL         Key = "pds_base_url"        // PDS FHIR R4 base for the patient banner
	KeyClientID           Key = "client_id"           // API Platform application key
	KeySecretSource       Key = "secret_source"       // none, keychain, broker
	KeyKeychainService    Key = "keychain_service"    // keychain service holding the secret
	KeyBrokerURL          Key = "broker_url"          // token broker base URL
	KeyRedirectPort       Key = "redirect_port"       // sign-in callback port on 127.0.0.1
	KeyACRValues          Key = "acr_values"          // authentication assurance requested
	KeyAllowedODSCodes    Key = "allowed_ods_codes"   // organisations the app may act for
	KeySentRetentionDays  Key = "sent_retention_days" // user: days sent decisions stay on this machine
	KeySentRetentionMax   Key = "sent_retention_max_days"
	KeyMaxDaysWithoutSync Key = "max_days_without_sync" // cached patient data purged after this many days without a successful sync
	KeyLockTimeout        Key = "lock_timeout_minutes"  // lock after inactivity
	KeyPrefetch           Key = "prefetch"              // user: download documents ahead of time
	KeySyncInterval       Key = "sync_interval_minutes" // user
	KeySyncIntervalMin    Key = "sync_interval_min_minutes"
	KeySyncIntervalMax    Key = "sync_interval_max_minutes"
	KeyExtraBankHolidays  Key = "extra_bank_holidays" // extra non-working days, YYYY-MM-DD
	KeyTheme              Key = "theme"               // user: light, dark, system
	KeyTextSize           Key = "text_size"           // user: small … largest
	KeyLocked             Key = "locked"              // user settings users may not change
	KeyUserMayOverride    Key = "user_may_override_urls"
	keyVersion            Key = "version" // policy format version, 1
	keyComment            Key = "comment" // free text for IT, ignored
)

// Limits and defaults.
const (
	minPort = 1024
	maxPort = 65535

	DefaultSentRetentionDays  = 7
	MaxSentRetentionDays      = 365
	DefaultMaxDaysWithoutSync = 14
	MaxMaxDaysWithoutSync     = 90
	DefaultLockTimeoutMinutes = 15
	MinLockTimeoutMinutes     = 1
	MaxLockTimeoutMinutes     = 60
	DefaultSyncMinutes        = 5
	DefaultSyncMinMinutes     = 2
	DefaultSyncMaxMinutes     = 60
	// MinSyncMinutes and MaxSyncMinutes are the absolute bounds of any sync
	// interval; e-RS allows 10 requests a second per application across
	// every workstation, so the policy cannot go below one minute.
	MinSyncMinutes = 1
	MaxSyncMinutes = 24 * 60
)

type kind int

const (
	kindString kind = iota
	kindEnum
	kindURL
	kindInt
	kindBool
	kindODSList
	kindDateList
	kindKeyList
)

// spec describes one policy key: its JSON type, its limits and whether it is
// also a user setting.
type spec struct {
	key   Key
	label string
	kind  kind
	enum  []string
	min   int
	max   int
	unit  string // "minutes", "days" or "" for ports
	user  bool   // also a user setting; a policy value enforces and locks it
	show  bool   // listed by Settings.Entries
}

var specs = []spec{
	{key: keyVersion, label: "Policy format version", kind: kindInt, min: 1, max: 1},
	{key: keyComment, label: "Comment", kind: kindString},
	{key: KeyEnvironment, label: "Environment", kind: kindEnum, enum: envNames(), user: true, show: true},
	{key: KeyFHIRBaseURL, label: "e-RS FHIR base URL", kind: kindURL, user: true, show: true},
	{key: KeyAuthBaseURL, label: "Sign-in (OAuth2) base URL", kind: kindURL, user: true, show: true},
	{key: KeyPDSBaseURL, label: "PDS (patient details) base URL", kind: kindURL, show: true},
	{key: KeyClientID, label: "Client id", kind: kindString, show: true},
	{key: KeySecretSource, label: "Client secret source", kind: kindEnum, enum: []string{string(SecretNone), string(SecretKeychain), string(SecretBroker)}, show: true},
	{key: KeyKeychainService, label: "Keychain service of the secret", kind: kindString, show: true},
	{key: KeyBrokerURL, label: "Token broker URL", kind: kindURL, show: true},
	{key: KeyRedirectPort, label: "Sign-in callback port", kind: kindInt, min: minPort, max: maxPort, show: true},
	{key: KeyACRValues, label: "Authentication level (acr_values)", kind: kindString, show: true},
	{key: KeyAllowedODSCodes, label: "Allowed organisations (ODS codes)", kind: kindODSList, show: true},
	{key: KeySentRetentionDays, label: "Keep sent decisions for", kind: kindInt, min: 1, max: MaxSentRetentionDays, unit: "days", user: true, show: true},
	{key: KeySentRetentionMax, label: "Longest users may keep sent decisions", kind: kindInt, min: 1, max: MaxSentRetentionDays, unit: "days", show: true},
	{key: KeyMaxDaysWithoutSync, label: "Remove cached patient data after days without sync", kind: kindInt, min: 1, max: MaxMaxDaysWithoutSync, unit: "days", show: true},
	{key: KeyLockTimeout, label: "Lock after inactivity", kind: kindInt, min: MinLockTimeoutMinutes, max: MaxLockTimeoutMinutes, unit: "minutes", show: true},
	{key: KeyPrefetch, label: "Download documents ahead of time", kind: kindBool, user: true, show: true},
	{key: KeySyncInterval, label: "Sync every", kind: kindInt, min: MinSyncMinutes, max: MaxSyncMinutes, unit: "minutes", user: true, show: true},
	{key: KeySyncIntervalMin, label: "Shortest sync interval users may choose", kind: kindInt, min: MinSyncMinutes, max: MaxSyncMinutes, unit: "minutes", show: true},
	{key: KeySyncIntervalMax, label: "Longest sync interval users may choose", kind: kindInt, min: MinSyncMinutes, max: MaxSyncMinutes, unit: "minutes", show: true},
	{key: KeyExtraBankHolidays, label: "Extra bank holidays", kind: kindDateList, show: true},
	{key: KeyTheme, label: "Theme", kind: kindEnum, enum: []string{string(ThemeSystem), string(ThemeLight), string(ThemeDark)}, user: true, show: true},
	{key: KeyTextSize, label: "Text size", kind: kindEnum, enum: textSizeNames(), user: true, show: true},
	{key: KeyLocked, label: "Settings users may not change", kind: kindKeyList},
	{key: KeyUserMayOverride, label: "Users may change the e-RS and sign-in URLs", kind: kindBool, show: true},
}

func envNames() []string {
	var out []string
	for _, n := range EnvironmentNames() {
		out = append(out, string(n))
	}
	return out
}

func specFor(k Key) (spec, bool) {
	i := slices.IndexFunc(specs, func(s spec) bool { return s.key == k })
	if i < 0 {
		return spec{}, false
	}
	return specs[i], true
}

// Keys lists every policy key in the order `triagectl policy show` and the
// deployment guide use.
func Keys() []Key {
	var out []Key
	for _, s := range specs {
		if s.key != keyVersion && s.key != keyComment {
			out = append(out, s.key)
		}
	}
	return out
}

// Label returns the plain-English name of a setting, for screens and
// messages ("Lock after inactivity").
func (k Key) Label() string {
	if s, ok := specFor(k); ok {
		return s.label
	}
	return string(k)
}

// UserSettable reports whether k is a user setting (which the policy can
// still enforce and lock) rather than one only the machine policy sets.
func (k Key) UserSettable() bool {
	s, ok := specFor(k)
	return ok && s.user
}

// suggest returns the known key closest to an unknown one, if it is close
// enough to be a likely typo.
func suggest(unknown string) string {
	best, bestD := "", 4
	u := strings.ToLower(unknown)
	for _, s := range specs {
		d := editDistance(u, string(s.key))
		if d < bestD {
			best, bestD = string(s.key), d
		}
	}
	if bestD <= max(2, len(u)/5) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
