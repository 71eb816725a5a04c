package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/triagedesk/triagedesk/internal/atomicfile"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func init() {
	register(command{name: "ers", summary: "call the e-RS API (worklist, referral, cri, attachment, actions, refdata, roles, ag-…) or PDS (patient) directly", run: runERS})
}

const ersUsage = `Usage: triagectl ers SUBCOMMAND [flags] [ARG]

Calls the e-RS API directly, without the app's store or sync engine, against
--base-url URL or the base URL of --env nhs-sandbox, int or prod.

Subcommands:
  worklist                  A008: list Referrals for Review (or --list APPOINTMENT_SLOT_ISSUES)
  referral UBRN             A005: show a referral (--raw prints its FHIR JSON)
  cri UBRN --out FILE       A007: save the referral's clinical information PDF
  attachment ID --out DIR   A042 (A006 fallback): save an attachment into DIR
  actions UBRN              A029: actions you may take now (--version N, else read first)
  refdata TYPE              A004: reference data, e.g. SPECIALTY, PRIORITY,
                            APPOINTMENT-CANCELLATION-REASON
  roles                     A030: your organisations and roles
  on-behalf-of              A040: clinicians a clinician admin may act for
  patient NHSNUMBER         PDS: read the patient and print the patient banner
                            (--pds-url URL, else the environment's PDS)

Identity flags: --ods CODE --business-function FUNCTION [--on-behalf-of SDSID]
Token: --token-env VAR reads a bearer token from environment variable VAR
(none is sent without it, as the NHS sandbox needs). --verbose logs each call
(ids and status only).

cri and attachment write patient documents unencrypted to the path you give:
use them only for testing with synthetic or sandbox data.

Example:
  triagectl ers worklist --env nhs-sandbox --ods R69 --business-function SERVICE_PROVIDER_CLINICIAN`

// ersFlags are the flags every ers subcommand takes.
type ersFlags struct {
	ods, businessFunction, onBehalfOf string
	tokenEnv                          string
	rate                              float64
	timeout                           time.Duration
	verbose                           bool
}

func (f *ersFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.ods, "ods", "", "ODS code of the organisation you act for (NHSD-End-User-Organisation-ODS)")
	fs.StringVar(&f.businessFunction, "business-function", string(triage.RoleServiceProviderClinician), "e-RS business function (NHSD-eRS-Business-Function)")
	fs.StringVar(&f.onBehalfOf, "on-behalf-of", "", "SDS user id of the clinician a clinician admin acts for")
	fs.StringVar(&f.tokenEnv, "token-env", "", "name of an environment variable holding a bearer token")
	fs.Float64Var(&f.rate, "rate", float64(ers.DefaultRateLimit), "requests per second")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Minute, "give up after this long")
	fs.BoolVar(&f.verbose, "verbose", false, "log each call (operation, status, duration, ids) to stderr")
}

func runERS(ctx context.Context, g *Globals, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(g.Stdout, ersUsage+ersAdviceUsage)
		if len(args) == 0 {
			return usageError{"say which call to make, e.g. triagectl ers worklist"}
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	if slices.Contains(adviceSubcommands, sub) {
		return runERSAdvice(ctx, g, sub, rest)
	}
	fs := newFlagSet("ers "+sub, g)
	fs.Usage = func() { fmt.Fprintln(g.Stderr, ersUsage+ersAdviceUsage) }
	var ef ersFlags
	ef.add(fs)
	var (
		list, service, specialty, specialtySystem, location, clinician string
		out                                                            string
		raw, force                                                     bool
		pdsURL                                                         string
		version                                                        int
	)
	switch sub {
	case "worklist":
		fs.StringVar(&list, "list", string(triage.ListReferralsForReview), "REFERRALS_FOR_REVIEW or APPOINTMENT_SLOT_ISSUES")
		fs.StringVar(&service, "service", "", "only this e-RS service id")
		fs.StringVar(&specialty, "specialty", "", "only this SPECIALTY code")
		fs.StringVar(&specialtySystem, "specialty-system", "", "SPECIALTY code system URL (default: BASE/STU3/CodeSystem/SPECIALTY)")
		fs.StringVar(&location, "location", "", "only this location (ODS code)")
		fs.StringVar(&clinician, "clinician", "", "only referrals assigned to this clinician (SDS user id)")
	case "referral":
		fs.BoolVar(&raw, "raw", false, "print the referral's FHIR JSON as received")
	case "cri":
		fs.StringVar(&out, "out", "", "file to write the PDF to (required)")
		fs.BoolVar(&force, "force", false, "overwrite --out if it exists")
	case "attachment":
		fs.StringVar(&out, "out", "", "folder to save the attachment in (required)")
	case "actions":
		fs.IntVar(&version, "version", 0, "referral version (default: read the current one first)")
	case "patient":
		fs.StringVar(&pdsURL, "pds-url", "", "PDS FHIR R4 base URL (default: the environment's)")
	case "refdata", "roles", "on-behalf-of":
	default:
		return usageError{fmt.Sprintf("unknown ers subcommand %q; run 'triagectl ers help'", sub)}
	}
	positional, err := parseArgs(fs, rest)
	if err != nil {
		return err
	}
	needArg := map[string]string{"patient": "an NHS number", "referral": "a UBRN", "cri": "a UBRN", "attachment": "an attachment id", "actions": "a UBRN", "refdata": "a reference data type"}
	var arg string
	if what, ok := needArg[sub]; ok {
		if len(positional) != 1 {
			return usageError{fmt.Sprintf("give %s, e.g. triagectl ers %s %s", what, sub, map[string]string{
				"patient": "9000000009", "referral": "000000070000", "cri": "000000070000 --out cri.pdf", "attachment": "Binary/ID --out DIR",
				"actions": "000000070000", "refdata": "SPECIALTY"}[sub])}
		}
		arg = positional[0]
		if what == "a UBRN" {
			if arg, err = ubrnArg(arg); err != nil {
				return err
			}
		}
	} else if len(positional) != 0 {
		return usageError{fmt.Sprintf("%s takes no arguments", sub)}
	}
	if (sub == "cri" || sub == "attachment") && out == "" {
		return usageError{"give --out"}
	}

	if sub == "patient" {
		ctx, cancel := context.WithTimeout(ctx, ef.timeout)
		defer cancel()
		return runERSPatient(ctx, g, ef, pdsURL, arg)
	}
	client, err := ersClient(g, ef)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ef.timeout)
	defer cancel()
	switch sub {
	case "worklist":
		f := triage.WorklistFilter{Service: service, Location: location, Clinician: clinician}
		if specialty != "" {
			if specialtySystem == "" {
				specialtySystem = client.BaseURL() + "/STU3/CodeSystem/SPECIALTY"
			}
			f.Specialty = triage.Coding{System: specialtySystem, Code: specialty}
		}
		res, err := client.Worklist(ctx, triage.ListType(strings.ToUpper(list)), f)
		if err != nil {
			return ersFailure(g, err)
		}
		printWorklist(g.Stdout, res)
	case "referral":
		res, err := client.Referral(ctx, arg)
		if err != nil {
			return ersFailure(g, err)
		}
		if raw {
			_, err := g.Stdout.Write(append(res.Raw, '\n'))
			return err
		}
		printReferral(g.Stdout, res)
	case "cri":
		file, err := client.ClinicalInformation(ctx, arg)
		if err != nil {
			return ersFailure(g, err)
		}
		write := writePatientFile
		if force {
			write = replacePatientFile
		}
		if err := write(out, file.Data); err != nil {
			return err
		}
		fmt.Fprintf(g.Stdout, "Saved the clinical information (%d bytes, %s) to %s\n", len(file.Data), file.ContentType, out)
		printMeta(g.Stdout, file.Meta)
	case "attachment":
		file, err := client.Attachment(ctx, arg)
		if err != nil {
			return ersFailure(g, err)
		}
		path, err := saveInto(out, file.FileName, file.Data)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.Stdout, "Saved the attachment (%d bytes, %s) to %s\n", len(file.Data), file.ContentType, path)
		printMeta(g.Stdout, file.Meta)
	case "actions":
		if version > 0 {
			res, err := client.AvailableActions(ctx, arg, version)
			if err != nil {
				return ersFailure(g, err)
			}
			printActions(g.Stdout, res.Actions, version)
			printMeta(g.Stdout, res.Meta)
			return nil
		}
		ref, err := client.Referral(ctx, arg)
		if err != nil {
			return ersFailure(g, err)
		}
		// As the app does: after a refusal of the version, one re-read,
		// then A029 without a version.
		chk, err := client.ActionsNow(ctx, arg, ref.Version)
		switch {
		case err != nil:
			return ersFailure(g, err)
		case chk.Changed(ref.Version):
			fmt.Fprintf(g.Stdout, "The referral changed while it was being read (version %d, now %d): run the command again.\n", ref.Version, chk.Reread.Version)
		case !chk.Known:
			fmt.Fprintf(g.Stdout, "e-RS did not say which actions are allowed on version %d: it answered A029 neither for that version nor without one. "+
				"Triage Desk then offers every decision that fits the referral, and e-RS checks the decision when it arrives.\n", ref.Version)
		default:
			if chk.Unversioned {
				fmt.Fprintf(g.Stdout, "(e-RS answered only when asked without a version; version %d was refused.)\n", ref.Version)
			}
			printActions(g.Stdout, chk.Actions, ref.Version)
		}
	case "refdata":
		res, err := client.CodeSystem(ctx, triage.CodeSystemType(strings.ToUpper(arg)))
		if err != nil {
			return ersFailure(g, err)
		}
		printCodeSystem(g.Stdout, res)
	case "roles":
		res, err := client.PractitionerRoles(ctx)
		if err != nil {
			return ersFailure(g, err)
		}
		tw := tabwriter.NewWriter(g.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ODS\tUSER\tBUSINESS FUNCTIONS")
		for _, r := range res.Roles {
			var bfs []string
			for _, bf := range r.BusinessFunctions {
				bfs = append(bfs, string(bf))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ODS, r.SDSUserID, strings.Join(bfs, ", "))
		}
		tw.Flush()
		printMeta(g.Stdout, res.Meta)
	case "on-behalf-of":
		res, err := client.OnBehalfOfUsers(ctx)
		if err != nil {
			return ersFailure(g, err)
		}
		for _, u := range res.Users {
			fmt.Fprintf(g.Stdout, "%s\t%s\n", u.SDSUserID, u.Name)
		}
		printMeta(g.Stdout, res.Meta)
	}
	return nil
}

// printActions lists A029's actions, one a line.
func printActions(w io.Writer, acts []triage.Action, version int) {
	if len(acts) == 0 {
		fmt.Fprintf(w, "No actions are available to you on version %d.\n", version)
	}
	for _, a := range acts {
		fmt.Fprintln(w, a)
	}
}

// ersClient builds the client from the global and ers flags.
func ersClient(g *Globals, ef ersFlags) (*ers.Client, error) {
	base := g.BaseURL
	if base == "" {
		name, err := config.ParseEnvironmentName(g.Env)
		if err != nil {
			return nil, err
		}
		env, _ := config.Builtin(name)
		base = env.FHIRBaseURL
	}
	if base == "" {
		return nil, usageError{"give --base-url URL, or --env nhs-sandbox, int or prod"}
	}
	cfg := ers.Config{BaseURL: base, RateLimit: rate.Limit(ef.rate), AllowHighRate: true}
	if ef.tokenEnv != "" {
		tok := strings.TrimSpace(os.Getenv(ef.tokenEnv))
		if tok == "" {
			return nil, triage.Errorf(triage.EINVALID, "The environment variable %s is empty: set it to a bearer token, or leave out --token-env.", ef.tokenEnv)
		}
		cfg.TokenSource = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
	}
	if ef.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := ers.New(cfg)
	if err != nil {
		return nil, triage.Errorf(triage.EINVALID, "%s", strings.TrimPrefix(err.Error(), "ers: "))
	}
	id := triage.Identity{ODS: strings.TrimSpace(ef.ods), BusinessFunction: triage.BusinessFunction(strings.ToUpper(strings.TrimSpace(ef.businessFunction)))}
	if id.BusinessFunction == triage.RoleServiceProviderClinicianAdmin {
		id.OnBehalfOf = strings.TrimSpace(ef.onBehalfOf)
	}
	return c.WithIdentity(id), nil
}

// ersFailure prints what support needs (the ids, and e-RS's own words) to
// stderr, then returns the error for main to print its plain-English message.
func ersFailure(g *Globals, err error) error {
	var e *ers.Error
	if errors.As(err, &e) {
		fmt.Fprintf(g.Stderr, "details: %s\n", e.Error())
		if e.Diagnostics != "" {
			fmt.Fprintf(g.Stderr, "e-RS said: %s\n", e.Diagnostics)
		}
		if !e.NotBefore.IsZero() {
			fmt.Fprintf(g.Stderr, "try again after: %s\n", e.NotBefore.Local().Format(time.DateTime))
		}
	}
	return err
}

func printMeta(w io.Writer, m ers.Meta) {
	fmt.Fprintf(w, "(%s: HTTP %d, correlation %s", m.Op, m.Status, m.CorrelationID)
	if m.RequestID != "" {
		fmt.Fprintf(w, ", request %s", m.RequestID)
	}
	fmt.Fprintln(w, ")")
}

func date(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02")
}

func printWorklist(w io.Writer, res *ers.WorklistResult) {
	fmt.Fprintf(w, "%s: %d referrals, as of %s\n", res.List, len(res.Items), res.AsOf.Local().Format(time.DateTime))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if res.List == triage.ListAppointmentSlotIssues {
		fmt.Fprintln(tw, "UBRN\tNHS NUMBER\tPRIORITY\tSPECIALTY\tSERVICE\tREASON\tCONTACT BY\tCLINICAL INFO")
		for _, it := range res.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.UBRN, triage.FormatNHSNumber(it.NHSNumber), it.Priority.Label(),
				it.Specialty.Label(), it.Service.Label(), it.ReviewReason, date(it.PatientContactExpected), it.ClinicalInformationStatus)
		}
	} else {
		fmt.Fprintln(tw, "UBRN\tNHS NUMBER\tPRIORITY\tTYPE\tSPECIALTY\tSERVICE\tRECEIVED\tAPPOINTMENT\tCHANGED\tVERSION")
		for _, it := range res.Items {
			changed := ""
			if it.ContextStatus.ChangedSinceReview() {
				changed = it.ContextStatus.Label()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", it.UBRN, triage.FormatNHSNumber(it.NHSNumber), it.Priority.Label(),
				it.Type.Label(), it.Specialty.Label(), it.Service.Label(), date(it.Received()), date(it.AppointmentStart), changed, it.Version)
		}
	}
	tw.Flush()
	printMeta(w, res.Meta)
}

// detailRows starts a two-column table of one referral's or request's
// details on w: row adds a line unless its value is empty, and the table
// opens with the UBRN, version and NHS number. Flush tw when done.
func detailRows(w io.Writer, ubrn string, version int, nhs string) (tw *tabwriter.Writer, row func(k, v string)) {
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	row = func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("UBRN", ubrn)
	row("Version", strconv.Itoa(version))
	row("NHS number", triage.FormatNHSNumber(nhs))
	return tw, row
}

func printReferral(w io.Writer, res *ers.ReferralResult) {
	r := res.Referral
	tw, row := detailRows(w, r.UBRN, res.Version, r.NHSNumber)
	row("State", r.State.State.Label())
	row("Reason", r.State.Reason.Label())
	row("Comments", r.State.Comments)
	row("Type", r.Type.Label()+" (inferred)")
	row("Priority", r.Priority.Label())
	row("Specialty", r.Specialty.Label())
	row("Clinic type", r.ClinicType.Label())
	row("Service", r.Service.Label())
	row("Pathway start", date(r.PathwayStart))
	if a := r.Appointment; a != nil {
		booking := string(a.Booking)
		if booking == "" {
			booking = "not booked"
		}
		row("Appointment", fmt.Sprintf("%s (%s)", date(a.Start), booking))
	}
	row("Patient needs", r.Needs())
	row("Related UBRNs", strings.Join(r.RelatedUBRNs, ", "))
	tw.Flush()
	if len(r.Documents) > 0 {
		fmt.Fprintln(w, "\nAttachments:")
		printDocuments(w, "", r.Documents)
	}
	printMeta(w, res.Meta)
}

func printCodeSystem(w io.Writer, res *ers.CodeSystemResult) {
	cs := res.CodeSystem
	fmt.Fprintf(w, "%s (%s), %d codes; system %s\n", cs.Type, cs.Name, len(cs.Concepts), cs.URL)
	now := time.Now()
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tDISPLAY\tCURRENT\tDETAILS")
	for _, c := range cs.Concepts {
		var details []string
		if c.ReasonType != "" {
			details = append(details, c.ReasonType)
		}
		if c.CommentIsMandatory {
			details = append(details, "comment required")
		}
		if c.Specialty.Code != "" {
			details = append(details, "specialty "+c.Specialty.Code)
		}
		if c.TriageContactDays > 0 || c.DeferToProviderContactDays > 0 {
			details = append(details, fmt.Sprintf("triage %d / deferral %d working days", c.TriageContactDays, c.DeferToProviderContactDays))
		}
		current := "yes"
		if !c.EffectiveAt(now) {
			current = "no"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Code, c.Display, current, strings.Join(details, "; "))
	}
	tw.Flush()
	printMeta(w, res.Meta)
}

// saveInto saves data in dir under the (sanitised) name as a new,
// owner-only file, never overwriting and never through a link: "name
// (2).ext", "name (3).ext", … when taken.
func saveInto(dir, name string, data []byte) (string, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", triage.Errorf(triage.EINVALID, "%s is not a folder. Create it first, or give another --out.", dir)
	}
	path, err := atomicfile.CreateNewIn(dir, ers.SanitizeFilename(name), data, 0o600)
	if err != nil {
		return "", &triage.Error{Code: triage.EUNAVAILABLE, Err: err,
			Message: fmt.Sprintf("The attachment could not be saved in %s: %v. Check the folder and the free space.", dir, errors.Unwrap(err))}
	}
	return path, nil
}
