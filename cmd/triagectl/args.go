package main

import (
	"fmt"

	"github.com/triagedesk/triagedesk/internal/triage"
)

// ubrnArg parses a UBRN given on the command line ("100000000001",
// "1000 0000 0001" or "1000-0000-0001") and returns its canonical twelve
// digits. Anything else is a usage error (exit status 2).
func ubrnArg(s string) (string, error) {
	u, err := triage.ParseUBRN(s)
	if err != nil {
		return "", usageError{fmt.Sprintf("%q is not a UBRN: %v", s, err)}
	}
	return u.String(), nil
}
