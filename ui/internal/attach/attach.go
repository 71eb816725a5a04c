// Package attach is the attach-a-file control the A&G reply form and the
// referral decision form share: an "Attach a file…" button that opens the
// file dialog, reads the chosen file off the UI goroutine (never more than
// one byte over the 5 MB e-RS allows, so a larger file is refused without
// reading it all), has the form keep it sealed in the encrypted store, and
// lists the files attached, with a button to remove them. Use it on the UI
// goroutine.
package attach

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
)

// Options configure a Picker.
type Options struct {
	// Bridge runs the reading and keeping off the UI goroutine.
	Bridge *bridge.Bridge
	// Context, if set, ends with the form: a file still being read then
	// is dropped.
	Context context.Context
	// Window is the window the file dialog opens over.
	Window fyne.Window
	// Keep keeps a chosen file (checked: not empty, at most 5 MB) and
	// returns its attachment. It runs off the UI goroutine.
	Keep func(ctx context.Context, name string, data []byte) (triage.ProviderAttachment, error)
	// Drop, if set, forgets the stored copy of a file that was removed
	// or replaced. It runs on the UI goroutine.
	Drop func(triage.ProviderAttachment)
	// One: a new file replaces the one attached; otherwise files add up.
	One bool
	// None is what the list says with no file attached.
	None string
	// Keeping is the verb the list shows while a file is kept ("Storing"
	// shows "Storing letter.pdf…").
	Keeping string
	// Line is one attached file's line in the list.
	Line func(triage.ProviderAttachment) string
	// Remove is the remove button's text; RemoveIcon, if set, its icon.
	Remove     string
	RemoveIcon fyne.Resource
	// OnAttached, if set, is called after a file was attached.
	OnAttached func()
	// OnError, if set, says why a file could not be attached; without it
	// the list says so, after "No file attached.".
	OnError func(error)
}

// Picker is the attach button, the list of files attached and the remove
// button.
type Picker struct {
	opts  Options
	files []triage.ProviderAttachment
	// List lists the files attached (one Line each), or says None.
	List   *widget.Label
	attach *widget.Button
	remove *widget.Button
}

// New returns a Picker with no file attached.
func New(opts Options) *Picker {
	p := &Picker{opts: opts, List: widget.NewLabel("")}
	p.List.Wrapping = fyne.TextWrapWord
	p.attach = widget.NewButtonWithIcon("Attach a file…", theme.ContentAddIcon(), p.Choose)
	p.remove = widget.NewButtonWithIcon(opts.Remove, opts.RemoveIcon, p.Clear)
	p.show()
	return p
}

// Buttons are the attach and remove buttons, side by side.
func (p *Picker) Buttons() fyne.CanvasObject { return container.NewHBox(p.attach, p.remove) }

// Files returns the files attached (nil for none).
func (p *Picker) Files() []triage.ProviderAttachment { return slices.Clone(p.files) }

// SetFiles shows files as attached (a draft's), without keeping them
// again.
func (p *Picker) SetFiles(files []triage.ProviderAttachment) {
	p.files = slices.Clone(files)
	p.show()
}

// Clear removes every file attached (Drop forgets their stored copies).
func (p *Picker) Clear() {
	old := p.files
	p.files = nil
	p.show()
	if p.opts.Drop != nil {
		for _, a := range old {
			p.opts.Drop(a)
		}
	}
}

// Choose opens the file dialog; the chosen file is attached.
func (p *Picker) Choose() {
	dialog.ShowFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			p.failed(err)
			return
		}
		if rc == nil {
			return
		}
		p.AttachFrom(rc.URI().Name(), rc)
	}, p.opts.Window)
}

// AttachFrom reads the file called name from r (and closes it) off the
// UI goroutine, refuses one that is empty or over 5 MB, and has it kept;
// the list then shows it.
func (p *Picker) AttachFrom(name string, r io.ReadCloser) {
	p.List.SetText(p.opts.Keeping + " " + name + "…")
	keep := p.opts.Keep
	bridge.Run(p.opts.Bridge, p.opts.Context, func(ctx context.Context) (triage.ProviderAttachment, error) {
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, triage.MaxAttachmentSize+1))
		switch {
		case err != nil:
			return triage.ProviderAttachment{}, fmt.Errorf("read the file: %w", err)
		case len(data) > triage.MaxAttachmentSize:
			return triage.ProviderAttachment{}, triage.Errorf(triage.EINVALID, "“%s” is larger than the 5 MB e-RS allows. Attach a smaller file.", name)
		case len(data) == 0:
			return triage.ProviderAttachment{}, triage.Errorf(triage.EINVALID, "“%s” is empty. Choose another file.", name)
		}
		return keep(ctx, name, data)
	}, func(a triage.ProviderAttachment, err error) {
		if err != nil {
			p.show()
			p.failed(err)
			return
		}
		if p.opts.One {
			p.Clear()
		}
		p.files = append(p.files, a)
		p.show()
		if p.opts.OnAttached != nil {
			p.opts.OnAttached()
		}
	})
}

// failed says why a file could not be attached.
func (p *Picker) failed(err error) {
	if p.opts.OnError != nil {
		p.opts.OnError(err)
		return
	}
	p.List.SetText("No file attached. " + triage.ErrorMessage(err))
}

// show lists the files attached, with the remove button when there are
// any.
func (p *Picker) show() {
	if len(p.files) == 0 {
		p.List.SetText(p.opts.None)
		p.remove.Hide()
		return
	}
	lines := make([]string, len(p.files))
	for i, a := range p.files {
		lines[i] = p.opts.Line(a)
	}
	p.List.SetText(strings.Join(lines, "\n"))
	p.remove.Show()
}
