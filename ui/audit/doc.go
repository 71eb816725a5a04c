// Package audit is the audit log screen: the clinician's own decisions
// and what e-RS answered, with the hash chain checked, and the export as
// CSV after a warning that the file identifies patients. The chrome in
// package ui opens it from the File menu.
package audit
