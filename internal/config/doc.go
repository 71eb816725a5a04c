// Package config holds Triage Desk's configuration: where a user's data
// lives, the e-RS environments, the machine policy that hospital IT deploys,
// and the user's own settings, which the policy can override and lock.
//
// It performs no network I/O and imports nothing that touches Fyne.
package config
