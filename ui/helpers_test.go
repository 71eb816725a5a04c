package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// texts returns the text of every visible label, button and canvas text in
// the object tree, in order: what a screen says, for tests and for the
// plain-text summaries of panels.
func texts(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch v := o.(type) {
		case *widget.Label:
			out = append(out, v.Text)
			return
		case *canvas.Text:
			out = append(out, v.Text)
			return
		case *widget.Button:
			out = append(out, v.Text)
			return
		case *widget.Check:
			out = append(out, v.Text)
			return
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			r := test.WidgetRenderer(v)
			for _, c := range r.Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

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
	walkObjects(o, func(o fyne.CanvasObject) {
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
	walkObjects(o, func(o fyne.CanvasObject) {
		if t, ok := o.(*canvas.Text); ok {
			out = append(out, t.Text)
		}
	})
	return out
}
