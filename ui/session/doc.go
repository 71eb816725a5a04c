// Package session is the sign-in and lock screens: signing in with NHS
// Care Identity in the browser (or the demo's mock sign-in), choosing a
// role and whom to act for, the lock screen after inactivity, and
// signing out after a warning about unsent decisions. The chrome in
// package ui shows them over the main view whenever the session does not
// allow patient data on screen.
package session
