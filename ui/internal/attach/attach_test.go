package attach

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/triagedesk/triagedesk/internal/triage"
	"github.com/triagedesk/triagedesk/ui/bridge"
)

// fixture is a Picker whose files are kept in memory.
type fixture struct {
	loop    *bridge.Loop
	p       *Picker
	kept    map[string][]byte // by file name
	dropped []string
	errs    []error
	added   int
}

func newFixture(t *testing.T, one bool, onError bool) *fixture {
	t.Helper()
	a := test.NewTempApp(t)
	fx := &fixture{loop: bridge.NewLoop(), kept: map[string][]byte{}}
	b := bridge.New(bridge.Options{Post: fx.loop.Post})
	t.Cleanup(b.Close)
	opts := Options{Bridge: b, Window: a.NewWindow("attach"), One: one,
		Keep: func(_ context.Context, name string, data []byte) (triage.ProviderAttachment, error) {
			if name == "refused.pdf" {
				return triage.ProviderAttachment{}, triage.Errorf(triage.EINVALID, "The store refused %s.", name)
			}
			fx.kept[name] = data
			return triage.NewProviderAttachment("pa-"+name, name, int64(len(data)), time.Now()), nil
		},
		Drop:       func(a triage.ProviderAttachment) { fx.dropped = append(fx.dropped, a.FileName) },
		None:       "No file attached.",
		Keeping:    "Storing",
		Line:       func(a triage.ProviderAttachment) string { return a.FileName + " · " + a.ContentType },
		Remove:     "Remove",
		OnAttached: func() { fx.added++ },
	}
	if onError {
		opts.OnError = func(err error) { fx.errs = append(fx.errs, err) }
	}
	fx.p = New(opts)
	return fx
}

// attach attaches a file and waits until it is kept or refused.
func (fx *fixture) attach(t *testing.T, name string, data []byte) {
	t.Helper()
	fx.p.AttachFrom(name, io.NopCloser(bytes.NewReader(data)))
	if !strings.HasPrefix(fx.p.List.Text, "Storing "+name+"…") {
		t.Errorf("while the file is kept the list says %q", fx.p.List.Text)
	}
	if !fx.loop.RunUntil(10*time.Second, func() bool { return !strings.HasPrefix(fx.p.List.Text, "Storing ") }) {
		t.Fatalf("%s was neither kept nor refused", name)
	}
}

func names(files []triage.ProviderAttachment) []string {
	var out []string
	for _, a := range files {
		out = append(out, a.FileName)
	}
	return out
}

// Files add up, each kept and listed with its content type from its name;
// Remove drops every stored copy.
func TestFilesAddUpAndAreRemoved(t *testing.T) {
	fx := newFixture(t, false, true)
	if fx.p.List.Text != "No file attached." || fx.p.remove.Visible() {
		t.Fatalf("empty picker: %q, remove shown %v", fx.p.List.Text, fx.p.remove.Visible())
	}
	fx.attach(t, "plan.pdf", []byte("%PDF-1.4 synthetic"))
	fx.attach(t, "notes.txt", []byte("synthetic notes"))
	if got := names(fx.p.Files()); !slices.Equal(got, []string{"plan.pdf", "notes.txt"}) || fx.added != 2 {
		t.Fatalf("attached %v (%d reported)", got, fx.added)
	}
	if want := "plan.pdf · application/pdf\nnotes.txt · text/plain"; fx.p.List.Text != want || !fx.p.remove.Visible() {
		t.Errorf("list %q, want %q", fx.p.List.Text, want)
	}
	if string(fx.kept["notes.txt"]) != "synthetic notes" {
		t.Errorf("kept %q", fx.kept["notes.txt"])
	}
	test.Tap(fx.p.remove)
	if fx.p.Files() != nil || fx.p.List.Text != "No file attached." || fx.p.remove.Visible() {
		t.Errorf("after Remove: %v, %q", fx.p.Files(), fx.p.List.Text)
	}
	if !slices.Equal(fx.dropped, []string{"plan.pdf", "notes.txt"}) {
		t.Errorf("dropped %v", fx.dropped)
	}
}

// With one file, a new one replaces the one attached and its stored copy
// is dropped; a draft's file is shown without being kept again.
func TestOneFileIsReplaced(t *testing.T) {
	fx := newFixture(t, true, false)
	draft := triage.NewProviderAttachment("pa-old", "old.pdf", 10, time.Now())
	fx.p.SetFiles([]triage.ProviderAttachment{draft})
	if fx.p.List.Text != "old.pdf · application/pdf" || len(fx.kept) != 0 {
		t.Fatalf("draft's file: %q, kept %v", fx.p.List.Text, fx.kept)
	}
	fx.attach(t, "new.pdf", []byte("%PDF-1.4 synthetic"))
	if got := names(fx.p.Files()); !slices.Equal(got, []string{"new.pdf"}) || !slices.Equal(fx.dropped, []string{"old.pdf"}) {
		t.Errorf("attached %v, dropped %v", got, fx.dropped)
	}
}

// A file that is empty, over 5 MB or refused by the store is not
// attached; the reason goes to OnError, or without it to the list, and
// the files already attached stay.
func TestRefusedFiles(t *testing.T) {
	for _, withOnError := range []bool{true, false} {
		fx := newFixture(t, false, withOnError)
		fx.attach(t, "kept.pdf", []byte("%PDF-1.4 synthetic"))
		for _, c := range []struct {
			name string
			data []byte
			want string
		}{
			{"huge.pdf", make([]byte, triage.MaxAttachmentSize+1), "larger than the 5 MB e-RS allows"},
			{"empty.pdf", nil, "“empty.pdf” is empty"},
			{"refused.pdf", []byte("x"), "The store refused refused.pdf."},
		} {
			fx.attach(t, c.name, c.data)
			var said string
			if withOnError {
				if len(fx.errs) == 0 {
					t.Fatalf("%s: no error reported", c.name)
				}
				said = triage.ErrorMessage(fx.errs[len(fx.errs)-1])
				if fx.p.List.Text != "kept.pdf · application/pdf" {
					t.Errorf("%s: the list says %q", c.name, fx.p.List.Text)
				}
			} else {
				said = fx.p.List.Text
				if !strings.HasPrefix(said, "No file attached. ") {
					t.Errorf("%s: the list says %q", c.name, said)
				}
			}
			if !strings.Contains(said, c.want) {
				t.Errorf("%s: said %q, want %q", c.name, said, c.want)
			}
			if _, ok := fx.kept[c.name]; ok || len(fx.p.Files()) != 1 {
				t.Errorf("%s was kept: %v", c.name, names(fx.p.Files()))
			}
		}
		if fx.added != 1 {
			t.Errorf("OnAttached called %d times", fx.added)
		}
	}
}

// A file that cannot be read is not attached, and says so.
func TestUnreadableFile(t *testing.T) {
	fx := newFixture(t, false, true)
	fx.p.AttachFrom("broken.pdf", io.NopCloser(&failingReader{}))
	fx.loop.RunUntil(10*time.Second, func() bool { return len(fx.errs) > 0 })
	if len(fx.errs) != 1 || !strings.Contains(fx.errs[0].Error(), "read the file") || len(fx.p.Files()) != 0 {
		t.Errorf("errors %v, files %v", fx.errs, fx.p.Files())
	}
}

type failingReader struct{}

func (*failingReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }
