package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/keychain"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// KeychainService is the OS keychain service under which sessions are kept;
// the account is SessionAccount(env).
const KeychainService = "io.github.triagedesk.session"

// MaxRecordBytes bounds the stored session item. Windows Credential Manager
// refuses secrets over 2560 bytes; a CIS2 session item is about 300.
const MaxRecordBytes = 2560

// Keyring is the part of a keychain the Manager uses: the method set of
// go-keyring (keychain.Ring). Get returns keyring.ErrNotFound for a
// missing item.
type Keyring = keychain.Ring

// OSKeyring is the OS keychain through go-keyring: Windows Credential
// Manager, macOS Keychain, or the Secret Service on Linux. keyring.MockInit
// replaces it in tests.
type OSKeyring = keychain.OS

// SessionAccount is the keychain account of an environment's session:
// "session:<environment>:<e-RS base URL>", or "session:demo" for the demo,
// whose embedded server has a new address every run. A session is found by
// where it connects (the --env and --base-url a command is given), never
// by the client id a command assumes: the client id, token endpoint and
// base URL it was made with are saved inside it (see Registration). One
// session is kept per environment and server on each OS account.
func SessionAccount(env config.Environment) string {
	if env.Name == config.EnvDemo {
		return "session:" + string(env.Name)
	}
	return "session:" + string(env.Name) + ":" + env.FHIRBaseURL
}

// legacySessionAccount is where sessions were kept before they were keyed
// by server: "session:<environment>:<client id>". Restore moves a session
// found there to SessionAccount.
func legacySessionAccount(env config.Environment) string {
	return "session:" + string(env.Name) + ":" + env.ClientID
}

// record is the keychain item: the refresh token, its absolute expiry and
// the identity chosen, as compact JSON. It holds no patient data.
type record struct {
	V int `json:"v"`
	// Auth is the OAuth2 base URL the token belongs to; a session is not
	// restored against another server.
	Auth string `json:"auth"`
	// RT is the refresh token; empty while locked.
	RT string `json:"rt,omitempty"`
	// RTExp is when the refresh token, and so the session, ends.
	RTExp time.Time `json:"rt_exp,omitzero"`
	// Since is when the clinician signed in.
	Since  time.Time       `json:"since,omitzero"`
	Locked bool            `json:"locked,omitempty"`
	ID     triage.Identity `json:"id"`
	// Client, Token and FHIR are the client id, token endpoint and e-RS
	// base URL the session was made with ("" in sessions saved before they
	// were recorded). A session is resumed only with the same client.
	Client string `json:"client,omitempty"`
	Token  string `json:"token,omitempty"`
	FHIR   string `json:"fhir,omitempty"`
	// NoSignIn marks a session of an environment without sign-in: an
	// identity (the chosen role) and no tokens.
	NoSignIn bool `json:"no_sign_in,omitempty"`
	// DevSecret is a local development server's client secret, kept so
	// later commands can renew the session (the local environment only;
	// never a secret of the NHS API Platform).
	DevSecret string `json:"dev_secret,omitempty"`
}

// Registration is how a saved session was made: the client id and sign-in
// service it belongs to, whether the server has a sign-in at all and, for a
// local development server, its client secret. The app reads it before
// building the Manager for the local environment, so every command that
// names the same server resumes the session whatever client id it would
// otherwise assume.
type Registration struct {
	ClientID    string
	AuthBaseURL string // "" when not a direct sign-in service (broker, demo, none)
	NoSignIn    bool
	DevSecret   string
}

// Apply returns env as the registration made it: without sign-in, or with
// its client id and sign-in service.
func (r Registration) Apply(env config.Environment) config.Environment {
	if r.NoSignIn {
		env.NeedsToken, env.AuthBaseURL = false, ""
		return env
	}
	if r.ClientID != "" {
		env.ClientID = r.ClientID
	}
	if r.AuthBaseURL != "" {
		env.AuthBaseURL = r.AuthBaseURL
	}
	return env
}

// SavedRegistration reads the registration of the session saved for env's
// environment and server, without the network. found is false when nothing
// is saved there. ring nil is the OS keychain. Errors: an EUNAVAILABLE
// *triage.Error wrapping ErrKeychainUnavailable when the keychain cannot be
// read; an unreadable item counts as not found.
func SavedRegistration(ctx context.Context, ring Keyring, env config.Environment) (reg Registration, found bool, err error) {
	if ring == nil {
		ring = OSKeyring{}
	}
	s, err := keychain.Do(ctx, func() (string, error) { return ring.Get(KeychainService, SessionAccount(env)) })
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return Registration{}, false, nil
	case err != nil:
		return Registration{}, false, userErr(triage.EUNAVAILABLE, ErrKeychainUnavailable, err, msgKeychain)
	}
	rec, err := decodeRecord(s)
	if err != nil {
		return Registration{}, false, nil
	}
	reg = Registration{ClientID: rec.Client, NoSignIn: rec.NoSignIn, DevSecret: rec.DevSecret}
	if strings.HasPrefix(rec.Auth, "http") && !strings.Contains(rec.Auth, " ") {
		reg.AuthBaseURL = rec.Auth
	}
	return reg, true, nil
}

const recordVersion = 1

func (r *record) encode() (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	if len(b) > MaxRecordBytes {
		return "", fmt.Errorf("encode session: %d bytes, above the keychain limit of %d", len(b), MaxRecordBytes)
	}
	return string(b), nil
}

func decodeRecord(s string) (*record, error) {
	var r record
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	if r.V != recordVersion {
		return nil, fmt.Errorf("decode session: version %d is not known", r.V)
	}
	return &r, nil
}

// DevFileKeyring keeps sessions in a plain JSON file instead of the OS
// keychain, for headless development and CI with synthetic data only
// (triagectl --dev-insecure-keyfile): a keychain.DevFile. The refresh token
// is readable by anyone who can read the file, so it prints DevFileWarning
// on every read and write, creates the file with mode 0600 and refuses one
// that other users may read. It is never a default.
type DevFileKeyring struct {
	Path string
	// Warn receives the warning; nil means standard error.
	Warn io.Writer
}

// DevFileWarning is printed on every use of a DevFileKeyring.
const DevFileWarning = "WARNING: --dev-insecure-keyfile is in use. Your NHS sign-in (the refresh token) is kept in PLAIN TEXT in a file, " +
	"not in the OS keychain: anyone who can read that file can act as you in e-RS until the session ends. " +
	"Use it only for development and testing with synthetic data, never with real patients."

// DevSessionFile is where triagectl keeps sessions beside a development key
// file.
func DevSessionFile(keyFile string) string { return keyFile + ".sessions.json" }

func (k DevFileKeyring) file() keychain.DevFile {
	return keychain.DevFile{Path: k.Path, Warn: k.Warn, Warning: DevFileWarning, Name: "development session file"}
}

// Get reads an item, printing DevFileWarning. A missing item is
// keyring.ErrNotFound.
func (k DevFileKeyring) Get(service, user string) (string, error) { return k.file().Get(service, user) }

// Set writes an item, printing DevFileWarning.
func (k DevFileKeyring) Set(service, user, password string) error {
	return k.file().Set(service, user, password)
}

// Delete removes an item; a missing item is keyring.ErrNotFound.
func (k DevFileKeyring) Delete(service, user string) error { return k.file().Delete(service, user) }
