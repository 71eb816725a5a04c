// Package archtest holds the tests that keep Triage Desk's layering: which
// packages may import which (see docs/architecture.md). It has no code of
// its own.
package archtest
