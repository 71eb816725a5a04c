package vetting

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/ui/internal/uitest"
)

// texts returns the text of every visible label, button and canvas text in
// the object tree, in order (uitest.Texts).
func texts(o fyne.CanvasObject) []string { return uitest.Texts(o) }

// AsOfText returns the "data as of" text as shown.
func (p *referralPanel) AsOfText() string { return strings.Join(texts(p.asOf), "") }

// AttachmentTexts returns the attachment list's text.
func (p *referralPanel) AttachmentTexts() string { return strings.Join(texts(p.attachments), "|") }

// StatusText returns the decision panel's text.
func (dp *decisionPanel) StatusText() string { return strings.Join(texts(dp.box), "|") }

// Text returns the confirm step's content.
func (c *confirmStep) Text() string { return strings.Join(texts(c.body), "|") }

// buttonTexts returns the text of every visible button in the object tree.
func buttonTexts(o fyne.CanvasObject) []string {
	var out []string
	uitest.WalkObjects(o, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok {
			out = append(out, b.Text)
		}
	})
	return out
}

// renderedTexts returns what is drawn for every text in the tree: for a
// label, the text its renderer shows (shortened with "…" if truncated),
// not the text it was given.
func renderedTexts(o fyne.CanvasObject) []string {
	var out []string
	uitest.WalkObjects(o, func(o fyne.CanvasObject) {
		if t, ok := o.(*canvas.Text); ok {
			out = append(out, t.Text)
		}
	})
	return out
}
