package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// `triagectl ag` works on Advice and Guidance through the same wiring as
// the referral commands: `triagectl sync` pulls the A&G worklist and
// conversations into the encrypted cache and sends queued replies; these
// commands read the cache and queue replies and conversions in the outbox
// (app.Workspace.AdviceList, Advice, Reply, Convert). Unlike `triagectl ers
// ag-*`, nothing here calls e-RS directly.

func init() {
	register(command{name: "ag", summary: "Advice and Guidance: ag worklist | show UBRN | reply UBRN [flags] | convert UBRN [flags] | outbox (queued; sent at the next sync)", run: runAG})
}

const agUsage = "usage: triagectl ag worklist|show UBRN|reply UBRN --outcome advice|further-information --guidance TEXT [--recommendation R]|convert UBRN --guidance TEXT --review-comments TEXT|outbox"

func runAG(ctx context.Context, g *Globals, args []string) error {
	if len(args) == 0 {
		return usageError{agUsage}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "worklist", "outbox":
		fs := newFlagSet("ag "+sub, g)
		asJSON := fs.Bool("json", false, "print JSON")
		a, err := parseFlagsAndOpen(ctx, g, fs, args)
		if err != nil {
			return err
		}
		defer a.Close()
		if sub == "outbox" {
			return agOutbox(ctx, g, a, *asJSON)
		}
		return agWorklist(ctx, g, a, *asJSON)
	case "show":
		fs := newFlagSet("ag show", g)
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parseUBRNArgs(fs, args, 1, "give one UBRN: triagectl ag show UBRN")
		if err != nil {
			return err
		}
		a, err := openApp(ctx, g, true)
		if err != nil {
			return err
		}
		defer a.Close()
		v, err := a.Advice(ctx, pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(g.Stdout, v)
		}
		printAdviceView(g.Stdout, v)
		return nil
	case "reply", "convert":
		return agWrite(ctx, g, sub, args)
	}
	return usageError{agUsage}
}

func agWorklist(ctx context.Context, g *Globals, a *app.Workspace, asJSON bool) error {
	wl, err := a.AdviceList(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(g.Stdout, wl)
	}
	fmt.Fprintf(g.Stdout, "Advice and Guidance as of %s: %d requests, %d need a response", when(wl.AsOf), len(wl.Rows), wl.ResponseRequired)
	if wl.Conflicts > 0 {
		fmt.Fprintf(g.Stdout, ", %d replies not sent (the conversation moved on: triagectl ag outbox)", wl.Conflicts)
	}
	fmt.Fprintln(g.Stdout)
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tPRIORITY\tUBRN\tNHS NUMBER\tSPECIALTY\tDAYS\tNAMED CLINICIAN\tYOUR REPLY\tOFFLINE")
	for _, r := range wl.Rows {
		offline := "no"
		if r.Cached {
			offline = "yes"
		}
		reply := "-"
		if r.Action != "" {
			reply = string(r.Action)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Category.Label(), r.Priority.Label(), r.UBRN,
			triage.FormatNHSNumber(r.NHSNumber), r.Specialty.Label(), r.DaysSinceAsked, r.NamedClinician, reply, offline)
	}
	return tw.Flush()
}

// printAdviceView prints a request and its conversation, oldest message
// first, and what a reply would be based on.
func printAdviceView(w io.Writer, v app.AdviceView) {
	r := v.Request
	fmt.Fprintf(w, "Advice and guidance request %s (version %d), NHS number %s\n", r.UBRN, r.Version, triage.FormatNHSNumber(r.NHSNumber))
	fmt.Fprintf(w, "  %s; %s; %s; %s\n  %s\n", r.Category.Label(), r.Priority.Label(), r.Specialty.Label(), r.Service.Label(), r.Conversion.Label())
	printDocuments(w, "    ", r.Documents)
	printMessages(w, v.Messages, v.Unanswered)
	fmt.Fprintln(w)
	if v.Pending != nil {
		fmt.Fprintf(w, "Your %s is %s (%s).\n", v.Pending.Kind, v.Pending.State.Phrase(), v.Pending.ID)
	}
	switch {
	case v.CanConvert:
		fmt.Fprintf(w, "You can reply (triagectl ag reply %s …) or convert it to a referral (triagectl ag convert %s …).\n", r.UBRN, r.UBRN)
	case v.CanReply:
		fmt.Fprintf(w, "You can reply: triagectl ag reply %s --outcome advice|further-information --guidance TEXT\n", r.UBRN)
	}
	fmt.Fprintf(w, "Read %s; a reply is based on version %d and message %s.\n", when(v.FetchedAt), r.Version, v.LatestMessageID)
}

// agFlags are the flags of ag reply and ag convert.
type agFlags struct {
	outcome, recommendation, guidance, guidanceFile, priority, reviewComments string
	version                                                                   int
	lastMessage                                                               string
	attach                                                                    files
}

func (f *agFlags) add(fs *flag.FlagSet, sub string) {
	fs.StringVar(&f.guidance, "guidance", "", "guidance for the referrer (at most 8000 characters)")
	fs.StringVar(&f.guidanceFile, "guidance-file", "", "read the guidance from this UTF-8 text file")
	fs.StringVar(&f.priority, "priority", "", "ROUTINE, URGENT or TWO_WEEK_WAIT (default: the request's current priority)")
	fs.IntVar(&f.version, "version", 0, "the request version you read (default: the cached one, as ag show printed)")
	fs.StringVar(&f.lastMessage, "last-message", "", "the latest message id you read (with --version)")
	fs.Var(&f.attach, "attach", "a file for the referrer (repeatable; at most 5 MB each): kept encrypted, uploaded just before sending")
	if sub == "reply" {
		fs.StringVar(&f.outcome, "outcome", "", "advice (RETURN_TO_REFERRER_WITH_ADVICE) or further-information (REQUIRE_FURTHER_INFORMATION)")
		fs.StringVar(&f.recommendation, "recommendation", "", "your intended recommendation (required with advice): "+recommendationNames())
	} else {
		fs.StringVar(&f.reviewComments, "review-comments", "", "comments for your booking team (at most 2000 characters)")
	}
}

func recommendationNames() string {
	var out []string
	for _, r := range triage.IntendedRecommendations {
		out = append(out, string(r))
	}
	return strings.Join(out, ", ")
}

func agWrite(ctx context.Context, g *Globals, sub string, args []string) error {
	fs := newFlagSet("ag "+sub, g)
	var f agFlags
	f.add(fs, sub)
	pos, err := parseUBRNArgs(fs, args, 1, agUsage)
	if err != nil {
		return err
	}
	if f.guidanceFile != "" {
		b, err := os.ReadFile(f.guidanceFile)
		if err != nil {
			return triage.Errorf(triage.EINVALID, "Cannot read the guidance file %s: %v", f.guidanceFile, err)
		}
		f.guidance = string(b)
	}
	a, err := openApp(ctx, g, true)
	if err != nil {
		return err
	}
	defer a.Close()
	priority := triage.Priority(strings.ToUpper(strings.TrimSpace(f.priority)))
	var atts []triage.ProviderAttachment
	for _, path := range f.attach {
		data, err := os.ReadFile(path)
		if err != nil {
			return triage.Errorf(triage.EINVALID, "Cannot read %s: %v", path, errors.Unwrap(err))
		}
		at, err := a.AttachAdviceFile(ctx, pos[0], path, data)
		if err != nil {
			return err
		}
		atts = append(atts, at)
	}
	var en store.AdviceEntry
	if sub == "reply" {
		en, err = a.Reply(ctx, triage.AdviceReply{UBRN: pos[0], BaseVersion: f.version, LastMessageID: f.lastMessage,
			DecidedAt: time.Now(), Outcome: parseOutcome(f.outcome), Recommendation: triage.IntendedRecommendation(strings.ToUpper(f.recommendation)),
			Guidance: f.guidance, Priority: priority, Attachments: atts})
	} else {
		en, err = a.Convert(ctx, triage.AdviceConversion{UBRN: pos[0], BaseVersion: f.version, LastMessageID: f.lastMessage,
			DecidedAt: time.Now(), Guidance: f.guidance, Priority: priority, ReviewComments: f.reviewComments, GuidanceAttachments: atts})
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Queued: %s for advice and guidance request %s (%s %s). It will be sent at the next sync.\n", en.Summary, en.UBRN, en.Kind, en.ID)
	return nil
}

func agOutbox(ctx context.Context, g *Globals, a *app.Workspace, asJSON bool) error {
	es, err := a.AdviceOutbox(ctx, store.EntryFilter{})
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(g.Stdout, es)
	}
	if len(es) == 0 {
		fmt.Fprintln(g.Stdout, "No advice and guidance replies or conversions in the outbox.")
		return nil
	}
	for _, e := range es {
		fmt.Fprintf(g.Stdout, "%s  %s  %s  %s  %s\n", e.ID, e.UBRN, e.Kind, e.State, e.Summary)
		if c := e.Conflict; c != nil {
			fmt.Fprintf(g.Stdout, "    Not sent: %s. New since you read it:\n", c.Reason)
			for _, m := range c.NewMessages {
				fmt.Fprintf(g.Stdout, "      [%s] %s: %s\n", m.ID, m.SentBy.Label(), m.Text)
			}
		}
		if e.LastError != nil && e.State != triage.OutboxSent {
			fmt.Fprintf(g.Stdout, "    %s\n", e.LastError.Message)
		}
	}
	return nil
}

// printAdviceSync prints what a sync did for Advice and Guidance.
func printAdviceSync(w io.Writer, rep app.SyncReport) {
	switch {
	case rep.AdviceError != nil:
		fmt.Fprintf(w, "Advice and Guidance: not refreshed: %s\n", triage.ErrorMessage(rep.AdviceError))
	case !rep.Advice.AsOf.IsZero():
		fmt.Fprintf(w, "Advice and Guidance as of %s: %d requests (%d read again, %d files downloaded)\n",
			when(rep.Advice.AsOf), rep.Advice.Total, rep.Advice.Reread, rep.Advice.Documents)
	}
	if len(rep.AdviceOutbox) > 0 {
		fmt.Fprintf(w, "Advice and Guidance outbox: %s\n", outboxSummary(rep.AdviceOutbox))
	}
}
