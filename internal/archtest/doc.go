// Package archtest holds the tests that keep Triage Desk's house in order:
// which packages may import which, and how large a source file may grow
// (see docs/architecture.md). It has no code of its own.
package archtest
