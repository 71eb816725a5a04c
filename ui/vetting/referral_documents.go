package vetting

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/widgets"
)

// documentMetas returns what the cache knows about each attachment.
func (p *referralPanel) documentMetas() map[string]app.DocumentMeta {
	out := map[string]app.DocumentMeta{}
	for _, m := range p.data.view.Documents {
		out[m.ID] = m
	}
	return out
}

// attachmentName is how an attachment is named on screen.
func attachmentName(d triage.Document, m app.DocumentMeta) string {
	for _, s := range []string{d.Title, m.FileName, m.Title, d.Description} {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return "Attachment " + d.ID
}

// availabilityText says whether an attachment can be read, never hiding
// PENDING or THREATS_FOUND.
func availabilityText(d triage.Document, m app.DocumentMeta, cached bool) string {
	a := d.Availability
	if m.Availability != "" {
		a = m.Availability
	}
	switch a {
	case triage.AvailabilityAvailable, "":
		if cached {
			return "Available · ready offline"
		}
		return "Available · downloading"
	case triage.AvailabilityPending:
		return "PENDING – " + a.Meaning()
	case triage.AvailabilityThreatsFound:
		return "THREATS FOUND – " + a.Meaning()
	case triage.AvailabilityValidationFailed:
		return "VALIDATION FAILED – " + a.Meaning()
	}
	return string(a) + " – " + a.Meaning()
}

// fillAttachments lists the attachments with name, type, size and
// availability; a click previews an available one.
func (p *referralPanel) fillAttachments() {
	r := p.referral()
	metas := p.documentMetas()
	objs := []fyne.CanvasObject{}
	if len(r.Documents) == 0 {
		objs = append(objs, widget.NewLabel("No attachments."))
	}
	for _, d := range r.Documents {
		m, ok := metas[d.ID]
		cached := ok && m.Size > 0 && (m.Availability == "" || m.Availability == triage.AvailabilityAvailable)
		name := attachmentName(d, m)
		size := d.Size
		if size == 0 {
			size = m.Size
		}
		// Cut in the middle, so two long names that differ near the end
		// (a date, a number) read differently, never both "…".
		title := middleLabel(name, fyne.TextStyle{Bold: true})
		meta := widget.NewLabel(fileTypeLabel(firstNonEmpty(d.ContentType, m.ContentType)) + " · " + formatSize(size))
		avail := widget.NewLabel(availabilityText(d, m, cached))
		avail.Wrapping = fyne.TextWrapWord
		rows := []fyne.CanvasObject{title, meta, avail}
		if cached {
			d := d
			rows = append(rows, container.NewHBox(widget.NewButtonWithIcon("Preview", theme.VisibilityIcon(), func() { p.previewAttachment(d) })))
		}
		objs = append(objs, container.NewVBox(rows...))
	}
	p.attachments.Objects = objs
	p.attachments.Refresh()
}

// refreshDocuments re-reads what is cached for the referral and redraws the
// attachment list (and the CRI if it was missing).
func (p *referralPanel) refreshDocuments(criArrived bool) {
	if !p.loaded {
		return
	}
	a := p.v.app
	bridge.Run(p.v.b, p.ctx, func(ctx context.Context) (app.CacheInfo, error) {
		return a.CacheInfo(ctx, p.ubrn)
	}, func(info app.CacheInfo, err error) {
		if err != nil {
			return
		}
		p.data.view.Documents = info.Documents
		p.fillAttachments()
		if criArrived && p.showing == "cri" && p.viewer == nil {
			p.loadCRI()
		}
	})
}

// previewAttachment shows an attachment in the viewer area.
func (p *referralPanel) previewAttachment(d triage.Document) {
	m := p.documentMetas()[d.ID]
	name := attachmentName(d, m)
	back := p.backBar("Attachment: " + name)
	showing := "attachment:" + d.ID
	p.setViewer(messagePanel(theme.DocumentIcon(), "Opening the attachment…", back), showing)
	width := p.viewerWidth()
	a := p.v.app
	type result struct {
		data []byte
		prev *document.Preview
	}
	bridge.Run(p.v.b, p.ctx, func(ctx context.Context) (result, error) {
		meta, data, err := a.Document(ctx, p.ubrn, d.ID)
		if err != nil {
			return result{}, err
		}
		pv, err := a.Documents(ctx).Preview(ctx, name, firstNonEmpty(meta.ContentType, d.ContentType), data, int(width*2))
		if err != nil {
			return result{data: data}, err
		}
		p.closeWith(p.ctx, pv)
		return result{data: data, prev: pv}, nil
	}, func(res result, err error) {
		if p.showing != showing {
			return
		}
		ext := filepath.Ext(name)
		ids := fmt.Sprintf("e-RS ids: UBRN %s, attachment %s", widgets.UBRNText(p.ubrn), d.ID)
		open := p.openExternallyAction(res.data, name, ext)
		save := p.saveCopyAction(res.data, name, ext)
		actions := container.NewHBox(widget.NewButtonWithIcon("Open with another program", theme.ComputerIcon(), open),
			widget.NewButtonWithIcon("Save a copy", theme.DocumentSaveIcon(), save))
		tools := container.NewVBox(back, actions)
		if err != nil {
			p.setViewer(documentError(document.DisplayMessage(err), ids, save, back), showing)
			return
		}
		pv := res.prev
		switch pv.Kind {
		case document.PreviewPDF:
			sizes := make([]document.Size, pv.PDF.PageCount())
			for i := range sizes {
				sizes[i], _ = pv.PDF.PageSize(i)
			}
			// The way back and the actions sit above the viewer's own
			// zoom and page controls, not beside them, so the pane fits.
			title := widget.NewLabelWithStyle("Attachment", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			title.Truncation = fyne.TextTruncateEllipsis
			pv := newPDFViewer(p.v.b, p.ctx, pv.PDF, fitZoom(sizes, width), true, nil, title)
			pv.fitWidth = width
			p.setPDFViewer(pv, showing, tools)
		case document.PreviewImage:
			img := canvas.NewImageFromImage(pv.Image)
			img.FillMode = canvas.ImageFillContain
			p.setViewer(container.NewBorder(tools, nil, nil, nil, img), showing)
		case document.PreviewText:
			l := widget.NewLabel(pv.Text.Text)
			l.Wrapping = fyne.TextWrapWord
			p.setViewer(container.NewBorder(tools, nil, nil, nil, container.NewVScroll(l)), showing)
		default:
			p.setViewer(container.NewBorder(tools, nil, nil, nil,
				messagePanel(theme.FileIcon(), pv.Note+"\n"+fileTypeLabel(pv.DeclaredType)+" · "+formatSize(pv.Size), nil)), showing)
		}
	})
}

// fillRelated lists the related referrals; a click opens their CRI.
func (p *referralPanel) fillRelated() {
	r := p.referral()
	rel := r.UBRNsToRead()[1:]
	objs := []fyne.CanvasObject{}
	if len(rel) == 0 {
		objs = append(objs, widget.NewLabel("No related referrals."))
	}
	for _, u := range rel {
		u := u
		btn := widget.NewButtonWithIcon("UBRN "+widgets.UBRNText(u)+" – clinical information", theme.DocumentIcon(), func() {
			p.openCRI(u, p.relatedBar(u))
		})
		btn.Alignment = widget.ButtonAlignLeading
		objs = append(objs, btn)
	}
	p.related.Objects = objs
	p.related.Refresh()
}

// saveCopyAction saves data to a folder the clinician picks, after the
// leave-the-store warning. Nil when there are no bytes.
func (p *referralPanel) saveCopyAction(data []byte, name, ext string) func() {
	if len(data) == 0 {
		return nil
	}
	return func() {
		w := p.v.frame.Window()
		dialog.ShowConfirm("Save a copy outside Triage Desk?", wrapText(document.LeaveStoreWarning, 60), func(ok bool) {
			if !ok {
				return
			}
			dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
				if err != nil || dir == nil {
					return
				}
				path, err := document.SaveCopy(dir.Path(), name, ext, data)
				if err != nil {
					dialog.ShowError(errors.New("The copy could not be saved: "+triage.ErrorMessage(err)), w)
					return
				}
				dialog.ShowInformation("Copy saved", "Saved as "+filepath.Base(path)+".", w)
			}, w)
		}, w)
	}
}

// openExternallyAction opens data with the computer's default program,
// after the leave-the-store warning.
func (p *referralPanel) openExternallyAction(data []byte, name, ext string) func() {
	if len(data) == 0 {
		return nil
	}
	return func() {
		w := p.v.frame.Window()
		dialog.ShowConfirm("Open with another program?", wrapText(document.LeaveStoreWarning, 60), func(ok bool) {
			if !ok {
				return
			}
			tf, err := p.v.tempFiles()
			if err == nil {
				var path string
				if path, err = tf.Write(name, ext, data); err == nil {
					err = fyne.CurrentApp().OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(path)})
				}
			}
			if err != nil {
				dialog.ShowError(errors.New("The file could not be opened: "+triage.ErrorMessage(err)), w)
			}
		}, w)
	}
}
