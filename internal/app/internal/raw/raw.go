// Package raw hands a workspace's services to internal/app/apptest without
// exporting them from package app. Go's internal rule keeps it out of
// reach of everything outside internal/app, the UI included; app sets the
// functions when it is initialised.
package raw

import (
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
)

// Set by package app: the services behind a workspace (ws is an
// *app.Workspace) or a Runtime (rt is an *app.Runtime).
var (
	Store          func(ws any) *store.Store
	Engine         func(ws any) *engine.Engine
	RuntimeSandbox func(rt any) *erssandbox.Sandbox
)
