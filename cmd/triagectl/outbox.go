package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/store"
	"github.com/triagedesk/triagedesk/internal/triage"
)

// decisionUsage is the decision part of decide's and outbox amend's usage.
const decisionUsage = "accept|reject|redirect|review [--reason CODE] [--comment TEXT] [--pas-cancelled yes|no] [--priority P] [--outcome return|book-later]"

// outboxActionsHelp is printed under the outbox listing.
const outboxActionsHelp = `What you can do with a decision (ID as listed, or enough of its start to be unique):
  triagectl outbox retry ID        send a failed decision again
  triagectl outbox amend ID KIND   replace a queued or failed decision (or an acknowledged conflict), with decide's flags
  triagectl outbox cancel ID       withdraw a queued decision before it is sent
  triagectl outbox acknowledge ID  show what e-RS says now about a conflict, and record that you have read it
  triagectl outbox discard ID      give up a failed decision, or a conflict you have acknowledged`

// decisionFlags are the flags that describe a decision (decide, outbox
// amend).
type decisionFlags struct {
	reason, comment, pas, priority, outcome *string
}

func (f *decisionFlags) add(fs *flag.FlagSet) {
	f.reason = fs.String("reason", "", "reject: the rejection reason code (from e-RS's list)")
	f.comment = fs.String("comment", "", "comments for the referrer (reject, return with advice) or the booking team (redirect, book later)")
	f.pas = fs.String("pas-cancelled", "", "reject/redirect on an indirectly bookable service: was the appointment cancelled in the PAS? yes or no")
	f.priority = fs.String("priority", "", "redirect/review: a new priority: routine, urgent or 2ww")
	f.outcome = fs.String("outcome", "", "review: return (to referrer with advice) or book-later (accept, book later)")
}

// The words decide's and outbox amend's arguments and flags take.
var (
	decisionKinds = map[string]triage.DecisionKind{"accept": triage.DecisionAccept, "reject": triage.DecisionReject,
		"redirect": triage.DecisionRedirect, "review": triage.DecisionReviewOutcome, "triage": triage.DecisionReviewOutcome}
	pasAnswers      = map[string]bool{"yes": true, "true": true, "no": false, "false": false}
	priorityAnswers = map[string]triage.Priority{"routine": triage.PriorityRoutine, "urgent": triage.PriorityUrgent,
		"2ww": triage.PriorityTwoWeekWait, "two_week_wait": triage.PriorityTwoWeekWait}
	outcomeAnswers = map[string]triage.ReviewOutcome{
		"return": triage.OutcomeReturnToReferrerWithAdvice, "return-with-advice": triage.OutcomeReturnToReferrerWithAdvice,
		"book-later": triage.OutcomeAcceptReferBookLater, "accept-book-later": triage.OutcomeAcceptReferBookLater}
)

// lookUp finds word (in any case) among the words an argument or flag
// takes; ok is false for any other word.
func lookUp[T any](words map[string]T, word string) (v T, ok bool) {
	v, ok = words[strings.ToLower(word)]
	return v, ok
}

// decision builds the decision of kind on the referral from the flags. The
// app fills in the version, identity and time and validates it. Errors are
// usage errors.
func (f *decisionFlags) decision(ubrn, kind string) (triage.Decision, error) {
	d := triage.Decision{UBRN: ubrn, Comments: *f.comment}
	var ok bool
	if d.Kind, ok = lookUp(decisionKinds, kind); !ok {
		return d, usageError{fmt.Sprintf("%q is not a decision: use accept, reject, redirect or review", kind)}
	}
	if *f.reason != "" {
		d.Reason = triage.Coding{Code: strings.TrimSpace(*f.reason)}
	}
	if *f.pas != "" {
		v, ok := lookUp(pasAnswers, *f.pas)
		if !ok {
			return d, usageError{"--pas-cancelled must be yes or no"}
		}
		d.AppointmentCancelledInPAS = &v
	}
	if *f.priority != "" {
		if d.NewPriority, ok = lookUp(priorityAnswers, *f.priority); !ok {
			return d, usageError{"--priority must be routine, urgent or 2ww"}
		}
	}
	if *f.outcome != "" {
		if d.Outcome, ok = lookUp(outcomeAnswers, *f.outcome); !ok {
			return d, usageError{"--outcome must be return or book-later"}
		}
	}
	return d, nil
}

var outboxActions = []string{"retry", "amend", "cancel", "discard", "acknowledge"}

func isOutboxAction(s string) bool { return slices.Contains(outboxActions, s) }

// runOutboxAction does what the GUI's outbox buttons do, with the same
// rules (the store's outbox state machine) and the same audit records:
// retry a failed decision; amend a queued or failed one, or a conflict
// once acknowledged; cancel a queued one; acknowledge a conflict (after
// showing what e-RS says now); discard a failed one or an acknowledged
// conflict.
func runOutboxAction(ctx context.Context, g *Globals, action string, args []string) error {
	fs := newFlagSet("outbox "+action, g)
	var df decisionFlags
	if action == "amend" {
		df.add(fs)
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	want := 1
	usage := "usage: triagectl outbox " + action + " ID"
	if action == "amend" {
		want, usage = 2, "usage: triagectl outbox amend ID "+decisionUsage
	}
	if len(pos) != want {
		return usageError{usage}
	}
	a, err := openApp(ctx, g, true)
	if err != nil {
		return err
	}
	defer a.Close()
	en, err := findEntry(ctx, a, pos[0])
	if err != nil {
		return err
	}
	w := g.Stdout
	switch action {
	case "retry":
		if _, err := a.Retry(ctx, en.ID); err != nil {
			return outboxRefusal(err, en)
		}
		fmt.Fprintf(w, "Queued again: %s for referral %s. It will be sent at the next sync.\n", en.Summary, en.UBRN)
	case "cancel":
		if _, err := a.Cancel(ctx, en.ID); err != nil {
			return outboxRefusal(err, en)
		}
		fmt.Fprintf(w, "Cancelled: %s for referral %s. It will not be sent; the cancellation is in your audit log.\n", en.Summary, en.UBRN)
	case "discard":
		if _, err := a.Discard(ctx, en.ID); err != nil {
			return outboxRefusal(err, en)
		}
		fmt.Fprintf(w, "Discarded: %s for referral %s. It will not be sent, and the referral stays as e-RS has it; the discard is in your audit log.\n", en.Summary, en.UBRN)
	case "acknowledge":
		if en.State != triage.OutboxConflict || en.Conflict == nil {
			return triage.Errorf(triage.EINVALID, "Decision %s is %s, not a conflict: there is nothing to acknowledge.", en.ID, en.State)
		}
		printConflict(w, en)
		if err := a.NoteConflictShown(ctx, en.ID); err != nil {
			return err
		}
		if _, err := a.AcknowledgeConflict(ctx, en.ID); err != nil {
			return outboxRefusal(err, en)
		}
		fmt.Fprintf(w, "Acknowledged. Now decide again with 'triagectl outbox amend %s KIND [flags]', or give it up with 'triagectl outbox discard %s'.\n", en.ID, en.ID)
	case "amend":
		d, err := df.decision(en.UBRN, pos[1])
		if err != nil {
			return err
		}
		nw, err := a.Amend(ctx, en.ID, d)
		if err != nil {
			return outboxRefusal(err, en)
		}
		fmt.Fprintf(w, "Amended: %s replaces %s for referral %s (decision %s). It will be sent at the next sync.\n", nw.Summary, en.Summary, en.UBRN, nw.ID)
	}
	return nil
}

// findEntry finds the signed-in clinician's outbox entry by its id or a
// unique start of it.
func findEntry(ctx context.Context, a *app.Workspace, id string) (store.Entry, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) < 6 {
		return store.Entry{}, usageError{"give the decision's ID as 'triagectl outbox' lists it (at least its first 6 characters)"}
	}
	es, err := a.Entries(ctx, store.EntryFilter{})
	if err != nil {
		return store.Entry{}, err
	}
	var found []store.Entry
	for _, e := range es {
		if e.ID == id {
			return e, nil
		}
		if strings.HasPrefix(e.ID, id) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		return store.Entry{}, triage.Errorf(triage.ENOTFOUND, "There is no decision %s in your outbox. Run 'triagectl outbox' to list them.", id)
	case 1:
		return found[0], nil
	}
	return store.Entry{}, triage.Errorf(triage.EINVALID, "%d decisions start with %s: give more of the ID ('triagectl outbox' lists them).", len(found), id)
}

// outboxRefusal adds the next step to the store's refusal of an outbox
// action.
func outboxRefusal(err error, en store.Entry) error {
	if !errors.Is(err, store.ErrIllegalTransition) {
		return err
	}
	msg := triage.ErrorMessage(err)
	switch {
	case en.State == triage.OutboxConflict && (en.Conflict == nil || !en.Conflict.Acknowledged):
		msg += fmt.Sprintf(" Run 'triagectl outbox acknowledge %s' to see what e-RS says now.", en.ID)
	default:
		msg += fmt.Sprintf(" It is %s now: 'triagectl outbox' shows what can be done with each decision.", en.State)
	}
	return &triage.Error{Code: triage.ErrorCodeOf(err), Err: err, Message: msg}
}
