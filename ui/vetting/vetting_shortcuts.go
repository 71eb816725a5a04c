package vetting

import (
	"github.com/triagedesk/triagedesk/ui/shortcuts"
)

// registerShortcuts gives the Frame's Registry the vetting actions. While
// the confirm step is up, only confirm and cancel act; behind any other
// dialog, nothing does.
func (v *Vetting) registerShortcuts() {
	keys := v.frame.Shortcuts()
	plain := func(id shortcuts.ID, fn func()) {
		keys.Handle(id, func() {
			if c, o := v.modalOpen(); c || o {
				return
			}
			fn()
		})
	}
	decision := func(fn func(*decisionPanel)) func() {
		return func() {
			if v.panel != nil && v.panel.decision != nil {
				fn(v.panel.decision)
			}
		}
	}
	viewer := func(fn func(*pdfViewer)) func() {
		return func() {
			if v.panel != nil && v.panel.viewer != nil {
				fn(v.panel.viewer)
			}
		}
	}
	plain(shortcuts.Next, func() { v.step(1) })
	plain(shortcuts.Previous, func() { v.step(-1) })
	plain(shortcuts.Open, v.list.OpenCursor)
	plain(shortcuts.Search, v.search)
	plain(shortcuts.Refresh, v.refresh)
	plain(shortcuts.ToggleWorklist, v.toggleWorklist)
	plain(shortcuts.Accept, decision((*decisionPanel).doAccept))
	plain(shortcuts.Reject, decision((*decisionPanel).doReject))
	plain(shortcuts.Redirect, decision((*decisionPanel).doRedirect))
	plain(shortcuts.TriageOutcome, decision((*decisionPanel).doTriage))
	plain(shortcuts.PageDown, viewer((*pdfViewer).PageDown))
	plain(shortcuts.PageUp, viewer((*pdfViewer).PageUp))
	plain(shortcuts.ZoomIn, viewer((*pdfViewer).ZoomIn))
	plain(shortcuts.ZoomOut, viewer((*pdfViewer).ZoomOut))
	plain(shortcuts.FitWidth, viewer((*pdfViewer).FitWidth))
	plain(shortcuts.Find, viewer((*pdfViewer).FocusFind))
	keys.Handle(shortcuts.Confirm, func() {
		if _, o := v.modalOpen(); !o {
			decision(func(dp *decisionPanel) { dp.submit(false) })()
		}
	})
	keys.Handle(shortcuts.ConfirmAndNext, func() {
		if _, o := v.modalOpen(); !o {
			decision(func(dp *decisionPanel) { dp.submit(true) })()
		}
	})
	keys.Handle(shortcuts.Cancel, func() {
		if _, o := v.modalOpen(); o {
			return
		}
		if p := v.panel; p != nil {
			if p.decision != nil && p.decision.cancel() {
				return
			}
			if p.showing != "cri" && p.loaded {
				p.loadCRI()
			}
		}
	})
}
