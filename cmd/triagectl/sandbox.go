package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// sandboxLoginLine is the `triagectl login` command line that signs in to a
// sandbox at base as its demo clinician at its main trust: with its mock
// sign-in's client secret and callback port (the client id is the local
// environment's default, config.LocalClientID), or without sign-in when
// authentication is off. Every argument is free of spaces and quotes, so the
// line pastes into any shell.
func sandboxLoginLine(base string, withAuth bool, secret, redirectURI string) string {
	parts := []string{"triagectl", "login", "--env", "local", "--base-url", base}
	if withAuth {
		parts = append(parts, "--client-secret", secret)
		if u, err := url.Parse(redirectURI); err == nil && u.Port() != "" && u.Port() != strconv.Itoa(config.DefaultRedirectPort) {
			parts = append(parts, "--callback-port", u.Port())
		}
		parts = append(parts, "--user", erssandbox.UserClinician)
	} else {
		parts = append(parts, "--no-sign-in")
	}
	parts = append(parts, "--ods", erssandbox.ProviderODS, "--business-function", string(triage.RoleServiceProviderClinician))
	return strings.Join(parts, " ")
}

func init() {
	register(command{name: "sandbox", summary: "run the embedded e-RS sandbox (synthetic data, mock NHS login, fault injection)", run: runSandbox})
}

// runSandbox starts the e-RS sandbox on loopback, prints its URLs, logs one
// line per request to stderr and runs until ctx is cancelled (Ctrl-C).
func runSandbox(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("sandbox", g)
	addr := fs.String("addr", "127.0.0.1:9100", "loopback address of the FHIR API, mock login and control API")
	dlAddr := fs.String("download-addr", "127.0.0.1:0", "loopback address of the attachment download host A042 redirects to")
	referrals := fs.Int("referrals", erssandbox.DefaultReferrals, fmt.Sprintf("number of synthetic referrals (1 to %d)", erssandbox.MaxReferrals))
	advice := fs.Int("advice", erssandbox.DefaultAdviceRequests, fmt.Sprintf("number of synthetic Advice and Guidance requests (0 to %d)", erssandbox.MaxAdviceRequests))
	seed := fs.Uint64("seed", erssandbox.DefaultSeed, "seed of the synthetic data and of fault injection")
	auth := fs.String("auth", "on", "require a token from the mock login: on or off")
	rateN := fs.Float64("rate", 0, "rate limit in requests per second (0: none); excess requests get 429")
	latency := fs.Duration("latency", 0, "latency added to every request, e.g. 200ms")
	faults := fs.String("faults", "", "faults to inject, e.g. 500=0.05,503=0.05,504=0.2,reset=0.01,hang=0.01,drop=0.1,ops=A013+A014")
	pending := fs.Duration("pending-delay", erssandbox.DefaultPendingDelay, "how long PENDING attachments take to become AVAILABLE (negative: never)")
	tokenTTL := fs.Duration("token-ttl", erssandbox.DefaultAccessTTL, "access token lifetime")
	refreshTTL := fs.Duration("refresh-ttl", erssandbox.DefaultRefreshTTL, "refresh token lifetime")
	redirect := fs.String("redirect-uri", erssandbox.DefaultRedirectURI, "registered OAuth2 redirect URI (must match exactly)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *advice < 0 || *advice > erssandbox.MaxAdviceRequests {
		return usageError{fmt.Sprintf("--advice must be between 0 and %d", erssandbox.MaxAdviceRequests)}
	}
	adviceRequests := *advice
	if adviceRequests == 0 {
		adviceRequests = -1 // none
	}
	cfg := erssandbox.Config{Addr: *addr, DownloadAddr: *dlAddr, Referrals: *referrals, AdviceRequests: adviceRequests, Seed: *seed,
		PendingDelay: *pending, AccessTokenTTL: *tokenTTL, RefreshTokenTTL: *refreshTTL, RedirectURI: *redirect,
		Logger: slog.New(slog.NewTextHandler(g.Stderr, nil))}
	switch strings.ToLower(*auth) {
	case "on":
		cfg.Auth = true
	case "off":
	default:
		return usageError{fmt.Sprintf("--auth must be on or off, not %q", *auth)}
	}
	if *referrals < 1 || *referrals > erssandbox.MaxReferrals {
		return usageError{fmt.Sprintf("--referrals must be between 1 and %d", erssandbox.MaxReferrals)}
	}
	if *faults != "" {
		f, err := erssandbox.ParseFaults(*faults)
		if err != nil {
			return usageError{fmt.Sprintf("--faults: %v", err)}
		}
		cfg.Faults = f
	}
	if !(*rateN >= 0) || math.IsInf(*rateN, 0) || *latency < 0 {
		return usageError{"--rate must be a number of requests per second (0 or more) and --latency cannot be negative"}
	}
	if *tokenTTL <= 0 || *refreshTTL <= 0 {
		return usageError{"--token-ttl and --refresh-ttl must be positive durations, e.g. 10m"}
	}
	if *rateN > 0 {
		cfg.Faults.RatePerSecond = *rateN
	}
	if *latency > 0 {
		cfg.Faults.Latency = *latency
	}

	started := time.Now()
	sb, err := erssandbox.Start(ctx, cfg)
	if err != nil {
		return &triage.Error{Code: triage.EINVALID, Err: err,
			Message: fmt.Sprintf("The sandbox could not start: %v. Choose another --addr (a free port on 127.0.0.1).", err)}
	}
	defer sb.Close()
	id, secret, redir := sb.OAuthClient()
	w := g.Stdout
	fmt.Fprintf(w, "e-RS sandbox ready in %v: %d synthetic referrals, %d Advice and Guidance requests, seed %d, authentication %s\n",
		time.Since(started).Round(time.Millisecond), *referrals, *advice, *seed, *auth)
	fmt.Fprintf(w, "  FHIR base URL:  %s\n", sb.BaseURL())
	fmt.Fprintf(w, "  Mock login:     %s\n", sb.LoginURL())
	fmt.Fprintf(w, "  Token endpoint: %s/token (client_id %s, client_secret %s, redirect_uri %s)\n", sb.AuthBaseURL(), id, secret, redir)
	fmt.Fprintf(w, "  PDS base URL:   %s\n", sb.PDSBaseURL())
	fmt.Fprintf(w, "  Downloads:      %s\n", sb.DownloadBaseURL())
	fmt.Fprintf(w, "  Control API:    %s (stats, faults, referrals, advice)\n", sb.ControlURL())
	fmt.Fprintf(w, "  Test users:    ")
	for _, u := range sb.Users() {
		fmt.Fprintf(w, " %s", u.ID)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Sign in to it (copy and paste this line):")
	fmt.Fprintf(w, "  %s\n", sandboxLoginLine(sb.BaseURL(), cfg.Auth, secret, redir))
	fmt.Fprintf(w, "then, with the same --env and --base-url: triagectl sync --env local --base-url %s (and worklist, show, decide, outbox).\n", sb.BaseURL())
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
	case <-sb.Done():
	}
	if err := sb.Close(); err != nil {
		return err
	}
	fmt.Fprintln(w, "e-RS sandbox stopped.")
	return nil
}
