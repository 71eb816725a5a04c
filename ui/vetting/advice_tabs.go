package vetting

import (
	"context"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/document"
	"github.com/triagedesk/triagedesk/ui/advice"
	"github.com/triagedesk/triagedesk/ui/bridge"
	"github.com/triagedesk/triagedesk/ui/frame"
	"github.com/triagedesk/triagedesk/ui/shortcuts"
)

// Titles of the two worklists.
const (
	tabReferrals = "Referrals for Review"
	tabAdvice    = "Advice and Guidance"
)

// WorkTabs puts the Advice and Guidance screen (ui/advice) beside the
// vetting view as two tabs, switched with Ctrl+1 and Ctrl+2 (View menu).
// The shortcuts act on the tab shown only. Use it on the UI goroutine.
type WorkTabs struct {
	frame   *frame.Frame
	vetting *Vetting
	advice  *advice.View
	tabs    *container.AppTabs
	refTab  *container.TabItem
	advTab  *container.TabItem
}

// NewWorkTabs builds the tabs for an open workspace around its vetting
// view. Call Start to load the A&G screen (the vetting view is started by
// its owner).
func NewWorkTabs(f *frame.Frame, b *bridge.Bridge, ws *app.Workspace, v *Vetting) *WorkTabs {
	t := &WorkTabs{frame: f, vetting: v}
	t.advice = advice.New(advice.Options{Frame: f, Bridge: b, Workspace: ws, Preview: documentPreview(b, ws)})
	t.refTab = container.NewTabItem(tabReferrals, v.Object())
	t.advTab = container.NewTabItem(tabAdvice, t.advice.Object())
	t.tabs = container.NewAppTabs(t.refTab, t.advTab)
	t.tabs.OnSelected = func(*container.TabItem) { t.selected() }
	t.advice.OnLoaded = t.countChanged
	keys := f.Shortcuts()
	keys.Handle(shortcuts.ShowReferrals, t.ShowReferrals)
	keys.Handle(shortcuts.ShowAdvice, t.ShowAdvice)
	return t
}

// Object returns the tabs (for Frame.SetMain).
func (t *WorkTabs) Object() fyne.CanvasObject { return t.tabs }

// Advice returns the A&G screen.
func (t *WorkTabs) Advice() *advice.View { return t.advice }

// Start reads the A&G worklist.
func (t *WorkTabs) Start() { t.advice.Start() }

// Close closes the A&G screen (the vetting view is closed by its owner).
func (t *WorkTabs) Close() {
	t.advice.Close()
	keys := t.frame.Shortcuts()
	keys.Handle(shortcuts.ShowReferrals, nil)
	keys.Handle(shortcuts.ShowAdvice, nil)
	keys.Handle(shortcuts.ReplyAdvice, nil)
}

// ShowReferrals shows Referrals for Review (Ctrl+1).
func (t *WorkTabs) ShowReferrals() { t.tabs.Select(t.refTab) }

// ShowAdvice shows Advice and Guidance (Ctrl+2).
func (t *WorkTabs) ShowAdvice() { t.tabs.Select(t.advTab) }

// AdviceShown reports whether the A&G tab is the one shown.
func (t *WorkTabs) AdviceShown() bool { return t.tabs.Selected() == t.advTab }

// selected gives the window's shortcuts to the tab shown.
func (t *WorkTabs) selected() {
	if t.AdviceShown() {
		t.advice.RegisterShortcuts(t.frame.Shortcuts())
	} else {
		t.vetting.registerShortcuts()
		t.frame.Shortcuts().Handle(shortcuts.ReplyAdvice, nil)
	}
	t.frame.Window().Canvas().Unfocus()
}

// countChanged shows how many requests wait for a reply in the tab title.
func (t *WorkTabs) countChanged() {
	n := 0
	for _, r := range t.advice.Rows() {
		if r.Category.ResponseRequired() {
			n++
		}
	}
	title := tabAdvice
	if n > 0 {
		title += " (" + strconv.Itoa(n) + ")"
	}
	if t.advTab.Text != title {
		t.advTab.Text = title
		t.tabs.Refresh()
	}
}

// documentPreview draws A&G files in the referral screens' viewer: PDFs
// page by page, images, text, or what the file is when it cannot be shown.
func documentPreview(b *bridge.Bridge, ws *app.Workspace) advice.PreviewFunc {
	return func(ctx context.Context, name, contentType string, data []byte, width float32, tools fyne.CanvasObject) fyne.CanvasObject {
		area := container.NewStack(messagePanel(theme.DocumentIcon(), "Opening "+name+"…", tools))
		show := func(o fyne.CanvasObject) {
			area.Objects = []fyne.CanvasObject{o}
			area.Refresh()
		}
		bridge.Run(b, ctx, func(ctx context.Context) (*document.Preview, error) {
			pv, err := ws.Documents(ctx).Preview(ctx, name, contentType, data, int(width*2))
			if err == nil {
				b.Go(func(context.Context) {
					<-ctx.Done()
					_ = pv.Close()
				})
			}
			return pv, err
		}, func(pv *document.Preview, err error) {
			if err != nil {
				show(documentError(document.DisplayMessage(err), name, nil, tools))
				return
			}
			switch pv.Kind {
			case document.PreviewPDF:
				sizes := make([]document.Size, pv.PDF.PageCount())
				for i := range sizes {
					sizes[i], _ = pv.PDF.PageSize(i)
				}
				v := newPDFViewer(b, ctx, pv.PDF, fitZoom(sizes, width), true, nil, tools)
				v.fitWidth = width
				show(v.Object())
			case document.PreviewImage:
				img := canvas.NewImageFromImage(pv.Image)
				img.FillMode = canvas.ImageFillContain
				show(container.NewBorder(tools, nil, nil, nil, img))
			case document.PreviewText:
				l := widget.NewLabel(pv.Text.Text)
				l.Wrapping = fyne.TextWrapWord
				show(container.NewBorder(tools, nil, nil, nil, container.NewVScroll(l)))
			default:
				show(messagePanel(theme.FileIcon(), pv.Note+"\n"+fileTypeLabel(pv.DeclaredType)+" · "+formatSize(pv.Size), tools))
			}
		})
		return area
	}
}
