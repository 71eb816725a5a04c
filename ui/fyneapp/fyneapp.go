// Package fyneapp creates the Fyne application with its desktop driver for
// cmd/triagedesk. It is the only package that imports fyne.io/fyne/v2/app,
// so package ui and its screens stay testable headless with Fyne's test
// driver, and the desktop binary imports no Fyne package itself.
package fyneapp

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
)

// New creates the Fyne application registered with the OS under id
// (preferences, keychain service name, notifications) with the given icon.
func New(id string, icon fyne.Resource) fyne.App {
	a := app.NewWithID(id)
	a.SetIcon(icon)
	return a
}
