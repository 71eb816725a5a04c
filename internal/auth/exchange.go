package auth

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/keychain"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// fallbackAccessTTL is assumed when a token response has no expires_in, so
// an access token is never treated as everlasting.
const fallbackAccessTTL = 5 * time.Minute

// maxReportedLifetime bounds a lifetime a server reports (a lying server
// cannot make a session last for years).
const maxReportedLifetime = 30 * 24 * time.Hour

// TokenResponse is a token endpoint's (or broker's) answer, parsed.
type TokenResponse struct {
	AccessToken string
	TokenType   string
	// Expiry is when the access token expires, from expires_in (given as a
	// string by the NHS API Platform), on the wall clock as x/oauth2
	// computes it.
	Expiry time.Time
	// RefreshToken is the new refresh token; the one redeemed is spent.
	RefreshToken string
	// RefreshExpiresIn is refresh_token_expires_in (a string on the
	// platform); 0 when the answer had none or it could not be read.
	RefreshExpiresIn time.Duration
	// RefreshCount is refresh_count, how often the session was refreshed;
	// -1 when absent.
	RefreshCount int
}

// TokenExchanger obtains tokens: it exchanges an authorization code and
// redeems refresh tokens. The Manager calls it from one goroutine at a time.
//
// Errors are *triage.Error values whose chains hold, for errors.Is:
// ErrSignInNeeded (Refresh: invalid_grant, the session is over),
// ErrCodeRefused (Exchange: invalid_grant or invalid_request),
// ErrClientRejected (invalid_client or unauthorized_client),
// ErrSecretMissing, or ErrTokenServiceUnavailable (network, 5xx or an
// unreadable answer); an *OAuthError carries the server's error code.
type TokenExchanger interface {
	// Exchange swaps an authorization code, with its PKCE verifier and the
	// redirect URI used on the authorize request, for tokens.
	Exchange(ctx context.Context, code, verifier, redirectURI string) (*TokenResponse, error)
	// Refresh redeems a refresh token for new tokens.
	Refresh(ctx context.Context, refreshToken string) (*TokenResponse, error)
}

// SecretFunc returns the OAuth2 client secret when a token request is made.
// It is called for every request, so a secret IT rotates is picked up.
type SecretFunc func(ctx context.Context) (string, error)

// KeychainSecret reads the client secret IT provisioned in the keychain:
// service (config.Secret.KeychainService) and account clientID. A missing
// item is ErrSecretMissing; an unusable keychain ErrKeychainUnavailable.
func KeychainSecret(ring Keyring, service, clientID string) SecretFunc {
	if ring == nil {
		ring = OSKeyring{}
	}
	return func(ctx context.Context) (string, error) {
		s, err := keychain.Do(ctx, func() (string, error) { return ring.Get(service, clientID) })
		switch {
		case errors.Is(err, keychain.ErrNotFound) || (err == nil && strings.TrimSpace(s) == ""):
			return "", userErr(triage.EINVALID, ErrSecretMissing, nil, msgSecretMissing)
		case err != nil:
			return "", userErr(triage.EUNAVAILABLE, ErrSecretMissing, err, msgSecretMissing)
		}
		return strings.TrimSpace(s), nil
	}
}

// StaticSecret returns secret. Use it only for the embedded demo sandbox or
// a local development server, whose secret is not confidential.
func StaticSecret(secret string) SecretFunc {
	return func(context.Context) (string, error) { return secret, nil }
}

// endpointExchanger talks RFC 6749 to a token endpoint with the client
// credentials as form parameters (AuthStyleInParams), as the NHS API
// Platform requires.
type endpointExchanger struct {
	clientID string
	tokenURL string
	secret   SecretFunc // nil: no secret (the broker adds it)
	http     *http.Client
}

// NewDirectExchanger exchanges codes and refresh tokens at env.TokenURL(),
// sending client_id and the secret as form parameters. secret nil sends no
// secret (only useful against servers that need none). hc nil uses
// NewTokenHTTPClient(nil).
func NewDirectExchanger(env config.Environment, secret SecretFunc, hc *http.Client) TokenExchanger {
	return &endpointExchanger{clientID: env.ClientID, tokenURL: env.TokenURL(), secret: secret, http: NewTokenHTTPClient(hc)}
}

// BrokerTokenPath is the broker's token endpoint below its base URL.
const BrokerTokenPath = "/token"

// NewBrokerExchanger exchanges codes and refresh tokens through the
// organisation's token broker at env.Secret.BrokerURL + BrokerTokenPath:
// the same form request as the platform's token endpoint without
// client_secret, which the broker adds (docs/auth.md). hc nil uses
// NewTokenHTTPClient(nil).
func NewBrokerExchanger(env config.Environment, hc *http.Client) TokenExchanger {
	return &endpointExchanger{clientID: env.ClientID, tokenURL: strings.TrimRight(env.Secret.BrokerURL, "/") + BrokerTokenPath, http: NewTokenHTTPClient(hc)}
}

// DefaultExchanger returns the exchanger env's secret source calls for:
// direct with the keychain secret (ring nil: the OS keychain), direct with
// no secret, or the broker. It returns an EINVALID *triage.Error for an
// unknown source.
func DefaultExchanger(env config.Environment, ring Keyring, hc *http.Client) (TokenExchanger, error) {
	switch env.Secret.Kind {
	case config.SecretKeychain:
		return NewDirectExchanger(env, KeychainSecret(ring, env.Secret.KeychainService, env.ClientID), hc), nil
	case config.SecretBroker:
		return NewBrokerExchanger(env, hc), nil
	case config.SecretNone, "":
		return NewDirectExchanger(env, nil, hc), nil
	}
	return nil, triage.Errorf(triage.EINVALID, "The client secret source %q is not known. Ask your IT team to set secret_source to keychain or broker.", env.Secret.Kind)
}

// tokenRequestTimeout bounds one token request.
const tokenRequestTimeout = 30 * time.Second

// NewTokenHTTPClient returns a copy of hc (nil: a client with its own
// transport) for token requests: it never follows a redirect, so a client
// secret, code or refresh token is never re-posted to another address, and
// it gives up after 30 seconds.
func NewTokenHTTPClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c.Timeout == 0 || c.Timeout > tokenRequestTimeout {
		c.Timeout = tokenRequestTimeout
	}
	return &c
}

func (e *endpointExchanger) config(ctx context.Context, redirectURI string) (*oauth2.Config, error) {
	conf := &oauth2.Config{
		ClientID:    e.clientID,
		Endpoint:    oauth2.Endpoint{TokenURL: e.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: redirectURI,
	}
	if e.secret != nil {
		s, err := e.secret(ctx)
		if err != nil {
			return nil, err
		}
		conf.ClientSecret = s
	}
	return conf, nil
}

// Exchange implements TokenExchanger.
func (e *endpointExchanger) Exchange(ctx context.Context, code, verifier, redirectURI string) (*TokenResponse, error) {
	conf, err := e.config(ctx, redirectURI)
	if err != nil {
		return nil, err
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, e.http), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, classify(false, err)
	}
	return parseToken(tok), nil
}

// Refresh implements TokenExchanger with x/oauth2's own refresher, fed the
// one refresh token: conf.TokenSource(ctx, &Token{RefreshToken: rt}).Token().
func (e *endpointExchanger) Refresh(ctx context.Context, refreshToken string) (*TokenResponse, error) {
	if refreshToken == "" {
		return nil, userErr(triage.EUNAUTHORIZED, ErrSignInNeeded, errors.New("no refresh token"), msgSignInNeeded)
	}
	conf, err := e.config(ctx, "")
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, e.http)
	tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, classify(true, err)
	}
	return parseToken(tok), nil
}

// parseToken reads the NHS-specific fields. x/oauth2 already accepts
// expires_in as a string; refresh_token_expires_in and refresh_count are
// read from the raw answer as strings or numbers.
func parseToken(t *oauth2.Token) *TokenResponse {
	r := &TokenResponse{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry, RefreshToken: t.RefreshToken, RefreshCount: -1}
	if r.Expiry.IsZero() {
		r.Expiry = time.Now().Add(fallbackAccessTTL)
	}
	if s, ok := seconds(t.Extra("refresh_token_expires_in")); ok {
		r.RefreshExpiresIn = min(time.Duration(s)*time.Second, maxReportedLifetime)
	}
	if n, ok := seconds(t.Extra("refresh_count")); ok {
		r.RefreshCount = int(n)
	}
	return r
}

// seconds reads a non-negative whole number given as a JSON string or
// number.
func seconds(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		return min(n, math.MaxInt32), true
	case float64:
		if x < 0 || x != math.Trunc(x) || math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, false
		}
		return int64(min(x, math.MaxInt32)), true
	}
	return 0, false
}

// classify turns an x/oauth2 error into a *triage.Error. The server's body
// is dropped (it may echo the request); only its error code and
// description are kept.
func classify(refresh bool, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		var te *triage.Error
		if errors.As(err, &te) {
			return err
		}
		return userErr(triage.EUNAVAILABLE, ErrTokenServiceUnavailable, errors.New(cleanCause(err)), msgTokenService)
	}
	oe := &OAuthError{Code: cleanText(re.ErrorCode, 64), Description: cleanText(re.ErrorDescription, 200)}
	if re.Response != nil {
		oe.Status = re.Response.StatusCode
	}
	switch {
	case oe.Code == "invalid_client" || oe.Code == "unauthorized_client":
		return userErr(triage.EFORBIDDEN, ErrClientRejected, oe, msgClientRejected)
	case oe.Status >= 500 || oe.Status == http.StatusTooManyRequests || (oe.Code == "" && (oe.Status < 400 || oe.Status >= 500)):
		return userErr(triage.EUNAVAILABLE, ErrTokenServiceUnavailable, oe, msgTokenService)
	case refresh:
		// invalid_grant: the token was reused, revoked or expired, or the
		// session cap was reached. Any other refusal of a refresh token
		// also ends the session: retrying cannot succeed.
		return userErr(triage.EUNAUTHORIZED, ErrSignInNeeded, oe, msgSignInNeeded)
	}
	if oe.Description == "client_secret is missing" {
		return userErr(triage.EFORBIDDEN, ErrClientRejected, oe, msgClientRejected)
	}
	return userErr(triage.EUNAUTHORIZED, ErrCodeRefused, oe, msgCodeRefused)
}

// cleanCause describes a transport failure without its URL (a *url.Error
// names the endpoint).
func cleanCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return cleanText(err.Error(), 200)
}

// cleanText keeps printable text, at most n runes.
func cleanText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return strings.TrimSpace(s)
}

// stateError is the error Token and the e-RS calls return in a state
// without tokens.
func stateError(s State, message string) error {
	switch s {
	case StateLocked:
		return userErr(triage.EUNAUTHORIZED, ErrLocked, nil, msgLocked)
	case StateSignInNeeded:
		if message == "" {
			message = msgSignInNeeded
		}
		return userErr(triage.EUNAUTHORIZED, ErrSignInNeeded, nil, message)
	}
	return userErr(triage.EUNAUTHORIZED, ErrNotSignedIn, nil, msgNotSignedIn)
}
