package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/config"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

func init() {
	register(command{name: "sync", summary: "download the worklist, referrals and documents and send queued decisions (--once, --watch)", run: runSync})
	register(command{name: "worklist", summary: "show the cached Referrals for Review worklist (--json)", run: runWorklist})
	register(command{name: "show", summary: "show one cached referral: show UBRN (--json)", run: runShow})
	register(command{name: "decide", summary: "queue a decision: decide UBRN accept|reject|redirect|review [flags]", run: runDecide})
	register(command{name: "outbox", summary: "list decisions on their way to e-RS (--json); outbox retry|amend|cancel|discard|acknowledge ID", run: runOutbox})
	register(command{name: "conflicts", summary: "list decisions not applied because the referral changed in e-RS", run: runConflicts})
	register(command{name: "export", summary: "write a referral's vetting pack PDF: export UBRN --out pack.pdf", run: runExport})
}

// appOptions are the shared app wiring's options from the global flags.
// The command line never locks for inactivity: each command is short.
func appOptions(g *Globals) (app.Options, error) {
	var override *config.EnvironmentChoice
	// "demo" is the flag's default; anything else, or a base URL, is a choice.
	if g.Env != "" && (g.Env != string(config.EnvDemo) || g.BaseURL != "") {
		name, err := config.ParseEnvironmentName(g.Env)
		if err != nil {
			return app.Options{}, err
		}
		override = &config.EnvironmentChoice{Name: name, FHIRBaseURL: g.BaseURL}
	}
	return app.Options{ProfileDir: g.Profile, Override: override, DevInsecureKeyfile: g.DevInsecureKeyfile,
		KeyWarn: g.Stderr, LockTimeout: -1, LoginCommand: loginCommand(g)}, nil
}

// openApp opens the signed-in clinician's workspace for a command, through
// the same sign-in as the GUI: the saved session (triagectl login) must be
// active; in demo mode, when nobody is signed in, the demo clinician is
// signed in through the sandbox's mock CIS2. offline opens only the store,
// without the network.
func openApp(ctx context.Context, g *Globals, offline bool) (*app.Workspace, error) {
	o, err := appOptions(g)
	if err != nil {
		return nil, err
	}
	o.Offline = offline
	return app.Open(ctx, o)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2 Jan 2006 15:04")
}

// progressBar draws done/total as a one-line bar.
func progressBar(done, total, width int) string {
	if total <= 0 {
		return ""
	}
	fill := done * width / total
	return fmt.Sprintf("[%s%s] %d/%d", strings.Repeat("#", fill), strings.Repeat("-", width-fill), done, total)
}

func runSync(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("sync", g)
	once := fs.Bool("once", false, "sync once and exit (the default)")
	watch := fs.Bool("watch", false, "keep syncing until interrupted, printing what happens")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *once && *watch {
		return usageError{"choose --once or --watch, not both"}
	}
	a, err := openApp(ctx, g, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if *watch {
		return watchSync(ctx, g, a)
	}
	drawn := false
	rep, err := a.SyncOnce(ctx, func(p engine.PrefetchProgress) {
		fmt.Fprintf(g.Stderr, "\rDownloading %s", progressBar(p.Done, p.Total, 30))
		drawn = true
	})
	if drawn {
		fmt.Fprintln(g.Stderr)
	}
	w := g.Stdout
	switch {
	case rep.PullError != nil:
		fmt.Fprintf(w, "Worklist: not refreshed: %s\n", triage.ErrorMessage(rep.PullError))
	case err == nil:
		fmt.Fprintf(w, "Worklist as of %s: %d referrals (%d new, %d changed, %d left the list)\n",
			when(rep.Pull.AsOf), rep.Pull.Total, rep.Pull.New, rep.Pull.Changed, rep.Pull.Left)
		fmt.Fprintf(w, "Downloads: %d done", rep.Downloads)
		if rep.Remaining > 0 {
			fmt.Fprintf(w, ", %d waiting (%s)", rep.Remaining, rep.Status.Reason)
		}
		fmt.Fprintln(w)
	}
	if rep.RefDataError != nil {
		fmt.Fprintf(w, "Reference data: not refreshed: %s\n", triage.ErrorMessage(rep.RefDataError))
	}
	printAdviceSync(w, rep)
	if rep.Outbox != nil {
		printOutboxVerdict(w, rep.Outbox, rep.Damage)
	}
	if rep.Status.State != engine.StateOnline {
		fmt.Fprintf(w, "%s\n", rep.Status.Reason)
	}
	if err != nil {
		return err
	}
	return damageError(rep.Damage)
}

// printOutboxVerdict prints the outbox's counts and, loudly, its damaged
// records: the same verdict sync, sync --watch and outbox give (and doctor
// gives in its own words). It never says "empty" while a record is
// damaged.
func printOutboxVerdict(w io.Writer, counts map[triage.OutboxState]int, d store.OutboxDamage) {
	summary := outboxSummary(counts)
	if d.Damaged() && summary == "empty" {
		summary = "no readable decisions"
	}
	fmt.Fprintf(w, "Outbox: %s\n", summary)
	if !d.Damaged() {
		return
	}
	fmt.Fprintf(w, "Outbox: DAMAGED: %s\n", d.Summary())
	for _, l := range d.Lines() {
		fmt.Fprintf(w, "  - %s\n", l)
	}
}

// damageError is the command's error while the outbox has damaged
// records, so no script takes the run for a clean one.
func damageError(d store.OutboxDamage) error {
	if !d.Damaged() {
		return nil
	}
	return &triage.Error{Code: triage.EINTERNAL, Err: store.ErrOutboxDamaged,
		Message: "The file of your saved decisions has damaged records (listed above). " + store.NextStep}
}

func outboxSummary(c map[triage.OutboxState]int) string {
	var parts []string
	for _, s := range triage.OutboxStates {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
		}
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, ", ")
}

// watchSync runs the engine until ctx ends, printing its events.
func watchSync(ctx context.Context, g *Globals, a *app.Workspace) error {
	events, cancel := a.Subscribe(1024)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	w := g.Stdout
	fmt.Fprintln(w, "Syncing; press Ctrl-C to stop.")
	for {
		select {
		case err := <-done:
			return err
		case ev, ok := <-events:
			if !ok {
				return <-done
			}
			switch ev := ev.(type) {
			case engine.WorklistUpdated:
				fmt.Fprintf(w, "Worklist as of %s: %d referrals (%d 2WW, %d urgent; %d new, %d changed, %d left)\n",
					when(ev.AsOf), ev.Total, ev.TwoWeek, ev.Urgent, ev.New, ev.Changed, ev.Left)
			case engine.PrefetchProgress:
				fmt.Fprintf(g.Stderr, "\rDownloading %s", progressBar(ev.Done, ev.Total, 30))
				if ev.Done == ev.Total {
					fmt.Fprintln(g.Stderr)
				}
			case engine.OutboxChanged:
				printOutboxVerdict(w, ev.Counts, ev.Damage)
			case engine.OutboxWaiting:
				if ev.Count > 0 {
					fmt.Fprintln(w, ev.Reason)
				}
			case engine.SyncStateChanged:
				fmt.Fprintf(w, "Connection: %s. %s\n", ev.Status.State, ev.Status.Reason)
			case engine.ErrorEvent:
				fmt.Fprintf(w, "Problem: %s\n", ev.Message)
			}
		}
	}
}

func runWorklist(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("worklist", g)
	asJSON := fs.Bool("json", false, "print JSON")
	a, err := parseFlagsAndOpen(ctx, g, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	wl, err := a.ReviewList(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(g.Stdout, wl)
	}
	fmt.Fprintf(g.Stdout, "Referrals for Review as of %s: %d to review (%d 2WW, %d urgent, %d changed)\n",
		when(wl.AsOf), wl.Counts.ToReview, wl.Counts.TwoWeek, wl.Counts.Urgent, wl.Counts.Changed)
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRIORITY\tUBRN\tNHS NUMBER\tTYPE\tSPECIALTY\tDAYS\tREVIEW BY\tCHANGED\tSTATUS\tOFFLINE")
	now := time.Now()
	for _, r := range wl.Rows {
		rb := "-"
		if !r.ReviewBy.IsZero() {
			rb = r.ReviewBy.Local().Format("2 Jan")
		}
		changed := ""
		if r.ContextStatus.ChangedSinceReview() {
			changed = r.ContextStatus.Label()
		}
		offline := "no"
		if r.OfflineReady {
			offline = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.Priority.Label(), r.UBRN, triage.FormatNHSNumber(r.NHSNumber),
			r.Type.Label(), r.Specialty.Label(), r.DaysWaiting(now), rb, changed, r.Local.Label(), offline)
	}
	return tw.Flush()
}

func runShow(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("show", g)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseUBRNArgs(fs, args, 1, "give one UBRN: triagectl show UBRN")
	if err != nil {
		return err
	}
	ubrn := pos[0]
	a, err := openApp(ctx, g, true)
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.Referral(ctx, ubrn)
	if err != nil {
		return err
	}
	banner, err := a.PatientBanner(ctx, ubrn)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(g.Stdout, struct {
			Referral   triage.Referral      `json:"referral"`
			FetchedAt  time.Time            `json:"fetchedAt"`
			AsOf       time.Time            `json:"asOf,omitzero"`
			Documents  []store.DocumentMeta `json:"documents"`
			Local      store.LocalState     `json:"local"`
			Decision   *store.Entry         `json:"decision,omitempty"`
			DecisionOf *triage.Decision     `json:"decisionDetail,omitempty"`
			Patient    []string             `json:"patient"`
			Banner     triage.Banner        `json:"banner"`
		}{v.Referral.Referral, v.Referral.FetchedAt, v.Referral.ServerTime, v.Documents, v.Local, v.Decision, decisionOf(v.Decision),
			banner.Lines(), banner})
	}
	r := v.Referral.Referral
	w := g.Stdout
	printBanner(w, banner)
	fmt.Fprintf(w, "UBRN %s  NHS number %s\n", r.UBRN, triage.FormatNHSNumber(r.NHSNumber))
	fmt.Fprintf(w, "%s · %s · %s · version %d (as of %s)\n", r.Priority.Label(), r.Type.Label(), r.State.State.Label(), r.Version, when(v.Referral.ServerTime))
	fmt.Fprintf(w, "Service: %s (%s)\n", r.Service.Label(), r.Specialty.Label())
	if !r.PathwayStart.IsZero() {
		fmt.Fprintf(w, "Pathway start: %s\n", when(r.PathwayStart))
	}
	if needs := r.Needs(); needs != "" {
		fmt.Fprintf(w, "Patient needs: %s\n", needs)
	}
	if len(r.RelatedUBRNs) > 0 {
		fmt.Fprintf(w, "Related referrals: %s\n", strings.Join(r.RelatedUBRNs, ", "))
	}
	for _, m := range v.Mismatches {
		fmt.Fprintf(w, "Disagreement: %s – worklist: %s; referral details: %s\n", m.Field, m.Worklist, m.Referral)
	}
	if v.Local.LeftWorklist {
		fmt.Fprintln(w, "This referral is no longer on Referrals for Review.")
	}
	fmt.Fprintln(w, "Documents:")
	for _, d := range v.Documents {
		status := "cached for offline reading"
		if d.Availability != "" && d.Availability != triage.AvailabilityAvailable {
			status = d.Availability.Meaning()
		}
		name := d.Title
		if name == "" {
			name = d.FileName
		}
		fmt.Fprintf(w, "  %s (%s): %s\n", name, d.Kind, status)
	}
	if v.Decision != nil {
		fmt.Fprintf(w, "Decision: %s — %s (decision %s)\n", v.Decision.Summary, v.Decision.State, v.Decision.ID)
	}
	return nil
}

// printBanner prints the patient banner: the identity line, then each
// marker, warning and notice, then a rule.
func printBanner(w io.Writer, b triage.Banner) {
	for i, l := range b.Lines() {
		if i > 0 {
			l = "  " + l
		}
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, strings.Repeat("-", 72))
}

func decisionOf(e *store.Entry) *triage.Decision {
	if e == nil {
		return nil
	}
	d := e.Decision
	return &d
}

func runDecide(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("decide", g)
	var df decisionFlags
	df.add(fs)
	pos, err := parseUBRNArgs(fs, args, 2, "usage: triagectl decide UBRN "+decisionUsage)
	if err != nil {
		return err
	}
	d, err := df.decision(pos[0], pos[1])
	if err != nil {
		return err
	}
	a, err := openApp(ctx, g, true)
	if err != nil {
		return err
	}
	defer a.Close()
	en, err := a.Decide(ctx, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Queued: %s for referral %s (decision %s). It will be sent at the next sync.\n", en.Summary, en.UBRN, en.ID)
	return nil
}

func runOutbox(ctx context.Context, g *Globals, args []string) error {
	if len(args) > 0 && isOutboxAction(args[0]) {
		return runOutboxAction(ctx, g, args[0], args[1:])
	}
	fs := newFlagSet("outbox", g)
	asJSON := fs.Bool("json", false, "print JSON")
	a, err := parseFlagsAndOpen(ctx, g, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	es, err := a.Entries(ctx, store.EntryFilter{})
	if err != nil {
		return err
	}
	dmg, err := a.OutboxDamage(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if es == nil {
			es = []store.Entry{}
		}
		if err := writeJSON(g.Stdout, es); err != nil {
			return err
		}
		if dmg.Damaged() {
			printOutboxVerdict(g.Stderr, countStates(es), dmg)
		}
		return damageError(dmg)
	}
	if len(es) == 0 && !dmg.Damaged() {
		fmt.Fprintln(g.Stdout, "The outbox is empty.")
		return nil
	}
	defer printOutboxVerdict(g.Stdout, countStates(es), dmg)
	if len(es) == 0 {
		return damageError(dmg)
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDECIDED\tUBRN\tDECISION\tSTATE\tATTEMPTS\tNOTE")
	for _, e := range es {
		note := ""
		switch {
		case e.State == triage.OutboxSent && e.Sent != nil:
			note = fmt.Sprintf("e-RS version %d, request %s", e.Sent.NewVersion, e.Sent.RequestID)
		case e.State == triage.OutboxConflict && e.Conflict != nil:
			note = fmt.Sprintf("referral is now %s (version %d)", e.Conflict.Status.State.Label(), e.Conflict.Version)
		case e.LastError != nil:
			note = e.LastError.Message
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.ID, when(e.CreatedAt), e.UBRN, e.Summary, e.State, e.Attempts, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(g.Stdout, "\n"+outboxActionsHelp)
	return damageError(dmg)
}

func countStates(es []store.Entry) map[triage.OutboxState]int {
	c := map[triage.OutboxState]int{}
	for _, e := range es {
		c[e.State]++
	}
	return c
}

func runConflicts(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("conflicts", g)
	a, err := parseFlagsAndOpen(ctx, g, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	es, err := a.Conflicts(ctx)
	if err != nil {
		return err
	}
	w := g.Stdout
	if len(es) == 0 {
		fmt.Fprintln(w, "No conflicts: every decision was applied or is still on its way.")
		return nil
	}
	for _, e := range es {
		printConflict(w, e)
		fmt.Fprintf(w, "  Review the referral, then 'triagectl outbox acknowledge %s' and decide again (outbox amend) or discard it (outbox discard).\n", e.ID)
	}
	return nil
}

// printConflict shows a decision that was not applied beside what e-RS
// says now.
func printConflict(w io.Writer, e store.Entry) {
	c := e.Conflict
	fmt.Fprintf(w, "%s: %s (decision %s) — not sent, someone else changed the referral in e-RS.\n", e.UBRN, e.Summary, e.ID)
	if c == nil {
		return
	}
	fmt.Fprintf(w, "  e-RS now says: %s", c.Status.State.Label())
	if c.Status.Reason.Code != "" {
		fmt.Fprintf(w, " (%s)", c.Status.Reason.Label())
	}
	fmt.Fprintf(w, ", version %d (you decided on version %d), seen %s\n", c.Version, e.BaseVersion, when(c.SeenAt))
	if strings.TrimSpace(c.Status.Comments) != "" {
		fmt.Fprintf(w, "  Comments: %s\n", c.Status.Comments)
	}
	if c.Acknowledged {
		fmt.Fprintf(w, "  Acknowledged %s.\n", when(c.AcknowledgedAt))
	}
}

func runExport(ctx context.Context, g *Globals, args []string) error {
	fs := newFlagSet("export", g)
	out := fs.String("out", "", "the PDF file to write")
	const usage = "usage: triagectl export UBRN --out pack.pdf"
	pos, err := parseUBRNArgs(fs, args, 1, usage)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageError{usage}
	}
	ubrn := pos[0]
	a, err := openApp(ctx, g, true)
	if err != nil {
		return err
	}
	defer a.Close()
	pdf, err := a.VettingPack(ctx, ubrn)
	if err != nil {
		return err
	}
	if err := writePatientFile(*out, pdf); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Vetting pack written to %s (%d KB). It contains patient data: keep it safe.\n", *out, (len(pdf)+1023)/1024)
	return nil
}
