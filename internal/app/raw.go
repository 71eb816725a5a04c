package app

import (
	"github.com/triagedesk/triagedesk/internal/app/internal/raw"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
)

// The raw services, for internal/app/apptest only (see package raw).
func init() {
	raw.Store = func(ws any) *store.Store { return ws.(*Workspace).store }
	raw.Engine = func(ws any) *engine.Engine { return ws.(*Workspace).engine }
	raw.RuntimeSandbox = func(rt any) *erssandbox.Sandbox { return rt.(*Runtime).sandbox }
}
