// Package docs embeds the documents Triage Desk shows inside the app: the
// third-party notices (notices.md) on the About screen, so every copy of
// the app carries them.
package docs

import _ "embed"

// Notices is notices.md: the open-source components in Triage Desk, their
// licences and copyright lines, and the licence texts (Markdown).
//
//go:embed notices.md
var Notices string
