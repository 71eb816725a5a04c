package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// EnvironmentName names an e-RS environment: one of the Env constants.
type EnvironmentName string

// The e-RS environments Triage Desk knows.
const (
	// EnvDemo is the in-process sandbox with synthetic patients and its
	// mock sign-in. Its URLs are only known once the sandbox is listening,
	// so callers fill them in with Environment.WithURLs.
	EnvDemo EnvironmentName = "demo"
	// EnvLocal is any e-RS-shaped server for development, for example
	// `triagectl sandbox` on this machine; its URLs come from the user (where
	// the policy allows) or the policy.
	EnvLocal EnvironmentName = "local"
	// EnvNHSSandbox is NHS England's hosted, stateless e-RS sandbox: open
	// access, no sign-in, canned responses.
	EnvNHSSandbox EnvironmentName = "nhs-sandbox"
	// EnvInt is NHS England's integration test environment (test patients,
	// smartcard or mock CIS2 sign-in).
	EnvInt EnvironmentName = "int"
	// EnvProd is the live service with real patients.
	EnvProd EnvironmentName = "prod"
)

// Well-known NHS API Platform URLs (e-RS FHIR base and OAuth2 bases).
const (
	NHSSandboxFHIRBaseURL = "https://sandbox.api.service.nhs.uk/referrals/FHIR"
	IntFHIRBaseURL        = "https://int.api.service.nhs.uk/referrals/FHIR"
	// IntAuthBaseURL is CIS2 sign-in on INT with a smartcard or other
	// authenticator.
	IntAuthBaseURL = "https://int.api.service.nhs.uk/oauth2"
	// IntMockAuthBaseURL is the platform's mock CIS2 on INT (test users,
	// no smartcard).
	IntMockAuthBaseURL = "https://int.api.service.nhs.uk/oauth2-mock"
	// IntNoSmartcardAuthBaseURL is CIS2 on INT without a smartcard.
	IntNoSmartcardAuthBaseURL = "https://int.api.service.nhs.uk/oauth2-no-smartcard"
	ProdFHIRBaseURL           = "https://api.service.nhs.uk/referrals/FHIR"
	ProdAuthBaseURL           = "https://api.service.nhs.uk/oauth2"
)

// The Personal Demographics Service (PDS) FHIR R4 bases of the NHS API
// Platform environments, and its path beside the e-RS API on a local
// development server (the embedded sandbox serves it there).
const (
	NHSSandboxPDSBaseURL = "https://sandbox.api.service.nhs.uk/personal-demographics/FHIR/R4"
	IntPDSBaseURL        = "https://int.api.service.nhs.uk/personal-demographics/FHIR/R4"
	ProdPDSBaseURL       = "https://api.service.nhs.uk/personal-demographics/FHIR/R4"
	LocalPDSPath         = "/personal-demographics/FHIR/R4"
)

// Sign-in defaults shared by every environment.
const (
	// DefaultRedirectPort is the loopback port of the sign-in callback. The
	// NHS API Platform compares redirect_uri exactly, so the port must be the
	// one registered for the client id.
	DefaultRedirectPort = 7654
	// RedirectHost is where the sign-in callback listens: IPv4 loopback only.
	RedirectHost = "127.0.0.1"
	// RedirectPath is the path of the sign-in callback.
	RedirectPath = "/callback"
	// DefaultACRValues is the platform's own default: AAL3 (smartcard or
	// equivalent). AAL2_OR_AAL3_ANY also allows passkeys and authenticator apps.
	DefaultACRValues = "AAL3_ANY"
	// DefaultKeychainService is the OS keychain service under which IT
	// provisions the client secret when secret_source is "keychain"; the
	// account is the client id.
	DefaultKeychainService = "io.github.triagedesk.client-secret"
	// DemoClientID is the client id the embedded sandbox's mock sign-in
	// accepts.
	DemoClientID = "triagedesk-demo"
	// LocalClientID is the local environment's default client id: the
	// one `triagectl sandbox` registers for its mock sign-in, so signing
	// in to it needs no --client-id.
	LocalClientID = "triagedesk-sandbox"
)

// SecretKind says where the OAuth2 client secret comes from. The secret is
// never compiled into Triage Desk.
type SecretKind string

// The secret sources.
const (
	// SecretNone: no secret (demo, local mock servers, the NHS sandbox).
	SecretNone SecretKind = "none"
	// SecretKeychain: IT provisions the secret in the OS keychain of each
	// workstation, under Secret.KeychainService with the client id as account.
	SecretKeychain SecretKind = "keychain"
	// SecretBroker: the authorization code and refresh token are exchanged
	// through a token broker run by the organisation, which holds the secret.
	SecretBroker SecretKind = "broker"
)

// Secret says how sign-in obtains or avoids the client secret.
type Secret struct {
	Kind            SecretKind
	KeychainService string // Kind == SecretKeychain; account = client id
	BrokerURL       string // Kind == SecretBroker: the broker's base URL
}

// Environment is everything sign-in, the e-RS client and the GUI need to know
// about where Triage Desk connects. It is a plain value; copies are
// independent.
type Environment struct {
	Name EnvironmentName
	// Label is the name shown to users, e.g. "NHS INT (test)".
	Label string
	// FHIRBaseURL is the e-RS FHIR base, without a trailing slash.
	FHIRBaseURL string
	// AuthBaseURL is the OAuth2 base: AuthBaseURL+"/authorize" and
	// AuthBaseURL+"/token". Empty when NeedsToken is false.
	AuthBaseURL string
	// PDSBaseURL is the Personal Demographics Service FHIR R4 base, for
	// the patient banner; "" when the environment has no PDS (the banner
	// then says so).
	PDSBaseURL string
	// NeedsToken is false only for the NHS sandbox, which has no sign-in.
	NeedsToken bool
	// Production is true only for prod. Every other environment is visibly
	// marked as not for real patients.
	Production bool
	// ClientID is the API Platform application's key.
	ClientID string
	Secret   Secret
	// RedirectPort is the loopback port of the sign-in callback.
	RedirectPort int
	// ACRValues is sent as acr_values on the authorize request.
	ACRValues string
}

// Builtin returns the built-in definition of an environment, before any
// policy or user override, and false for an unknown name.
func Builtin(name EnvironmentName) (Environment, bool) {
	e := Environment{
		Name:         name,
		NeedsToken:   true,
		RedirectPort: DefaultRedirectPort,
		ACRValues:    DefaultACRValues,
		Secret:       Secret{Kind: SecretNone},
	}
	switch name {
	case EnvDemo:
		e.Label = "Demo – synthetic data"
		e.ClientID = DemoClientID
	case EnvLocal:
		e.Label = "Local development server"
		e.ClientID = LocalClientID
	case EnvNHSSandbox:
		e.Label = "NHS sandbox – sample data, no sign-in"
		e.FHIRBaseURL = NHSSandboxFHIRBaseURL
		e.PDSBaseURL = NHSSandboxPDSBaseURL
		e.NeedsToken = false
	case EnvInt:
		e.Label = "NHS INT – test environment"
		e.FHIRBaseURL = IntFHIRBaseURL
		e.AuthBaseURL = IntAuthBaseURL
		e.PDSBaseURL = IntPDSBaseURL
	case EnvProd:
		e.Label = "Live e-RS"
		e.FHIRBaseURL = ProdFHIRBaseURL
		e.AuthBaseURL = ProdAuthBaseURL
		e.PDSBaseURL = ProdPDSBaseURL
		e.Production = true
	default:
		return Environment{}, false
	}
	return e, true
}

// EnvironmentNames lists the known environments in the order a settings
// screen offers them.
func EnvironmentNames() []EnvironmentName {
	return []EnvironmentName{EnvDemo, EnvLocal, EnvNHSSandbox, EnvInt, EnvProd}
}

// ParseEnvironmentName checks a name typed by a user or IT. The error is a
// *triage.Error (EINVALID) listing the valid names.
func ParseEnvironmentName(s string) (EnvironmentName, error) {
	n := EnvironmentName(strings.TrimSpace(s))
	if slices.Contains(EnvironmentNames(), n) {
		return n, nil
	}
	return "", triage.Errorf(triage.EINVALID, "%q is not an environment Triage Desk knows: use demo, local, nhs-sandbox, int or prod", s)
}

// AllowsLoopbackHTTP reports whether plain http to a loopback address
// (127.0.0.1, ::1 or localhost) is acceptable: in every environment but live
// e-RS. The traffic never leaves this computer, and the demo, local
// development servers and a locally run copy of the NHS sandbox serve plain
// http. Any other address needs https.
func (n EnvironmentName) AllowsLoopbackHTTP() bool { return n != EnvProd }

// WithURLs returns e with its FHIR and auth bases replaced; the demo
// environment uses it once the embedded sandbox is listening. Trailing
// slashes are removed.
func (e Environment) WithURLs(fhirBase, authBase string) Environment {
	e.FHIRBaseURL = strings.TrimRight(fhirBase, "/")
	e.AuthBaseURL = strings.TrimRight(authBase, "/")
	return e
}

// WithPDS returns e with its PDS base replaced (the demo environment, once
// the embedded sandbox is listening). A trailing slash is removed.
func (e Environment) WithPDS(pdsBase string) Environment {
	e.PDSBaseURL = strings.TrimRight(pdsBase, "/")
	return e
}

// AuthorizeURL is the OAuth2 authorization endpoint.
func (e Environment) AuthorizeURL() string { return e.AuthBaseURL + "/authorize" }

// TokenURL is the OAuth2 token endpoint.
func (e Environment) TokenURL() string { return e.AuthBaseURL + "/token" }

// RedirectAddr is the address the sign-in callback listener binds,
// "127.0.0.1:<port>".
func (e Environment) RedirectAddr() string {
	return net.JoinHostPort(RedirectHost, strconv.Itoa(e.RedirectPort))
}

// RedirectURL is the redirect_uri sent to the platform and registered with
// NHS England: "http://127.0.0.1:<port>/callback".
func (e Environment) RedirectURL() string { return "http://" + e.RedirectAddr() + RedirectPath }

// Check reports whether the environment is complete enough to connect: the
// URLs are present and well formed and, where a token is needed outside the
// demo, a client id and a secret source are set. The error is a
// *triage.Error (EINVALID) that tells the user whom to ask.
func (e Environment) Check() error {
	if e.FHIRBaseURL == "" {
		if e.Name == EnvDemo {
			return triage.Errorf(triage.EINVALID, "The demo server has not started yet. Restart Triage Desk; if it keeps happening contact your IT service desk.")
		}
		return triage.Errorf(triage.EINVALID, "No e-RS address is set for the %s environment. Start with --base-url, or ask your IT team to set fhir_base_url in the machine policy.", e.Name)
	}
	if msg := checkURL(e.FHIRBaseURL, e.Name.AllowsLoopbackHTTP()); msg != "" {
		return triage.Errorf(triage.EINVALID, "The e-RS address for %s %s.", e.Name, msg)
	}
	if e.PDSBaseURL != "" {
		if msg := checkURL(e.PDSBaseURL, e.Name.AllowsLoopbackHTTP()); msg != "" {
			return triage.Errorf(triage.EINVALID, "The PDS address for %s %s. Ask your IT team to correct pds_base_url in the machine policy.", e.Name, msg)
		}
	}
	if !e.NeedsToken {
		return nil
	}
	if e.AuthBaseURL == "" {
		return triage.Errorf(triage.EINVALID, "No sign-in address is set for the %s environment. Ask your IT team to set auth_base_url in the machine policy.", e.Name)
	}
	if msg := checkURL(e.AuthBaseURL, e.Name.AllowsLoopbackHTTP()); msg != "" {
		return triage.Errorf(triage.EINVALID, "The sign-in address for %s %s.", e.Name, msg)
	}
	if e.ClientID == "" {
		return triage.Errorf(triage.EINVALID, "Sign-in is not set up for %s: no client id. Ask your IT team to set client_id in the machine policy (see the deployment guide).", e.Name)
	}
	if (e.Name == EnvInt || e.Name == EnvProd) && e.Secret.Kind == SecretNone {
		return triage.Errorf(triage.EINVALID, "Sign-in is not set up for %s: the NHS API Platform needs a client secret. Ask your IT team to set secret_source to keychain or broker in the machine policy.", e.Name)
	}
	if e.Secret.Kind == SecretBroker {
		if msg := checkURL(e.Secret.BrokerURL, e.Name.AllowsLoopbackHTTP()); msg != "" {
			return triage.Errorf(triage.EINVALID, "The token broker address %s. Ask your IT team to correct broker_url in the machine policy.", msg)
		}
	}
	if e.RedirectPort < minPort || e.RedirectPort > maxPort {
		return triage.Errorf(triage.EINVALID, "The sign-in callback port %d is not usable: it must be between %d and %d.", e.RedirectPort, minPort, maxPort)
	}
	return nil
}

// checkURL returns "" for an acceptable base URL, or the end of a sentence
// saying what is wrong ("must start with https://").
func checkURL(s string, loopbackHTTP bool) string {
	if s == "" {
		return "is empty"
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Sprintf("%q is not a web address: write it in full, e.g. https://api.example.nhs.uk/path", s)
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return "must not contain ? or #"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if loopbackHTTP && isLoopbackHost(u.Hostname()) {
			return ""
		}
		if loopbackHTTP {
			return "must start with https:// (plain http is only allowed to 127.0.0.1 or localhost)"
		}
		if isLoopbackHost(u.Hostname()) {
			return "must start with https:// (live e-RS is reached over https only, even on this computer)"
		}
		return "must start with https://"
	default:
		return "must start with https://"
	}
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
