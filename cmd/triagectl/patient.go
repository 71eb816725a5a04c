package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/pds"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// runERSPatient reads a patient from PDS and prints the patient banner, as
// the app shows it (triagectl ers patient NHSNUMBER). A patient PDS does
// not have, or an invalid number, prints the banner saying so and exits 1.
func runERSPatient(ctx context.Context, g *Globals, ef ersFlags, pdsURL, nhs string) error {
	base := pdsURL
	if base == "" {
		name, err := config.ParseEnvironmentName(g.Env)
		if err != nil {
			return err
		}
		env, _ := config.Builtin(name)
		base = env.PDSBaseURL
		if g.BaseURL != "" {
			// A local e-RS (triagectl sandbox) serves PDS beside it.
			if u, err := url.Parse(g.BaseURL); err == nil && u.Host != "" {
				base = u.Scheme + "://" + u.Host + config.LocalPDSPath
			}
		}
	}
	if base == "" {
		return usageError{"give --pds-url URL, or --env nhs-sandbox, int or prod"}
	}
	cfg := pds.Config{BaseURL: base, RateLimit: rate.Limit(ef.rate), AllowHighRate: true}
	if ef.tokenEnv != "" {
		tok := strings.TrimSpace(os.Getenv(ef.tokenEnv))
		if tok == "" {
			return triage.Errorf(triage.EINVALID, "The environment variable %s is empty: set it to a bearer token, or leave out --token-env.", ef.tokenEnv)
		}
		cfg.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
	}
	if ef.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := pds.New(cfg)
	if err != nil {
		return triage.Errorf(triage.EINVALID, "%s", strings.TrimPrefix(err.Error(), "pds: "))
	}
	c = c.WithIdentity(pds.Identity{ODS: strings.TrimSpace(ef.ods)})
	res, err := c.Patient(ctx, nhs)
	read := pds.ReadOf(nhs, res, err, time.Now())
	var pe *pds.Error
	if err != nil && (!errors.As(err, &pe) || !read.Outcome.Definitive()) {
		if pe != nil {
			fmt.Fprintf(g.Stderr, "details: %s\n", pe.Error())
			if pe.Diagnostics != "" {
				fmt.Fprintf(g.Stderr, "PDS said: %s\n", pe.Diagnostics)
			}
		}
		return err
	}
	var l triage.PatientLookup
	l.Apply(read)
	printBanner(g.Stdout, triage.BuildBanner(triage.BannerInput{ReferralNHSNumber: triage.NormalizeNHSNumber(nhs), Lookup: &l, Now: time.Now()}))
	if res != nil {
		fmt.Fprintf(g.Stdout, "(PDS: HTTP %d, version %s, request %s)\n", res.Meta.Status, orDash(res.Patient.VersionID), res.Meta.RequestID)
	} else if pe != nil && pe.RequestID != "" {
		fmt.Fprintf(g.Stdout, "(PDS: HTTP %d %s, request %s)\n", pe.Status, pe.Code, pe.RequestID)
	}
	return err
}
