package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triagedesk/triagedesk/internal/ers"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// The Advice and Guidance raw calls of `triagectl ers`.

const ersAdviceUsage = `
Advice and Guidance:
  ag-worklist               A023: the Advice and Guidance worklist (response required first)
  ag-request UBRN           A024: a request's summary (--version N reads _history/N; --raw prints its FHIR JSON)
  ag-conversation UBRN      A025: every message, oldest first (--version N, else read the current one first)
  ag-overview UBRN --out FILE
                            A043: save the request's overview PDF
  ag-reply UBRN --version N --outcome advice|further-information --guidance TEXT
                            A026: reply (advice needs --recommendation ADVICE_ONLY_NO_REFERRAL_RECOMMENDED,
                            ADVICE_FOLLOWED_BY_REFERRAL_IF_REQUIRED, REFERRAL_RECOMMENDED or OTHER;
                            --priority defaults to the current one; --guidance-file FILE instead of
                            --guidance; --attach FILE, repeatable, is uploaded with A020 first)
  ag-convert UBRN --version N --guidance TEXT --review-comments TEXT
                            A027: convert to a referral, only where the referrer allowed it
                            (--priority, --guidance-attach FILE, --review-attach FILE)

ag-reply and ag-convert read the request first (A024) and send nothing when
it is no longer at --version: read it and its conversation again.`

// adviceSubcommands are the A&G subcommands of ers.
var adviceSubcommands = []string{"ag-worklist", "ag-request", "ag-conversation", "ag-overview", "ag-reply", "ag-convert"}

// files is a repeatable file flag.
type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

// adviceFlags are the flags of the A&G subcommands.
type adviceFlags struct {
	filter                                 triage.WorklistFilter
	specialty, specialtySystem             string
	version                                int
	raw, force                             bool
	out                                    string
	outcome, recommendation, priority      string
	guidance, guidanceFile, reviewComments string
	attach, guidanceAttach, reviewAttach   files
}

func (af *adviceFlags) add(sub string, fs *flag.FlagSet) {
	switch sub {
	case "ag-worklist":
		fs.StringVar(&af.filter.Service, "service", "", "only this e-RS service id")
		fs.StringVar(&af.specialty, "specialty", "", "only this SPECIALTY code")
		fs.StringVar(&af.specialtySystem, "specialty-system", "", "SPECIALTY code system URL (default: BASE/STU3/CodeSystem/SPECIALTY)")
		fs.StringVar(&af.filter.Location, "location", "", "only this location (ODS code)")
		fs.StringVar(&af.filter.Clinician, "clinician", "", "only requests naming this clinician (SDS user id)")
	case "ag-request", "ag-conversation":
		fs.IntVar(&af.version, "version", 0, "the request's version")
		fs.BoolVar(&af.raw, "raw", false, "print the FHIR JSON as received")
	case "ag-overview":
		fs.StringVar(&af.out, "out", "", "file to write the PDF to (required)")
		fs.BoolVar(&af.force, "force", false, "overwrite --out if it exists")
	case "ag-reply", "ag-convert":
		fs.IntVar(&af.version, "version", 0, "the version of the request you read (required; sent as If-Match or in createFrom)")
		fs.StringVar(&af.priority, "priority", "", "ROUTINE, URGENT or TWO_WEEK_WAIT (default: the request's current priority)")
		fs.StringVar(&af.guidance, "guidance", "", "guidance for the referrer (at most 8000 characters)")
		fs.StringVar(&af.guidanceFile, "guidance-file", "", "read the guidance from this UTF-8 text file")
		if sub == "ag-reply" {
			fs.StringVar(&af.outcome, "outcome", "", "advice (RETURN_TO_REFERRER_WITH_ADVICE) or further-information (REQUIRE_FURTHER_INFORMATION)")
			fs.StringVar(&af.recommendation, "recommendation", "", "your intended recommendation (required with advice)")
			fs.Var(&af.attach, "attach", "a file to send with the reply (repeatable)")
		} else {
			fs.StringVar(&af.reviewComments, "review-comments", "", "comments for your booking team (at most 2000 characters)")
			fs.Var(&af.guidanceAttach, "guidance-attach", "a file for the referrer (repeatable)")
			fs.Var(&af.reviewAttach, "review-attach", "a file for your booking team (repeatable)")
		}
	}
}

// runERSAdvice runs an A&G subcommand of ers with its own flags.
func runERSAdvice(ctx context.Context, g *Globals, sub string, args []string) error {
	fs := newFlagSet("ers "+sub, g)
	fs.Usage = func() { fmt.Fprintln(g.Stderr, ersUsage+ersAdviceUsage) }
	var ef ersFlags
	ef.add(fs)
	var af adviceFlags
	af.add(sub, fs)
	positional, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	var ubrn string
	if sub != "ag-worklist" {
		if len(positional) != 1 {
			return usageError{fmt.Sprintf("give the advice and guidance request's UBRN, e.g. triagectl ers %s 000000070000", sub)}
		}
		if ubrn, err = ubrnArg(positional[0]); err != nil {
			return err
		}
	} else if len(positional) != 0 {
		return usageError{"ag-worklist takes no arguments"}
	}
	switch {
	case sub == "ag-overview" && af.out == "":
		return usageError{"give --out"}
	case (sub == "ag-reply" || sub == "ag-convert") && af.version <= 0:
		return usageError{"give --version N: the version of the request you read (triagectl ers ag-request UBRN)"}
	case af.guidance != "" && af.guidanceFile != "":
		return usageError{"give --guidance or --guidance-file, not both"}
	}
	if af.guidanceFile != "" {
		b, err := os.ReadFile(af.guidanceFile)
		if err != nil {
			return triage.Errorf(triage.EINVALID, "Cannot read %s: %v", af.guidanceFile, errors.Unwrap(err))
		}
		af.guidance = string(b)
	}
	client, err := ersClient(g, ef)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ef.timeout)
	defer cancel()
	w := g.Stdout
	switch sub {
	case "ag-worklist":
		if af.specialty != "" {
			if af.specialtySystem == "" {
				af.specialtySystem = client.BaseURL() + "/STU3/CodeSystem/SPECIALTY"
			}
			af.filter.Specialty = triage.Coding{System: af.specialtySystem, Code: af.specialty}
		}
		res, err := client.AdviceWorklist(ctx, af.filter)
		if err != nil {
			return ersFailure(g, err)
		}
		printAdviceWorklist(w, res, time.Now())
	case "ag-request":
		var res *ers.AdviceRequestResult
		if af.version > 0 {
			res, err = client.AdviceRequestAtVersion(ctx, ubrn, af.version)
		} else {
			res, err = client.AdviceRequest(ctx, ubrn)
		}
		if err != nil {
			return ersFailure(g, err)
		}
		if af.raw {
			_, err := w.Write(append(res.Raw, '\n'))
			return err
		}
		printAdviceRequest(w, res)
	case "ag-conversation":
		if af.version <= 0 {
			req, err := client.AdviceRequest(ctx, ubrn)
			if err != nil {
				return ersFailure(g, err)
			}
			af.version = req.Version
		}
		res, err := client.AdviceConversation(ctx, ubrn, af.version)
		if err != nil {
			return ersFailure(g, err)
		}
		if af.raw {
			_, err := w.Write(append(res.Raw, '\n'))
			return err
		}
		printConversation(w, res)
	case "ag-overview":
		file, err := client.AdviceOverview(ctx, ubrn)
		if err != nil {
			return ersFailure(g, err)
		}
		write := writePatientFile
		if af.force {
			write = replacePatientFile
		}
		if err := write(af.out, file.Data); err != nil {
			return err
		}
		fmt.Fprintf(w, "Saved the advice and guidance overview (%d bytes, %s) to %s\n", len(file.Data), file.ContentType, af.out)
		printMeta(w, file.Meta)
	case "ag-reply", "ag-convert":
		return adviceWrite(ctx, g, client, sub, ubrn, af)
	}
	return nil
}

// adviceWrite reads the request, refuses to go on if it moved past
// --version, uploads the files and sends the reply or conversion.
func adviceWrite(ctx context.Context, g *Globals, client *ers.Client, sub, ubrn string, af adviceFlags) error {
	cur, err := client.AdviceRequest(ctx, ubrn)
	if err != nil {
		return ersFailure(g, err)
	}
	if cur.Version != af.version {
		return triage.Errorf(triage.ECONFLICT, "The request is now at version %d, not %d: something changed since you read it. Read it and its conversation again (triagectl ers ag-conversation %s), then decide.",
			cur.Version, af.version, ubrn)
	}
	priority := cur.Request.Priority
	if af.priority != "" {
		priority = triage.Priority(strings.ToUpper(af.priority))
	}
	now := time.Now()
	upload := func(paths []string) ([]triage.ProviderAttachment, error) {
		var out []triage.ProviderAttachment
		for _, p := range paths {
			a, data, err := readAttachment(p, now)
			if err != nil {
				return nil, err
			}
			res, err := client.UploadAttachment(ctx, ubrn, a, data)
			if err != nil {
				return nil, ersFailure(g, err)
			}
			a.BinaryID = res.BinaryID
			fmt.Fprintf(g.Stdout, "Uploaded %s as Binary/%s\n", a.FileName, a.BinaryID)
			out = append(out, a)
		}
		return out, nil
	}
	w := g.Stdout
	if sub == "ag-reply" {
		r := triage.AdviceReply{UBRN: ubrn, BaseVersion: af.version, DecidedAt: now, Outcome: parseOutcome(af.outcome),
			Recommendation: triage.IntendedRecommendation(strings.ToUpper(af.recommendation)), Guidance: af.guidance, Priority: priority}
		// Refuse an incomplete reply before uploading anything.
		if err := r.CheckSendable(); err != nil {
			return err
		}
		if r.Attachments, err = upload(af.attach); err != nil {
			return err
		}
		res, err := client.SendAdviceReply(ctx, r)
		if err != nil {
			return ersFailure(g, err)
		}
		fmt.Fprintf(w, "Reply sent (%s). The request is now %q, version %d; your message is %s.\n",
			r.Summary(), res.Request.Category.Label(), res.Version, res.Message.ID)
		printMeta(w, res.Meta)
		return nil
	}
	c := triage.AdviceConversion{UBRN: ubrn, BaseVersion: af.version, DecidedAt: now, Authorisation: cur.Request.Conversion,
		Guidance: af.guidance, Priority: priority, ReviewComments: af.reviewComments}
	if err := c.CheckSendable(); err != nil {
		return err
	}
	if c.GuidanceAttachments, err = upload(af.guidanceAttach); err != nil {
		return err
	}
	if c.ReviewAttachments, err = upload(af.reviewAttach); err != nil {
		return err
	}
	res, err := client.ConvertAdviceToReferral(ctx, c)
	if err != nil {
		return ersFailure(g, err)
	}
	fmt.Fprintf(w, "Converted to referral %s (%s, state %s, version %d).\n", res.Referral.UBRN, res.Referral.Priority.Label(),
		res.Referral.State.State.Label(), res.Version)
	printMeta(w, res.Meta)
	return nil
}

// parseOutcome accepts the short names and the e-RS codes.
func parseOutcome(s string) triage.GuidanceOutcome {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "advice":
		return triage.GuidanceReturnWithAdvice
	case "further-information", "further-info", "rfi":
		return triage.GuidanceRequestFurtherInfo
	}
	return triage.GuidanceOutcome(strings.ToUpper(strings.TrimSpace(s)))
}

// readAttachment reads a file to attach: at most 5 MB, its type from its
// extension.
func readAttachment(path string, at time.Time) (triage.ProviderAttachment, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return triage.ProviderAttachment{}, nil, triage.Errorf(triage.EINVALID, "Cannot read %s: %v", path, errors.Unwrap(err))
	}
	if len(data) == 0 || len(data) > triage.MaxAttachmentSize {
		return triage.ProviderAttachment{}, nil, triage.Errorf(triage.EINVALID, "%s must be between 1 byte and 5 MB to send through e-RS.", path)
	}
	name := filepath.Base(path)
	return triage.NewProviderAttachment(name, name, int64(len(data)), at), data, nil
}

func printAdviceWorklist(w io.Writer, res *ers.AdviceWorklistResult, now time.Time) {
	items := slices.Clone(res.Items)
	slices.SortStableFunc(items, triage.CompareAdviceItems)
	due := 0
	for _, it := range items {
		if it.Category.ResponseRequired() {
			due++
		}
	}
	fmt.Fprintf(w, "ADVICE_AND_GUIDANCE_REQUESTS: %d requests, %d need a response, as of %s\n", len(items), due, res.AsOf.Local().Format(time.DateTime))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UBRN\tNHS NUMBER\tPRIORITY\tCATEGORY\tSPECIALTY\tSERVICE\tASKED\tDAYS\tNAMED CLINICIAN\tVERSION")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\n", it.UBRN, triage.FormatNHSNumber(it.NHSNumber), it.Priority.Label(),
			it.Category.Label(), it.Specialty.Label(), it.Service.Label(), date(it.FirstRequested), it.DaysSinceAsked(now), it.NamedClinician, it.Version)
	}
	tw.Flush()
	printMeta(w, res.Meta)
}

func printAdviceRequest(w io.Writer, res *ers.AdviceRequestResult) {
	r := res.Request
	tw, row := detailRows(w, r.UBRN, res.Version, r.NHSNumber)
	row("Category", r.Category.Label())
	row("Priority", r.Priority.Label())
	row("Specialty", r.Specialty.Label())
	row("Clinic type", r.ClinicType.Label())
	row("Service", r.Service.Label())
	row("Requested by", r.Requester.Label())
	row("Conversion", r.Conversion.Label())
	tw.Flush()
	printDocuments(w, "    ", r.Documents)
	printMeta(w, res.Meta)
}

// printDocuments lists attachments, each line indented, and says why any
// cannot be downloaded now.
func printDocuments(w io.Writer, indent string, docs []triage.Document) {
	if len(docs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, indent+"ID\tTITLE\tTYPE\tCONTENT TYPE\tSIZE\tAVAILABILITY\tDOWNLOAD WITH")
	for _, d := range docs {
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%d\t%s\t%s\n", indent, d.ID, ers.SanitizeFilename(d.Title), d.Type, d.ContentType, d.Size, d.Availability, d.URL)
	}
	tw.Flush()
	for _, d := range docs {
		if !d.Downloadable() {
			fmt.Fprintf(w, "%s  %s: %s\n", indent, d.ID, d.Availability.Meaning())
		}
	}
}

func printConversation(w io.Writer, res *ers.AdviceConversationResult) {
	c := res.Conversation
	plural := "s"
	if len(c.Messages) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "Advice and guidance request %s, version %d: %d message%s, oldest first\n", c.UBRN, c.Version, len(c.Messages), plural)
	printMessages(w, c.Messages, c.Unanswered())
	printMeta(w, res.Meta)
}

// printMessages prints a conversation's messages, each with who sent it
// and when, its text and its files, then how many of the referrer's are
// unanswered.
func printMessages(w io.Writer, msgs, unanswered []triage.AdviceMessage) {
	for _, m := range msgs {
		when := "-"
		if !m.Sent.IsZero() {
			when = m.Sent.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "\n[%s] %s  %s (%s)\n", m.ID, when, m.SentBy.Label(), m.Author.Label())
		for _, line := range strings.Split(m.Text, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
		printDocuments(w, "    ", m.Documents)
	}
	if len(unanswered) > 0 && len(unanswered) < len(msgs) {
		fmt.Fprintf(w, "\n%d message(s) from the referrer since your last reply.\n", len(unanswered))
	}
}
