// Package ui is Triage Desk's user interface, built with Fyne: the main
// window with the worklist and the open referral, and the screens around it.
//
// It is the only package besides cmd/triagedesk that imports Fyne, and it
// never imports fyne.io/fyne/v2/app, so every screen can be tested headless
// with Fyne's test driver. Background work reaches widgets only through the
// bridge package, the single place that calls fyne.Do.
package ui
