package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// Problem is one thing wrong with a machine policy, in plain English, with
// where it is: a line and column in a policy file, or the registry value the
// installer wrote.
type Problem struct {
	// Where locates the problem for a reader: "line 4, column 3" or
	// `registry value "client_id"`; empty for a problem with the whole
	// policy.
	Where string
	// Line and Column are 1-based positions in the policy file (Column
	// counts characters), or 0 when the problem is not from a file.
	Line, Column int
	// Key is the setting concerned, when there is one.
	Key Key
	// Message says what is wrong and how to fix it.
	Message string
	// Warning marks a problem that does not stop the policy being used.
	Warning bool
}

// String formats the problem as "line 4, column 3: message", with
// "warning: " before the message of a warning.
func (p Problem) String() string {
	var b strings.Builder
	if p.Where != "" {
		b.WriteString(p.Where)
		b.WriteString(": ")
	}
	if p.Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// HasErrors reports whether any problem is an error rather than a warning.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if !p.Warning {
			return true
		}
	}
	return false
}

// PolicyError is returned when the machine policy cannot be used: the file is
// unreadable or has errors. Triage Desk then refuses to start rather than
// run without the organisation's settings. It unwraps to a *triage.Error
// (EINVALID) whose message is safe to show a clinician.
type PolicyError struct {
	// Source is the policy file's path or the registry key.
	Source string
	// Problems are the errors (and any warnings) found; empty when the file
	// could not be read at all.
	Problems []Problem
	// Err is the read error, when the file could not be read.
	Err error
}

// Error lists every problem.
func (e *PolicyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "machine policy %s", e.Source)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns the user-facing *triage.Error and the read error.
func (e *PolicyError) Unwrap() []error {
	msg := fmt.Sprintf("Your organisation's settings for Triage Desk (%s) cannot be used", e.Source)
	for _, p := range e.Problems {
		if !p.Warning {
			msg += " – " + p.String()
			break
		}
	}
	if e.Err != nil && len(e.Problems) == 0 {
		msg += " – the file cannot be read"
	}
	msg += ". Triage Desk will not start until they are corrected: contact your IT service desk."
	errs := []error{&triage.Error{Code: triage.EINVALID, Message: msg}}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// ErrLocked is matched (with errors.Is) by every *LockedError.
var ErrLocked = errors.New("setting is managed by your organisation")

// LockedError is returned when a user tries to change a setting that the
// machine policy sets or locks. The GUI shows triage.ErrorMessage(err):
// "… is managed by your organisation".
type LockedError struct {
	Key Key
}

// Error names the setting.
func (e *LockedError) Error() string {
	return fmt.Sprintf("%s: %v", e.Key, ErrLocked)
}

// Is matches ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Unwrap returns the user-facing *triage.Error (EFORBIDDEN).
func (e *LockedError) Unwrap() error {
	return &triage.Error{Code: triage.EFORBIDDEN, Message: fmt.Sprintf("%q is managed by your organisation and cannot be changed here. Contact your IT service desk if it needs to change.", e.Key.Label())}
}
